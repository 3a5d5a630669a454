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

/// Completion token: `auto [ec, n] = co_await s.async_read_some(b, use_nothrow);`
inline constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);
/// Same results, but the operation is an awaiter of its own instead of a coroutine: co_await it
/// at once (it starts when awaited). For the relay's per-statement reads, where the coroutine
/// frame use_awaitable allocates for each operation was a sixth of the relay's instructions.
inline constexpr auto use_nothrow_deferred = net::as_tuple(net::deferred);

}  // namespace switchyard::proxy
