// Fuzzes the rewrite engine with SQL-ish text against a fixed set of migrations.
//   byte 0: which migration set (kSets below);
//   then the statement text, up to the first NUL; after it, COPY data rows, fed to the
//   row transformer when the statement was a rewritten COPY FROM STDIN.
// Properties, each a way the proxy would otherwise send something wrong upstream:
//   - rewritten text parses and has as many statements as the input;
//   - with every migration at writes = new and reads = new, the rewritten text is a fixed
//     point (rewriting it again changes nothing): no use of an old column is left over
//     (checked only for text whose relations the catalog knows);
//   - text for which may_touch() is false (the proxy's fast path forwards it untouched)
//     is left unchanged by rewrite();
//   - a rejection's SQL parses; needs_catalog names relations and, once they are known
//     (as absent), is not asked again for the same ones;
//   - COPY rows transform the same whether fed whole or one byte at a time, and binary rows
//     (converted for a widened column in set 5) into binary COPY data of the rewritten column
//     list's width;
//   - a literal shape's key filled with its literals is the text again, and when the key's
//     rewrite filled with this text's literals is this text's rewrite (the proxy then reuses
//     it), it is also the rewrite of the text with other literals of the same kinds;
//   - a shape recipe recognises its own text, and whatever text it recognises (the text with
//     other literals, the text cut or lengthened) take_literal_shape shapes alike;
//   - a tree built from libpg_query's JSON output is, packed, the protobuf parse's bytes.
//   - where the plain reader vouches for a text, its tokens are the scanner's.
//   - a text that deallocates, sets the search path or prepares/executes in SQL passes
//     may_change_session() (the one first-word look the proxy makes before following them).

#include <pg_query.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "rewrite/copy_transform.hpp"
#include "rewrite/deallocation.hpp"
#include "rewrite/json_tree.hpp"
#include "rewrite/literal_shape.hpp"
#include "rewrite/pg_query_handles.hpp"
#include "rewrite/plain_scan.hpp"
#include "rewrite/rewriter.hpp"
#include "rewrite/search_path_setting.hpp"
#include "rewrite/session_change.hpp"
#include "rewrite/shape_recipe.hpp"
#include "rewrite/sql_prepared.hpp"
#include "rewrite/sql_text.hpp"

namespace rw = switchyard::rewrite;
using switchyard::fuzz::check;

