// `SELECT *` / `t.*` over a mapped table: the client sees the columns it saw before the migration
// began (DESIGN §3), so the star is expanded from the catalog without N, with to_old(N) in O's
// place when reads = new.

#include <algorithm>

#include "rewrite/analyzer.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite::detail {

bool Analyzer::star_active(Relation& rel) {
  if (rel.migrations.empty() || !rel.qname.has_value()) {
    return false;
  }
  for (const Migration* m : rel.migrations) {
    if (reads_new(m)) {
      return true;
    }
  }
  const auto cols = catalog_columns(*rel.qname);
  if (!cols.has_value()) {
    return false;  // recorded as missing: the retry decides
  }
  return std::any_of(rel.migrations.begin(), rel.migrations.end(), [&](const Migration* m) {
    return std::find(cols->begin(), cols->end(), m->new_column) != cols->end();
  });
}

void Analyzer::append_star_columns(Relation& r, const std::vector<std::string>& cols,
                                   const std::vector<std::string>& skip, std::string& text) {
  const std::string qual = quote_ident(r.refname) + ".";
  for (const std::string& col : cols) {
    if (std::find(skip.begin(), skip.end(), col) != skip.end()) {
      continue;
    }
    text += text.empty() ? "" : ", ";
    auto m = std::find_if(r.migrations.begin(), r.migrations.end(), [&](const Migration* mm) {
      return mm->old_column == col && reads_new(mm);
    });
    if (m != r.migrations.end()) {
      text +=
          (*m)->as_old_type(apply_template((*m)->to_old, qual + quote_ident((*m)->new_column))) +
          " AS " + quote_ident(col);
      use(*m).reads_of_old++;
    } else {
      text += qual + quote_ident(col);
    }
  }
  for (const Migration* m : r.migrations) {
    use(m).rewritten = true;
  }
}

// Postgres lists the merged columns first, in USING order, then the left input's other columns,
// then the right's. Worked out here for one join of two named FROM items and nothing else.
Names Analyzer::using_star(const PgQuery__ColumnRef* cr, const std::vector<Relation*>& covered,
                           const Scope& scope, bool rewrite) {
  const UsingJoin* join = scope.using_joins.size() == 1 ? &scope.using_joins.front() : nullptr;
  const auto refuse = [&](const std::string& why) {
    for (Relation* r : covered) {
      for (const Migration* m : r->migrations) {
        unsupported(m, why);
      }
    }
    return std::nullopt;
  };
  if (join == nullptr || covered.size() != 2 || covered[0] != join->left ||
      covered[1] != join->right || join->left->refname.empty() || join->right->refname.empty() ||
      join->left->alias_colnames || join->right->alias_colnames) {
    return rewrite ? refuse("* over a NATURAL/USING join other than one of two named FROM items")
                   : std::nullopt;
  }
  std::vector<std::string> names = join->columns;
  std::string text;
  for (const std::string& merged : join->columns) {
    text += (text.empty() ? "" : ", ") + quote_ident(merged);
  }
  for (Relation* side : {join->left, join->right}) {
    std::vector<std::string> cols;
    if (star_active(*side)) {
      bool known = false;
      cols = visible_columns(*side, &known);
      if (!known) {
        return std::nullopt;  // asked of the catalog
      }
    } else if (const Names& all = columns_of(*side); all.has_value()) {
      cols = *all;
    } else {
      return rewrite ? refuse("* over a USING join with a FROM item whose columns are unknown")
                     : std::nullopt;
    }
    if (rewrite) {
      append_star_columns(*side, cols, join->columns, text);
    }
    for (const std::string& col : cols) {
      if (std::find(join->columns.begin(), join->columns.end(), col) == join->columns.end()) {
        names.push_back(col);
      }
    }
  }
  if (!rewrite) {
    return names;
  }
  const int first = tokens_.index_at(cr->location);
  if (first < 0 || !tokens_.is_char(first, '*') ||
      !edits_.replace(tokens_.at(first).start, tokens_.at(first).end, text)) {
    unsupported(nullptr, "cannot locate a * in the text");
    return std::nullopt;
  }
  return names;
}

