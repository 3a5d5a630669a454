// search_path_change: statement text in, the session's search_path change out.

#include "rewrite/search_path_setting.hpp"

#include <gtest/gtest.h>

namespace switchyard::rewrite {
namespace {

using Kind = SearchPathChange::Kind;

struct Case {
  const char* sql;
  bool changes;
  Kind kind = Kind::set;
  bool local = false;
  std::vector<std::string> schemas = {};
};

TEST(SearchPathChangeTest, Table) {
  const Case cases[] = {
      {"SELECT 1", false},
      {"INSERT INTO users (id) VALUES (1)", false},
      {"SET search_path = shadow, public", true, Kind::set, false, {"shadow", "public"}},
      {"set SEARCH_PATH to Shadow", true, Kind::set, false, {"shadow"}},
      {"SET search_path TO \"$user\", \"Mixed\"", true, Kind::set, false, {"$user", "Mixed"}},
      {"SET search_path = 'a, b'", true, Kind::set, false, {"a, b"}},
      {"SET LOCAL search_path = audit", true, Kind::set, true, {"audit"}},
      {"SET SESSION search_path = audit", true, Kind::set, false, {"audit"}},
      {"SET search_path TO DEFAULT", true, Kind::reset},
      {"RESET search_path", true, Kind::reset},
      {"RESET ALL", true, Kind::reset},
      {"DISCARD ALL", true, Kind::reset},
      {"DISCARD PLANS", false},
      {"RESET work_mem", false},
      {"SET work_mem = '64MB'", false},
      {"SET search_path FROM CURRENT", false},
      {"SELECT set_config('search_path', 'x', false)", false},  // a function: not followed
      {"SET search_path = a; SELECT 1; SET search_path = b", true, Kind::set, false, {"b"}},
      {"SET search_path = (", false},  // bad SQL: the server refuses it and changes nothing
      {"SELECT 'search_path'", false},
      // One statement is judged by its first word, after blanks and comments.
      {"/* app */ -- note\n  SET search_path = x;  \n", true, Kind::set, false, {"x"}},
      {"\tdiscard ALL ;", true, Kind::reset},
      {"UPDATE t SET search_path = 1;", false},
      {"SELECT 1; RESET ALL", true, Kind::reset},
      {"SELECT ';'; SET search_path = y", true, Kind::set, false, {"y"}},
      {"SELECT 1 /* ; */; DISCARD ALL", true, Kind::reset},
      {"-- SET search_path = z", false},
      {"-- a comment ends at a carriage return too\rSET search_path = w",
       true,
       Kind::set,
       false,
       {"w"}},
      {"/* SET search_path = z", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.sql);
    auto change = search_path_change(c.sql);
    ASSERT_EQ(change.has_value(), c.changes);
    if (!change) {
      continue;
    }
    EXPECT_EQ(change->kind, c.kind);
    EXPECT_EQ(change->local, c.local);
    EXPECT_EQ(change->schemas, c.schemas);
  }
}

// search_path_changes: every change of a text, in order; a SET before a SET LOCAL holds once
// the transaction ends, so the net change alone is not enough to follow a session.
TEST(SearchPathChangesTest, Table) {
  struct Change {
    SearchPathChange::Kind kind;
    bool local;
    std::vector<std::string> schemas;
  };
  struct Case {
    const char* sql;
    std::vector<Change> changes;
  };
  using Kind = SearchPathChange::Kind;
  const Case cases[] = {
      {"SELECT 1", {}},
      {"SET search_path = a", {{Kind::set, false, {"a"}}}},
      {"SET search_path = a; SET LOCAL search_path = b",
       {{Kind::set, false, {"a"}}, {Kind::set, true, {"b"}}}},
      {"SET LOCAL search_path = b; SELECT 1; RESET search_path",
       {{Kind::set, true, {"b"}}, {Kind::reset, false, {}}}},
      {"SET search_path = (", {}},  // the server refuses the text, changing nothing
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.sql);
    const std::vector<SearchPathChange> got = search_path_changes(c.sql);
    ASSERT_EQ(got.size(), c.changes.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].kind, c.changes[i].kind) << i;
      EXPECT_EQ(got[i].local, c.changes[i].local) << i;
      EXPECT_EQ(got[i].schemas, c.changes[i].schemas) << i;
    }
  }
}

// role_changes: statement text in, the changes of current_user ("$user") out, in order.
TEST(RoleChangeTest, Table) {
  struct RoleCase {
    const char* sql;
    std::vector<RoleChange> changes;
  };
  const RoleCase cases[] = {
      {"SELECT 1", {}},
      {"INSERT INTO roles (role) VALUES ('x')", {}},
      {"SET ROLE alice", {{false, false, "alice"}}},
      {"set role 'Alice'", {{false, false, "Alice"}}},
      {"SET ROLE \"Bob\"", {{false, false, "Bob"}}},
      {"SET LOCAL ROLE alice", {{false, true, "alice"}}},
      {"SET ROLE NONE", {{false, false, ""}}},
      {"RESET ROLE", {{false, false, ""}}},
      {"SET role TO DEFAULT", {{false, false, ""}}},
      {"SET SESSION AUTHORIZATION bob", {{true, false, "bob"}}},
      {"SET SESSION AUTHORIZATION DEFAULT", {{true, false, ""}}},
      {"RESET SESSION AUTHORIZATION", {{true, false, ""}}},
      {"DISCARD ALL", {{true, false, ""}}},
      {"RESET ALL", {}},  // role and session_authorization are not reset by RESET ALL
      {"SET search_path = app", {}},
      {"SET ROLE alice; SELECT 1; RESET ROLE", {{false, false, "alice"}, {false, false, ""}}},
      {"SET ROLE (", {}},  // bad SQL: the server refuses it and changes nothing
      {"SELECT set_config('role', 'alice', false)", {}},  // a function: not followed
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.sql);
    const std::vector<RoleChange> changes = role_changes(c.sql);
    ASSERT_EQ(changes.size(), c.changes.size());
    for (std::size_t i = 0; i < changes.size(); ++i) {
      EXPECT_EQ(changes[i].session, c.changes[i].session);
      EXPECT_EQ(changes[i].local, c.changes[i].local);
      EXPECT_EQ(changes[i].role, c.changes[i].role);
    }
  }
}

}  // namespace
}  // namespace switchyard::rewrite