namespace {

constexpr const char* kStatusToNew = "CASE {value} WHEN 'active' THEN 1 WHEN 'inactive' THEN 0 END";
constexpr const char* kStatusToOld = "CASE {value} WHEN 1 THEN 'active' WHEN 0 THEN 'inactive' END";

rw::Migration migration(std::string name, std::string schema, std::string table,
                        std::string old_column, std::string new_column, rw::Writes w, rw::Reads r) {
  rw::Migration m;
  m.name = std::move(name);
  m.schema = std::move(schema);
  m.table = std::move(table);
  m.old_column = std::move(old_column);
  m.new_column = std::move(new_column);
  m.writes = w;
  m.reads = r;
  return m;
}

rw::Migration users(rw::Writes w, rw::Reads r, bool transform, bool reject = true) {
  rw::Migration m = migration("users-status", "public", "users", "status", "state", w, r);
  m.old_type = "text";
  m.new_type = transform ? "integer" : "text";  // a rename: binary COPY is planned too
  if (transform) {
    m.to_new = kStatusToNew;
    m.to_old = kStatusToOld;
  }
  m.reject_unsupported = reject;
  return m;
}

rw::Migration orders(rw::Writes w, rw::Reads r, bool transform) {
  rw::Migration m = migration("orders-total", "public", "orders", "total", "total_cents", w, r);
  if (transform) {
    m.to_new = "({value} * 100)::bigint";
    m.to_old = "({value}::numeric / 100)";
    m.old_type = "numeric";
    m.new_type = "bigint";
  }
  return m;
}

// A type change without a transform: binary COPY converts each field (int4 to int8).
rw::Migration widened(rw::Migration m) {
  m.old_type = "integer";
  m.new_type = "bigint";
  return m;
}

// N of another collation: every read of O served from N takes O's (COLLATE).
rw::Migration collated(rw::Migration m) {
  m.old_collation = R"(pg_catalog."C")";
  m.new_collation = R"(pg_catalog."default")";
  return m;
}

struct MigrationSet {
  std::vector<rw::Migration> migrations;
  bool all_new = false;  // every migration at writes = new, reads = new
};

std::vector<MigrationSet> make_sets() {
  using W = rw::Writes;
  using R = rw::Reads;
  return {
      {{users(W::both, R::old_column, false)}},
      {{users(W::both, R::new_column, true)}},
      {{users(W::new_column, R::new_column, false)}, true},
      {{users(W::new_column, R::new_column, true), orders(W::new_column, R::new_column, true)},
       true},
      {{users(W::both, R::old_column, true, false), orders(W::both, R::new_column, false)}},
      {{widened(migration("mixed", "public", "Mixed Case", "Old Col", "new col", W::both,
                          R::new_column))}},
      // Another width read bare where it compares and cast where it reaches the client.
      {{widened(users(W::both, R::new_column, false))}},
      {{collated(users(W::both, R::new_column, false))}},
  };
}

rw::StaticCatalog make_catalog() {
  rw::StaticCatalog c;
  c.add({"public", "users"}, {"id", "status", "name", "state"},
        {{"integer"}, {"text"}, {"text"}, {"smallint"}});
  c.add({"public", "orders"}, {"id", "user_id", "status", "total", "total_cents", "search"},
        {{"integer"}, {"integer"}, {"text"}, {"numeric(12,2)"}, {"bigint"}, {"tsvector", true}});
  c.add({"public", "accounts"}, {"id", "owner"});
  c.add({"audit", "users"}, {"id", "status"});
  c.add({"public", "Mixed Case"}, {"id", "Old Col", "new col"},
        {{"integer"}, {"integer"}, {"bigint"}});
  c.mark_complete("users");
  c.mark_complete("orders");
  c.mark_complete("Mixed Case");
  c.add_absent({"alice", "accounts"});
  return c;
}

// Number of statements, or -1 when the text does not parse.
int statement_count(const std::string& sql) {
  PgQuerySplitResult r = pg_query_split_with_parser(sql.c_str());
  const int count = r.error == nullptr ? r.n_stmts : -1;
  pg_query_free_split_result(r);
  return count;
}

void check_copy(const rw::CopyPlan& plan, std::string_view rows) {
  rw::CopyRowTransformer whole(plan);
  std::string out_whole;
  const bool ok_whole = whole.feed(rows, out_whole) && whole.finish(out_whole);
  rw::CopyRowTransformer bytewise(plan);
  std::string out_bytes;
  bool ok_bytes = true;
  for (std::size_t i = 0; i < rows.size() && ok_bytes; ++i) {
    ok_bytes = bytewise.feed(rows.substr(i, 1), out_bytes);
  }
  ok_bytes = ok_bytes && bytewise.finish(out_bytes);
  check(ok_whole == ok_bytes, "COPY rows accepted whole but not split (or the reverse)");
  check(!ok_whole || out_whole == out_bytes, "COPY rows differ when split");
  if (ok_whole && plan.format == rw::CopyPlan::Format::binary) {
    // What goes upstream is binary COPY data again, each tuple as wide as the new column list.
    rw::CopyPlan same = plan;
    same.input_columns = plan.source_index_per_output_column.size();
    same.source_index_per_output_column.clear();
    same.conversion_per_output_column.clear();
    for (std::size_t i = 0; i < same.input_columns; ++i) {
      same.source_index_per_output_column.push_back(static_cast<int>(i));
    }
    rw::CopyRowTransformer again(same);
    std::string out_again;
    check(again.feed(out_whole, out_again) && again.finish(out_again) && out_again == out_whole,
          "binary COPY output is not binary COPY data of the new width");
  }
}

// The text of `shape` with other literals of the same kinds.
std::string with_other_literals(const rw::LiteralShape& shape, std::size_t seed) {
  static constexpr std::array<std::string_view, 3> kInts = {"0", "7", "1999"};
  static constexpr std::array<std::string_view, 2> kNumerics = {"3.25", "1e2"};
  // Plain strings only: an E'' put where a name ends (`u'x'`) would join the name.
  static constexpr std::array<std::string_view, 3> kStrings = {"'in''active'", "''", "'x y'"};
  std::vector<std::string_view> others;
  for (std::size_t i = 0; i < shape.literals.size(); ++i) {
    std::string_view literal = shape.literals[i];
    const std::size_t k = seed + i;
    if (literal.front() == '\'' || literal.front() == 'E' || literal.front() == 'e') {
      others.push_back(kStrings[k % kStrings.size()]);
    } else if (literal.find_first_of(".eE") != std::string_view::npos) {
      others.push_back(kNumerics[k % kNumerics.size()]);
    } else {
      others.push_back(kInts[k % kInts.size()]);
    }
  }
  return rw::fill_literals(shape.key, others).value_or("");
}

// A recipe's answer for `later` against take_literal_shape's.
void check_recipe_agrees(const rw::ShapeRecipe& recipe, const std::string& later) {
  rw::LiteralShape recognised;
  if (!recipe.match(later, recognised)) {
    return;
  }
  rw::LiteralShape scanned;
  check(rw::take_literal_shape(later, scanned), "a recipe recognised a text the scan refuses");
  check(recognised.key == scanned.key &&
            std::equal(recognised.literals.begin(), recognised.literals.end(),
                       scanned.literals.begin(), scanned.literals.end()),
        "a recipe and the scan shape a text differently");
}

void check_shape_recipe(const std::string& sql, const rw::LiteralShape& shape, std::size_t seed) {
  auto recipe = rw::ShapeRecipe::of(sql, shape);
  if (!recipe) {
    return;
  }
  rw::LiteralShape again;
  check(recipe->match(sql, again) && again.key == shape.key,
        "a recipe does not recognise its own text");
  check_recipe_agrees(*recipe, with_other_literals(shape, seed));
  // The text with a literal's end moved: cut short, or run on into what follows.
  for (std::string_view literal : shape.literals) {
    const auto end = static_cast<std::size_t>(literal.data() - sql.data()) + literal.size();
    check_recipe_agrees(*recipe, sql.substr(0, end - 1) + sql.substr(end));
    for (std::string_view extra : {"0", "e", "'", ".5"}) {
      check_recipe_agrees(*recipe, sql.substr(0, end) + std::string(extra) + sql.substr(end));
    }
  }
}

void check_literal_shape(const rw::Rewriter& rewriter, const std::string& sql,
                         const rw::RewriteResult& result, const rw::SessionContext& session,
                         const rw::Catalog& catalog, std::size_t seed) {
  auto shape = rw::literal_shape(sql);
  if (!shape) {
    return;
  }
  check(rw::fill_literals(shape->key, shape->literals) == sql,
        "a literal shape filled with its own literals is not the text");
  check_shape_recipe(sql, *shape, seed);
  const rw::RewriteResult tmpl = rewriter.rewrite(shape->key, session, catalog);
  auto first = rw::instantiate(tmpl, *shape);
  if (!first || !rw::same_result(*first, result)) {
    return;  // the proxy would not reuse this shape
  }
  const std::string other = with_other_literals(*shape, seed);
  auto other_shape = rw::literal_shape(other);
  check(other_shape && other_shape->key == shape->key, "other literals changed the shape");
  auto reused = rw::instantiate(tmpl, *other_shape);
  check(reused != nullptr, "a reusable shape cannot be filled with other literals");
  check(rw::same_result(*reused, rewriter.rewrite(other, session, catalog)),
        "a literal shape's rewrite is not the rewrite of another text of that shape");
}

void check_json_tree(const std::string& sql) {
  PgQueryParseResult json = pg_query_parse(sql.c_str());
  PgQueryProtobufParseResult proto = pg_query_parse_protobuf(sql.c_str());
  check((json.error == nullptr) == (proto.error == nullptr),
        "the JSON and protobuf parses disagree on whether the text parses");
  if (json.error == nullptr && proto.error == nullptr) {
    switchyard::rewrite::detail::UnpackArena arena;
    const PgQuery__ParseResult* tree =
        switchyard::rewrite::detail::tree_from_json(json.parse_tree, sql.c_str(), arena);
    if (tree != nullptr) {
      std::string packed(pg_query__parse_result__get_packed_size(tree), '\0');
      pg_query__parse_result__pack(tree, reinterpret_cast<std::uint8_t*>(packed.data()));
      check(
          std::string_view(packed) == std::string_view(proto.parse_tree.data, proto.parse_tree.len),
          "a tree built from the JSON parse differs from the protobuf parse");
    }
  }
  pg_query_free_parse_result(json);
  pg_query_free_protobuf_parse_result(proto);
}

void check_plain_scan(const std::string& sql) {
  namespace d = switchyard::rewrite::detail;
  const std::optional<std::vector<d::Token>> plain = d::scan_plain(sql);
  if (!plain.has_value()) {
    return;
  }
  const std::vector<d::Token> scanned = d::scan_tokens_with_libpg_query(sql);
  bool same = plain->size() == scanned.size();
  for (std::size_t i = 0; same && i < scanned.size(); ++i) {
    const d::Token& a = (*plain)[i];
    const d::Token& b = scanned[i];
    same = a.start == b.start && a.end == b.end && a.kind == b.kind &&
           a.keyword_kind == b.keyword_kind;
  }
  check(same, "the plain reader's tokens differ from the scanner's");
}

// The same text as a to_new template: validation never throws, and a template it accepts,
// filled with a literal that tries to close a quote around it, parses as one expression
// where the rewrite puts it.
void check_transform_validation(const std::string& text) {
  if (rw::validate_transform(text).has_value()) {
    return;
  }
  const std::string value = "'x'') || (SELECT 1) || (''x'";
  const std::string sql = "SELECT (" + rw::detail::apply_template(text, value) + ") FROM t";
  const rw::detail::ParsedSql parsed(sql);
  const PgQuery__ParseResult* tree = parsed.tree();
  check(tree != nullptr && tree->n_stmts == 1 &&
            tree->stmts[0]->stmt->node_case == PG_QUERY__NODE__NODE_SELECT_STMT &&
            tree->stmts[0]->stmt->select_stmt->n_target_list == 1,
        "an accepted template does not give one expression");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1 || size > 4096) {
    return 0;
  }
  static const std::vector<MigrationSet> sets = make_sets();
  static const std::vector<rw::Rewriter> rewriters = [] {
    std::vector<rw::Rewriter> v;
    for (const MigrationSet& s : sets) {
      v.emplace_back(s.migrations);
    }
    return v;
  }();
  const std::size_t which = data[0] % sets.size();
  const std::string_view input = switchyard::fuzz::text_of(data + 1, size - 1);
  const std::string sql(input.substr(0, input.find('\0')));
  const std::string_view copy_rows =
      sql.size() < input.size() ? input.substr(sql.size() + 1) : std::string_view{};
  const rw::Rewriter& rewriter = rewriters[which];
  check_json_tree(sql);
  check_plain_scan(sql);
  check_transform_validation(sql);
  const std::optional<rw::SqlPrepared> named = rw::sql_prepared(sql);
  if (rw::deallocation(sql) || rw::search_path_change(sql) || named) {
    check(rw::may_change_session(sql), "a session change that may_change_session lets pass");
  }
  if (named) {
    // Each PREPARE alone is a piece of the text, and parses as one PREPARE of its name (the
    // proxy sends it again in front of an EXECUTE).
    check(named->prepare_statements.size() == named->prepared.size(), "a PREPARE without its text");
    for (std::size_t i = 0; i < named->prepared.size(); ++i) {
      const std::string_view alone = named->prepare_statements[i];
      check(alone.data() >= sql.data() && alone.data() + alone.size() <= sql.data() + sql.size(),
            "a PREPARE's text outside the text");
      const auto again = rw::sql_prepared(rw::sql_prepare_again(named->prepared[i], alone));
      check(again && again->prepared.size() == 1 && again->prepared[0] == named->prepared[i],
            "a PREPARE's text alone does not prepare its name");
    }
  }

