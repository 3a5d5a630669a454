// Fast path, rejection SQL, transform validation, DDL detection, metrics fields, statements
// the engine refuses to guess about, several migrations at once.

#include "rewrite_test_support.hpp"

namespace switchyard::rewrite::test {
namespace {

TEST(FastPathTest, MayTouchIsCaseInsensitiveAndQuoteBlind) {
  const Rewriter rw({users_migration(Writes::both, Reads::new_column)});
  EXPECT_TRUE(rw.may_touch("SELECT * FROM users"));
  EXPECT_TRUE(rw.may_touch("select * from USERS"));
  EXPECT_TRUE(rw.may_touch("SELECT * FROM \"Users\""));
  EXPECT_TRUE(rw.may_touch("users"));
  EXPECT_FALSE(rw.may_touch("SELECT * FROM orders"));
  EXPECT_FALSE(rw.may_touch(""));
  EXPECT_FALSE(rw.may_touch("user"));
  EXPECT_EQ(rw.rewrite("SELECT status FROM orders", {}, make_catalog()).outcome,
            Outcome::unchanged);
}

TEST(FastPathTest, ANameWithADoubleQuoteIsLookedForAsSqlWritesIt) {
  Migration m = users_migration(Writes::both, Reads::old_column);
  m.table = "a\"b";
  const Rewriter rw({m});
  EXPECT_TRUE(rw.may_touch("INSERT INTO \"a\"\"b\" (id, status) VALUES (1, 'x')"));
  EXPECT_TRUE(rw.may_touch("UPDATE public.\"A\"\"B\" SET status = 'x'"));
  EXPECT_FALSE(rw.may_touch("SELECT 'a\"b'"));
  // A body the engine does not parse is refused by the same spelling.
  EXPECT_EQ(rw.rewrite("DO $$ BEGIN UPDATE \"a\"\"b\" SET status = 'x'; END $$", {}, make_catalog())
                .outcome,
            Outcome::rejected);
}

TEST(RejectionSqlTest, ParsesAndQuotesSafely) {
  for (std::string_view msg :
       {"plain", "it's $sy_msg$ tricky $sy_body$ '; DROP TABLE x; --", "back\\slash"}) {
    const std::string sql = rejection_sql(msg);
    EXPECT_TRUE(parses(sql)) << sql;
    EXPECT_NE(sql.find(msg), std::string::npos);
    EXPECT_NE(sql.find("0A000"), std::string::npos);
  }
}

TEST(RejectionSqlTest, ADetailIsQuotedLikeTheMessage) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"plain", "why"},
      {"plain", "a detail with $sy_msg$ and $sy_body$ in it"},
      {"$sy_msg$", "$sy_msg0$ $sy_body$ $sy_bodyx$"},
  };
  for (const auto& [msg, detail] : cases) {
    const std::string sql = rejection_sql(msg, detail);
    EXPECT_TRUE(parses(sql)) << sql;
    EXPECT_NE(sql.find(", DETAIL = "), std::string::npos) << sql;
    EXPECT_NE(sql.find(detail), std::string::npos) << sql;
  }
  EXPECT_EQ(rejection_sql("m", "").find("DETAIL"), std::string::npos);
}

// A simple Query runs the statements before the refused one (as Postgres runs a text's statements
// up to its error): the refusal says which one it is about, and where that one begins.
TEST(RefusedStatementTest, TellsWhichStatementIsRefusedAndWhereItBegins) {
  const Rewriter rw({users_migration(Writes::both, Reads::old_column)});
  const std::string refused = "DO $$ BEGIN UPDATE users SET status = 'x'; END $$";
  struct Case {
    std::string sql;
    std::size_t refused_statement;
    std::string refused_from;  // the text from where the refused statement begins
  };
  const Case cases[] = {
      {refused, 0, refused},
      {"BEGIN; " + refused + "; SELECT 1", 1, " " + refused + "; SELECT 1"},
      {"begin;insert into users (id, status) values (1, 'a');" + refused, 2, refused},
      {"BEGIN;; SAVEPOINT s; /* c */ " + refused, 2, " /* c */ " + refused},
      {"SELECT 1; " + refused + "; " + refused, 1, " " + refused + "; " + refused},
  };
  for (const Case& c : cases) {
    const RewriteResult result = rw.rewrite(c.sql, {}, make_catalog());
    EXPECT_EQ(result.outcome, Outcome::rejected) << c.sql;
    EXPECT_EQ(result.refused_statement, c.refused_statement) << c.sql;
    const auto start = statement_start(c.sql, c.refused_statement);
    ASSERT_TRUE(start.has_value()) << c.sql;
    EXPECT_EQ(c.sql.substr(*start), c.refused_from) << c.sql;
  }
  EXPECT_EQ(statement_start("SELECT 1; SELECT 2", 2), std::nullopt);
  EXPECT_EQ(statement_start("SELECT (", 0), std::nullopt);
}

