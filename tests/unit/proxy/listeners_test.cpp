#include "proxy/listeners.hpp"

#include <gtest/gtest.h>

#include "temp_dir.hpp"

namespace switchyard::proxy {
namespace {

using testing::eventually;

bool can_connect(const tcp::endpoint& at) {
  net::io_context io;
  tcp_socket socket(io);
  error_code ec;
  socket.connect(at, ec);
  return !ec;
}

config::Endpoint any_port() { return {"127.0.0.1", 0}; }

// Sessions accepted by these tests read their timeouts from the snapshot.
std::shared_ptr<ProxyState> state() {
  auto s = std::make_shared<ProxyState>();
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->generation = 1;
  config::Config c;
  c.upstream.address = {"127.0.0.1", 1};
  c.timeouts.startup = std::chrono::milliseconds(200);
  snapshot->config = std::make_shared<const config::Config>(std::move(c));
  s->publish(snapshot);
  return s;
}

TEST(ListenersTest, PortZeroIsSharedByEveryThread) {
  Listeners listeners(state(), 3);
  ASSERT_FALSE(listeners.bind(any_port()));
  EXPECT_NE(listeners.endpoint().port(), 0);
  listeners.start();
  EXPECT_TRUE(can_connect(listeners.endpoint()));
  listeners.stop();
}

TEST(ListenersTest, CommittedRebindMovesToTheNewAddress) {
  Listeners listeners(state(), 2);
  ASSERT_FALSE(listeners.bind(any_port()));
  listeners.start();
  auto old_endpoint = listeners.endpoint();
  ASSERT_FALSE(listeners.prepare_rebind(any_port()));
  listeners.finish_rebind(true);
  auto new_endpoint = listeners.endpoint();
  EXPECT_NE(new_endpoint.port(), old_endpoint.port());
  EXPECT_TRUE(can_connect(new_endpoint));
  EXPECT_TRUE(eventually([&] { return !can_connect(old_endpoint); }));
  listeners.stop();
}

TEST(ListenersTest, AbandonedRebindKeepsTheOldAddress) {
  Listeners listeners(state(), 2);
  ASSERT_FALSE(listeners.bind(any_port()));
  listeners.start();
  auto old_endpoint = listeners.endpoint();
  ASSERT_FALSE(listeners.prepare_rebind(any_port()));
  listeners.finish_rebind(false);
  EXPECT_EQ(listeners.endpoint(), old_endpoint);
  EXPECT_TRUE(can_connect(old_endpoint));
  listeners.stop();
}

TEST(ListenersTest, RebindToABusyPortFailsAndKeepsServing) {
  net::io_context io;
  tcp_acceptor busy(io, tcp::endpoint(net::ip::address_v4::loopback(), 0));  // no SO_REUSEPORT
  Listeners listeners(state(), 2);
  ASSERT_FALSE(listeners.bind(any_port()));
  listeners.start();
  auto error = listeners.prepare_rebind({"127.0.0.1", busy.local_endpoint().port()});
  ASSERT_TRUE(error);
  EXPECT_NE(error->find(std::to_string(busy.local_endpoint().port())), std::string::npos);
  listeners.finish_rebind(false);
  EXPECT_TRUE(can_connect(listeners.endpoint()));
  listeners.stop();
}

TEST(ListenersTest, CloseStopsAcceptingAndALaterRebindStaysClosed) {
  Listeners listeners(state(), 2);
  ASSERT_FALSE(listeners.bind(any_port()));
  listeners.start();
  auto old_endpoint = listeners.endpoint();
  listeners.close();
  EXPECT_TRUE(eventually([&] { return !can_connect(old_endpoint); }));
  ASSERT_FALSE(listeners.prepare_rebind(any_port()));
  listeners.finish_rebind(true);
  EXPECT_TRUE(eventually([&] { return !can_connect(listeners.endpoint()); }));
  listeners.stop();
}

TEST(ListenersTest, UnresolvableAddressIsAnError) {
  Listeners listeners(state(), 1);
  auto error = listeners.bind({"no-such-host.invalid", 6432});
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("no-such-host.invalid"), std::string::npos) << *error;
}

}  // namespace
}  // namespace switchyard::proxy
