#include "proxy/stream.hpp"

#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>

#include "proxy/socket_calls.hpp"

namespace switchyard::proxy {
namespace {

// A failed non-blocking recv/sendmsg as Asio spells it, so callers test one kind of value.
error_code socket_error(int err) {
  return err == EAGAIN || err == EWOULDBLOCK ? error_code(net::error::would_block)
                                             : error_code(err, boost::system::system_category());
}

}  // namespace

awaitable<error_code> Stream::handshake_as_server(ssl::context& context) {
  tls_ = std::make_unique<ssl::stream<tcp_socket>>(std::move(socket_), context);
  auto [ec] = co_await tls_->async_handshake(ssl::stream_base::server, use_nothrow);
  co_return ec;
}

awaitable<error_code> Stream::handshake_as_client(ssl::context& context,
                                                  const std::string& verify_host,
                                                  const std::string& sni_host) {
  tls_ = std::make_unique<ssl::stream<tcp_socket>>(std::move(socket_), context);
  if (!sni_host.empty()) {
    SSL_set_tlsext_host_name(tls_->native_handle(), sni_host.c_str());
  }
  if (!verify_host.empty()) {
    tls_->set_verify_mode(ssl::verify_peer);
    tls_->set_verify_callback(ssl::host_name_verification(verify_host));
  }
  auto [ec] = co_await tls_->async_handshake(ssl::stream_base::client, use_nothrow);
  co_return ec;
}

awaitable<std::pair<error_code, std::size_t>> Stream::read_some(net::mutable_buffer buffer) {
  if (tls_) {
    auto [ec, n] = co_await tls_->async_read_some(buffer, use_nothrow);
    co_return std::pair{ec, n};
  }
  for (;;) {
    error_code ec;
    std::size_t n = read_now(buffer, ec);
    if (ec != net::error::would_block) {
      co_return std::pair{ec, n};
    }
    if (auto [wait_ec] = co_await wait_read(); wait_ec) {
      co_return std::pair{wait_ec, std::size_t{0}};
    }
  }
}

std::size_t Stream::read_now(net::mutable_buffer buffer, error_code& ec) {
  ec = {};
  for (;;) {
    ssize_t n =
        socket_calls::recv(socket_.native_handle(), buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n > 0) {
      return static_cast<std::size_t>(n);
    }
    if (n == 0) {
      ec = buffer.size() == 0 ? error_code{} : error_code(net::error::eof);
      return 0;
    }
    if (errno == EINTR) {
      continue;
    }
    ec = socket_error(errno);
    return 0;
  }
}

awaitable<std::tuple<error_code>> Stream::wait_read() {
  return socket_.async_wait(tcp_socket::wait_read, use_nothrow);
}

std::size_t Stream::send_now(std::span<const iovec> pieces, error_code& ec) {
  ec = {};
  msghdr message{};
  message.msg_iov = const_cast<iovec*>(pieces.data());
  message.msg_iovlen = pieces.size();
  for (;;) {
    // MSG_NOSIGNAL: a peer that went away is an error value, not a SIGPIPE. One piece (what
    // a relay forwards unchanged) goes by sendto, which spares the kernel reading an iovec
    // array (bench/RESULTS.md, 2026-11-29 21:27).
    constexpr int kFlags = MSG_DONTWAIT | MSG_NOSIGNAL;
    const int fd = socket_.native_handle();
    ssize_t n = pieces.size() == 1
                    ? socket_calls::send(fd, pieces[0].iov_base, pieces[0].iov_len, kFlags)
                    : socket_calls::sendmsg(fd, &message, kFlags);
    if (n >= 0) {
      return static_cast<std::size_t>(n);
    }
    if (errno == EINTR) {
      continue;
    }
    ec = socket_error(errno);
    return 0;
  }
}

awaitable<error_code> Stream::wait_readable() {
  if (tls_) {
    co_return error_code{};
  }
  // async_wait(wait_read) is not speculative: under edge-triggered epoll it can miss bytes
  // that arrived before the wait was queued. A peek is speculative and consumes nothing.
  std::byte probe{};
  auto [ec, n] =
      co_await socket_.async_receive(net::buffer(&probe, 1), tcp_socket::message_peek, use_nothrow);
  if (!ec && n == 0) {
    ec = net::error::eof;
  }
  co_return ec;
}

std::string Stream::tls_version() const {
  if (!tls_) {
    return {};
  }
  return SSL_get_version(const_cast<ssl::stream<tcp_socket>&>(*tls_).native_handle());
}

void Stream::close() {
  error_code ignored;
  socket().shutdown(tcp_socket::shutdown_both, ignored);
  socket().close(ignored);
}

}  // namespace switchyard::proxy