// Template, and a word of the error ("" = accepted).
TEST(ValidateTransformTest, AcceptsExpressionsOfTheValueOnly) {
  const std::pair<const char*, const char*> cases[] = {
      {"", ""},
      {kToNew, ""},
      {"{value}::int", ""},
      {"lower({value})", ""},
      {"CASE WHEN {value} IS NULL THEN current_user ELSE {value} END", ""},
      {"coalesce({value}, (SELECT min(code) FROM codes WHERE codes.name = 'x'))", ""},
      {"{value} /* comment */", ""},
      {"{value} IN (SELECT code FROM codes)", ""},
      {"x IN (SELECT code FROM codes WHERE code = {value})", "refers to column \"x\""},
      {"lower(x)", "must contain {value}"},
      {"{value}) FROM t; DROP TABLE t; SELECT ({value}", "not"},
      {"{value} -- comment", "write /* ... */ instead"},
      {"CASE {value} WHEN", "not an SQL expression"},
      {"{value} AS x", "not"},
      {"{value} || name", "refers to column \"name\""},
      {"{value} + t.amount", "refers to column \"t.amount\""},
      {"EXCLUDED.status", "must contain {value}"},
      {"coalesce({value}, excluded.status)", "refers to column \"excluded.status\""},
      {"length('{value}')", "not inside a string constant"},
      {"{value} || '{value}'", "not inside a string constant"},
      {"$${value}$$ || {value}", "not inside a string constant"},
      {"{value} /* {value} */", "not inside a string constant"},
      {"\"{value}\"", "refers to column \"(switchyard_value)\""},
      {"(SELECT code FROM codes WHERE codes.name = {value})", ""},
      {"{value} + {value}", ""},
  };
  for (const auto& [tmpl, error] : cases) {
    SCOPED_TRACE(tmpl);
    const auto problem = validate_transform(tmpl);
    if (std::string_view(error).empty()) {
      EXPECT_EQ(problem, std::nullopt) << *problem;
    } else {
      ASSERT_NE(problem, std::nullopt);
      EXPECT_NE(problem->find(error), std::string::npos) << *problem;
    }
  }
}

TEST(DdlTest, DdlOnAMappedTableIsFlaggedAndUnchanged) {
  const Rewriter rw({users_migration(Writes::both, Reads::new_column)});
  const StaticCatalog cat = make_catalog();
  for (const char* sql :
       {"ALTER TABLE users ADD COLUMN state text", "DROP TABLE users",
        "ALTER TABLE users RENAME COLUMN status TO s", "CREATE INDEX ON users (state)",
        "TRUNCATE users", "CREATE MATERIALIZED VIEW mv AS SELECT status FROM users",
        "DROP INDEX users_state_idx; ALTER TABLE public.users DROP COLUMN status"}) {
    SCOPED_TRACE(sql);
    const RewriteResult r = rw.rewrite(sql, {}, cat);
    EXPECT_EQ(r.outcome, Outcome::unchanged);
    EXPECT_TRUE(r.ddl_on_mapped_table);
    ASSERT_FALSE(r.kinds.empty());
    EXPECT_EQ(r.kinds[0], StatementKind::ddl);
  }
  const RewriteResult r = rw.rewrite("ALTER TABLE orders_users_x ADD COLUMN x int", {}, cat);
  EXPECT_FALSE(r.ddl_on_mapped_table);
}

