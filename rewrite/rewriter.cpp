#include "rewrite/rewriter.hpp"

#include <algorithm>
#include <functional>

#include "rewrite/analyzer.hpp"
#include "rewrite/pg_query_handles.hpp"
#include "rewrite/sql_text.hpp"
#include "rewrite/text_edits.hpp"
#include "rewrite/token_list.hpp"

namespace switchyard::rewrite {

Rewriter::Rewriter(std::vector<Migration> migrations) : migrations_(std::move(migrations)) {
  for (const Migration& m : migrations_) {
    std::string n = detail::name_as_written(m.table);
    if (std::find(needles_.begin(), needles_.end(), n) == needles_.end()) {
      needles_.push_back(std::move(n));
    }
  }
}

namespace {

// The scanner's positions around U&'...' and U&"..." do not let the edits cut the text where
// the parser's locations say, so a statement with one can come out broken or unplaceable; the
// refusal then says so rather than blaming the engine.
void explain_unicode_escapes(detail::Analyzer& a, const detail::TokenList& tokens) {
  for (int i = 0; i < tokens.size(); ++i) {
    const int kind = static_cast<int>(tokens.at(i).kind);
    if (kind == PG_QUERY__TOKEN__USCONST || kind == PG_QUERY__TOKEN__UIDENT) {
      a.problems.insert(a.problems.begin(),
                        detail::Problem{nullptr,
                                        "a U&'...' string or U&\"...\" name in a statement "
                                        "the rewrite must change is not supported: write it "
                                        "without the Unicode escapes"});
      return;
    }
  }
}

void set_problem_outcome(RewriteResult& result, const detail::Analyzer& a) {
  bool reject = false;
  for (const detail::Problem& p : a.problems) {
    if (p.migration != nullptr) {
      reject = reject || p.migration->reject_unsupported;
    } else {
      reject = reject || a.involved.empty() ||
               std::any_of(a.involved.begin(), a.involved.end(),
                           [](const Migration* m) { return m->reject_unsupported; });
    }
  }
  const detail::Problem& first = a.problems.front();
  result.reason = first.reason;
  if (first.migration == nullptr && !a.involved.empty()) {
    std::string names;
    for (const Migration* m : a.involved) {
      names += (names.empty() ? "" : ", ") + std::string("\"") + m->name + "\"";
    }
    result.reason = "migration " + names + ": " + first.reason;
  }
  result.outcome = reject ? Outcome::rejected : Outcome::passthrough_unsupported;
  // A refusal counts against every migration it names, also where no column of it was seen
  // (a DO block or function body that mentions the table): the per-migration passthrough
  // count is what on-call gates the flips on.
  auto count_for = [&](const Migration* m) {
    if (m != nullptr &&
        std::none_of(result.uses.begin(), result.uses.end(),
                     [&](const MigrationUse& u) { return u.migration == m->name; })) {
      result.uses.push_back(MigrationUse{m->name});
    }
  };
  for (const detail::Problem& p : a.problems) {
    count_for(p.migration);
  }
  for (const Migration* m : a.involved) {
    count_for(m);
  }
}

}  // namespace

RewriteResult Rewriter::rewrite(std::string_view sql, const SessionContext& session,
                                const Catalog& catalog) const {
  RewriteResult result;
  if (!may_touch(sql)) {
    return result;
  }
  const std::string text(sql);
  detail::ParsedSql parsed(text);
  if (parsed.tree() == nullptr) {
    result.unparsed = true;
    return result;  // the server reports the syntax error itself
  }
  detail::TokenList tokens(text);
  detail::TextEdits edits(text);
  detail::Analyzer analyzer(migrations_, session, catalog, text, tokens, edits);
  std::size_t supported = 0;  // statements before the first with a problem
  for (size_t i = 0; i < parsed.tree()->n_stmts; ++i) {
    analyzer.statement(parsed.tree()->stmts[i]);
    supported += analyzer.problems.empty() ? 1 : 0;
  }
  result.kinds = analyzer.kinds;
  result.uses = analyzer.uses;
  result.ddl_on_mapped_table = analyzer.ddl_on_mapped_table;
  result.columns_changed = analyzer.columns_changed;
  result.column_lists_used = analyzer.column_lists_used;
  result.descendants_changed = analyzer.descendants_changed;
  result.new_descendants = std::move(analyzer.new_descendants);
  result.literals_decide = analyzer.literals_decide;
  if (!analyzer.missing.empty() || !analyzer.missing_functions.empty()) {
    result.outcome = Outcome::needs_catalog;
    for (const QualifiedName& q : analyzer.missing) {
      if (std::find(result.missing.begin(), result.missing.end(), q) == result.missing.end()) {
        result.missing.push_back(q);
      }
    }
    result.missing_functions = std::move(analyzer.missing_functions);
    return result;
  }
  if (!analyzer.problems.empty()) {
    result.refused_statement = supported;
    if (std::any_of(analyzer.problems.begin(), analyzer.problems.end(),
                    [](const detail::Problem& p) {
                      return p.reason.find("cannot locate") != std::string::npos;
                    })) {
      explain_unicode_escapes(analyzer, tokens);
    }
    set_problem_outcome(result, analyzer);
    return result;
  }
  if (edits.empty()) {
    return result;
  }
  PositionMap positions;
  std::string out = edits.render_all(positions);
  const std::size_t expected_statements =
      parsed.tree()->n_stmts + static_cast<std::size_t>(analyzer.added_statements);
  // Nothing below reads the tree, nor the tokens but on a failure (which scans again): a bulk
  // load's peak is lower when they are gone before the rewrite is parsed once more.
  parsed.drop_tree();
  tokens.drop();
  // A rewrite that does not parse is a bug of ours; refusing is better than sending it.
  std::string error;
  const int statements = detail::count_statements(out, error);
  if (statements < 0 || static_cast<std::size_t>(statements) != expected_statements) {
    analyzer.problems.push_back(detail::Problem{
        nullptr, "internal error: the rewritten statement does not parse (" + error + ")"});
    explain_unicode_escapes(analyzer, tokens);
    set_problem_outcome(result, analyzer);
    return result;
  }
  result.outcome = Outcome::rewritten;
  to_characters(positions, text);
  result.positions = std::move(positions);
  result.sql = std::move(out);
  result.copy = analyzer.copy;
  result.hidden_statements = std::move(analyzer.hidden_statements);
  result.copy_count_statements = std::move(analyzer.copy_count_statements);
  result.staged_because = std::move(analyzer.staged_because);
  result.staged_passthrough = !result.hidden_statements.empty() && analyzer.staged_passthrough;
  return result;
}

std::optional<std::string> validate_transform(std::string_view tmpl) {
  if (tmpl.empty()) {
    return std::nullopt;
  }
  if (tmpl.find("{value}") == std::string_view::npos) {
    return "the template must contain {value}";
  }
  // Parenthesised, so a trailing comment or a second statement cannot hide in the template.
  const std::string sql = "SELECT (" + detail::apply_template(tmpl, "switchyard_value") + ")";
  detail::ParsedSql parsed(sql);
  if (parsed.tree() == nullptr) {
    std::string message = "the template is not an SQL expression: " + parsed.error();
    if (tmpl.find("--") != std::string_view::npos) {
      message +=
          " (a -- comment runs to the end of the line and swallows what the rewrite puts "
          "after the template; write /* ... */ instead)";
    }
    return message;
  }
  const PgQuery__ParseResult* t = parsed.tree();
  if (t->n_stmts != 1 || t->stmts[0]->stmt->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) {
    return "the template is not a single SQL expression";
  }
  const PgQuery__SelectStmt* s = t->stmts[0]->stmt->select_stmt;
  if (s->n_target_list != 1 || s->n_from_clause != 0 || s->where_clause != nullptr ||
      s->op != PG_QUERY__SET_OPERATION__SETOP_NONE) {
    return "the template is not a single SQL expression";
  }
  // A column other than {value} has no row to come from in INSERT ... VALUES: every rewritten
  // write would fail. Names inside a subquery belong to its own FROM and are left alone.
  // And every {value} must be an expression of its own: one inside a string constant, a quoted
  // name or a comment would splice the app's literal into it, quotes and all.
  std::string other_column;
  std::size_t values_seen = 0;
  std::function<void(const detail::Node*, bool)> walk = [&](const detail::Node* n,
                                                            bool in_subquery) {
    if (n == nullptr) {
      return;
    }
    if (n->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
      const PgQuery__ColumnRef* ref = n->column_ref;
      std::string name;
      for (size_t i = 0; i < ref->n_fields; ++i) {
        name += (i == 0 ? "" : ".") + std::string(detail::string_value(ref->fields[i]));
      }
      if (name == "switchyard_value") {
        ++values_seen;
      } else if (!in_subquery && other_column.empty()) {
        other_column = name.empty() ? "*" : name;
      }
      return;
    }
    if (n->node_case == PG_QUERY__NODE__NODE_SUB_LINK) {
      walk(n->sub_link->testexpr, in_subquery);  // the left side of IN / = ANY is ours
      walk(n->sub_link->subselect, true);
      return;
    }
    auto child = [&](const detail::Node* c) { walk(c, in_subquery); };
    detail::for_each_child(detail::node_payload(n), child, [&](const ProtobufCMessage* typed) {
      detail::for_each_child(
          typed, [&](const detail::Node* c) { walk(c, true); }, [](const ProtobufCMessage*) {});
    });
  };
  walk(s->target_list[0], false);
  if (!other_column.empty()) {
    return "the template refers to column \"" + other_column +
           "\"; it may use only {value}, the value being converted (an INSERT ... VALUES has no "
           "row to read other columns from)";
  }
  std::size_t placeholders = 0;
  for (auto at = tmpl.find("{value}"); at != std::string_view::npos;
       at = tmpl.find("{value}", at + 1)) {
    ++placeholders;
  }
  if (values_seen != placeholders) {
    return "{value} must stand where an expression goes, not inside a string constant, a quoted "
           "name or a comment: the rewrite puts the written value there as SQL text";
  }
  return std::nullopt;
}

std::string catalog_needs(const RewriteResult& result) {
  std::string tables;
  for (const QualifiedName& name : result.missing) {
    tables += (tables.empty() ? "the columns of " : ", ") + name.schema + "." + name.table;
  }
  std::string functions;
  for (const QualifiedName& name : result.missing_functions) {
    functions += (functions.empty() ? "the volatility of " : ", ") +
                 (name.schema.empty() ? "" : name.schema + ".") + name.table + "()";
  }
  return tables + (tables.empty() || functions.empty() ? "" : " and ") + functions;
}

std::string rejection_sql(std::string_view message, std::string_view detail,
                          std::string_view sqlstate) {
  // Dollar quotes need no escaping whatever standard_conforming_strings says; pick tags that do
  // not occur in the texts they quote.
  auto occurs = [&](const std::string& tag) {
    return message.find(tag) != std::string_view::npos ||
           detail.find(tag) != std::string_view::npos;
  };
  auto tag_for = [&](const std::string& base) {
    std::string tag = "$" + base + "$";
    for (int i = 0; occurs(tag); ++i) {
      tag = "$" + base + std::to_string(i) + "$";
    }
    return tag;
  };
  const std::string msg_tag = tag_for("sy_msg");
  std::string body_tag = tag_for("sy_body");
  while (body_tag == msg_tag || msg_tag.find(body_tag) != std::string::npos || occurs(body_tag)) {
    body_tag = "$" + body_tag.substr(1, body_tag.size() - 2) + "x$";
  }
  std::string sql = "DO " + body_tag + " BEGIN RAISE EXCEPTION USING ERRCODE = '" +
                    std::string(sqlstate) + "', MESSAGE = " + msg_tag + std::string(message) +
                    msg_tag;
  if (!detail.empty()) {
    sql += ", DETAIL = " + msg_tag + std::string(detail) + msg_tag;
  }
  return sql + "; END " + body_tag;
}

std::optional<std::size_t> statement_start(std::string_view sql, std::size_t index) {
  const std::string text(sql);
  PgQuerySplitResult split = pg_query_split_with_parser(text.c_str());
  std::optional<std::size_t> start;
  if (split.error == nullptr && index < static_cast<std::size_t>(split.n_stmts) &&
      split.stmts[index]->stmt_location >= 0) {
    start = std::min(static_cast<std::size_t>(split.stmts[index]->stmt_location), sql.size());
  }
  pg_query_free_split_result(split);
  return start;
}

}  // namespace switchyard::rewrite
