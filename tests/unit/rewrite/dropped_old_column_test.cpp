// After DESIGN §1 step 7 (O dropped, or renamed away, under writes = reads = new): `*` and INSERT
// or COPY without a column list keep O where it stood among the table's columns (its attnum),
// and are refused where that is not known, never guessed.

#include "rewrite_test_support.hpp"

namespace switchyard::rewrite::test {
namespace {

// users was (id 1, status 2, name 3) + state 4 (step 1); what the catalog shows now.
struct Table {
  const char* what;
  std::vector<std::string> columns;
  std::optional<ColumnSlots> slots;  // nullopt: a catalog that gives no attnums
  int old_attnum;                    // what the rules remember of status (0: nothing)
  std::vector<Case> cases;
};

constexpr const char* kStar = "SELECT users.id, users.state AS status, users.name FROM users";
constexpr const char* kInsert = "INSERT INTO users (id, state, name) VALUES (1, 'a', 'n')";
constexpr const char* kCopy = "COPY users (id, state, name) FROM STDIN";
constexpr const char* kUnknown = "where status stood among users's columns is not known";

std::vector<Case> kept_in_place() {
  return {
      {"SELECT * FROM users", kStar},
      {"INSERT INTO users VALUES (1, 'a', 'n')", kInsert},
      {"INSERT INTO users VALUES (1, 'a', 'n') RETURNING *",
       "INSERT INTO users (id, state, name) VALUES (1, 'a', 'n') RETURNING users.id, "
       "users.state AS status, users.name"},
      {"COPY users FROM STDIN", kCopy},
  };
}

std::vector<Case> refused() {
  return {
      {"SELECT * FROM users", nullptr, kRejected, kUnknown},
      {"INSERT INTO users VALUES (1, 'a', 'n')", nullptr, kRejected, "name the columns"},
      {"COPY users FROM STDIN", nullptr, kRejected, kUnknown},
      // Refused once O is gone wherever it stood: the row type has no field for it.
      {"SELECT row_to_json(u) FROM users u", nullptr, kRejected, "is dropped"},
      // Forms that name their columns do not depend on the order.
      {"INSERT INTO users (id, status, name) VALUES (1, 'a', 'n')", kInsert},
      {"SELECT status FROM users", "SELECT state AS status FROM users"},
  };
}

TEST(DroppedOldColumnTest, StarAndPositionalWritesKeepTheOldColumnWhereItStood) {
  const std::vector<Table> tables = {
      {"before the drop: status in the catalog",
       {"id", "status", "name", "state"},
       ColumnSlots{{1, 2, 3, 4}, {}},
       2,
       {{"SELECT * FROM users", kStar}, {"INSERT INTO users VALUES (1, 'a', 'n')", kInsert}}},
      {"dropped while the proxy ran: its slot remembered",
       {"id", "name", "state"},
       ColumnSlots{{1, 3, 4}, {2}},
       2,
       kept_in_place()},
      {"dropped before the proxy started: the table's one dropped slot",
       {"id", "name", "state"},
       ColumnSlots{{1, 3, 4}, {2}},
       0,
       kept_in_place()},
      {"renamed away while the proxy ran: the retired name is hidden",
       {"id", "status_old", "name", "state"},
       ColumnSlots{{1, 2, 3, 4}, {}},
       2,
       kept_in_place()},
      {"dropped before the proxy started, beside another dropped column",
       {"id", "name", "state"},
       ColumnSlots{{1, 3, 5}, {2, 4}},
       0,
       refused()},
      {"renamed away before the proxy started",
       {"id", "status_old", "name", "state"},
       ColumnSlots{{1, 2, 3, 4}, {}},
       0,
       refused()},
      {"a catalog without attnums", {"id", "name", "state"}, std::nullopt, 0, refused()},
  };
  SessionContext ctx;
  ctx.user = "alice";
  for (const Table& t : tables) {
    SCOPED_TRACE(t.what);
    Migration m = users_migration(Writes::new_column, Reads::new_column);
    m.old_attnum = t.old_attnum;
    const Rewriter rw({m});
    StaticCatalog cat = make_catalog();
    cat.add({"public", "users"}, t.columns);
    if (t.slots.has_value()) {
      cat.add_slots({"public", "users"}, *t.slots);
    }
    for (const Case& c : t.cases) {
      check_case(rw, c, ctx, cat);
    }
  }
}

TEST(DroppedOldColumnTest, PassthroughForwardsWhatItCannotOrder) {
  const Rewriter rw({users_migration(Writes::new_column, Reads::new_column, false, false)});
  StaticCatalog cat = make_catalog();
  cat.add({"public", "users"}, {"id", "name", "state"});
  cat.add_slots({"public", "users"}, ColumnSlots{{1, 3, 5}, {2, 4}});
  SessionContext ctx;
  ctx.user = "alice";
  check_case(rw, {"INSERT INTO users VALUES (1, 'a', 'n')", nullptr, kPassthrough, kUnknown}, ctx,
             cat);
}

}  // namespace
}  // namespace switchyard::rewrite::test
