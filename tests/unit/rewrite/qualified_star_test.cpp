// Stars and whole rows whose relation is named with its schema (`public.users.*`), beside a
// table of the same name in another schema, and stars over functions that return a mapped
// table's rows (`RETURNS SETOF users`): each lists the columns the app saw before the migration
// (DESIGN §3), O served from N under reads = new, or is refused.

#include "rewrite_test_support.hpp"

namespace switchyard::rewrite::test {
namespace {

// The test catalog's audit.users (id, status) is another relation than public.users.
TEST(QualifiedStarTest, ASchemaQualifiedStarMeansTheTableOfThatSchema) {
  run_table(
      users_migration(Writes::both, Reads::new_column),
      {
          {"SELECT public.users.* FROM audit.users, public.users",
           "SELECT public.users.id, public.users.state AS status, public.users.name FROM "
           "audit.users, public.users"},
          {"SELECT public.users.* FROM public.users",
           "SELECT users.id, users.state AS status, users.name FROM public.users"},
          {"SELECT audit.users.* FROM public.users, audit.users", nullptr, kUnchanged},
          {"SELECT audit.users.*, public.users.* FROM public.users, audit.users",
           "SELECT audit.users.*, public.users.id, public.users.state AS status, "
           "public.users.name FROM public.users, audit.users"},
          {"SELECT * FROM public.users, audit.users WHERE audit.users.id = public.users.id",
           "SELECT public.users.id, public.users.state AS status, public.users.name, "
           "audit.users.* FROM public.users, audit.users WHERE audit.users.id = public.users.id"},
          {"SELECT * FROM audit.users JOIN public.users USING (id)",
           "SELECT id, audit.users.status, public.users.state AS status, public.users.name FROM "
           "audit.users JOIN public.users USING (id)"},
          {"UPDATE public.users SET name = 'q' FROM audit.users WHERE audit.users.id = "
           "public.users.id RETURNING public.users.*",
           "UPDATE public.users SET name = 'q' FROM audit.users WHERE audit.users.id = "
           "public.users.id RETURNING public.users.id, public.users.state AS status, "
           "public.users.name"},
          {"DELETE FROM public.users USING audit.users WHERE audit.users.id = public.users.id "
           "RETURNING *",
           "DELETE FROM public.users USING audit.users WHERE audit.users.id = public.users.id "
           "RETURNING public.users.id, public.users.state AS status, public.users.name, "
           "audit.users.*"},
          // A schema no FROM item has: the server's 42P01, as without the rewrite.
          {"SELECT x.users.* FROM users", nullptr, kUnchanged},
      });
}

#define ROW_OF(r)                                                                               \
  "(CASE WHEN pg_catalog.num_nulls(" r ".*) = 0 THEN ROW(" r ".id, " r ".state, " r ".name, " r \
  ".state)::public.users END)"

TEST(QualifiedStarTest, ASchemaQualifiedWholeRowIsBuiltAgain) {
  run_table(
      users_migration(Writes::new_column, Reads::new_column),
      {
          {"SELECT row_to_json(public.users.*) FROM public.users WHERE id = 1",
           "SELECT row_to_json(" ROW_OF("users") ") FROM public.users WHERE id = 1"},
          {"SELECT json_agg(public.users.*) FROM public.users",
           "SELECT json_agg(" ROW_OF("users") ") FROM public.users"},
          {"SELECT row_to_json(app.public.users.*) FROM public.users",
           "SELECT row_to_json(" ROW_OF("users") ") FROM public.users"},
          {"SELECT row(public.users.*) FROM public.users",
           "SELECT row(users.id, users.state, users.name) FROM public.users"},
          {"SELECT row_to_json(public.users.*) FROM audit.users, public.users",
           "SELECT row_to_json(" ROW_OF("public.users") ") FROM audit.users, public.users"},
          {"UPDATE public.users SET name = 'q' WHERE id = 1 RETURNING "
           "row_to_json(public.users.*)",
           "UPDATE public.users SET name = 'q' WHERE id = 1 RETURNING row_to_json(" ROW_OF(
               "users") ")"},
          {"SELECT row_to_json(audit.users.*) FROM audit.users, public.users", nullptr, kUnchanged},
          // As `(u.*).status`: a field of the whole row is refused.
          {"SELECT (public.users.*).status FROM public.users", nullptr, kRejected, "whole-row"},
      });
}

StaticCatalog catalog_with_row_functions() {
  StaticCatalog c = make_catalog();
  using Kind = FunctionOutput::Kind;
  const FunctionOutput users_rows{
      Kind::columns, {"id", "status", "name", "state"}, QualifiedName{"public", "users"}};
  c.add_function({"public", "all_users"}, 's', users_rows);
  c.add_function({"public", "one_user"}, 's', users_rows);
  c.add_function({"public", "audit_rows"}, 's',
                 {Kind::columns, {"id", "status"}, QualifiedName{"audit", "users"}});
  c.add_function({"public", "anything"}, 's');
  // A name shared across schemas, and overloads (the proxy's catalog combines them so).
  c.add_function({"public", "shared_users"}, 's', users_rows);
  c.add_function({"s2", "shared_users"}, 's',
                 {Kind::columns, {"id", "z"}, QualifiedName{"s2", "things"}});
  c.add_function({"public", "overloaded_users"}, 's',
                 combine_outputs(users_rows, {Kind::columns, {"id", "total"}, std::nullopt}));
  for (const char* name :
       {"all_users", "one_user", "audit_rows", "anything", "shared_users", "overloaded_users"}) {
    c.mark_function_complete(name);
  }
  return c;
}

void run_function_table(const Migration& m, const std::vector<Case>& cases) {
  const Rewriter rw({m});
  const StaticCatalog cat = catalog_with_row_functions();
  SessionContext ctx;
  ctx.user = "alice";
  for (const Case& c : cases) {
    check_case(rw, c, ctx, cat);
  }
}

TEST(QualifiedStarTest, AStarOverAFunctionReturningTheMappedRowsListsTheAppsColumns) {
  run_function_table(
      users_migration(Writes::new_column, Reads::new_column),
      {
          {"SELECT * FROM all_users() ORDER BY 1",
           "SELECT all_users.id, all_users.state AS status, all_users.name FROM all_users() "
           "ORDER BY 1"},
          {"SELECT f.* FROM public.all_users() f",
           "SELECT f.id, f.state AS status, f.name FROM public.all_users() f"},
          {"SELECT * FROM ROWS FROM (all_users()) r",
           "SELECT r.id, r.state AS status, r.name FROM ROWS FROM (all_users()) r"},
          {"INSERT INTO orders (id, user_id, status) SELECT * FROM all_users()",
           "INSERT INTO orders (id, user_id, status) SELECT all_users.id, all_users.state AS "
           "status, all_users.name FROM all_users()"},
          {"SELECT status FROM all_users() WHERE status = 'a'",
           "SELECT state AS status FROM all_users() WHERE state = 'a'"},
          {"SELECT row_to_json(f) FROM all_users() f",
           "SELECT row_to_json(" ROW_OF("f") ") FROM all_users() f"},
          {"SELECT * FROM audit_rows()", nullptr, kUnchanged},
          {"SELECT * FROM all_users() WITH ORDINALITY", nullptr, kRejected, "ORDINALITY"},
          {"SELECT * FROM all_users() f(a, b)", nullptr, kRejected, "column alias list"},
          // `(f()).*` and `(x).*` of a value that may be such a row are refused.
          {"SELECT (one_user(u.id)).* FROM users u", nullptr, kRejected, "SELECT * FROM one_user"},
          {"SELECT (u).* FROM (SELECT u FROM users u) s", nullptr, kRejected, "(...).*"},
          {"SELECT (anything(u.id)).* FROM users u", nullptr, kRejected, "(...).*"},
          {"SELECT (audit_rows()).*", nullptr, kUnchanged},
          // The whole row of a derived table or of a table without a migration is safe.
          {"SELECT (s).*, u.id FROM (SELECT 1 AS a) s, users u", nullptr, kUnchanged},
          {"SELECT (o).* FROM orders o JOIN users u ON u.id = o.user_id", nullptr, kUnchanged},
          {"SELECT (u).* FROM users u", nullptr, kRejected, "(...).*"},
          {"SELECT (not_looked_up()).* FROM users", nullptr, kNeedsCatalog},
      });
}

TEST(QualifiedStarTest, AFunctionReturningTheMappedRowsIsReadAsTheTableOrRefused) {
  run_function_table(
      users_migration(Writes::both, Reads::new_column),
      {
          // A qualified O through the function is O too.
          {"SELECT f.status FROM all_users() f", "SELECT f.state AS status FROM all_users() f"},
          {"SELECT id FROM all_users() f WHERE f.status = 'a'",
           "SELECT id FROM all_users() f WHERE f.state = 'a'"},
          {"SELECT all_users.status FROM all_users()",
           "SELECT all_users.state AS status FROM all_users()"},
          {"SELECT l.status FROM users u, LATERAL one_user(u.id) l",
           "SELECT l.state AS status FROM users u, LATERAL one_user(u.id) l"},
          {"SELECT (one_user(u.id)).status FROM users u", nullptr, kRejected,
           "SELECT status FROM one_user"},
          {"SELECT (one_user(u.id)).name FROM users u", nullptr, kUnchanged},
          // ROWS FROM of several calls: each looked up, one returning the rows refused.
          {"SELECT * FROM ROWS FROM (all_users(), generate_series(1, 2)) r", nullptr, kRejected,
           "ROWS FROM"},
          {"SELECT status FROM ROWS FROM (all_users(), one_user(2)) r", nullptr, kRejected,
           "ROWS FROM"},
          {"SELECT * FROM ROWS FROM (audit_rows(), generate_series(1, 2)) r WHERE r.id IN "
           "(SELECT id FROM users)",
           nullptr, kUnchanged},
          {"SELECT * FROM ROWS FROM (not_looked_up(), generate_series(1, 2)) r WHERE r.id IN "
           "(SELECT id FROM users)",
           nullptr, kNeedsCatalog},
          // A name shared by functions, one returning the rows: cannot tell which is called.
          {"SELECT * FROM shared_users()", nullptr, kRejected, "cannot tell which function"},
          {"SELECT status FROM overloaded_users(1)", nullptr, kRejected,
           "cannot tell which function"},
          {"SELECT * FROM public.shared_users()",
           "SELECT shared_users.id, shared_users.state AS status, shared_users.name FROM "
           "public.shared_users()"},
          {"SELECT * FROM s2.shared_users()", nullptr, kUnchanged},
          {"SELECT (overloaded_users(1)).status", nullptr, kRejected, "SELECT status FROM"},
          // A column alias list: its names fall on the row type's attributes, N among them
          // (hunt 50 h18 #10: another name for O was read as stored).
          {"SELECT oo FROM all_users() f(i, oo)", nullptr, kRejected, "column alias list"},
          {"SELECT f.i FROM all_users() f(i)", nullptr, kRejected, "column alias list"},
      });
}

}  // namespace
}  // namespace switchyard::rewrite::test
