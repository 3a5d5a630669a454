#include "proxy/admin_server.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>

#include "proxy/admin_pages.hpp"
#include "proxy/logging.hpp"
#include "proxy/metrics_text.hpp"
#include "proxy/thread_name.hpp"

namespace switchyard::proxy {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// One admitted connection, while it waits for a request.
struct Waiting {
  beast::tcp_stream* stream;
  bool* counted;  // cleared when the connection is closed to make room: it has left the count
};

}  // namespace

struct AdminServer::Shared {
  std::shared_ptr<ProxyState> state;
  LastReload last_reload;
  // The rest is touched on the admin thread only.
  int connections = 0;
  // The connections waiting for a request, by when they began to wait: at the limit the one
  // that waited longest is closed to make room, so that clients which connect and send nothing
  // cannot keep a probe out.
  std::map<std::uint64_t, Waiting> waiting;
  std::uint64_t waits_begun = 0;
  // Connections dropped at the limit since the last admin_connections_full line.
  std::uint64_t closed_waiting = 0;
  std::uint64_t refused = 0;
  std::chrono::steady_clock::time_point last_full_warning{};

  ReloadStatus reload_status() const { return last_reload ? last_reload() : ReloadStatus{}; }
};

namespace {

// Lists a connection among those waiting for a request while it lives. A stopped context
// destroys the coroutine frame, and this with it, so no entry outlives its stream.
class WaitingEntry {
 public:
  WaitingEntry(AdminServer::Shared& shared, beast::tcp_stream& stream, bool& counted)
      : waiting_(shared.waiting), key_(++shared.waits_begun) {
    waiting_.emplace(key_, Waiting{&stream, &counted});
  }
  ~WaitingEntry() { waiting_.erase(key_); }
  WaitingEntry(const WaitingEntry&) = delete;
  WaitingEntry& operator=(const WaitingEntry&) = delete;