  rw::SessionContext session;
  session.user = "alice";
  rw::StaticCatalog catalog = make_catalog();
  rw::RewriteResult result = rewriter.rewrite(sql, session, catalog);
  // The proxy fetches what is missing and asks again; it gives up after a few rounds.
  std::vector<rw::QualifiedName> asked;
  std::vector<std::string> asked_functions;
  for (int round = 0; round < 4 && result.outcome == rw::Outcome::needs_catalog; ++round) {
    check(!result.missing.empty() || !result.missing_functions.empty(),
          "needs_catalog without a relation or a function");
    for (const rw::QualifiedName& name : result.missing) {
      check(std::find(asked.begin(), asked.end(), name) == asked.end(),
            "needs_catalog asked again for a relation already supplied");
      asked.push_back(name);
      catalog.add_absent(name);
    }
    // The catalog answers for a function name in every schema at once (as the proxy asks for
    // it), so one round may name it twice (app.slug, other.slug); a later round may not.
    const std::size_t supplied = asked_functions.size();
    for (const rw::QualifiedName& name : result.missing_functions) {
      const auto before = asked_functions.begin() + static_cast<std::ptrdiff_t>(supplied);
      check(std::find(asked_functions.begin(), before, name.table) == before,
            "needs_catalog asked again for a function already supplied");
      if (std::find(before, asked_functions.end(), name.table) != asked_functions.end()) {
        continue;
      }
      asked_functions.push_back(name.table);
      // Some names are IMMUTABLE, some VOLATILE, some absent: each verdict is reached.
      const char kinds[] = {'i', 's', 'v', '\0'};
      const char volatility = kinds[name.table.size() % 4];
      // ... and what they give in FROM: unknown, one scalar, or columns (one called status).
      using Kind = rw::FunctionOutput::Kind;
      const rw::FunctionOutput outputs[] = {{},
                                            {Kind::scalar, {}, {}},
                                            {Kind::columns, {"status"}, {}},
                                            {Kind::columns, {"a", "b"}, {}}};
      if (volatility != '\0') {
        catalog.add_function({name.schema.empty() ? "public" : name.schema, name.table}, volatility,
                             outputs[name.table.size() / 4 % 4]);
      }
      catalog.mark_function_complete(name.table);
    }
    result = rewriter.rewrite(sql, session, catalog);
  }

