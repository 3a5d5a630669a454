// After DESIGN §1 step 7 (O dropped, or renamed away, under writes = reads = new): `*` and INSERT
// or COPY without a column list keep O where it stood among the table's columns (its attnum),
// and are refused where that is not known, never guessed.

#include "rewrite_test_support.hpp"

namespace switchyard::rewrite::test {
namespace {

// users was (id 1, status 2, name 3) + state 4 (step 1), relation kUsers (its OID); what the
// catalog shows now.
constexpr std::uint32_t kUsers = 16384;
// users copied into a new table and swapped in under the name (pg-osc, pgroll, dump and
// restore): its own attnums, where status never stood.
constexpr std::uint32_t kRebuilt = 16500;

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
constexpr const char* kRebuiltReason = "users was rebuilt under its name after status was dropped";

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
       ColumnSlots{{1, 2, 3, 4}, {}, kUsers},
       2,
       {{"SELECT * FROM users", kStar}, {"INSERT INTO users VALUES (1, 'a', 'n')", kInsert}}},
      {"dropped while the proxy ran: its slot remembered",
       {"id", "name", "state"},
       ColumnSlots{{1, 3, 4}, {2}, kUsers},
       2,
       kept_in_place()},
      {"dropped before the proxy started: the table's one dropped slot",
       {"id", "name", "state"},
       ColumnSlots{{1, 3, 4}, {2}, kUsers},
       0,
       kept_in_place()},
      {"renamed away while the proxy ran: the retired name is hidden",
       {"id", "status_old", "name", "state"},
       ColumnSlots{{1, 2, 3, 4}, {}, kUsers},
       2,
       kept_in_place()},
      {"dropped before the proxy started, beside another dropped column",
       {"id", "name", "state"},
       ColumnSlots{{1, 3, 5}, {2, 4}, kUsers},
       0,
       refused()},
      {"renamed away before the proxy started",
       {"id", "status_old", "name", "state"},
       ColumnSlots{{1, 2, 3, 4}, {}, kUsers},
       0,
       refused()},
      {"a catalog without attnums", {"id", "name", "state"}, std::nullopt, 0, refused()},
      {"rebuilt under the name after the drop: the remembered slot holds another column",
       {"id", "name", "state"},
       ColumnSlots{{1, 2, 3}, {}, kRebuilt},
       2,
       refused()},
      {"rebuilt under the name, then a column dropped: its one dropped slot is not status's",
       {"id", "name", "state"},
       ColumnSlots{{1, 3, 4}, {2}, kRebuilt},
       2,
       {{"SELECT * FROM users", nullptr, kRejected, kRebuiltReason},
        {"INSERT INTO users VALUES (1, 'a', 'n')", nullptr, kRejected, kRebuiltReason}}},
  };
  SessionContext ctx;
  ctx.user = "alice";
  for (const Table& t : tables) {
    SCOPED_TRACE(t.what);
    Migration m = users_migration(Writes::new_column, Reads::new_column);
    m.old_attnum = t.old_attnum;
    m.old_relid = t.old_attnum != 0 ? kUsers : 0;
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

// Values past the app's columns go to the table's next ones only while those are the table's
// first: with status back in its slot, users' own order is another (the values would shift).
TEST(DroppedOldColumnTest, MoreValuesThanTheAppsColumnsAreRefusedOnceTheOldColumnIsPlaced) {
  Migration name = users_migration(Writes::both, Reads::old_column);
  name.name = "users-name";
  name.old_column = "name";
  name.new_column = "name_v2";
  Migration status = users_migration(Writes::new_column, Reads::new_column);
  status.old_attnum = 2;
  status.old_relid = kUsers;
  const Rewriter rw({status, name});
  StaticCatalog cat = make_catalog();
  // The app knows id, status, name; name_v2 is hidden, and the table's own order is another.
  cat.add({"public", "users"}, {"id", "name", "state", "name_v2"});
  cat.add_slots({"public", "users"}, ColumnSlots{{1, 3, 4, 5}, {2}, kUsers});
  SessionContext ctx;
  ctx.user = "alice";
  check_case(rw,
             {"INSERT INTO users VALUES (1, 'a', 'n', 'v')", nullptr, kRejected,
              "4 values, more than the 3 columns of users the app knows"},
             ctx, cat);
  check_case(rw,
             {"INSERT INTO users VALUES (1, 'a')", "INSERT INTO users (id, state) VALUES (1, 'a')"},
             ctx, cat);
}

// A binary COPY goes through a staging table of O's type, gone with O when the proxy started
// after the drop and the config names none: the reason says to name it.
TEST(DroppedOldColumnTest, BinaryCopyWithoutTheOldTypeAsksForIt) {
  Migration m = users_migration(Writes::new_column, Reads::new_column);
  m.old_attnum = 2;
  m.old_relid = kUsers;
  const Rewriter rw({m});
  StaticCatalog cat = make_catalog();
  cat.add({"public", "users"}, {"id", "name", "state"},
          {{"integer"}, {"character varying(40)"}, {"smallint"}});
  cat.add_slots({"public", "users"}, ColumnSlots{{1, 3, 4}, {2}, kUsers});
  SessionContext ctx;
  ctx.user = "alice";
  for (const char* sql : {"COPY users FROM STDIN (FORMAT binary)",
                          "COPY users (id, status) FROM STDIN (FORMAT binary)"}) {
    SCOPED_TRACE(sql);
    const RewriteResult r = rw.rewrite(sql, ctx, cat);
    EXPECT_EQ(static_cast<int>(r.outcome), static_cast<int>(kRejected)) << r.sql;
    EXPECT_NE(r.reason.find("add old_type = \"<the type status had>\" to the migration"),
              std::string::npos)
        << r.reason;
    EXPECT_EQ(r.reason.find("naming"), std::string::npos) << r.reason;
  }
}

TEST(DroppedOldColumnTest, PassthroughForwardsWhatItCannotOrder) {
  const Rewriter rw({users_migration(Writes::new_column, Reads::new_column, false, false)});
  StaticCatalog cat = make_catalog();
  cat.add({"public", "users"}, {"id", "name", "state"});
  cat.add_slots({"public", "users"}, ColumnSlots{{1, 3, 5}, {2, 4}, kUsers});
  SessionContext ctx;
  ctx.user = "alice";
  check_case(rw, {"INSERT INTO users VALUES (1, 'a', 'n')", nullptr, kPassthrough, kUnknown}, ctx,
             cat);
}

}  // namespace
}  // namespace switchyard::rewrite::test