 private:
  std::map<std::uint64_t, Waiting>& waiting_;
  std::uint64_t key_;
};

// Scrapers and probes keep few connections; more than this is a misbehaving client.
constexpr int kMaxConnections = 64;
// A request is a few hundred bytes sent at once: a connection that has not sent one by then is
// idle or hostile, and holds a slot a probe may need.
constexpr std::chrono::seconds kRequestReadTimeout{2};
constexpr std::chrono::seconds kWriteTimeout{10};
// How long, and how much, the sender of a refused request is read after the answer, so that the
// close sends no reset (serve_connection).
constexpr std::chrono::milliseconds kLingerTimeout{500};
constexpr std::size_t kLingerBytes = 64 * 1024;
// One warning per interval at most, counting what it stands for: a flood of connections must
// not become a flood of log lines.
constexpr std::chrono::seconds kFullWarningInterval{10};

struct Reply {
  http::status status = http::status::ok;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

Reply text_reply(http::status status, std::string body) {
  return Reply{status, "text/plain; charset=utf-8", std::move(body)};
}

// Why the upstream is not reachable, or nullopt when a connect succeeded in time.
awaitable<std::optional<std::string>> check_upstream(config::Endpoint address,
                                                     std::chrono::milliseconds timeout) {
  auto executor = co_await net::this_coro::executor;
  const std::string where = address.to_string();
  if (address.is_unix()) {
    beast::basic_stream<net::local::stream_protocol> local(executor);
    local.expires_after(timeout);
    auto [connect_ec] = co_await local.async_connect(
        net::local::stream_protocol::endpoint(address.unix_socket_path()), use_nothrow);
    if (connect_ec == beast::error::timeout) {
      co_return "upstream " + where + " did not accept a connection within " +
          std::to_string(timeout.count()) + "ms";
    }
    if (connect_ec) {
      co_return "upstream " + where + " unreachable: " + connect_ec.message();
    }
    co_return std::nullopt;
  }
  beast::tcp_stream stream(executor);
  error_code ec;
  auto ip = net::ip::make_address(address.host, ec);
  std::vector<tcp::endpoint> endpoints;
  if (!ec) {
    endpoints.emplace_back(ip, address.port);
  } else {
    tcp_resolver resolver(executor);
    auto [resolve_ec, results] =
        co_await resolver.async_resolve(address.host, std::to_string(address.port), use_nothrow);
    if (resolve_ec) {
      co_return "cannot resolve upstream " + where + ": " + resolve_ec.message();
    }
    for (const auto& entry : results) {
      endpoints.push_back(entry.endpoint());
    }
  }
  stream.expires_after(timeout);
  auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, use_nothrow);
  if (connect_ec == beast::error::timeout) {
    co_return "upstream " + where + " did not accept a connection within " +
        std::to_string(timeout.count()) + "ms";
  }
  if (connect_ec) {
    co_return "upstream " + where + " unreachable: " + connect_ec.message();
  }
  error_code ignored;
  stream.socket().shutdown(tcp_socket::shutdown_both, ignored);
  co_return std::nullopt;
}

awaitable<Reply> readiness(const AdminServer::Shared& shared) {
  auto snapshot = shared.state->snapshot();
  if (!snapshot || !snapshot->config) {
    co_return text_reply(http::status::service_unavailable, "not ready: no config loaded\n");
  }
  if (shared.state->draining()) {
    co_return text_reply(http::status::service_unavailable, "not ready: draining\n");
  }
  // Found by the catalog check: the upstream answers, but not for a database the config names.
  if (auto missing = shared.state->catalog_check().missing_databases; !missing.empty()) {
    std::string body = "not ready:";
    for (const auto& message : missing) {
      body += " " + message + "\n";
    }
    co_return text_reply(http::status::service_unavailable, std::move(body));
  }
  auto timeout = std::min<std::chrono::milliseconds>(AdminServer::kReadyCheckTimeout,
                                                     snapshot->config->timeouts.connect);
  auto problem = co_await check_upstream(snapshot->config->upstream.address, timeout);
  if (problem) {
    co_return text_reply(http::status::service_unavailable, "not ready: " + *problem + "\n");
  }
  co_return text_reply(http::status::ok, "ready\n");
}

awaitable<Reply> route(const AdminServer::Shared& shared, std::string_view path) {
  if (path == "/metrics") {
    co_return Reply{http::status::ok, std::string(kPrometheusContentType),
                    render_metrics(*shared.state, shared.reload_status())};
  }
  if (path == "/healthz") {
    co_return text_reply(http::status::ok, "ok\n");
  }
  if (path == "/readyz") {
    co_return co_await readiness(shared);
  }
  if (path == "/config") {
    auto snapshot = shared.state->snapshot();
    if (!snapshot) {
      co_return text_reply(http::status::service_unavailable, "no config loaded\n");
    }
    co_return Reply{http::status::ok, "application/json",
                    config_page(*snapshot, shared.reload_status(), shared.state->draining(),
                                shared.state->catalog_check(),
                                shared.state->metrics.total()->open_transactions.older_than(
                                    snapshot->flags_generation))};
  }
  co_return text_reply(http::status::not_found,
                       "not found; try /metrics, /healthz, /readyz or /config\n");
}

template <typename Body>
void set_common(http::response<Body>& response, const Reply& reply, bool keep_alive) {
  response.set(http::field::server, "switchyard");
  response.set(http::field::content_type, reply.content_type);
  response.set(http::field::cache_control, "no-store");
  response.keep_alive(keep_alive);
}

// The answer to a request the parser refused, or nullopt when the peer is gone or silent.
std::optional<Reply> refusal_of(const error_code& ec) {
  if (ec.category() != http::make_error_code(http::error::bad_target).category() ||
      ec == http::error::end_of_stream || ec == http::error::partial_message) {
    return std::nullopt;
  }
  if (ec == http::error::header_limit) {
    return text_reply(http::status::request_header_fields_too_large,
                      "request header fields too large\n");
  }
  if (ec == http::error::body_limit) {
    return text_reply(http::status::payload_too_large, "request body too large\n");
  }
  return text_reply(http::status::bad_request, "bad request: " + ec.message() + "\n");
}

awaitable<void> refuse(beast::tcp_stream& stream, const Reply& reply) {
  http::response<http::string_body> response(reply.status, 11);
  set_common(response, reply, false);
  response.body() = reply.body;
  response.prepare_payload();
  stream.expires_after(kWriteTimeout);
  co_await http::async_write(stream, response, use_nothrow);
  error_code ignored;
  stream.socket().shutdown(tcp_socket::shutdown_send, ignored);
}

awaitable<void> discard_until_closed(beast::tcp_stream& stream) {
  stream.expires_after(kLingerTimeout);
  std::array<char, 4096> scrap;
  for (std::size_t total = 0; total < kLingerBytes;) {
    auto [ec, n] = co_await stream.async_read_some(net::buffer(scrap), use_nothrow);
    if (ec) {
      co_return;
    }
    total += n;
  }
}

awaitable<void> serve_connection(beast::tcp_stream stream,
                                 std::shared_ptr<AdminServer::Shared> shared) {
  // Counted by the accept loop; it leaves the count when it ends, or earlier when closed to
  // make room.
  struct Count {
    int& n;
    bool counted = true;
    ~Count() {
      if (counted) {
        --n;
      }
    }
  } count{shared->connections};

  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(16 * 1024);
    stream.expires_after(kRequestReadTimeout);
    error_code read_ec;
    {
      WaitingEntry waiting(*shared, stream, count.counted);
      std::tie(read_ec, std::ignore) =
          co_await http::async_read(stream, buffer, parser, use_nothrow);
    }
    if (read_ec) {
      // A request that is not HTTP, or too large, is told why before the close, so that a
      // probe misconfigured by hand (curl with a stray space, a client sending TLS) sees more
      // than a reset; a close, a timeout or a cut-off request has no one to tell.
      if (auto refusal = refusal_of(read_ec)) {
        spdlog::debug("event=admin_request_refused status={} error={}",
                      static_cast<unsigned>(refusal->status), log_value(read_ec.message()));
        co_await refuse(stream, *refusal);
        // Closed with bytes of the request still unread, the socket would send a reset, which
        // may discard the answer before the client reads it: read what it sent until it
        // closes, briefly, and as a connection that may be closed to make room.
        WaitingEntry waiting(*shared, stream, count.counted);
        co_await discard_until_closed(stream);
      }
      break;
    }
    const auto& request = parser.get();
    const bool keep_alive = request.keep_alive();
    std::string_view target(request.target().data(), request.target().size());
    auto path = target.substr(0, target.find('?'));

    Reply reply;
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      reply = text_reply(http::status::method_not_allowed, "only GET and HEAD\n");
    } else {
      reply = co_await route(*shared, path);
    }
    stream.expires_after(kWriteTimeout);
    error_code write_ec;
    if (request.method() == http::verb::head) {
      http::response<http::empty_body> response(reply.status, request.version());
      set_common(response, reply, keep_alive);
      response.content_length(reply.body.size());
      std::tie(write_ec, std::ignore) = co_await http::async_write(stream, response, use_nothrow);
    } else {
      http::response<http::string_body> response(reply.status, request.version());
      set_common(response, reply, keep_alive);
      if (reply.status == http::status::method_not_allowed) {
        response.set(http::field::allow, "GET, HEAD");
      }
      response.body() = std::move(reply.body);
      response.prepare_payload();
      std::tie(write_ec, std::ignore) = co_await http::async_write(stream, response, use_nothrow);
    }
    if (write_ec || !keep_alive) {
      break;
    }
  }
  error_code ignored;
  stream.socket().shutdown(tcp_socket::shutdown_send, ignored);
}

