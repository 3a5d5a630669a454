// rewrite_context_key: which sessions share the process's rewrite caches.

#include "proxy/session_rewrite.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchyard::proxy {
namespace {

struct KeyCase {
  std::string database;
  std::string user;
  std::vector<std::string> search_path;
};

rewrite::SessionContext context_of(const KeyCase& c) {
  rewrite::SessionContext context;
  context.user = c.user;
  context.search_path = c.search_path;
  return context;
}

TEST(RewriteContextKeyTest, SessionsShareAKeyOnlyWithTheSameDatabaseUserAndPath) {
  const KeyCase base{"app", "postgres", {"$user", "public"}};
  const KeyCase differing[] = {
      {"other", "postgres", {"$user", "public"}},  // another database's rules
      {"app", "alice", {"$user", "public"}},
      {"app", "postgres", {"public"}},
      {"app", "postgres", {"public", "$user"}},
      {"ap", "ppostgres", {"$user", "public"}},  // the parts do not run into each other
      {"app", "postgres", {"$user", "public", ""}},
  };
  const std::string key = rewrite_context_key(base.database, context_of(base));
  EXPECT_EQ(rewrite_context_key(base.database, context_of(base)), key);
  for (const KeyCase& c : differing) {
    EXPECT_NE(rewrite_context_key(c.database, context_of(c)), key)
        << c.database << " " << c.user << " " << c.search_path.size();
  }
}

}  // namespace
}  // namespace switchyard::proxy
