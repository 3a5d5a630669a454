#pragma once

#include <memory>
#include <optional>
#include <string>

#include "proxy/asio.hpp"

namespace switchyard::proxy {

/// A connection that starts as plain TCP and may be upgraded to TLS once, in place.
/// Postgres negotiates TLS inside the protocol (SSLRequest), so both client and upstream
/// sockets begin plain; after the upgrade every read and write goes through OpenSSL.
class Stream {
 public:
  explicit Stream(tcp::socket socket) : socket_(std::move(socket)) {}

  /// Server-side TLS handshake (we are the server the client talks to).
  net::awaitable<error_code> handshake_as_server(ssl::context& context);
  /// Client-side TLS handshake to the upstream. `verify_host` empty = no name check.
  net::awaitable<error_code> handshake_as_client(ssl::context& context,
                                                 const std::string& verify_host,
                                                 const std::string& sni_host);

  net::awaitable<std::pair<error_code, std::size_t>> read_some(net::mutable_buffer buffer);

  template <class ConstBufferSequence>
  net::awaitable<error_code> write(const ConstBufferSequence& buffers) {
    error_code ec;
    if (tls_) {
      std::tie(ec, std::ignore) = co_await net::async_write(*tls_, buffers, use_nothrow);
    } else {
      std::tie(ec, std::ignore) = co_await net::async_write(socket_, buffers, use_nothrow);
    }
    co_return ec;
  }

  /// Waits until the plain socket is readable, so a caller can take a buffer only when data is
  /// there. With TLS, OpenSSL may already hold decrypted bytes, so it returns at once.
  net::awaitable<error_code> wait_readable();

  bool is_tls() const { return tls_ != nullptr; }
  /// The negotiated TLS version ("TLSv1.3") or "" for plain connections.
  std::string tls_version() const;
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : socket_; }
  /// Closes the socket; pending operations complete with an error. Safe to call twice.
  void close();

 private:
  tcp::socket socket_;
  std::unique_ptr<ssl::stream<tcp::socket>> tls_;
};

}  // namespace switchyard::proxy