// The catalog is read on another connection, which sees a text's DDL only once it commits.
TEST(DdlTest, ColumnListAfterDdlEarlierInTheTextIsRefused) {
  constexpr const char* kChanged = "columns changed earlier in this transaction";
  run_table(
      users_migration(Writes::both, Reads::new_column),
      {
          {"ALTER TABLE users ADD COLUMN x int; SELECT * FROM users", nullptr, kRejected, kChanged},
          {"ALTER TABLE users ADD COLUMN x int; SELECT u.* FROM users u", nullptr, kRejected,
           kChanged},
          {"ALTER TABLE users DROP COLUMN name; INSERT INTO users VALUES (1, 'a')", nullptr,
           kRejected, kChanged},
          {"ALTER TABLE users ADD COLUMN x int; COPY users TO STDOUT", nullptr, kRejected,
           kChanged},
          {"ALTER TABLE users ADD COLUMN x int; COPY users FROM STDIN", nullptr, kRejected,
           kChanged},
          {"ALTER TABLE users ADD COLUMN x int; SELECT row_to_json(u) FROM users u", nullptr,
           kRejected, kChanged},
          {"ALTER TABLE users ADD COLUMN x int; SELECT o.id FROM orders o NATURAL JOIN users",
           nullptr, kRejected, kChanged},
          {"ALTER TABLE users ADD COLUMN x int; SELECT 1 FROM orders JOIN users USING (status)",
           nullptr, kRejected, kChanged},
          {"CREATE TABLE t AS SELECT * FROM users; ALTER TABLE users ADD COLUMN x int",
           "CREATE TABLE t AS SELECT users.id, users.state AS status, users.name FROM users; "
           "ALTER TABLE users ADD COLUMN x int"},
          {"ALTER TABLE users RENAME COLUMN name TO n; SELECT * FROM users", nullptr, kRejected,
           kChanged},
          {"DROP TABLE users; CREATE TABLE users (id int); SELECT * FROM users", nullptr, kRejected,
           kChanged},
          // DDL that leaves the columns as they were.
          {"TRUNCATE users; SELECT * FROM users",
           "TRUNCATE users; SELECT users.id, users.state AS status, users.name FROM users"},
          {"CREATE INDEX ON users (name); INSERT INTO users VALUES (1, 'a')",
           "CREATE INDEX ON users (name); INSERT INTO users (id, status, state) VALUES (1, 'a', "
           "'a')"},
          {"ALTER TABLE users ADD COLUMN x int; SELECT id, status, x FROM users",
           "ALTER TABLE users ADD COLUMN x int; SELECT id, state AS status, x FROM users"},
          {"ALTER TABLE users ADD COLUMN x int; INSERT INTO users (id, status) VALUES (1, 'a')",
           "ALTER TABLE users ADD COLUMN x int; INSERT INTO users (id, status, state) VALUES (1, "
           "'a', 'a')"},
          // DDL on another table earlier in the text: its columns are unknown to the catalog,
          // so a bare O in its scope may now be its own column (places gains status).
          {"ALTER TABLE places ADD COLUMN status text; SELECT id FROM users WHERE EXISTS "
           "(SELECT 1 FROM places p WHERE status = 'a' AND p.user_id = users.id)",
           nullptr, kRejected, "\"places\" is not in the catalog"},
          {"ALTER TABLE places ADD COLUMN status text; SELECT id FROM users WHERE EXISTS "
           "(SELECT 1 FROM places p WHERE p.city = 'a' AND p.user_id = users.id)",
           nullptr, kUnchanged},
      });
}

TEST(DdlTest, ColumnListUseIsFlagged) {
  const Rewriter rw({users_migration(Writes::both, Reads::new_column)});
  const StaticCatalog cat = make_catalog();
  const struct {
    const char* sql;
    bool used;
  } cases[] = {
      {"SELECT * FROM users", true},
      {"SELECT row_to_json(u) FROM users u", true},
      {"INSERT INTO users VALUES (1, 'a')", true},
      {"COPY users TO STDOUT", true},
      {"SELECT o.* FROM orders o JOIN users u ON u.id = o.user_id", false},
      {"SELECT id, status FROM users", false},
      {"INSERT INTO users (id, status) VALUES (1, 'a')", false},
      {"ALTER TABLE users ADD COLUMN x int", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.sql);
    const RewriteResult r = rw.rewrite(c.sql, {}, cat);
    EXPECT_EQ(r.column_lists_used == std::vector<std::string>{"users-status"}, c.used) << r.reason;
  }
}

