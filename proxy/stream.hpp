#pragma once

#include <sys/uio.h>

#include <array>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "proxy/asio.hpp"
#include "proxy/drained_read.hpp"

namespace switchyard::proxy {

/// A connection that starts as plain TCP and may be upgraded to TLS once, in place.
/// Postgres negotiates TLS inside the protocol (SSLRequest), so both client and upstream
/// sockets begin plain; after the upgrade every read and write goes through OpenSSL.
class Stream {
 public:
  explicit Stream(tcp_socket socket) : socket_(std::move(socket)) {}

  /// Server-side TLS handshake (we are the server the client talks to).
  awaitable<error_code> handshake_as_server(ssl::context& context);
  /// Client-side TLS handshake to the upstream. `verify_host` empty = no name check.
  awaitable<error_code> handshake_as_client(ssl::context& context, const std::string& verify_host,
                                            const std::string& sni_host);

  /// Reads at least one byte (or fails). Plain sockets try the socket first and wait only when
  /// it is empty, so a read of bytes already there costs one system call and no scheduler trip.
  awaitable<std::pair<error_code, std::size_t>> read_some(net::mutable_buffer buffer);

  /// Plain sockets only: a read as an awaitable without a frame of its own. While it waits it
  /// holds `buffer`. `quiet_after` (null when `buffer` does not start at a message's start)
  /// lets a read that leaves the peer waiting spare the next read a failing recv
  /// (proxy/drained_read.hpp).
  auto async_read_plain(net::mutable_buffer buffer, QuietAfter quiet_after) {
    return drained_reads_.read(socket_, buffer, quiet_after, use_nothrow_deferred);
  }

  /// Plain sockets only: reads what the socket holds now, without waiting. `ec` is
  /// would_block when it holds nothing, eof when the peer closed.
  std::size_t read_now(net::mutable_buffer buffer, error_code& ec);

  /// Plain sockets only: waits until the socket is readable. Bytes that arrived before the
  /// wait still wake it: Asio registers sockets edge-triggered, but it starts a non-speculative
  /// operation with EPOLL_CTL_MOD, which makes the kernel check readiness again and queue an
  /// event if bytes are there. Not a coroutine of its own (the wait's awaitable itself), so an
  /// idle session holds no extra frame. `auto [ec] = co_await stream.wait_read();`
  awaitable<std::tuple<error_code>> wait_read();

  /// Plain sockets: sends `buffers` without suspending when the kernel takes them all, which
  /// is nearly always, so a relay's write costs one system call and no coroutine frame. True when
  /// finished (`ec` says whether it failed); false when bytes are left: write_rest(buffers,
  /// sent) sends them. TLS sockets send nothing here and return false.
  template <class ConstBufferSequence>
  bool try_write(const ConstBufferSequence& buffers, std::size_t& sent, error_code& ec) {
    sent = 0;
    ec = {};
    if (tls_) {
      return false;
    }
    // Left uninitialised: only the first `count` are read, and zeroing all of them was a
    // tenth of the relay's own instructions per statement.
    std::array<iovec, kMaxSendPieces> pieces;
    std::size_t count = 0;
    std::size_t total = 0;
    for (auto it = net::buffer_sequence_begin(buffers);
         it != net::buffer_sequence_end(buffers) && count < pieces.size(); ++it) {
      net::const_buffer piece(*it);
      if (piece.size() > 0) {
        pieces[count++] = iovec{const_cast<void*>(piece.data()), piece.size()};
        total += piece.size();
      }
    }
    sent = send_now({pieces.data(), count}, ec);
    if (ec == net::error::would_block) {
      ec = {};
      return false;
    }
    return ec || (sent == total && net::buffer_size(buffers) == total);
  }

  /// Writes `buffers` after their first `sent` bytes (0 for TLS), waiting as long as needed.
  template <class ConstBufferSequence>
  awaitable<error_code> write_rest(const ConstBufferSequence& buffers, std::size_t sent) {
    error_code ec;
    if (tls_) {
      std::tie(ec, std::ignore) = co_await net::async_write(*tls_, buffers, use_nothrow);
      co_return ec;
    }
    std::vector<net::const_buffer> rest = unsent(buffers, sent);
    std::tie(ec, std::ignore) = co_await net::async_write(socket_, rest, use_nothrow);
    co_return ec;
  }

  template <class ConstBufferSequence>
  awaitable<error_code> write(const ConstBufferSequence& buffers) {
    std::size_t sent = 0;
    error_code ec;
    if (try_write(buffers, sent, ec)) {
      co_return ec;
    }
    co_return co_await write_rest(buffers, sent);
  }

  /// Waits until the plain socket is readable, so a caller can take a buffer only when data is
  /// there. With TLS, OpenSSL may already hold decrypted bytes, so it returns at once.
  awaitable<error_code> wait_readable();

  bool is_tls() const { return tls_ != nullptr; }
  /// The negotiated TLS version ("TLSv1.3") or "" for plain connections.
  std::string tls_version() const;
  tcp_socket& socket() { return tls_ ? tls_->next_layer() : socket_; }
  /// Closes the socket; pending operations complete with an error. Safe to call twice.
  void close();

 private:
  static constexpr std::size_t kMaxSendPieces = 32;

  /// One non-blocking sendmsg of `pieces`; returns the bytes the kernel took.
  std::size_t send_now(std::span<const iovec> pieces, error_code& ec);

  /// The buffers of `buffers` after the first `skip` bytes.
  template <class ConstBufferSequence>
  static std::vector<net::const_buffer> unsent(const ConstBufferSequence& buffers,
                                               std::size_t skip) {
    std::vector<net::const_buffer> rest;
    for (auto it = net::buffer_sequence_begin(buffers); it != net::buffer_sequence_end(buffers);
         ++it) {
      net::const_buffer piece(*it);
      if (skip >= piece.size()) {
        skip -= piece.size();
        continue;
      }
      rest.push_back(piece + skip);
      skip = 0;
    }
    return rest;
  }

  tcp_socket socket_;
  DrainedReads drained_reads_;
  std::unique_ptr<ssl::stream<tcp_socket>> tls_;
};

}  // namespace switchyard::proxy