void warn_full(AdminServer::Shared& shared) {
  const auto now = std::chrono::steady_clock::now();
  if (shared.last_full_warning != std::chrono::steady_clock::time_point{} &&
      now - shared.last_full_warning < kFullWarningInterval) {
    return;
  }
  shared.last_full_warning = now;
  spdlog::warn("event=admin_connections_full limit={} closed_waiting={} refused={} meaning={}",
               kMaxConnections, shared.closed_waiting, shared.refused,
               log_value("more admin connections than the limit: the ones that waited longest "
                         "without sending a request were closed to make room, and new ones "
                         "refused when none was waiting"));
  shared.closed_waiting = 0;
  shared.refused = 0;
}

// At the limit: closes the connection that has waited longest for a request, so that a new one
// (a probe) is served. False when every connection is busy answering.
bool make_room(AdminServer::Shared& shared) {
  if (shared.waiting.empty()) {
    ++shared.refused;
    warn_full(shared);
    return false;
  }
  auto oldest = shared.waiting.begin();
  Waiting victim = oldest->second;
  shared.waiting.erase(oldest);
  // Its coroutine ends once its read completes as aborted; the count drops now so the slot is
  // taken by the new connection and the bound holds.
  *victim.counted = false;
  --shared.connections;
  victim.stream->close();
  ++shared.closed_waiting;
  warn_full(shared);
  return true;
}