// users-status (on_unsupported = reject) and accounts-owner (passthrough), both at writes =
// both, reads = new.
Rewriter users_and_accounts_under_passthrough() {
  Migration passthrough = users_migration(Writes::both, Reads::new_column, false, false);
  passthrough.name = "accounts-owner";
  passthrough.table = "accounts";
  passthrough.old_column = "owner";
  passthrough.new_column = "owner_id";
  return Rewriter({users_migration(Writes::both, Reads::new_column), passthrough});
}

// DDL on one mapped table leaves another's column list usable, and a refusal names only the
// migrations of the tables whose columns changed; the text's changed tables are reported for the
// session (integration.rewrite DdlInTransactionTest).
TEST(DdlTest, ColumnListAfterDdlOnAnotherMappedTableIsUsable) {
  const Rewriter both = users_and_accounts_under_passthrough();
  const StaticCatalog cat = make_catalog();
  const std::vector<std::string> users{"users-status"};
  const std::vector<std::string> accounts{"accounts-owner"};
  const std::vector<std::string> none;
  struct Row {
    const char* sql;
    Outcome outcome;
    const char* reason;  // the start of the refusal, or ""
    std::vector<std::string> changed;
    std::vector<std::string> used;
  };
  for (const Row& row : std::initializer_list<Row>{
           {"ALTER TABLE users ADD COLUMN x int; SELECT * FROM accounts", Outcome::rewritten, "",
            users, accounts},
           {"ALTER TABLE accounts ADD COLUMN x int; INSERT INTO users SELECT * FROM users",
            Outcome::rewritten, "", accounts, users},
           {"ALTER TABLE users ADD COLUMN x int; SELECT * FROM accounts JOIN users USING (id)",
            Outcome::rejected,
            "migration \"users-status\": the table's columns changed",
            users,
            {"accounts-owner", "users-status"}},
           {"ALTER TABLE accounts ADD COLUMN x int; SELECT * FROM accounts, users",
            Outcome::passthrough_unsupported,
            "migration \"accounts-owner\": the table's columns changed",
            accounts,
            {"accounts-owner", "users-status"}},
           {"ALTER TABLE users ADD COLUMN x int", Outcome::unchanged, "", users, none},
           {"CREATE INDEX ON users (status); SELECT * FROM users", Outcome::rewritten, "", none,
            users},
       }) {
    SCOPED_TRACE(row.sql);
    const RewriteResult r = both.rewrite(row.sql, {}, cat);
    EXPECT_EQ(r.outcome, row.outcome) << r.reason;
    EXPECT_TRUE(r.reason.starts_with(row.reason)) << r.reason;
    EXPECT_EQ(r.columns_changed, row.changed);
    if (row.outcome != Outcome::rejected && row.outcome != Outcome::passthrough_unsupported) {
      EXPECT_EQ(r.column_lists_used, row.used);
    }
  }
}

