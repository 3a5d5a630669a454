// A table alias with a column list over a mapped table: Postgres puts the names on the live
// columns in attnum order, so from the first position where that order and the old app's view
// of the table (without N, O where it stood) differ the list is refused; before it, each name
// stands for the column under it, a name over O is a read of O, and `*` lists the app's columns
// under the list's names.

#include "rewrite_test_support.hpp"

namespace switchyard::rewrite::test {
namespace {

constexpr std::uint32_t kUsers = 16384;
constexpr const char* kRefused = "the column list of table alias \"u\" on users";
constexpr const char* kRenamed = "naming column \"status\" \"";

struct Table {
  const char* what;
  std::vector<std::string> columns;
  ColumnSlots slots;
  Migration migration;
  std::vector<Case> cases;
};

Migration dropped(Writes w, Reads r) {
  Migration m = users_migration(w, r);
  m.old_attnum = 2;
  m.old_relid = kUsers;
  return m;
}

TEST(AliasColumnListTest, NamesLandWhereTheAppMeantThemOrAreRefused) {
  const std::vector<Table> tables = {
      {"N after O (the ordinary case)",
       {"id", "status", "name", "state"},
       ColumnSlots{{1, 2, 3, 4}, {}, kUsers},
       users_migration(Writes::both, Reads::new_column),
       {
           {"SELECT u.a FROM users AS u (a, b)", nullptr, kUnchanged},
           // O under another name in a text that uses it: the checks that keep a read of O
           // from the stale column know O by its own name.
           {"SELECT u.b FROM users AS u (a, b)", nullptr, kRejected, kRenamed},
           {"SELECT a FROM users AS u (a, b) WHERE b = 'x'", nullptr, kRejected, kRenamed},
           {"SELECT a FROM users AS u (a, status) WHERE status = 'x'",
            "SELECT a FROM users AS u (a, status) WHERE state = 'x'"},
           {"SELECT a, c FROM users AS u (a, b, c)", nullptr, kUnchanged},
           {"SELECT status FROM users AS u (a)", "SELECT state AS status FROM users AS u (a)"},
           {"SELECT * FROM users AS u (a, b)",
            "SELECT u.a, u.state AS b, u.name FROM users AS u (a, b)"},
           {"SELECT u.* FROM users AS u (a)",
            "SELECT u.a, u.state AS status, u.name FROM users AS u (a)"},
           {"SELECT * FROM users AS u (a, b), accounts",
            "SELECT u.a, u.state AS b, u.name, accounts.* FROM users AS u (a, b), accounts"},
           {"SELECT * FROM users AS u (name)", nullptr, kRejected, "name two of its columns alike"},
           {"SELECT * FROM users AS u (a, b, c, d)", nullptr, kRejected, kRefused},
           // The name status is id's here, not O.
           {"SELECT u.status FROM users AS u (status)", nullptr, kUnchanged},
           // The old table had no state: Postgres would find the name ambiguous now.
           {"SELECT u.state FROM users AS u (a, state)", nullptr, kRejected,
            "naming a column \"state\""},
           // A fourth name is N's (the old table had three columns: 42P10).
           {"SELECT a FROM users AS u (a, b, c, d)", nullptr, kRejected, kRefused},
           {"DELETE FROM orders WHERE id IN (SELECT a FROM users AS u (a, b, c, d) WHERE d = 'x')",
            nullptr, kRejected, kRefused},
           {"UPDATE orders SET total = 1 FROM users AS u (a, b, c, d) WHERE orders.user_id = u.a",
            nullptr, kRejected, kRefused},
           {"DELETE FROM orders USING users AS u (a, b, c, d) WHERE orders.user_id = u.a", nullptr,
            kRejected, kRefused},
           {"MERGE INTO orders o USING users AS u (a, b, c, d) ON o.user_id = u.a WHEN MATCHED "
            "THEN DELETE",
            nullptr, kRejected, kRefused},
       }},
      {"N after O, reads = old: N's position is still not the app's",
       {"id", "status", "name", "state"},
       ColumnSlots{{1, 2, 3, 4}, {}, kUsers},
       users_migration(Writes::both, Reads::old_column),
       {
           {"SELECT u.b FROM users AS u (a, b, c)", nullptr, kUnchanged},
           {"SELECT d FROM users AS u (a, b, c, d)", nullptr, kRejected, kRefused},
       }},
      {"N before O",
       {"id", "state", "status", "name"},
       ColumnSlots{{1, 2, 3, 4}, {}, kUsers},
       users_migration(Writes::both, Reads::new_column),
       {
           {"SELECT x, status FROM users AS u (x)",
            "SELECT x, state AS status FROM users AS u (x)"},
           {"SELECT y FROM users AS u (x, y)", nullptr, kRejected, kRefused},
           {"SELECT x FROM users AS u (x, y, z) WHERE y = 'a'", nullptr, kRejected, kRefused},
           {"SELECT * FROM users AS u (x)",
            "SELECT u.x, u.state AS status, u.name FROM users AS u (x)"},
           {"SELECT * FROM users AS u (x, y)", nullptr, kRejected, kRefused},
       }},
      {"N before O, reads = old",
       {"id", "state", "status", "name"},
       ColumnSlots{{1, 2, 3, 4}, {}, kUsers},
       users_migration(Writes::both, Reads::old_column),
       {
           {"SELECT x FROM users AS u (x)", nullptr, kUnchanged},
           {"SELECT z FROM users AS u (x, y, z)", nullptr, kRejected, kRefused},
       }},
      {"O dropped (step 7)",
       {"id", "name", "state"},
       ColumnSlots{{1, 3, 4}, {2}, kUsers},
       dropped(Writes::new_column, Reads::new_column),
       {
           {"SELECT x, status FROM users AS u (x)",
            "SELECT x, state AS status FROM users AS u (x)"},
           {"SELECT y FROM users AS u (x, y)", nullptr, kRejected, kRefused},
           {"SELECT * FROM users AS u (x)",
            "SELECT u.x, u.state AS status, u.name FROM users AS u (x)"},
           {"DELETE FROM users WHERE id IN (SELECT x FROM users AS u (x, y) WHERE y = 'active')",
            nullptr, kRejected, kRefused},
       }},
      {"a dropped column between, N before O",
       {"id", "state", "status", "name"},
       ColumnSlots{{1, 2, 4, 5}, {3}, kUsers},
       users_migration(Writes::both, Reads::new_column),
       {
           {"SELECT x, z FROM users AS u (x, y, z)", nullptr, kRejected, kRefused},
       }},
      {"a dropped column between, N last",
       {"id", "status", "name", "state"},
       ColumnSlots{{1, 2, 4, 5}, {3}, kUsers},
       users_migration(Writes::both, Reads::new_column),
       {
           {"SELECT x, y, z FROM users AS u (x, y, z)", nullptr, kRejected, kRenamed},
           {"SELECT * FROM users AS u (x, y, z)",
            "SELECT u.x, u.state AS y, u.z FROM users AS u (x, y, z)"},
           {"SELECT x FROM users AS u (x, y, z, w)", nullptr, kRejected, kRefused},
       }},
  };
  SessionContext ctx;
  ctx.user = "alice";
  for (const Table& t : tables) {
    SCOPED_TRACE(t.what);
    const Rewriter rw({t.migration});
    StaticCatalog cat = make_catalog();
    cat.add({"public", "users"}, t.columns);
    cat.add_slots({"public", "users"}, t.slots);
    for (const Case& c : t.cases) {
      check_case(rw, c, ctx, cat);
    }
  }
}

TEST(AliasColumnListTest, PassthroughForwardsTheList) {
  const Rewriter rw({users_migration(Writes::both, Reads::new_column, false, false)});
  const StaticCatalog cat = make_catalog();
  SessionContext ctx;
  ctx.user = "alice";
  check_case(rw, {"SELECT a FROM users AS u (a, b, c, d)", nullptr, kPassthrough, kRefused}, ctx,
             cat);
}

}  // namespace
}  // namespace switchyard::rewrite::test
