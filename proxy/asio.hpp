#pragma once

// The one place that decides how proxy/ spells Asio: coroutines, errors as values.
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>

namespace switchyard::proxy {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

/// Every proxy object runs on one io_context, so its executor type is named, not type-erased:
/// with any_io_executor each relay read copied, compared and destroyed executors through
/// function pointers (about 100 instructions per relayed statement).
using executor = net::io_context::executor_type;
template <class T = void>
using awaitable = net::awaitable<T, executor>;
using tcp_socket = tcp::socket::rebind_executor<executor>::other;
using tcp_acceptor = tcp::acceptor::rebind_executor<executor>::other;
using tcp_resolver = tcp::resolver::rebind_executor<executor>::other;
using unix_acceptor = net::local::stream_protocol::acceptor::rebind_executor<executor>::other;
using steady_timer = net::steady_timer::rebind_executor<executor>::other;

/// Completion token: `auto [ec, n] = co_await s.async_read_some(b, use_nothrow);`
inline constexpr auto use_nothrow = net::as_tuple(net::use_awaitable_t<executor>{});
/// Same results, but the operation is an awaiter of its own instead of a coroutine: co_await it
/// at once (it starts when awaited). For the relay's per-statement reads: the coroutine that
/// use_awaitable runs for each operation was about 400 of the relay's 5,300 instructions per
/// statement.
inline constexpr auto use_nothrow_deferred = net::as_tuple(net::deferred);

}  // namespace switchyard::proxy