// A partition or inheritance child of a mapped table added or removed: the proxy builds its
// rules again so that the migration applies to the new table too.
// ... and the tables it adds are named, for the session to refuse statements naming them until
// its transaction ends.
TEST(DdlTest, APartitionOfAMappedTableAddedOrRemovedIsFlagged) {
  const Rewriter both = users_and_accounts_under_passthrough();
  const StaticCatalog cat = make_catalog();
  struct Row {
    const char* sql;
    bool changed;
    std::vector<NewDescendant> added;
  };
  const NewDescendant users_2{"users_2", "users-status", true};
  const NewDescendant users_3{"users_3", "users-status", true};
  const NewDescendant users_old{"users_old", "users-status", true};
  for (const Row& row : std::initializer_list<Row>{
           {"CREATE TABLE users_2 PARTITION OF users FOR VALUES FROM (100) TO (200)",
            true,
            {users_2}},
           {"CREATE TABLE app.users_2 PARTITION OF users FOR VALUES FROM (100) TO (200)",
            true,
            {users_2}},
           {"CREATE TABLE users_old (note text) INHERITS (public.users)", true, {users_old}},
           {"ALTER TABLE users ATTACH PARTITION users_3 FOR VALUES FROM (200) TO (300)",
            true,
            {users_3}},
           {"ALTER TABLE users DETACH PARTITION users_3", true, {}},
           {"ALTER TABLE users DETACH PARTITION users_3 CONCURRENTLY", true, {}},
           {"ALTER TABLE users_old INHERIT users", true, {users_old}},
           {"ALTER TABLE users_old NO INHERIT users", true, {}},
           {"CREATE TABLE accounts_2 PARTITION OF accounts FOR VALUES IN (1)",
            true,
            {{"accounts_2", "accounts-owner", false}}},
           {"ALTER TABLE orders_x INHERIT orders", false, {}},
           {"CREATE TABLE orders_2 PARTITION OF orders FOR VALUES IN (1)", false, {}},
           {"CREATE TABLE users_copy (LIKE users)", false, {}},
           {"ALTER TABLE users ADD COLUMN state text", false, {}},
           {"TRUNCATE users", false, {}},
       }) {
    SCOPED_TRACE(row.sql);
    const RewriteResult r = both.rewrite(row.sql, {}, cat);
    EXPECT_EQ(r.outcome, Outcome::unchanged);
    EXPECT_EQ(r.descendants_changed, row.changed);
    EXPECT_EQ(r.new_descendants, row.added);
  }
}

// A mapped table renamed or moved to another schema through the proxy: the rules, which follow
// it by OID once built again, are built again before the session's next statement.
TEST(DdlTest, AMappedTableRenamedOrMovedIsFlagged) {
  const Rewriter both = users_and_accounts_under_passthrough();
  const StaticCatalog cat = make_catalog();
  struct Row {
    const char* sql;
    bool changed;
    std::vector<NewDescendant> refused_until_commit;
  };
  const NewDescendant users_renamed{"users_renamed", "users-status", true, true};
  const NewDescendant users_moved{"users", "users-status", true, true};
  for (const Row& row : std::initializer_list<Row>{
           {"ALTER TABLE users RENAME TO users_renamed", true, {users_renamed}},
           {"ALTER TABLE IF EXISTS public.users RENAME TO users_renamed", true, {users_renamed}},
           {"ALTER TABLE users SET SCHEMA archive", true, {users_moved}},
           {"ALTER TABLE orders RENAME TO users", false, {}},
           {"ALTER TABLE users RENAME COLUMN status TO status2", false, {}},
           {"ALTER TABLE users RENAME CONSTRAINT users_pkey TO users_pk", false, {}},
           {"ALTER INDEX users_pkey RENAME TO users_pk", false, {}},
           {"ALTER TABLE orders SET SCHEMA users", false, {}},
       }) {
    SCOPED_TRACE(row.sql);
    const RewriteResult r = both.rewrite(row.sql, {}, cat);
    EXPECT_EQ(r.outcome, Outcome::unchanged);
    EXPECT_EQ(r.descendants_changed, row.changed);
    EXPECT_EQ(r.new_descendants, row.refused_until_commit);
  }
}

