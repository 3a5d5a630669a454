#pragma once

// Shared fixtures of the rewrite tests: a catalog, migration presets, and a checker that every
// rewritten output re-parses.

#include <gtest/gtest.h>
#include <pg_query.h>

#include <string>
#include <vector>

#include "rewrite/rewriter.hpp"

namespace switchyard::rewrite::test {

inline StaticCatalog make_catalog(bool builtins_known = true) {
  StaticCatalog c;
  // The proxy loads the built-ins' volatility up front; here no other schema has their names.
  for (const std::string& name :
       builtins_known ? repeatable_builtin_names() : std::vector<std::string>{}) {
    c.mark_function_complete(name);
  }
  c.add({"public", "users"}, {"id", "status", "name", "state"},
        {{"integer"}, {"text"}, {"character varying(40)"}, {"smallint"}});
  c.add({"public", "orders"}, {"id", "user_id", "status", "total"});
  c.add({"public", "accounts"}, {"id", "owner"});
  c.add({"audit", "users"}, {"id", "status"});
  c.add({"public", "Mixed Case"}, {"id", "Old Col", "new col"});
  // Another table with a column named like users' new one: a bare `state` there takes it.
  c.add({"public", "places"}, {"id", "user_id", "state", "city"});
  c.mark_complete("users");
  c.mark_complete("Mixed Case");
  c.mark_complete("places");
  // alice's schema and pg_catalog, searched before public for an unqualified name, hold none.
  for (const char* schema : {"alice", "pg_catalog"}) {
    c.add_absent({schema, "orders"});
    c.add_absent({schema, "accounts"});
  }
  // Functions in FROM as the catalog describes them (FunctionOutput): a record without OUT
  // parameters, unnest's overloads that differ, a scalar, a row type's columns, OUT parameters
  // (under one name in two schemas, with other columns), a single named OUT parameter.
  using Kind = FunctionOutput::Kind;
  c.add_function({"public", "my_rows"}, 'v');
  c.add_function({"pg_catalog", "unnest"}, 'i');
  c.add_function({"public", "score"}, 'i', {Kind::scalar, {}, {}});
  c.add_function({"pg_catalog", "generate_series"}, 'i', {Kind::scalar, {}, {}});
  c.add_function({"public", "order_rows"}, 's',
                 {Kind::columns, {"id", "user_id", "status", "total"}, {}});
  c.add_function({"public", "prefs"}, 's', {Kind::columns, {"theme", "lang"}, {}});
  c.add_function({"app", "prefs"}, 's', {Kind::columns, {"theme", "status"}, {}});
  c.add_function({"public", "last_status"}, 's', {Kind::columns, {"status"}, {}});
  for (const char* name :
       {"my_rows", "unnest", "score", "generate_series", "order_rows", "prefs", "last_status"}) {
    c.mark_function_complete(name);
  }
  return c;
}

inline constexpr const char* kToNew =
    "CASE {value} WHEN 'active' THEN 1 WHEN 'inactive' THEN 0 END";
inline constexpr const char* kToOld =
    "CASE {value} WHEN 1 THEN 'active' WHEN 0 THEN 'inactive' END";

/// users.status -> users.state; `transform` makes it a type change.
inline Migration users_migration(Writes w, Reads r, bool transform = false, bool reject = true) {
  Migration m;
  m.name = "users-status";
  m.schema = "public";
  m.table = "users";
  m.old_column = "status";
  m.new_column = "state";
  m.writes = w;
  m.reads = r;
  if (transform) {
    m.to_new = kToNew;
    m.to_old = kToOld;
  }
  m.reject_unsupported = reject;
  return m;
}

inline bool parses(const std::string& sql) {
  PgQueryParseResult r = pg_query_parse(sql.c_str());
  const bool ok = r.error == nullptr;
  pg_query_free_parse_result(r);
  return ok;
}

/// One table row: configuration + SQL in, expected SQL (or outcome) out.
struct Case {
  const char* in;
  const char* out;  // expected SQL when rewritten; nullptr when unchanged / not rewritten
  Outcome outcome = Outcome::rewritten;
  const char* reason_part = nullptr;  // for rejected/passthrough: a substring of the reason
};

inline void check_case(const Rewriter& rw, const Case& c, const SessionContext& ctx,
                       const Catalog& cat) {
  SCOPED_TRACE(c.in);
  const RewriteResult r = rw.rewrite(c.in, ctx, cat);
  EXPECT_EQ(static_cast<int>(r.outcome), static_cast<int>(c.outcome)) << r.reason << "\n" << r.sql;
  if (c.outcome == Outcome::rewritten) {
    EXPECT_EQ(r.sql, c.out);
    EXPECT_TRUE(parses(r.sql)) << r.sql;
  }
  if (c.reason_part != nullptr) {
    EXPECT_NE(r.reason.find(c.reason_part), std::string::npos) << r.reason;
  }
}

inline void run_table(const Migration& m, const std::vector<Case>& cases, SessionContext ctx = {}) {
  const Rewriter rw({m});
  const StaticCatalog cat = make_catalog();
  if (ctx.user.empty()) {
    ctx.user = "alice";
  }
  for (const Case& c : cases) {
    check_case(rw, c, ctx, cat);
  }
}

constexpr Outcome kUnchanged = Outcome::unchanged;
constexpr Outcome kRejected = Outcome::rejected;
constexpr Outcome kPassthrough = Outcome::passthrough_unsupported;
constexpr Outcome kNeedsCatalog = Outcome::needs_catalog;

}  // namespace switchyard::rewrite::test