Names Analyzer::expand_star(const PgQuery__ResTarget* rt, const PgQuery__ColumnRef* cr,
                            const Scope& scope) {
  (void)rt;
  std::vector<Relation*> covered;
  if (cr->n_fields == 1) {
    for (const Relation& r : scope.rels) {
      if (!r.hidden) {
        covered.push_back(const_cast<Relation*>(&r));
      }
    }
  } else {
    int levels = 0;
    Relation* r = find_refname(scope, string_value(cr->fields[cr->n_fields - 2]), &levels);
    if (r == nullptr) {
      return std::nullopt;  // the server reports the missing FROM entry
    }
    covered.push_back(r);
  }
  bool need = false;
  bool merged = false;
  for (Relation* r : covered) {
    if (r->kind == Relation::Kind::join && !r->migrations.empty()) {
      for (const Migration* m : r->migrations) {
        unsupported(m, "* over a join alias that includes the mapped table");
      }
      return std::nullopt;
    }
    need = need || star_active(*r);
    merged = merged || r->merged_join;
  }
  if (merged && cr->n_fields == 1) {
    // A merged column is listed once, first: not the inputs' columns one after the other.
    return using_star(cr, covered, scope, /*rewrite=*/need);
  }
  const bool want_names =
      star_names_wanted_ || std::any_of(involved.begin(), involved.end(),
                                        [&](const Migration* m) { return reads_new(m); });
  if (!need) {
    if (!want_names) {
      return std::nullopt;
    }
    std::vector<std::string> names;
    for (Relation* r : covered) {
      const Names& cols = columns_of(*r);
      if (!cols.has_value()) {
        return std::nullopt;
      }
      names.insert(names.end(), cols->begin(), cols->end());
    }
    return names;
  }
  std::vector<std::string> names;
  bool names_known = true;
  std::string text;
  for (Relation* r : covered) {
    if (r->refname.empty()) {
      unsupported(nullptr, "* over a FROM item without a name");
      return std::nullopt;
    }
    const std::string qual = quote_ident(r->refname) + ".";
    if (!star_active(*r)) {
      text += (text.empty() ? "" : ", ") + qual + "*";
      const Names& cols = columns_of(*r);
      if (cols.has_value()) {
        names.insert(names.end(), cols->begin(), cols->end());
      } else {
        names_known = false;
      }
      continue;
    }
    if (r->alias_colnames) {
      for (const Migration* m : r->migrations) {
        unsupported(m, "* over a table alias with column names");
      }
      return std::nullopt;
    }
    bool known = false;
    const std::vector<std::string> cols = visible_columns(*r, &known);
    if (!known) {
      return std::nullopt;
    }
    append_star_columns(*r, cols, {}, text);
    names.insert(names.end(), cols.begin(), cols.end());
  }
  if (!replace_star(cr, covered, text)) {
    unsupported(nullptr, "cannot locate a * in the text");
    return std::nullopt;
  }
  if (!names_known) {
    return std::nullopt;
  }
  return names;
}

bool Analyzer::replace_star(const PgQuery__ColumnRef* cr, const std::vector<Relation*>& covered,
                            const std::string& columns) {
  if (cr->location >= 0) {
    const int first = tokens_.index_at(cr->location);
    const int last = first < 0 ? -1 : tokens_.dotted_name_end(first);
    return first >= 0 && tokens_.is_char(last, '*') &&
           edits_.replace(tokens_.at(first).start, tokens_.at(last).end, columns);
  }
  // `TABLE t` is `SELECT * FROM t` whose star the parser placed nowhere: the keyword becomes
  // `SELECT <columns> FROM`, and ONLY, the name and any ORDER BY or LIMIT stay as written.
  if (covered.size() != 1 || covered[0]->range_var == nullptr) {
    return false;
  }
  int keyword = tokens_.index_at(covered[0]->range_var->location) - 1;
  if (tokens_.is_keyword(keyword, "only")) {
    --keyword;
  }
  return tokens_.is_keyword(keyword, "table") &&
         edits_.replace(tokens_.at(keyword).start, tokens_.at(keyword).end,
                        "SELECT " + columns + " FROM");
}

}  // namespace switchyard::rewrite::detail