// The session builds its rules again only once a text is done, so a later statement of the
// text that creates the partition is refused by the partition's name as a later text of its
// transaction is (the session's part: integration.rewrite PartitionTest), under the migration's
// policy.
TEST(DdlTest, ANewPartitionNamedLaterInTheSameTextIsRefused) {
  const Rewriter both = users_and_accounts_under_passthrough();
  const StaticCatalog cat = make_catalog();
  struct Row {
    const char* sql;
    Outcome outcome;
  };
  for (const Row& row : std::initializer_list<Row>{
           {"CREATE TABLE users_2 PARTITION OF users FOR VALUES FROM (100) TO (200); "
            "INSERT INTO users_2 (id, status) VALUES (150, 'a')",
            Outcome::rejected},
           {"CREATE TABLE users_2 PARTITION OF users FOR VALUES FROM (100) TO (200);\n"
            "UPDATE public.USERS_2 SET status = 'b'",
            Outcome::rejected},
           {"ALTER TABLE users ATTACH PARTITION users_3 FOR VALUES FROM (200) TO (300); "
            "DELETE FROM users_3 WHERE id = 1",
            Outcome::rejected},
           {"CREATE TABLE users_old (note text) INHERITS (users); COMMIT; "
            "INSERT INTO \"users_old\" (id, status) VALUES (1, 'a')",
            Outcome::rejected},
           {"CREATE TABLE accounts_2 PARTITION OF accounts FOR VALUES IN (1); "
            "INSERT INTO accounts_2 (id, owner) VALUES (1, 'x')",
            Outcome::passthrough_unsupported},
           // Statements that leave its rows alone, and writes through the parent, go on.
           {"CREATE TABLE users_2 PARTITION OF users FOR VALUES FROM (100) TO (200); "
            "CREATE INDEX ON users_2 (state); COMMENT ON TABLE users_2 IS 'x'",
            Outcome::unchanged},
           {"CREATE TABLE users_2 PARTITION OF users FOR VALUES FROM (100) TO (200); "
            "INSERT INTO users (id, status) VALUES (150, 'a')",
            Outcome::rewritten},
           // Only a whole word is the name; and a statement before the CREATE is not refused.
           {"CREATE TABLE users_2 PARTITION OF users FOR VALUES FROM (100) TO (200); "
            "INSERT INTO users_20 (id) VALUES (1)",
            Outcome::unchanged},
           {"INSERT INTO users_2 (id) VALUES (1); "
            "CREATE TABLE users_2 PARTITION OF users FOR VALUES FROM (100) TO (200)",
            Outcome::unchanged},
       }) {
    SCOPED_TRACE(row.sql);
    const RewriteResult r = both.rewrite(row.sql, {}, cat);
    EXPECT_EQ(r.outcome, row.outcome);
    if (row.outcome == Outcome::rejected || row.outcome == Outcome::passthrough_unsupported) {
      EXPECT_NE(r.reason.find("became a partition or inheritance child"), std::string::npos)
          << r.reason;
    }
  }
}

// A SET search_path earlier in a text holds for the statements after it there, as on the
// server (the session follows it for later texts); after RESET or a transaction end behind a
// change the path is what the session alone can tell, so an unqualified name is refused.
TEST(SearchPathInTextTest, ASetEarlierInTheTextDecidesForTheStatementsAfterIt) {
  const Rewriter rw({users_migration(Writes::both, Reads::new_column)});
  const StaticCatalog cat = make_catalog();
  SessionContext audit_first;
  audit_first.search_path = {"audit", "public"};
  struct Row {
    const char* sql;
    const SessionContext& session;
    Outcome outcome;
    const char* expected;  // for rewritten
  };
  const SessionContext plain;
  for (const Row& row : std::initializer_list<Row>{
           {"SET search_path = audit, public; SELECT status FROM users", plain, Outcome::unchanged,
            nullptr},
           {"SET search_path = audit; SELECT status FROM public.users", plain, Outcome::rewritten,
            "SET search_path = audit; SELECT state AS status FROM public.users"},
           {"SET search_path = public; SELECT status FROM users", audit_first, Outcome::rewritten,
            "SET search_path = public; SELECT state AS status FROM users"},
           {"SELECT status FROM users; SET search_path TO audit", plain, Outcome::rewritten,
            "SELECT state AS status FROM users; SET search_path TO audit"},
           {"BEGIN; SET LOCAL search_path = audit; SELECT status FROM users; COMMIT", plain,
            Outcome::unchanged, nullptr},
           {"SET search_path = 'audit'; UPDATE users SET status = 'a'", plain, Outcome::unchanged,
            nullptr},
           {"RESET search_path; SELECT status FROM public.users", audit_first, Outcome::rewritten,
            "RESET search_path; SELECT state AS status FROM public.users"},
           // What the path is after these only the session knows.
           {"RESET search_path; SELECT status FROM users", audit_first, Outcome::rejected, nullptr},
           {"DISCARD ALL; INSERT INTO users (id, status) VALUES (1, 'a')", plain, Outcome::rejected,
            nullptr},
           {"BEGIN; SET LOCAL search_path = audit; COMMIT; SELECT status FROM users", plain,
            Outcome::rejected, nullptr},
       }) {
    SCOPED_TRACE(row.sql);
    const RewriteResult r = rw.rewrite(row.sql, row.session, cat);
    EXPECT_EQ(r.outcome, row.outcome) << r.reason;
    if (row.expected != nullptr) {
      EXPECT_EQ(r.sql, row.expected);
    }
    if (row.outcome == Outcome::rejected) {
      EXPECT_NE(r.reason.find("search_path"), std::string::npos) << r.reason;
    }
  }
  // A value written as a string is a literal: the text's literal shape cannot stand for it.
  for (const char* sql : {"SET search_path = 'audit'; SELECT status FROM users",
                          "SET search_path = E'audit', public; SELECT status FROM users",
                          "SET search_path = $$audit$$; SELECT status FROM users"}) {
    SCOPED_TRACE(sql);
    EXPECT_TRUE(rw.rewrite(sql, plain, cat).literals_decide);
  }
  for (const char* sql : {"SET search_path = audit; SELECT status FROM users",
                          "SET search_path = \"audit\", e1; SELECT status FROM users",
                          "SELECT status FROM users WHERE status = 'a'"}) {
    SCOPED_TRACE(sql);
    EXPECT_FALSE(rw.rewrite(sql, plain, cat).literals_decide);
  }
}