awaitable<void> accept_loop(tcp_acceptor& acceptor, std::shared_ptr<AdminServer::Shared> shared) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
    if (ec == net::error::operation_aborted || !acceptor.is_open()) {
      co_return;
    }
    if (ec) {
      spdlog::warn("event=admin_accept_failed error={}", log_value(ec.message()));
      steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(use_nothrow);
      continue;
    }
    if (shared->connections >= kMaxConnections && !make_room(*shared)) {
      continue;  // every connection is busy answering; the socket closes as it goes out of scope
    }
    ++shared->connections;
    net::co_spawn(acceptor.get_executor(),
                  serve_connection(beast::tcp_stream(std::move(socket)), shared), net::detached);
  }
}

}  // namespace

AdminServer::AdminServer(std::shared_ptr<ProxyState> state, LastReload last_reload)
    : shared_(std::make_shared<Shared>()) {
  shared_->state = std::move(state);
  shared_->last_reload = std::move(last_reload);
}

AdminServer::~AdminServer() { stop(); }

std::optional<std::string> AdminServer::start(const config::Endpoint& address) {
  error_code ec;
  tcp::endpoint endpoint;
  auto ip = net::ip::make_address(address.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(ip, address.port);
  } else {
    tcp_resolver resolver(context_);
    auto results = resolver.resolve(address.host, std::to_string(address.port), ec);
    if (ec || results.empty()) {
      return "cannot resolve admin address " + address.to_string() + ": " + ec.message();
    }
    endpoint = results.begin()->endpoint();
  }
  acceptor_ = std::make_unique<tcp_acceptor>(context_);
  acceptor_->open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor_->set_option(tcp_acceptor::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor_->bind(endpoint, ec);
  }
  if (!ec) {
    acceptor_->listen(net::socket_base::max_listen_connections, ec);
  }
  if (!ec) {
    bound_ = acceptor_->local_endpoint(ec);
  }
  if (ec) {
    acceptor_.reset();
    return "cannot listen on admin address " + address.to_string() + ": " + ec.message();
  }
  net::co_spawn(context_, accept_loop(*acceptor_, shared_), net::detached);
  thread_ = std::thread([this] { context_.run(); });
  name_thread(thread_, "sy-admin");
  return std::nullopt;
}

void AdminServer::stop() {
  if (!thread_.joinable()) {
    return;
  }
  // Stopping the context abandons open connections: their coroutine frames (and sockets) are
  // destroyed with the context, which is what an admin endpoint going away should do.
  context_.stop();
  thread_.join();
  acceptor_.reset();
}

}  // namespace switchyard::proxy
