// sessions_on_old_generation: the proxy's count read from its /config reply.

#include "backfill/proxy_census.hpp"

#include <gtest/gtest.h>

namespace switchyard::backfill {
namespace {

TEST(ProxyCensusTest, TheCountIsReadFromAnOkReplyOnly) {
  const struct {
    const char* reply;
    std::optional<std::uint64_t> count;
  } cases[] = {
      {"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"generation\":4,"
       "\"sessions_on_old_generation\":3,\"oldest_session_generation\":2}",
       3},
      {"HTTP/1.1 200 OK\r\n\r\n{\"sessions_on_old_generation\":0,\"oldest\":null}", 0},
      {"HTTP/1.1 503 Service Unavailable\r\n\r\nno config loaded\n", std::nullopt},
      {"HTTP/1.1 200 OK\r\n\r\n{\"generation\":4", std::nullopt},  // cut short
      {"HTTP/1.1 200 OK\r\n\r\n{\"sessions_on_old_generation\":null}", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.reply);
    EXPECT_EQ(sessions_on_old_generation(c.reply), c.count);
  }
}

TEST(ProxyCensusTest, AProxyRunningAnotherConfigIsNamed) {
  config::Migration m;
  m.name = "m";
  m.writes = config::Writes::both;
  m.reads = config::Reads::old_column;
  const std::string head = "HTTP/1.1 200 OK\r\n\r\n{\"generation\":4,\"flags\":{";
  const std::string tail = "},\"warnings\":[],\"last_reload\":{\"result\":\"";
  const std::string end = "\"},\"sessions_on_old_generation\":0}";
  const std::string both_old = "\"m\":{\"writes\":\"both\",\"reads\":\"old\",\"x\":1}";
  const struct {
    const char* what;
    std::string reply;
    const char* says;  // "" = agrees
  } cases[] = {
      {"same flags, reload ok", head + both_old + tail + "ok" + end, ""},
      {"h16 #8: last reload failed", head + both_old + tail + "failed" + end, "last reload failed"},
      {"other flags", head + "\"m\":{\"writes\":\"new\",\"reads\":\"new\"}" + tail + "ok" + end,
       "runs other flags"},
      {"migration not running", head + tail + "ok" + end, "runs other flags"},
      {"not a /config page", "HTTP/1.1 503 Service Unavailable\r\n\r\n", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const auto said = runs_other_config(c.reply, m);
    EXPECT_EQ(said.has_value(), std::string(c.says).size() > 0);
    if (said) {
      EXPECT_NE(said->find(c.says), std::string::npos) << *said;
    }
  }
}

TEST(ProxyCensusTest, AnEndpointThatDoesNotAnswerSaysWhy) {
  // Port 1 on the loopback: nothing listens there.
  auto answer = ask_sessions_on_old_generation({"127.0.0.1", 1}, std::chrono::milliseconds(500));
  ASSERT_TRUE(std::holds_alternative<std::string>(answer));
  EXPECT_NE(std::get<std::string>(answer).find("127.0.0.1:1"), std::string::npos);
  // Refused at once, not a timeout (h16 #12).
  EXPECT_NE(std::get<std::string>(answer).find("refused"), std::string::npos)
      << std::get<std::string>(answer);
}

}  // namespace
}  // namespace switchyard::backfill
