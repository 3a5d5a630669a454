#pragma once

#include <sys/socket.h>

#include <boost/version.hpp>
#include <cerrno>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "protocol/framer.hpp"
#include "proxy/asio.hpp"
#include "proxy/socket_calls.hpp"

// Why this exists: Asio's epoll reactor tries every read with a recv before it waits for the
// socket (a "speculative" read), and in Asio 1.81 it stops trying only after a read that
// returned 0 bytes. In a relay, that try fails with EAGAIN once per message in each direction:
// two of the proxy's seven system calls per pgbench statement (PgBouncer makes four and a
// half). `DrainedReads::read` tells the reactor to skip the try after a read that left the
// peer waiting for an answer: a short read (the socket had no more) that ends with a whole
// message after which the peer sends nothing until it is answered (`quiet_after`: a client's
// Query or Sync, a server's ReadyForQuery). Bytes sent later raise a new epoll edge, so none is
// missed.
//
// Why a short read alone is not enough: a peer that sends its last bytes and closes at once
// (a server's FATAL error, then FIN) can have both arrive before the reactor looks; the recv
// returns the bytes, the end of file is left for the next recv, and no new edge comes for it.
// Ending on a message after which the peer waits makes that case a peer that closed while it
// was idle; a later write to it makes the kernel answer with a reset, which does raise an edge.
// What is left is a client that half-closes right after its Query or Sync and, once answered,
// closes without a word: no edge comes, as for a client whose host vanished; the sockets'
// keepalive probes end such a session.
//
// It is built on the reactor's internals, so only against the Asio it was checked with
// (Boost 1.81, Debian 12's, with the epoll reactor). Anywhere else, and for a handler that could
// ask for per-operation cancellation or that runs on another executor, it is Asio's own
// async_read_some.
#if BOOST_VERSION == 108100 && defined(BOOST_ASIO_HAS_EPOLL) && \
    !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT) && !defined(BOOST_ASIO_ENABLE_HANDLER_TRACKING)
#define SWITCHYARD_DRAINED_READ 1
#endif

namespace switchyard::proxy {

/// True when a peer whose bytes end with a message of this type waits for an answer before it
/// sends again. Null: never assume so.
using QuietAfter = bool (*)(char type);

#ifdef SWITCHYARD_DRAINED_READ
namespace drained_read_detail {

using reactor = net::detail::epoll_reactor;

/// The socket's descriptor and reactor registration; `impl_` is protected in basic_socket.
struct SocketInternals : tcp_socket {
  static constexpr auto impl = &SocketInternals::impl_;
};

/// One recv into `buffer`; the reactor performs it (first at once, then on each epoll edge)
/// until it is done, then completes it through the scheduler.
template <class Handler>
class ReadOp : public net::detail::reactor_op {
 public:
  ReadOp(int fd, net::mutable_buffer buffer, QuietAfter quiet_after, Handler&& handler)
      : reactor_op(error_code{}, &ReadOp::perform, &ReadOp::complete),
        fd_(fd),
        buffer_(buffer),
        quiet_after_(quiet_after),
        handler_(std::move(handler)) {}

 private:
  static status perform(reactor_op* base) {
    auto* op = static_cast<ReadOp*>(base);
    for (;;) {
      ssize_t n = socket_calls::recv(op->fd_, op->buffer_.data(), op->buffer_.size(), MSG_DONTWAIT);
      if (n > 0) {
        op->bytes_transferred_ = static_cast<std::size_t>(n);
        return op->leaves_peer_waiting() ? done_and_exhausted : done;
      }
      if (n == 0) {
        op->ec_ = net::error::eof;
        return done_and_exhausted;
      }
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return not_done;
      }
      op->ec_ = error_code(errno, boost::system::system_category());
      return done;
    }
  }

  bool leaves_peer_waiting() const {
    if (quiet_after_ == nullptr || bytes_transferred_ == buffer_.size()) {
      return false;
    }
    auto last = protocol::last_frame_type(
        {static_cast<const std::byte*>(buffer_.data()), bytes_transferred_});
    return last && quiet_after_(*last);
  }

  // `owner` is null when the io_context is destroyed with the read pending: free, do not call.
  static void complete(void* owner, net::detail::scheduler_operation* base, const error_code&,
                       std::size_t) {
    auto* op = static_cast<ReadOp*>(base);
    Handler handler(std::move(op->handler_));
    error_code ec = op->ec_;
    std::size_t n = op->bytes_transferred_;
    op->~ReadOp();
    net::recycling_allocator<ReadOp>().deallocate(op, 1);
    if (owner) {
      // The scheduler runs this on the socket's io_context, which is the handler's executor
      // (checked when the read started): calling it here is what Asio's dispatch would do.
      std::move(handler)(ec, n);
    }
  }

  int fd_;
  net::mutable_buffer buffer_;
  QuietAfter quiet_after_;
  Handler handler_;
};

struct Initiation {
  tcp_socket* socket;
  reactor** cached_reactor;  // the socket's reactor, looked up on the first read

  template <class Handler>
  void operator()(Handler&& handler, net::mutable_buffer buffer, QuietAfter quiet_after) const {
    using Op = ReadOp<std::decay_t<Handler>>;
    auto executor = socket->get_executor();
    if (quiet_after == nullptr || buffer.size() == 0 ||
        net::get_associated_cancellation_slot(handler).is_connected() ||
        net::get_associated_executor(handler, executor) != executor) {
      socket->async_read_some(buffer, std::forward<Handler>(handler));
      return;
    }
    auto& impl = (socket->*SocketInternals::impl).get_implementation();
    Op* op = net::recycling_allocator<Op>().allocate(1);
    new (op) Op(impl.socket_, buffer, quiet_after, std::move(handler));
    if (*cached_reactor == nullptr) {
      *cached_reactor = &net::use_service<reactor>(net::query(executor, net::execution::context));
    }
    (*cached_reactor)
        ->start_op(reactor::read_op, impl.socket_, impl.reactor_data_, op,
                   /*is_continuation=*/false, /*allow_speculative=*/true);
  }
};

}  // namespace drained_read_detail
#endif

/// Relay reads of one plain socket: async_read_some where each read's buffer starts at a
/// message's start. A read completes with at least one byte, or an error (eof when the peer
/// closed); pending, it is ended by cancel() or close() of the socket. Keeps the socket's
/// reactor between reads (a service look-up takes a lock); use one per socket.
class DrainedReads {
 public:
  template <class Token>
  auto read(tcp_socket& socket, net::mutable_buffer buffer, QuietAfter quiet_after, Token&& token) {
#ifdef SWITCHYARD_DRAINED_READ
    return net::async_initiate<Token, void(error_code, std::size_t)>(
        drained_read_detail::Initiation{&socket, &reactor_}, token, buffer, quiet_after);
#else
    (void)quiet_after;
    return socket.async_read_some(buffer, std::forward<Token>(token));
#endif
  }

 private:
#ifdef SWITCHYARD_DRAINED_READ
  drained_read_detail::reactor* reactor_ = nullptr;
#endif
};

}  // namespace switchyard::proxy
