// UPDATE (and ON CONFLICT DO UPDATE) SET lists: the write rule per SET item, including
// multi-column `SET (a, b) = (...)` and `= (SELECT ...)`. DELETE has reads only.

#include <algorithm>

#include "rewrite/analyzer.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite::detail {

namespace {

const PgQuery__MultiAssignRef* multi(const Node* n) {
  return (n != nullptr && n->node_case == PG_QUERY__NODE__NODE_MULTI_ASSIGN_REF)
             ? n->multi_assign_ref
             : nullptr;
}

// The value a SET target is assigned: its own, or its field of a ROW source; null for a
// sub-SELECT's column.
const Node* assigned_node(const PgQuery__ResTarget* rt) {
  const PgQuery__MultiAssignRef* ma = multi(rt->val);
  if (ma == nullptr) {
    return rt->val;
  }
  const Node* src = ma->source;
  if (src == nullptr || src->node_case != PG_QUERY__NODE__NODE_ROW_EXPR || ma->colno < 1 ||
      static_cast<size_t>(ma->colno) > src->row_expr->n_args) {
    return nullptr;
  }
  return src->row_expr->args[ma->colno - 1];
}

}  // namespace

Names Analyzer::update_stmt(const PgQuery__UpdateStmt* up, const Scope* outer) {
  Scope scope;
  scope.parent = outer;
  process_with(up->with_clause, scope);
  Scope us;
  us.parent = &scope;
  us.rels.push_back(make_table(up->relation, scope, true));
  for (size_t i = 0; i < up->n_from_clause; ++i) {
    add_from_item(up->from_clause[i], us, nullptr);
  }
  walk_set_values(up->target_list, up->n_target_list, us);
  walk_expr(up->where_clause, us);
  Names returning;
  if (up->n_returning_list > 0) {
    returning = walk_targets(up->returning_list, up->n_returning_list, us);
  }
  set_list_writes(up->target_list, up->n_target_list, us.rels.front());
  return returning;
}

void Analyzer::walk_set_values(PgQuery__Node* const* targets, size_t n, const Scope& scope) {
  for (size_t i = 0; i < n; ++i) {
    const Node* val = targets[i]->res_target->val;
    if (const PgQuery__MultiAssignRef* ma = multi(val)) {
      // Every column of `(a, b) = (SELECT ...)` carries the same source: walk it once.
      if (ma->colno == 1) {
        walk_expr(ma->source, scope);
      }
    } else {
      walk_expr(val, scope);
    }
  }
}

Names Analyzer::delete_stmt(const PgQuery__DeleteStmt* del, const Scope* outer) {
  Scope scope;
  scope.parent = outer;
  process_with(del->with_clause, scope);
  Scope ds;
  ds.parent = &scope;
  ds.rels.push_back(make_table(del->relation, scope, true));
  for (size_t i = 0; i < del->n_using_clause; ++i) {
    add_from_item(del->using_clause[i], ds, nullptr);
  }
  walk_expr(del->where_clause, ds);
  Names returning;
  if (del->n_returning_list > 0) {
    returning = walk_targets(del->returning_list, del->n_returning_list, ds);
  }
  return returning;
}

std::string Analyzer::computed_once(const Migration* m, WriteOp op, const std::string& written,
                                    Span value, const Relation& target) {
  const std::string v = "switchyard_value.v";
  const std::string other = quote_ident(op == WriteOp::add_old ? m->old_column : m->new_column);
  // The reference to the target's row makes the sub-SELECT correlated, so it runs for each
  // row: an uncorrelated one is evaluated once for the whole statement, and every row would get
  // the first row's random() where the app's SET gives each its own.
  return "(" + written + ", " + other + ") = (SELECT " + v + ", " +
         transformed_write(m, op, v, false) + " FROM (SELECT " +
         edits_.render(value.begin, value.end) + ") AS switchyard_value (v) WHERE " +
         "pg_catalog.num_nulls(" + quote_ident(target.refname) + ".*) = 0)";
}