  // Replaying one input with SWITCHYARD_FUZZ_DEBUG=1 shows what the rewriter made of it.
  static const bool debug = std::getenv("SWITCHYARD_FUZZ_DEBUG") != nullptr;
  if (debug) {
    std::fprintf(stderr, "set %zu in:  %s\noutcome %d: %s%s\n", which, sql.c_str(),
                 static_cast<int>(result.outcome), result.sql.c_str(), result.reason.c_str());
    if (result.outcome == rw::Outcome::rewritten) {
      const rw::RewriteResult again = rewriter.rewrite(result.sql, session, catalog);
      std::fprintf(stderr, "again %d: %s%s\n", static_cast<int>(again.outcome), again.sql.c_str(),
                   again.reason.c_str());
    }
  }
  if (!rewriter.may_touch(sql)) {
    check(result.outcome == rw::Outcome::unchanged, "fast path skips text rewrite() changes");
  }
  switch (result.outcome) {
    case rw::Outcome::rewritten: {
      const int out_count = statement_count(result.sql);
      check(out_count >= 0, "rewritten SQL does not parse");
      // A staged COPY adds three statements (CREATE, INSERT, DROP) around its own.
      const std::size_t staged = result.copy_count_statements.size();
      check(out_count == statement_count(sql) + 3 * static_cast<int>(staged),
            "rewrite changed the number of statements");
      check(result.hidden_statements.size() == 3 * staged, "a staged COPY's statements miscounted");
      for (const std::vector<int>* list :
           {&result.hidden_statements, &result.copy_count_statements}) {
        for (int at : *list) {
          check(at >= 0 && at < out_count, "a staged statement outside the text");
        }
      }
      check(staged == 0 || !result.staged_because.empty(), "a staged COPY without its reason");
      // Text naming relations the catalog does not have fails in Postgres whatever the
      // rewrite, and a name that is both a relation and an alias cannot be resolved well.
      if (sets[which].all_new && asked.empty()) {
        const rw::RewriteResult again = rewriter.rewrite(result.sql, session, catalog);
        check(again.outcome == rw::Outcome::unchanged, "rewritten SQL still uses an old column");
      }
      if (result.copy) {
        check_copy(*result.copy, copy_rows);
      }
      break;
    }
    case rw::Outcome::rejected:
    case rw::Outcome::passthrough_unsupported:
      check(!result.reason.empty(), "rejection without a reason");
      // The rewriter refuses, rather than sends, a rewrite of its own that does not parse.
      check(result.reason.find("internal error") == std::string::npos,
            "the rewrite made text that does not parse");
      check(statement_count(rw::rejection_sql(result.reason)) == 1, "rejection SQL does not parse");
      break;
    default:
      break;
  }
  if (result.outcome != rw::Outcome::needs_catalog) {
    check_literal_shape(rewriter, sql, result, session, catalog, size);
  }
  return 0;
}