// U&'...' and U&"..." cannot be edited in place (the scanner's positions around them do not
// match the parser's): a statement whose escapes the rewrite must cut through is refused with
// that reason; one whose escapes stay where they are is rewritten.
TEST(UnicodeEscapeTest, AStatementToChangeThroughEscapesIsRefusedWithThatReason) {
  const Rewriter rw({users_migration(Writes::both, Reads::new_column)});
  const StaticCatalog cat = make_catalog();
  const RewriteResult escaped_table =
      rw.rewrite(R"(INSERT INTO users AS U&"\0075" (id, status) VALUES (3, 'x'))", {}, cat);
  EXPECT_EQ(escaped_table.outcome, Outcome::rewritten);
  EXPECT_EQ(escaped_table.sql,
            R"(INSERT INTO users AS U&"\0075" (id, status, state) VALUES (3, 'x', 'x'))");
  for (const char* sql : {R"(SELECT U&"st\0061tus" FROM users)",
                          R"(INSERT INTO users (id, status) VALUES (9, U&'\0041bc'))",
                          R"(UPDATE users SET status = U&'\0041bc')"}) {
    SCOPED_TRACE(sql);
    const RewriteResult r = rw.rewrite(sql, {}, cat);
    EXPECT_EQ(r.outcome, Outcome::rejected);
    EXPECT_NE(r.reason.find("Unicode escapes"), std::string::npos) << r.reason;
  }
  for (const char* sql :
       {R"(SELECT U&"\0061" FROM orders)", R"(SELECT id FROM users WHERE name = U&'\0041')"}) {
    SCOPED_TRACE(sql);
    EXPECT_EQ(rw.rewrite(sql, {}, cat).outcome, Outcome::unchanged);
  }
}

TEST(MetricsTest, KindsAndUses) {
  const Rewriter rw({users_migration(Writes::both, Reads::new_column)});
  const StaticCatalog cat = make_catalog();
  const RewriteResult r = rw.rewrite(
      "SELECT status FROM users WHERE status = 'a'; UPDATE users SET state = 'b'; DELETE FROM "
      "users WHERE id = 1; BEGIN",
      {}, cat);
  ASSERT_EQ(r.outcome, Outcome::rewritten);
  EXPECT_EQ(r.kinds, (std::vector<StatementKind>{StatementKind::select, StatementKind::update,
                                                 StatementKind::delete_, StatementKind::other}));
  ASSERT_EQ(r.uses.size(), 1u);
  EXPECT_EQ(r.uses[0].migration, "users-status");
  EXPECT_EQ(r.uses[0].reads_of_old, 2);
  EXPECT_EQ(r.uses[0].writes_of_new, 1);
  EXPECT_EQ(r.uses[0].writes_of_old, 0);
  EXPECT_TRUE(r.uses[0].rewritten);
  EXPECT_EQ(r.sql,
            "SELECT state AS status FROM users WHERE state = 'a'; UPDATE users SET state = 'b', "
            "status = 'b'; DELETE FROM users WHERE id = 1; BEGIN");
}