void Analyzer::set_list_writes(PgQuery__Node* const* targets, size_t n, const Relation& target,
                               std::initializer_list<std::string_view> stops) {
  if (n == 0 || names_a_column_twice(targets, n)) {
    return;
  }
  for (const Migration* m : target.migrations) {
    int wo = -1;
    int wn = -1;
    bool indirect = false;
    for (size_t i = 0; i < n; ++i) {
      const PgQuery__ResTarget* rt = targets[i]->res_target;
      const std::string_view name = rt->name != nullptr ? rt->name : "";
      if (name == m->old_column || name == m->new_column) {
        indirect = indirect || rt->n_indirection > 0;
        (name == m->old_column ? wo : wn) = static_cast<int>(i);
      }
    }
    if (wo >= 0) {
      use(m).writes_of_old++;
    }
    if (wn >= 0) {
      use(m).writes_of_new++;
    }
    // A DEFAULT beside a value for the other column writes that value alone: left as written,
    // the DEFAULT column would get its default beside the other's value. Under writes = new
    // O's DEFAULT is dropped as any write of O is.
    int dflt = -1;
    if (wo >= 0 && wn >= 0) {
      const bool old_default = is_default(assigned_node(targets[wo]->res_target));
      const bool new_default = is_default(assigned_node(targets[wn]->res_target));
      if (old_default != new_default && (new_default || m->writes == Writes::both)) {
        dflt = old_default ? wo : wn;
      }
    }
    const WriteOp op = decide_write(m, wo >= 0 && dflt != wo, wn >= 0 && dflt != wn);
    if (op == WriteOp::none) {
      continue;
    }
    if (indirect) {
      unsupported(m, "SET of a field or element of a mapped column");
      continue;
    }
    // Items of the SET list as text, one per simple item or per multi-column group.
    int k = tokens_.index_at(targets[0]->res_target->location) - 1;
    while (k >= 0 && tokens_.is_char(k, '(')) {
      --k;
    }
    std::vector<std::vector<size_t>> groups;
    for (size_t i = 0; i < n; ++i) {
      const PgQuery__MultiAssignRef* ma = multi(targets[i]->res_target->val);
      const PgQuery__MultiAssignRef* prev =
          i > 0 ? multi(targets[i - 1]->res_target->val) : nullptr;
      // Each MultiAssignRef of one group carries its own copy of the source after protobuf
      // unpacking, so groups are recognised by their column numbers.
      if (ma != nullptr && prev != nullptr && ma->colno > 1 && ma->colno == prev->colno + 1) {
        groups.back().push_back(i);
      } else {
        groups.push_back({i});
      }
    }
    const std::vector<Span> items = k < 0 || !tokens_.is_keyword(k, "set")
                                        ? std::vector<Span>{}
                                        : tokens_.split_set_list(k + 1, stmt_end_, stops);
    if (items.size() != groups.size()) {
      unsupported(m, "cannot locate the SET list in the text");
      continue;
    }
    // The group holding target t, and t's position in it.
    const auto group_of = [&](int t, size_t* pos) {
      size_t g = 0;
      for (; g < groups.size(); ++g) {
        auto it = std::find(groups[g].begin(), groups[g].end(), static_cast<size_t>(t));
        if (it != groups[g].end()) {
          *pos = static_cast<size_t>(it - groups[g].begin());
          break;
        }
      }
      return g;
    };
    const auto simple_item = [&](size_t g) {
      return groups[g].size() == 1 && multi(targets[groups[g][0]]->res_target->val) == nullptr;
    };
    // The item's '=' (-1 if not found).
    const auto eq_of = [&](const Span& item) {
      const int first = tokens_.index_from(item.begin);
      const int last = tokens_.index_before(item.end);
      for (int t = first, depth = 0; t < last; ++t) {
        if (tokens_.is_char(t, '(')) {
          ++depth;
        } else if (tokens_.is_char(t, ')')) {
          --depth;
        } else if (depth == 0 && tokens_.is_char(t, '=')) {
          return t;
        }
      }
      return -1;
    };
    // The text of the value assigned to target t alone: a simple item's, or its field of a
    // ROW source (a sub-SELECT's column has none).
    const auto value_of = [&](int t) -> std::optional<Span> {
      size_t pos = 0;
      const size_t g = group_of(t, &pos);
      const int eq = eq_of(items[g]);
      if (eq < 0 || assigned_node(targets[t]->res_target) == nullptr) {
        return std::nullopt;
      }
      if (simple_item(g)) {
        return Span{tokens_.at(eq + 1).start, items[g].end};
      }
      const int open = tokens_.is_keyword(eq + 1, "row") ? eq + 2 : eq + 1;
      const std::vector<Span> vals = tokens_.paren_items(open);
      if (vals.size() != groups[g].size()) {
        return std::nullopt;
      }
      return vals[pos];
    };
    const auto drop_item = [&](size_t g) {
      return g > 0 ? edits_.replace(items[g - 1].end, items[g].end, "")
                   : edits_.replace(items[g].begin, items[g + 1].begin, "");
    };
    if (dflt >= 0) {
      size_t dpos = 0;
      const size_t dg = group_of(dflt, &dpos);
      if (simple_item(dg)) {
        // The DEFAULT leaves the list, and the other column's value is written as if alone.
        if (!drop_item(dg)) {
          unsupported(m, "overlapping rewrites in a SET list");
          continue;
        }
      } else {
        // In a ROW source the DEFAULT takes the other column's value in place.
        const int source = dflt == wo ? wn : wo;
        const std::optional<Span> own = value_of(dflt);
        const std::optional<Span> from = value_of(source);
        const Node* from_node = assigned_node(targets[source]->res_target);
        if (!own.has_value() || !from.has_value()) {
          unsupported(m, from_node == nullptr
                             ? "a DEFAULT for one mapped column in a multi-column SET beside "
                               "the other's value from a sub-SELECT"
                             : "cannot locate a multi-column SET in the text");
          continue;
        }
        if (op != WriteOp::rename_to_new) {
          const std::string bad = unrepeatable(from_node);
          if (!bad.empty()) {
            refuse_repeat(m, bad);
            continue;
          }
        }
        size_t opos = 0;
        const size_t og = group_of(wo, &opos);
        if (op == WriteOp::rename_to_new && !simple_item(og)) {
          unsupported(m, "dropping the old column from a multi-column SET");
          continue;
        }
        const std::string value = written_value(m, op, *from, from_node);
        if (!edits_.replace(own->begin, own->end, value) ||
            (op == WriteOp::rename_to_new && !drop_item(og))) {
          unsupported(m, "overlapping rewrites in a SET list");
          continue;
        }
        use(m).rewritten = true;
        continue;
      }
    }
    const int written = op == WriteOp::add_old ? wn : wo;
    size_t pos = 0;
    const size_t gi = group_of(written, &pos);
    const Span item = items[gi];
    const int first = tokens_.index_from(item.begin);
    const int eq = eq_of(item);
    if (eq < 0) {
      unsupported(m, "cannot locate a SET item in the text");
      continue;
    }
    const Span value{tokens_.at(eq + 1).start, item.end};
    const std::string other = quote_ident(op == WriteOp::add_old ? m->old_column : m->new_column);
    const PgQuery__ResTarget* rt = targets[groups[gi][pos]]->res_target;
    bool ok = true;
    if (simple_item(gi)) {
      if ((op == WriteOp::add_new || op == WriteOp::add_old) && !unrepeatable(rt->val).empty()) {
        ok = edits_.replace(item.begin, item.end,
                            computed_once(m, op, quote_ident(rt->name), value, target));
      } else if (op == WriteOp::add_new || op == WriteOp::add_old) {
        ok = edits_.insert(item.end, ", " + other + " = " + written_value(m, op, value, rt->val));
      } else if (op == WriteOp::rename_to_new) {
        ok = edits_.replace(item.begin, item.end,
                            other + " = " + written_value(m, op, value, rt->val));
      } else {
        ok = drop_item(gi);
      }
    } else {
      const PgQuery__MultiAssignRef* ma = multi(rt->val);
      int close = -1;
      const std::vector<Span> names = tokens_.paren_items(first, &close);
      if (ma == nullptr || names.size() != groups[gi].size() || op == WriteOp::remove_old) {
        unsupported(m, op == WriteOp::remove_old ? "dropping the old column from a multi-column SET"
                                                 : "cannot locate a multi-column SET in the text");
        continue;
      }
      const Node* src = ma->source;
      // What another migration of the table makes of this SET list.
      const auto op_of_other = [&](const Migration* other) {
        if (other == m) {
          return WriteOp::none;
        }
        bool writes_old = false;
        bool writes_new = false;
        for (size_t t = 0; t < n; ++t) {
          const std::string_view col = targets[t]->res_target->name;
          writes_old = writes_old || col == other->old_column;
          writes_new = writes_new || col == other->new_column;
        }
        return decide_write(other, writes_old, writes_new);
      };
      const auto adds = [](WriteOp o) { return o == WriteOp::add_new || o == WriteOp::add_old; };
      // Another migration that adds its other column to this same item: edits of the item that
      // write it out whole (or wrap its sub-SELECT) do not compose with that one.
      const bool shared = std::any_of(
          target.migrations.begin(), target.migrations.end(), [&](const Migration* other) {
            return adds(op_of_other(other)) &&
                   std::any_of(groups[gi].begin(), groups[gi].end(), [&](size_t t) {
                     const std::string_view col = targets[t]->res_target->name;
                     return col == other->old_column || col == other->new_column;
                   });
          });
      if (src->node_case == PG_QUERY__NODE__NODE_ROW_EXPR) {
        const int open = tokens_.is_keyword(eq + 1, "row") ? eq + 2 : eq + 1;
        const std::vector<Span> vals = tokens_.paren_items(open);
        if (vals.size() != names.size() || src->row_expr->n_args != names.size()) {
          unsupported(m, "cannot locate a multi-column SET in the text");
          continue;
        }
        const Node* arg = src->row_expr->args[pos];
        // Another migration that writes this item out whole too (its value in the row may also
        // differ when evaluated twice): one of the two rewrites would be lost.
        const auto written_out_too = [&](const Migration* other) {
          const WriteOp other_op = op_of_other(other);
          if (!adds(other_op)) {
            return false;
          }
          const std::string& col =
              other_op == WriteOp::add_new ? other->old_column : other->new_column;
          for (size_t k = 0; k < groups[gi].size(); ++k) {
            if (targets[groups[gi][k]]->res_target->name == col) {
              return !unrepeatable(src->row_expr->args[k]).empty();
            }
          }
          return false;
        };
        if ((op == WriteOp::add_new || op == WriteOp::add_old) && !unrepeatable(arg).empty()) {
          if (shared &&
              std::any_of(target.migrations.begin(), target.migrations.end(), written_out_too)) {
            unsupported(m,
                        "a multi-column SET writing the mapped columns of two migrations with a "
                        "value that may differ when evaluated twice (set them in separate items: "
                        "`SET a = ..., (k) = (...)`)");
            continue;
          }
          // Postgres reads `(a, b) = (x, y)` as `a = x, b = y`: written out so, with the value
          // that may differ when evaluated twice computed once for both columns.
          std::string text;
          for (size_t i = 0; i < names.size(); ++i) {
            if (i != pos) {
              text += edits_.render(names[i].begin, names[i].end) + " = " +
                      edits_.render(vals[i].begin, vals[i].end) + ", ";
            }
          }
          ok =
              edits_.replace(item.begin, item.end,
                             text + computed_once(m, op, quote_ident(rt->name), vals[pos], target));
        } else if (op == WriteOp::add_new || op == WriteOp::add_old) {
          ok = edits_.insert(item.end, ", " + other + " = " + written_value(m, op, vals[pos], arg));
        } else {
          ok = edits_.replace(names[pos].begin, names[pos].end, other);
          if (ok && (!m->to_new.empty() || m->types_differ()) && !is_default(arg)) {
            ok = edits_.replace(vals[pos].begin, vals[pos].end,
                                written_value(m, op, vals[pos], arg));
          }
        }
      } else if (src->node_case == PG_QUERY__NODE__NODE_SUB_LINK &&
                 src->sub_link->subselect != nullptr &&
                 src->sub_link->subselect->node_case == PG_QUERY__NODE__NODE_SELECT_STMT &&
                 src->sub_link->subselect->select_stmt->op == PG_QUERY__SET_OPERATION__SETOP_NONE) {
        const PgQuery__SelectStmt* sub = src->sub_link->subselect->select_stmt;
        const std::vector<Span> vals = select_target_spans(sub);
        const std::optional<Span> last_full =
            sub->n_target_list > 0
                ? target_span(sub->target_list[sub->n_target_list - 1]->res_target, false)
                : std::nullopt;
        if (vals.size() != names.size() || !last_full.has_value()) {
          unsupported(m,
                      "multi-column SET from a sub-SELECT with * or an unexpected shape (name the "
                      "sub-SELECT's columns, one per target)");
          continue;
        }
        const Node* arg = sub->target_list[pos]->res_target->val;
        const bool adds = op == WriteOp::add_new || op == WriteOp::add_old;
        // A sub-SELECT with no row sets every target NULL, where the template may map NULL to
        // a value (`coalesce({value}, 'none')`): that row of NULLs goes through it as well, so
        // the transform is applied outside the sub-SELECT, to its one row or to a row of NULLs.
        // A value that may differ when evaluated twice is read once from it the same way.
        const bool wraps = !transform_of(m, op).empty() || (adds && !unrepeatable(arg).empty());
        // Another migration that adds its other column's value to the sub-SELECT this one
        // wraps would widen it past the wrapper's list.
        if (wraps && shared) {
          unsupported(m,
                      "a multi-column SET from a sub-SELECT writing the mapped columns of two "
                      "migrations (set them in separate items: `SET (a) = (SELECT ...), (k) = "
                      "(SELECT ...)`)");
          continue;
        }
        if (wraps) {
          // Its references to the target row stay where they were, so it runs once per row
          // exactly when it did; two rows still fail as a sub-SELECT of two rows does.
          std::string columns;
          std::string aliases;
          for (size_t i = 0; i < names.size(); ++i) {
            const std::string c = "switchyard_rows.c" + std::to_string(i + 1);
            columns +=
                (i == 0 ? "" : ", ") + (i == pos && !adds ? transformed_write(m, op, c, false) : c);
            aliases += (i == 0 ? "c" : ", c") + std::to_string(i + 1);
          }
          if (adds) {
            columns += ", " + transformed_write(
                                  m, op, "switchyard_rows.c" + std::to_string(pos + 1), false);
          }
          const int source = tokens_.at(eq + 1).start;
          ok = (adds ? edits_.insert(names.back().end, ", " + other)
                     : edits_.replace(names[pos].begin, names[pos].end, other)) &&
               edits_.replace(source, item.end,
                              "(SELECT " + columns + " FROM (SELECT) AS switchyard_one LEFT JOIN " +
                                  edits_.render(source, item.end) + " AS switchyard_rows (" +
                                  aliases + ") ON true)");
        } else if (adds) {
          ok = edits_.insert(names.back().end, ", " + other) &&
               edits_.insert(last_full->end, ", " + written_value(m, op, vals[pos], arg));
        } else {
          ok = edits_.replace(names[pos].begin, names[pos].end, other);
          if (ok && m->types_differ()) {
            ok = edits_.replace(vals[pos].begin, vals[pos].end,
                                written_value(m, op, vals[pos], arg));
          }
        }
      } else {
        unsupported(m, "multi-column SET from this kind of source");
        continue;
      }
    }
    if (!ok) {
      unsupported(m, "overlapping rewrites in a SET list");
      continue;
    }
    use(m).rewritten = true;
  }
}

}  // namespace switchyard::rewrite::detail
