#include "proxy/drained_read.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace switchyard::proxy {
namespace {

using namespace std::chrono_literals;

/// A connected pair of TCP sockets on 127.0.0.1: `ours` is read through `reads`,
/// `peer` is written synchronously by the test.
struct SocketPair {
  net::io_context context{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  tcp_socket ours{context};
  tcp_socket peer{context};
  DrainedReads reads;  // of `ours`

  SocketPair() {
    tcp_acceptor acceptor(context, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    peer.connect(acceptor.local_endpoint());
    acceptor.accept(ours);
  }

  void send(const std::string& bytes) { net::write(peer, net::buffer(bytes)); }

  /// Runs until `done` or 5 s; the tests' only wait, bounded.
  void run_until(const bool& done) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!done && std::chrono::steady_clock::now() < deadline) {
      context.run_for(10ms);
      context.restart();
    }
  }
};

/// As after a server's ReadyForQuery: the test's messages are 'Z' (quiet after) and 'E' (not).
bool quiet_after_z(char type) { return type == 'Z'; }

const std::string kReadyForQuery("Z\0\0\0\x05I", 6);
const std::string kFatal("E\0\0\0\x0aSFATAL\0", 11);

struct ReadResult {
  bool done = false;
  error_code ec;
  std::string bytes;
};

constexpr std::size_t kBufferSize = 256;  // the relay's wait buffer

/// Starts one drained read of up to kBufferSize bytes into `result`, as the relay does it.
void start_read(SocketPair& pair, ReadResult& result) {
  net::co_spawn(
      pair.context,
      [&pair, &result]() -> awaitable<void> {
        std::string buffer(kBufferSize, '\0');
        auto [ec, n] =
            co_await pair.reads.read(pair.ours, net::buffer(buffer), &quiet_after_z, use_nothrow);
        result.ec = ec;
        result.bytes = buffer.substr(0, n);
        result.done = true;
      },
      net::detached);
}

/// Starts a read and runs the context until it waits in the reactor.
void start_pending_read(SocketPair& pair, ReadResult& result) {
  start_read(pair, result);
  pair.context.poll();
  pair.context.restart();
}

/// One read, run until it completes (bounded by run_until).
ReadResult read_once(SocketPair& pair) {
  ReadResult result;
  start_read(pair, result);
  pair.run_until(result.done);
  return result;
}

TEST(DrainedRead, BytesSentAfterAReadThatLeftThePeerWaitingWakeTheNextRead) {
  SocketPair pair;
  pair.send(kReadyForQuery);
  ReadResult first = read_once(pair);
  ASSERT_TRUE(first.done);
  EXPECT_FALSE(first.ec);
  EXPECT_EQ(first.bytes, kReadyForQuery);

  // The read told the reactor the socket is empty; the next read must still see bytes that
  // come later.
  ReadResult second;
  start_pending_read(pair, second);
  EXPECT_FALSE(second.done);
  pair.send("def");
  pair.run_until(second.done);
  ASSERT_TRUE(second.done);
  EXPECT_FALSE(second.ec);
  EXPECT_EQ(second.bytes, "def");
}

TEST(DrainedRead, BytesSentBeforeTheNextReadStartsAreRead) {
  SocketPair pair;
  pair.send(kReadyForQuery);
  ReadResult first = read_once(pair);
  ASSERT_EQ(first.bytes, kReadyForQuery);

  pair.send("def");
  ReadResult second = read_once(pair);
  ASSERT_TRUE(second.done);
  EXPECT_EQ(second.bytes, "def");
}

TEST(DrainedRead, AReadThatFillsItsBufferLeavesTheRestForTheNext) {
  SocketPair pair;
  pair.send(std::string(300, 'x'));
  ReadResult first = read_once(pair);
  ASSERT_EQ(first.bytes.size(), 256u);

  ReadResult second = read_once(pair);
  ASSERT_TRUE(second.done);
  EXPECT_EQ(second.bytes, std::string(44, 'x'));
}

// The case that makes a short read alone unsafe: the last bytes and the end of file arrive
// together, so no edge follows the read that returns the bytes.
TEST(DrainedRead, AnEndOfFileRightAfterAMessageThatIsNotQuietIsSeen) {
  SocketPair pair;
  pair.send(kFatal);
  pair.peer.close();
  ReadResult first = read_once(pair);
  ASSERT_EQ(first.bytes, kFatal);

  ReadResult second = read_once(pair);
  ASSERT_TRUE(second.done);
  EXPECT_EQ(second.ec, net::error::eof);
}

// What ends a pending read, and the error it ends with.
TEST(DrainedRead, APendingReadEndsWhenThePeerClosesOrTheSocketIsCancelledOrClosed) {
  const struct {
    std::string name;
    void (*end)(SocketPair&);
    error_code expected;
  } cases[] = {
      {"peer closes", [](SocketPair& p) { p.peer.close(); }, net::error::eof},
      {"cancel", [](SocketPair& p) { p.ours.cancel(); }, net::error::operation_aborted},
      {"close", [](SocketPair& p) { p.ours.close(); }, net::error::operation_aborted},
  };
  for (const auto& c : cases) {
    SocketPair pair;
    ReadResult read;
    start_pending_read(pair, read);
    ASSERT_FALSE(read.done) << c.name;
    c.end(pair);
    pair.run_until(read.done);
    ASSERT_TRUE(read.done) << c.name;
    EXPECT_EQ(read.ec, c.expected) << c.name;
    EXPECT_TRUE(read.bytes.empty()) << c.name;
  }
}

TEST(DrainedRead, AReadOnAClosedSocketFails) {
  SocketPair pair;
  pair.ours.close();
  ReadResult read = read_once(pair);
  ASSERT_TRUE(read.done);
  EXPECT_TRUE(read.ec);
}

TEST(DrainedRead, AReadPendingWhenTheContextIsDestroyedIsFreed) {
  // Run under AddressSanitizer: the pending operation and its coroutine must be freed.
  auto pair = std::make_unique<SocketPair>();
  ReadResult read;
  start_read(*pair, read);
  pair->context.poll();
  pair.reset();
  EXPECT_FALSE(read.done);
}

TEST(DrainedRead, AHandlerWithACancellationSlotCanBeCancelledAlone) {
  // Such a handler gets Asio's own read, which honours per-operation cancellation.
  SocketPair pair;
  net::cancellation_signal signal;
  bool done = false;
  error_code result;
  std::array<char, 256> buffer{};
  pair.reads.read(pair.ours, net::buffer(buffer), &quiet_after_z,
                  net::bind_cancellation_slot(signal.slot(), [&](error_code ec, std::size_t) {
                    result = ec;
                    done = true;
                  }));
  pair.context.poll();
  pair.context.restart();
  ASSERT_FALSE(done);
  signal.emit(net::cancellation_type::terminal);
  pair.run_until(done);
  ASSERT_TRUE(done);
  EXPECT_EQ(result, net::error::operation_aborted);
}

}  // namespace
}  // namespace switchyard::proxy
