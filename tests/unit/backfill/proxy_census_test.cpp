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

TEST(ProxyCensusTest, AnEndpointThatDoesNotAnswerSaysWhy) {
  // Port 1 on the loopback: nothing listens there.
  auto answer = ask_sessions_on_old_generation({"127.0.0.1", 1}, std::chrono::milliseconds(500));
  ASSERT_TRUE(std::holds_alternative<std::string>(answer));
  EXPECT_NE(std::get<std::string>(answer).find("127.0.0.1:1"), std::string::npos);
}

}  // namespace
}  // namespace switchyard::backfill
