#include "proxy/upstream_connect.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "protocol/message_writer.hpp"
#include "protocol/startup.hpp"

namespace switchyard::proxy {

// Types held across a co_await in connect_socket/connect_upstream live in their coroutine
// frames, which have external linkage: in an anonymous namespace GCC warns (-Wsubobject-linkage).
namespace upstream_connect_detail {

// Asio's `a || b` flattens a variant that `a` yields into its own result, which would put
// the connect's error text where the timeout belongs; in a struct the outcome stays whole.
struct Connected {
  std::variant<std::unique_ptr<Stream>, ConnectFailure> outcome;
};

// getaddrinfo blocks; a worker's io_context cannot run Asio's own resolver (see
// kWorkerConcurrencyHint).
struct Resolved {
  error_code error;
  tcp::resolver::results_type endpoints;
};

struct Lookup {
  std::string host;
  std::uint16_t port;
  Resolved operator()() const {
    net::io_context scratch;
    tcp::resolver resolver(scratch);
    Resolved out;
    out.endpoints = resolver.resolve(host, std::to_string(port), out.error);
    return out;
  }
};

}  // namespace upstream_connect_detail

namespace {

using namespace net::experimental::awaitable_operators;

awaitable<std::variant<std::unique_ptr<Stream>, ConnectFailure>> connect_and_negotiate(
    const Snapshot& snapshot, OffThread off_thread) {
  const config::UpstreamConfig& upstream = snapshot.config->upstream;
  const std::string where = upstream.address.to_string();
  auto connected = co_await connect_socket(upstream.address, off_thread);
  if (auto* error = std::get_if<std::string>(&connected)) {
    co_return ConnectFailure{*error};
  }
  auto stream = std::make_unique<Stream>(std::move(std::get<tcp_socket>(connected)));
  // Postgres answers SSLRequest on a unix socket with 'N'; the load refuses a unix address
  // with tls = require, so "prefer" is the only mode left, and it would only cost a round trip.
  if (upstream.tls == config::TlsMode::disable || upstream.address.is_unix()) {
    co_return stream;
  }

  protocol::MessageWriter writer;
  protocol::encode_ssl_request(writer);
  // A connection ended before the answer to SSLRequest is one the kernel may have reset in a
  // burst of connects (see Session::connect_and_authenticate): unanswered.
  if (auto ec = co_await stream->write(net::buffer(writer.data().data(), writer.size()))) {
    co_return ConnectFailure{"could not send SSLRequest to upstream " + where + ": " + ec.message(),
                             true};
  }
  char answer = 0;
  auto [ec, n] = co_await stream->read_some(net::buffer(&answer, 1));
  if (ec || n != 1) {
    co_return ConnectFailure{"upstream " + where + " closed the connection during TLS negotiation",
                             true};
  }
  if (answer == 'S') {
    // Named, not a temporary in the co_await expression: GCC 12 destroys such temporaries
    // twice when the coroutine suspends.
    const std::string verify_host =
        upstream.tls == config::TlsMode::verify_full ? upstream.address.host : std::string();
    auto hec = co_await stream->handshake_as_client(*snapshot.upstream_tls, verify_host,
                                                    upstream.address.host);
    if (hec) {
      co_return ConnectFailure{"TLS handshake with upstream " + where +
                               " failed: " + hec.message()};
    }
    co_return stream;
  }
  if (answer == 'N') {
    if (upstream.tls == config::TlsMode::prefer) {
      co_return stream;
    }
    co_return ConnectFailure{"upstream " + where + " does not accept TLS, but [upstream] tls = \"" +
                             std::string(config::to_string(upstream.tls)) + "\""};
  }
  co_return ConnectFailure{"upstream " + where + " answered SSLRequest with an unexpected byte"};
}

awaitable<upstream_connect_detail::Connected> connect_whole(const Snapshot& snapshot,
                                                            OffThread off_thread) {
  // Named first: GCC 12 mishandles a co_await inside a braced initializer (see above).
  auto outcome = co_await connect_and_negotiate(snapshot, off_thread);
  co_return upstream_connect_detail::Connected{std::move(outcome)};
}

// The relay is written against tcp_socket, and what it does with one (recv, sendmsg, epoll,
// shutdown) works the same on a unix socket's descriptor, so the connected descriptor moves
// into a tcp_socket. What would not work (TCP options, endpoint queries) is never asked of an
// upstream socket.
awaitable<std::variant<tcp_socket, std::string>> connect_unix(const config::Endpoint& address) {
  auto executor = co_await net::this_coro::executor;
  const std::string path = address.unix_socket_path();
  net::local::stream_protocol::socket local(executor);
  auto [ec] =
      co_await local.async_connect(net::local::stream_protocol::endpoint(path), use_nothrow);
  if (ec) {
    co_return "could not connect to upstream " + path + ": " + ec.message();
  }
  tcp_socket socket(executor);
  socket.assign(tcp::v6(), local.release(), ec);
  if (ec) {
    co_return "could not use the unix socket " + path + ": " + ec.message();
  }
  co_return std::move(socket);
}

}  // namespace

awaitable<std::variant<tcp_socket, std::string>> connect_socket(const config::Endpoint& address,
                                                                OffThread off_thread) {
  if (address.is_unix()) {
    co_return co_await connect_unix(address);
  }
  auto executor = co_await net::this_coro::executor;
  const std::string where = address.to_string();
  tcp_socket socket(executor);
  error_code ec;
  auto ip = net::ip::make_address(address.host, ec);
  if (!ec) {
    std::tie(ec) = co_await socket.async_connect(tcp::endpoint(ip, address.port), use_nothrow);
  } else {
    // Named: see OffThread::run.
    upstream_connect_detail::Lookup lookup{address.host, address.port};
    upstream_connect_detail::Resolved resolved = co_await off_thread.run(std::move(lookup));
    if (resolved.error) {
      co_return "could not resolve upstream " + where + ": " + resolved.error.message();
    }
    std::tie(ec, std::ignore) =
        co_await net::async_connect(socket, resolved.endpoints, use_nothrow);
  }
  if (ec) {
    co_return "could not connect to upstream " + where + ": " + ec.message();
  }
  socket.set_option(tcp::no_delay(true), ec);
  // An upstream host that vanished ends the session once keepalive probes go unanswered.
  socket.set_option(tcp_socket::keep_alive(true), ec);
  co_return std::move(socket);
}

awaitable<std::variant<std::unique_ptr<Stream>, ConnectFailure>> connect_upstream(
    const Snapshot& snapshot, OffThread off_thread) {
  steady_timer timer(co_await net::this_coro::executor);
  timer.expires_after(snapshot.config->timeouts.connect);
  auto result = co_await (connect_whole(snapshot, off_thread) || timer.async_wait(use_nothrow));
  static_assert(std::variant_size_v<decltype(result)> == 2);
  if (result.index() == 1) {
    co_return ConnectFailure{"timed out connecting to upstream " +
                             snapshot.config->upstream.address.to_string() + " after " +
                             std::to_string(snapshot.config->timeouts.connect.count()) + " ms"};
  }
  co_return std::move(std::get<0>(result).outcome);
}

}  // namespace switchyard::proxy
