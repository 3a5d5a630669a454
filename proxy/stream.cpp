#include "proxy/stream.hpp"

#include <openssl/ssl.h>

namespace switchyard::proxy {

net::awaitable<error_code> Stream::handshake_as_server(ssl::context& context) {
  tls_ = std::make_unique<ssl::stream<tcp::socket>>(std::move(socket_), context);
  auto [ec] = co_await tls_->async_handshake(ssl::stream_base::server, use_nothrow);
  co_return ec;
}

net::awaitable<error_code> Stream::handshake_as_client(ssl::context& context,
                                                       const std::string& verify_host,
                                                       const std::string& sni_host) {
  tls_ = std::make_unique<ssl::stream<tcp::socket>>(std::move(socket_), context);
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

net::awaitable<std::pair<error_code, std::size_t>> Stream::read_some(net::mutable_buffer buffer) {
  if (tls_) {
    auto [ec, n] = co_await tls_->async_read_some(buffer, use_nothrow);
    co_return std::pair{ec, n};
  }
  auto [ec, n] = co_await socket_.async_read_some(buffer, use_nothrow);
  co_return std::pair{ec, n};
}

net::awaitable<error_code> Stream::wait_readable() {
  if (tls_) {
    co_return error_code{};
  }
  // async_wait(wait_read) is not speculative: under edge-triggered epoll it can miss bytes
  // that arrived before the wait was queued. A peek is speculative and consumes nothing.
  std::byte probe{};
  auto [ec, n] = co_await socket_.async_receive(net::buffer(&probe, 1), tcp::socket::message_peek,
                                                use_nothrow);
  if (!ec && n == 0) {
    ec = net::error::eof;
  }
  co_return ec;
}

std::string Stream::tls_version() const {
  if (!tls_) {
    return {};
  }
  return SSL_get_version(const_cast<ssl::stream<tcp::socket>&>(*tls_).native_handle());
}

void Stream::close() {
  error_code ignored;
  socket().shutdown(tcp::socket::shutdown_both, ignored);
  socket().close(ignored);
}

}  // namespace switchyard::proxy