TEST(UnsupportedTest, BodiesAreNotGuessed) {
  run_table(users_migration(Writes::both, Reads::old_column),
            {
                {"DO $$ BEGIN UPDATE users SET status = 'x'; END $$", nullptr, kRejected, "DoStmt"},
                {"CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ UPDATE users SET status = "
                 "'x' $$",
                 nullptr, kRejected, "CreateFunctionStmt"},
                {"SELECT 1; MERGE INTO users u USING orders o ON o.user_id = u.id WHEN NOT "
                 "MATCHED THEN INSERT (id, status) VALUES (o.id, random()::text)",
                 nullptr, kRejected, "random()"},
                {"DO $$ BEGIN PERFORM 1; END $$", nullptr, kUnchanged},
            });
  // The refusal counts against the migration, though no column of it was seen in the body.
  const Rewriter rw({users_migration(Writes::both, Reads::old_column)});
  for (std::string_view sql :
       {"DO $$ BEGIN UPDATE users SET status = 'x'; END $$",
        "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS 'UPDATE users SET status = 1'"}) {
    const RewriteResult r = rw.rewrite(sql, {}, make_catalog());
    EXPECT_EQ(r.outcome, Outcome::rejected) << sql;
    ASSERT_EQ(r.uses.size(), 1u) << sql;
    EXPECT_EQ(r.uses[0].migration, "users-status") << sql;
  }
  // With every flag at "old" nothing is rewritten, so nothing is refused.
  run_table(users_migration(Writes::old_column, Reads::old_column),
            {
                {"DO $$ BEGIN UPDATE users SET status = 'x'; END $$", nullptr, kUnchanged},
                {"UPDATE users SET status = random()::text", nullptr, kUnchanged},
                {"INSERT INTO users (id, status) VALUES (1, 'a')", nullptr, kUnchanged},
            });
}

TEST(SeveralMigrationsTest, TwoColumnsOfOneTableAndAnotherTable) {
  Migration name_m = users_migration(Writes::both, Reads::new_column);
  name_m.name = "users-name";
  name_m.old_column = "name";
  name_m.new_column = "full_name";
  Migration orders_m = users_migration(Writes::new_column, Reads::new_column);
  orders_m.name = "orders-total";
  orders_m.table = "orders";
  orders_m.old_column = "total";
  orders_m.new_column = "amount";
  const Rewriter rw({users_migration(Writes::both, Reads::new_column), name_m, orders_m});
  StaticCatalog cat = make_catalog();
  cat.add({"public", "users"}, {"id", "status", "name", "state", "full_name"});
  cat.add({"public", "orders"}, {"id", "user_id", "status", "total", "amount"});
  cat.mark_complete("orders");
  SessionContext ctx;
  ctx.user = "alice";
  const std::vector<Case> cases = {
      {"SELECT name, status FROM users", "SELECT full_name AS name, state AS status FROM users"},
      {"INSERT INTO users (id, status, name) VALUES (1, 'a', 'n')",
       "INSERT INTO users (id, status, name, state, full_name) VALUES (1, 'a', 'n', 'a', 'n')"},
      {"UPDATE orders SET total = 3 WHERE status = 'x'",
       "UPDATE orders SET amount = 3 WHERE status = 'x'"},
      {"SELECT u.status, o.total FROM users u JOIN orders o ON o.user_id = u.id",
       "SELECT u.state AS status, o.amount AS total FROM users u JOIN orders o ON o.user_id = "
       "u.id"},
      {"SELECT * FROM orders",
       "SELECT orders.id, orders.user_id, orders.status, orders.amount "
       "AS total FROM orders"},
  };
  for (const Case& c : cases) {
    check_case(rw, c, ctx, cat);
  }
}

}  // namespace
}  // namespace switchyard::rewrite::test
