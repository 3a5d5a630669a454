#include "proxy/admin_server.hpp"

#include <gtest/gtest.h>

#include "proxy/admin_pages.hpp"

namespace switchyard::proxy {
namespace {

struct HttpResult {
  int status = 0;
  std::string headers;
  std::string body;
};

// A blocking HTTP/1.1 exchange; `requests` are sent back to back on one connection and the
// answers read until the server closes it.
std::string http_exchange(const tcp::endpoint& at, const std::string& requests) {
  net::io_context io;
  tcp_socket socket(io);
  socket.connect(at);
  net::write(socket, net::buffer(requests));
  std::string out;
  error_code ec;
  std::array<char, 4096> chunk{};
  for (;;) {
    auto n = socket.read_some(net::buffer(chunk), ec);
    out.append(chunk.data(), n);
    if (ec) {
      break;
    }
  }
  return out;
}

HttpResult parse_one(const std::string& raw) {
  HttpResult r;
  auto end = raw.find("\r\n\r\n");
  if (raw.size() < 12 || end == std::string::npos) {
    return r;
  }
  r.status = std::stoi(raw.substr(9, 3));
  r.headers = raw.substr(0, end);
  r.body = raw.substr(end + 4);
  return r;
}

HttpResult request(const tcp::endpoint& at, const std::string& method, const std::string& path) {
  return parse_one(
      http_exchange(at, method + " " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
}

class AdminServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    upstream_.open(tcp::v4());
    upstream_.bind(tcp::endpoint(net::ip::address_v4::loopback(), 0));
    upstream_.listen();
    publish(1);
    admin_ = std::make_unique<AdminServer>(state_, [this] { return last_reload_; });
    auto error = admin_->start({"127.0.0.1", 0});
    ASSERT_FALSE(error) << *error;
    at_ = admin_->local_endpoint();
  }

  void publish(std::uint64_t generation, std::vector<ConfigWarning> warnings = {}) {
    auto snapshot = std::make_shared<Snapshot>();
    snapshot->generation = generation;
    snapshot->warnings = std::move(warnings);
    config::Config c;
    c.listen.address = {"127.0.0.1", 6432};
    c.upstream.address = {"127.0.0.1", upstream_.local_endpoint().port()};
    c.upstream.user = "switchyard";
    c.upstream.password_env = "SWITCHYARD_PASSWORD";
    c.upstream.password = config::Secret{"hunter2-very-secret"};
    c.admin = config::AdminConfig{};
    config::Migration m;
    m.name = "users-status";
    m.schema = "public";
    m.table = "users";
    m.old_column = "status";
    m.new_column = "state";
    m.writes = config::Writes::both;
    c.migrations.push_back(m);
    snapshot->config = std::make_shared<const config::Config>(std::move(c));
    state_->publish(snapshot);
  }

  net::io_context io_;
  tcp_acceptor upstream_{io_};
  std::shared_ptr<ProxyState> state_ = std::make_shared<ProxyState>();
  ReloadStatus last_reload_;
  std::unique_ptr<AdminServer> admin_;
  tcp::endpoint at_;
};

TEST_F(AdminServerTest, BindsAFreePortOnLoopback) {
  EXPECT_TRUE(at_.address().is_loopback());
  EXPECT_NE(at_.port(), 0);
}

TEST_F(AdminServerTest, HealthzIsOk) {
  auto r = request(at_, "GET", "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
}

TEST_F(AdminServerTest, MetricsUsesTheTextFormat) {
  state_->metrics.shared().connections_total += 5;
  auto r = request(at_, "GET", "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.headers.find("text/plain; version=0.0.4"), std::string::npos) << r.headers;
  EXPECT_NE(r.body.find("\nswitchyard_connections_total 5\n"), std::string::npos);
  EXPECT_NE(r.body.find("\nswitchyard_config_generation 1\n"), std::string::npos);
}

TEST_F(AdminServerTest, QueryStringIsIgnored) {
  EXPECT_EQ(request(at_, "GET", "/healthz?verbose=1").status, 200);
}

TEST_F(AdminServerTest, ReadyzWhenUpstreamAccepts) {
  auto r = request(at_, "GET", "/readyz");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "ready\n");
}

TEST_F(AdminServerTest, ReadyzIs503WhenUpstreamRefuses) {
  auto port = upstream_.local_endpoint().port();
  upstream_.close();
  auto r = request(at_, "GET", "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("refused"), std::string::npos) << r.body;
}

TEST_F(AdminServerTest, ReadyzIs503WhileTheCatalogCheckFindsADatabaseMissing) {
  CatalogCheckStatus check;
  check.on = true;
  check.missing_databases = {"database \"nope\" does not exist on upstream 127.0.0.1:5432"};
  state_->set_catalog_check(check);
  auto r = request(at_, "GET", "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "not ready: database \"nope\" does not exist on upstream 127.0.0.1:5432\n");
  check.missing_databases.clear();
  state_->set_catalog_check(check);
  EXPECT_EQ(request(at_, "GET", "/readyz").status, 200);
}

TEST_F(AdminServerTest, ReadyzIs503WhileDraining) {
  state_->start_draining();
  auto r = request(at_, "GET", "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "not ready: draining\n");
}

TEST_F(AdminServerTest, ConfigShowsFlagsGenerationAndNoSecret) {
  last_reload_.result = ReloadStatus::Result::failed;
  last_reload_.trigger = "SIGHUP";
  last_reload_.errors = {"f.toml:3:1: upstream.tls: \"maybe\" is not valid"};
  last_reload_.generation = 1;
  auto r = request(at_, "GET", "/config");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.headers.find("application/json"), std::string::npos);
  EXPECT_EQ(r.body.find("hunter2"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("<redacted>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"generation\":1"), std::string::npos);
  EXPECT_NE(r.body.find(R"("users-status":{"writes":"both","reads":"old")"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"("result":"failed","trigger":"SIGHUP")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"(upstream.tls: \"maybe\" is not valid)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("retry_at":null)"), std::string::npos) << r.body;
}

TEST_F(AdminServerTest, ConfigShowsWhenAReloadIsTriedAgain) {
  last_reload_.result = ReloadStatus::Result::failed;
  last_reload_.retry_at = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  auto r = request(at_, "GET", "/config");
  EXPECT_NE(r.body.find(R"("retry_at":"2023-11-14T22:13:20.000Z")"), std::string::npos) << r.body;
}

TEST_F(AdminServerTest, ConfigFollowsThePublishedSnapshot) {
  publish(4);
  auto r = request(at_, "GET", "/config");
  EXPECT_EQ(r.body.rfind("{\"generation\":4,", 0), 0u) << r.body;
}

TEST_F(AdminServerTest, ConfigListsTheWarningsOfTheRunningConfig) {
  EXPECT_NE(request(at_, "GET", "/config").body.find(R"("warnings":[])"), std::string::npos);
  publish(5, {{"users-status", "status DEFAULT 'a'::text, state no default: they \"disagree\""}});
  auto r = request(at_, "GET", "/config");
  EXPECT_NE(r.body.find(R"("warnings":[{"migration":"users-status","message":"status DEFAULT )"
                        R"('a'::text, state no default: they \"disagree\""}])"),
            std::string::npos)
      << r.body;
  auto metrics = request(at_, "GET", "/metrics");
  EXPECT_NE(metrics.body.find("switchyard_migration_warnings{migration=\"users-status\"} 1"),
            std::string::npos)
      << metrics.body;
}

TEST_F(AdminServerTest, UnknownPathIs404) { EXPECT_EQ(request(at_, "GET", "/admin").status, 404); }

TEST_F(AdminServerTest, PostIs405WithAllow) {
  auto r = request(at_, "POST", "/metrics");
  EXPECT_EQ(r.status, 405);
  EXPECT_NE(r.headers.find("Allow: GET, HEAD"), std::string::npos) << r.headers;
}

TEST_F(AdminServerTest, HeadHasLengthButNoBody) {
  auto r = request(at_, "HEAD", "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.headers.find("Content-Length: 3"), std::string::npos) << r.headers;
  EXPECT_EQ(r.body, "");
}

TEST_F(AdminServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  auto raw = http_exchange(at_,
                           "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
                           "GET /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  auto first = raw.find("HTTP/1.1 200 OK");
  auto second = raw.find("HTTP/1.1 404 Not Found");
  EXPECT_NE(first, std::string::npos) << raw;
  EXPECT_NE(second, std::string::npos) << raw;
  EXPECT_LT(first, second);
}

TEST_F(AdminServerTest, GarbageClosesTheConnectionAndServerKeepsServing) {
  http_exchange(at_, "\x16\x03\x01 not http at all\r\n\r\n");
  EXPECT_EQ(request(at_, "GET", "/healthz").status, 200);
}

// A request the parser refuses is answered, with the reason and a close, not only closed.
TEST_F(AdminServerTest, AMalformedRequestIsToldWhyBeforeTheClose) {
  struct Row {
    std::string sent;
    int status;
    std::string body;  // a part of it
  };
  const std::vector<Row> rows = {
      {"\x16\x03\x01 not http at all\r\n\r\n", 400, "bad request: bad method"},
      {"GET /healthz HTTP/9.9\r\n\r\n", 400, "bad request: bad version"},
      {"GET /healthz  HTTP/1.1\r\n\r\n", 400, "bad request"},
      {"GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n", 400, "bad request: bad field"},
      {"GET /healthz HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400, "bad request"},
      {"GET /healthz HTTP/1.1\r\nX-Long: " + std::string(20000, 'a') + "\r\n\r\n", 431,
       "request header fields too large"},
      {"POST /healthz HTTP/1.1\r\nContent-Length: 20000\r\n\r\n" + std::string(20000, 'b'), 413,
       "request body too large"},
  };
  for (const Row& row : rows) {
    const std::string raw = http_exchange(at_, row.sent);
    const auto r = parse_one(raw);
    EXPECT_EQ(r.status, row.status) << row.sent.substr(0, 60) << "\n" << raw;
    EXPECT_NE(r.body.find(row.body), std::string::npos) << row.sent.substr(0, 60) << "\n" << raw;
    EXPECT_NE(r.headers.find("Connection: close"), std::string::npos) << raw;
  }
  EXPECT_EQ(request(at_, "GET", "/healthz").status, 200);
}

// Requests that parse keep their answers: a method other than GET or HEAD, a path not served.
TEST_F(AdminServerTest, AWellFormedRequestForNothingServedIs404Or405) {
  EXPECT_EQ(request(at_, "DELETE", "/config").status, 405);
  EXPECT_EQ(request(at_, "GET", "healthz").status, 404);
}

// A request cut off by its client, or one never sent, has no one to answer: closed as before.
TEST_F(AdminServerTest, ACutOffRequestIsClosedWithoutAnAnswer) {
  net::io_context io;
  tcp_socket socket(io);
  socket.connect(at_);
  net::write(socket, net::buffer(std::string("GET /healthz HTTP/1.1\r\nHost:")));
  socket.shutdown(tcp_socket::shutdown_send);
  std::array<char, 64> chunk{};
  error_code ec;
  const auto n = socket.read_some(net::buffer(chunk), ec);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(ec, net::error::eof);
}

TEST_F(AdminServerTest, ConnectionsThatSendNothingDoNotKeepARequestOut) {
  // More than the limit: each connection past it closes the one that waited longest.
  net::io_context io;
  std::vector<tcp_socket> silent;
  for (int i = 0; i < 80; ++i) {
    silent.emplace_back(io).connect(at_);
  }
  EXPECT_EQ(request(at_, "GET", "/healthz").status, 200);
  // The first was closed to make room, long before the request timeout.
  std::array<char, 1> byte{};
  error_code ec;
  silent.front().read_some(net::buffer(byte), ec);
  EXPECT_EQ(ec, net::error::eof);
}

TEST_F(AdminServerTest, StopClosesTheListenerAndIsIdempotent) {
  admin_->stop();
  admin_->stop();
  net::io_context io;
  tcp_socket socket(io);
  error_code ec;
  socket.connect(at_, ec);
  EXPECT_TRUE(ec);
}

TEST(AdminServerStartTest, AddressInUseIsAnError) {
  auto state = std::make_shared<ProxyState>();
  AdminServer first(state, {});
  ASSERT_FALSE(first.start({"127.0.0.1", 0}));
  AdminServer second(state, {});
  auto error = second.start({"127.0.0.1", first.local_endpoint().port()});
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("admin address"), std::string::npos) << *error;
}

TEST(AdminPagesTest, FormatUtc) {
  using namespace std::chrono;
  EXPECT_EQ(format_utc(system_clock::time_point{}), "");
  EXPECT_EQ(format_utc(system_clock::time_point(milliseconds(1700000000250))),
            "2023-11-14T22:13:20.250Z");
}

}  // namespace
}  // namespace switchyard::proxy
