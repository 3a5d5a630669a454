// Per-statement dispatch: which rule applies to which statement kind, and the bookkeeping of
// uses, problems and DDL that the Rewriter turns into a RewriteResult.

#include "rewrite/analyzer.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <functional>

#include "rewrite/new_descendant.hpp"
#include "rewrite/search_path_setting.hpp"
#include "rewrite/sql_text.hpp"
#include "rewrite/table_ddl.hpp"

namespace switchyard::rewrite::detail {

namespace {

bool is_ddl_name(std::string_view name) {
  static constexpr std::array<std::string_view, 14> kDdl = {
      "RenameStmt",   "IndexStmt",         "CommentStmt",   "GrantStmt",        "TruncateStmt",
      "ViewStmt",     "RuleStmt",          "DefineStmt",    "ReindexStmt",      "ClusterStmt",
      "SecLabelStmt", "CompositeTypeStmt", "GrantRoleStmt", "CreateTableAsStmt"};
  return name.starts_with("Create") || name.starts_with("Alter") || name.starts_with("Drop") ||
         std::find(kDdl.begin(), kDdl.end(), name) != kDdl.end();
}

}  // namespace

Analyzer::Analyzer(const std::vector<Migration>& migrations, const SessionContext& session,
                   const Catalog& catalog, const std::string& sql, const TokenList& tokens,
                   TextEdits& edits)
    : migrations_(migrations),
      session_(session),
      catalog_(catalog),
      sql_(sql),
      tokens_(tokens),
      edits_(edits) {}

void Analyzer::statement(const PgQuery__RawStmt* raw) {
  ++statement_ordinal_;
  stmt_begin_ = raw->stmt_location;
  stmt_end_ =
      raw->stmt_len > 0 ? raw->stmt_location + raw->stmt_len : static_cast<int>(sql_.size());
  refuse_new_descendants_named();
  dispatch(raw->stmt, nullptr, true);
  follow_search_path(raw->stmt);
}

void Analyzer::follow_search_path(const Node* stmt) {
  if (stmt == nullptr) {
    return;
  }
  if (stmt->node_case == PG_QUERY__NODE__NODE_VARIABLE_SET_STMT) {
    const auto& set = *stmt->variable_set_stmt;
    const std::optional<SearchPathChange> change = search_path_change_of(set);
    if (!change) {
      return;
    }
    path_changed_in_text_ = true;
    if (change->kind == SearchPathChange::Kind::reset) {
      path_unknown_ = true;
      return;
    }
    text_session_ = *current_session_;
    text_session_.search_path = change->schemas;
    current_session_ = &text_session_;
    path_unknown_ = false;
    // A value written as a string ('app', E'app', U&'app', $$app$$) is a literal, which the
    // text's literal shape stands in for; an identifier is not.
    for (std::size_t i = 0; i < set.n_args; ++i) {
      const int location = set.args[i]->a_const->location;
      if (location < 0) {
        continue;
      }
      std::size_t at = static_cast<std::size_t>(location);
      const std::size_t prefix_end = std::min(sql_.size(), at + 2);
      while (at < prefix_end &&
             (std::isalpha(static_cast<unsigned char>(sql_[at])) != 0 || sql_[at] == '&')) {
        ++at;
      }
      if (at < sql_.size() && (sql_[at] == '\'' || sql_[at] == '$')) {
        literals_decide = true;
      }
    }
    return;
  }
  if (stmt->node_case == PG_QUERY__NODE__NODE_DISCARD_STMT &&
      stmt->discard_stmt->target == PG_QUERY__DISCARD_MODE__DISCARD_ALL) {
    path_changed_in_text_ = true;
    path_unknown_ = true;
    return;
  }
  if (path_changed_in_text_ && stmt->node_case == PG_QUERY__NODE__NODE_TRANSACTION_STMT) {
    switch (stmt->transaction_stmt->kind) {
      case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_BEGIN:
      case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_START:
      case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_SAVEPOINT:
      case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_RELEASE:
        return;
      default:  // COMMIT keeps a SET and drops a SET LOCAL; ROLLBACK drops both
        path_unknown_ = true;
        return;
    }
  }
}

// One text runs in one transaction as far as the rules go (the session builds them again only
// once the text is done), so a table an earlier statement of it made a descendant is not
// covered yet, as in a later text of the same transaction (proxy/session_rewrite.cpp).
void Analyzer::refuse_new_descendants_named() {
  if (new_descendants.empty()) [[likely]] {
    return;
  }
  const std::string_view text = std::string_view(sql_).substr(
      static_cast<std::size_t>(stmt_begin_), static_cast<std::size_t>(stmt_end_ - stmt_begin_));
  for (const NewDescendant& table : new_descendants) {
    if (!may_touch_new_descendant(text, table.name)) {
      continue;
    }
    const auto m = std::find_if(migrations_.begin(), migrations_.end(),
                                [&](const Migration& mm) { return mm.name == table.migration; });
    const Migration* migration = m != migrations_.end() ? &*m : nullptr;
    if (migration != nullptr) {
      involved.insert(migration);
    }
    problems.push_back(Problem{migration, new_descendant_refusal(table)});
    return;
  }
}

MigrationUse& Analyzer::use(const Migration* m) {
  involved.insert(m);
  for (MigrationUse& u : uses) {
    if (u.migration == m->name) {
      return u;
    }
  }
  uses.push_back(MigrationUse{m->name});
  return uses.back();
}

void Analyzer::unsupported(const Migration* m, const std::string& construct) {
  if (m != nullptr) {
    involved.insert(m);
    problems.push_back(Problem{
        m, "migration \"" + m->name + "\": " + construct + " is not supported by the rewrite"});
  } else {
    problems.push_back(Problem{nullptr, construct + " (rewrite not supported)"});
  }
}

bool Analyzer::column_list_usable(const Relation& rel) {
  if (rel.migrations.empty()) {
    return true;
  }
  bool usable = true;
  for (const Migration* m : rel.migrations) {
    add_name(column_lists_used, m->name);
    if (std::find(columns_changed.begin(), columns_changed.end(), m->name) !=
        columns_changed.end()) {
      involved.insert(m);
      problems.push_back(Problem{
          m, "migration \"" + m->name + "\": " + std::string(kColumnsChangedInTransaction)});
      usable = false;
    }
  }
  return usable;
}

bool Analyzer::text_mentions_mapped_table(std::string_view text) const {
  const std::string lower = lower_ascii(text);
  return std::any_of(migrations_.begin(), migrations_.end(), [&](const Migration& m) {
    return lower.find(name_as_written(m.table)) != std::string::npos;
  });
}

void Analyzer::mark_descendants_change(const Node* stmt) {
  // The migration whose table `rv` names (in any schema), or null.
  auto mapped = [&](const PgQuery__RangeVar* rv) -> const Migration* {
    if (rv == nullptr || rv->relname == nullptr) {
      return nullptr;
    }
    const std::string_view name = rv->relname;
    const auto m = std::find_if(migrations_.begin(), migrations_.end(),
                                [&](const Migration& mm) { return mm.table == name; });
    return m != migrations_.end() ? &*m : nullptr;
  };
  auto range_var = [](const Node* n) {
    return n != nullptr && n->node_case == PG_QUERY__NODE__NODE_RANGE_VAR ? n->range_var : nullptr;
  };
  auto added = [&](const PgQuery__RangeVar* child, const Migration* parent) {
    descendants_changed = true;
    if (child != nullptr && child->relname != nullptr) {
      new_descendants.push_back({child->relname, parent->name, parent->reject_unsupported});
    }
  };
  if (stmt->node_case == PG_QUERY__NODE__NODE_CREATE_STMT) {
    const auto* create = stmt->create_stmt;
    for (std::size_t i = 0; i < create->n_inh_relations; ++i) {
      if (const Migration* m = mapped(range_var(create->inh_relations[i]))) {
        added(create->relation, m);
      }
    }
    return;
  }
  // A mapped table renamed or moved to another schema: the rules follow it by OID once they are
  // built again, which the session's next statement waits for as for a new partition.
  // Until then the session refuses the new name, as it does a new partition's.
  auto renamed = [&](const PgQuery__RangeVar* table, const char* new_name) {
    if (const Migration* m = mapped(table); m != nullptr && new_name != nullptr) {
      descendants_changed = true;
      new_descendants.push_back({new_name, m->name, m->reject_unsupported, true});
    }
  };
  if (stmt->node_case == PG_QUERY__NODE__NODE_RENAME_STMT) {
    const auto* rename = stmt->rename_stmt;
    if (rename->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE) {
      renamed(rename->relation, rename->newname);
    }
    return;
  }
  if (stmt->node_case == PG_QUERY__NODE__NODE_ALTER_OBJECT_SCHEMA_STMT) {
    const auto* moved = stmt->alter_object_schema_stmt;
    if (moved->object_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE && moved->relation != nullptr) {
      renamed(moved->relation, moved->relation->relname);
    }
    return;
  }
  if (stmt->node_case != PG_QUERY__NODE__NODE_ALTER_TABLE_STMT) {
    return;
  }
  const auto* alter = stmt->alter_table_stmt;
  const Migration* on_mapped = mapped(alter->relation);
  for (std::size_t i = 0; i < alter->n_cmds; ++i) {
    const Node* cmd = alter->cmds[i];
    if (cmd->node_case != PG_QUERY__NODE__NODE_ALTER_TABLE_CMD) {
      continue;
    }
    const Node* def = cmd->alter_table_cmd->def;
    switch (cmd->alter_table_cmd->subtype) {
      case PG_QUERY__ALTER_TABLE_TYPE__AT_AttachPartition:
        if (on_mapped != nullptr) {
          added(def != nullptr && def->node_case == PG_QUERY__NODE__NODE_PARTITION_CMD
                    ? def->partition_cmd->name
                    : nullptr,
                on_mapped);
        }
        break;
      case PG_QUERY__ALTER_TABLE_TYPE__AT_DetachPartition:
      case PG_QUERY__ALTER_TABLE_TYPE__AT_DetachPartitionFinalize:
        descendants_changed = descendants_changed || on_mapped != nullptr;
        break;
      case PG_QUERY__ALTER_TABLE_TYPE__AT_AddInherit:
        if (const Migration* m = mapped(range_var(def))) {
          added(alter->relation, m);
        }
        break;
      case PG_QUERY__ALTER_TABLE_TYPE__AT_DropInherit:
        descendants_changed = descendants_changed || mapped(range_var(def)) != nullptr;
        break;
      default:
        break;
    }
  }
}

void Analyzer::mark_ddl(const Node* stmt) {
  add_table_ddl(stmt, text_ddl_);
  std::vector<std::string> named;
  auto check = [&](std::string_view name) {
    for (const Migration& m : migrations_) {
      if (m.table == name) {
        ddl_on_mapped_table = true;
        add_name(named, m.name);
      }
    }
  };
  std::function<void(const Node*)> visit = [&](const Node* n) {
    if (n == nullptr) {
      return;
    }
    if (n->node_case == PG_QUERY__NODE__NODE_RANGE_VAR && n->range_var->relname != nullptr) {
      check(n->range_var->relname);
    } else if (n->node_case == PG_QUERY__NODE__NODE_STRING) {
      check(string_value(n));
    }
    for_each_child(node_payload(n), visit, [&](const ProtobufCMessage* typed) {
      for_each_child(typed, visit, [](const ProtobufCMessage*) {});
    });
  };
  // RangeVars held as typed fields (ALTER TABLE's relation) are looked through by for_each_child
  // without a Node wrapper, so look at them via a wrapper-free pass too.
  std::function<void(const ProtobufCMessage*)> typed_pass = [&](const ProtobufCMessage* msg) {
    if (msg == nullptr) {
      return;
    }
    if (msg->descriptor == &pg_query__range_var__descriptor) {
      const auto* rv = reinterpret_cast<const PgQuery__RangeVar*>(msg);
      if (rv->relname != nullptr) {
        check(rv->relname);
      }
    }
    const ProtobufCMessageDescriptor* d = msg->descriptor;
    const char* base = reinterpret_cast<const char*>(msg);
    for (unsigned i = 0; i < d->n_fields; ++i) {
      const ProtobufCFieldDescriptor& f = d->fields[i];
      if (f.type != PROTOBUF_C_TYPE_MESSAGE) {
        continue;
      }
      if ((f.flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 &&
          *reinterpret_cast<const uint32_t*>(base + f.quantifier_offset) != f.id) {
        continue;
      }
      if (f.label == PROTOBUF_C_LABEL_REPEATED) {
        const auto cnt = *reinterpret_cast<const size_t*>(base + f.quantifier_offset);
        const auto* arr = *reinterpret_cast<ProtobufCMessage* const* const*>(base + f.offset);
        for (size_t k = 0; k < cnt; ++k) {
          typed_pass(arr[k]);
        }
      } else {
        typed_pass(*reinterpret_cast<ProtobufCMessage* const*>(base + f.offset));
      }
    }
  };
  visit(stmt);
  typed_pass(node_payload(stmt));
  // What may change a table's column list (TRUNCATE, an index or a GRANT leaves it as it was).
  switch (stmt->node_case) {
    case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT:
    case PG_QUERY__NODE__NODE_RENAME_STMT:
    case PG_QUERY__NODE__NODE_DROP_STMT:
    case PG_QUERY__NODE__NODE_CREATE_STMT:
      for (const std::string& name : named) {
        add_name(columns_changed, name);
      }
      break;
    default:
      break;
  }
}

void Analyzer::other_statement_with_mapped_tables(const Node* stmt, const Scope* outer) {
  (void)outer;
  // Bodies we do not parse (DO blocks, function bodies): if they mention a mapped table while the
  // migration changes anything, refuse.
  const std::string_view text = std::string_view(sql_).substr(
      static_cast<size_t>(stmt_begin_), static_cast<size_t>(stmt_end_ - stmt_begin_));
  for (const Migration& m : migrations_) {
    if (m.writes == Writes::old_column && m.reads == Reads::old_column) {
      continue;
    }
    if (lower_ascii(text).find(name_as_written(m.table)) != std::string::npos) {
      unsupported(&m, std::string(node_type_name(stmt)) + " mentioning the mapped table");
    }
  }
}

void Analyzer::dispatch(const Node* stmt, const Scope* outer, bool top) {
  if (stmt == nullptr) {
    return;
  }
  auto kind = [&](StatementKind k) {
    if (top) {
      kinds.push_back(k);
    }
  };
  switch (stmt->node_case) {
    case PG_QUERY__NODE__NODE_SELECT_STMT:
      kind(StatementKind::select);
      walk_select(stmt->select_stmt, outer);
      return;
    case PG_QUERY__NODE__NODE_INSERT_STMT:
      kind(StatementKind::insert);
      insert_stmt(stmt->insert_stmt, outer);
      return;
    case PG_QUERY__NODE__NODE_UPDATE_STMT:
      kind(StatementKind::update);
      update_stmt(stmt->update_stmt, outer);
      return;
    case PG_QUERY__NODE__NODE_DELETE_STMT:
      kind(StatementKind::delete_);
      delete_stmt(stmt->delete_stmt, outer);
      return;
    case PG_QUERY__NODE__NODE_COPY_STMT:
      kind(StatementKind::copy);
      copy_stmt(stmt->copy_stmt, outer);
      return;
    case PG_QUERY__NODE__NODE_EXPLAIN_STMT:
      kind(StatementKind::other);
      dispatch(stmt->explain_stmt->query, outer, false);
      return;
    case PG_QUERY__NODE__NODE_PREPARE_STMT:
      kind(StatementKind::other);
      dispatch(stmt->prepare_stmt->query, outer, false);
      return;
    case PG_QUERY__NODE__NODE_DECLARE_CURSOR_STMT:
      kind(StatementKind::other);
      dispatch(stmt->declare_cursor_stmt->query, outer, false);
      return;
    case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
      kind(StatementKind::ddl);
      // A materialized view is a stored query that REFRESH runs again outside the proxy, as a
      // view is: it stays as the app wrote it. CREATE TABLE AS and SELECT INTO copy rows once.
      if (stmt->create_table_as_stmt->objtype == PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW) {
        mark_ddl(stmt);
        return;
      }
      dispatch(stmt->create_table_as_stmt->query, outer, false);
      return;
    case PG_QUERY__NODE__NODE_MERGE_STMT:
      kind(StatementKind::merge);
      merge_stmt(stmt->merge_stmt, outer);
      return;
    case PG_QUERY__NODE__NODE_DO_STMT:
    case PG_QUERY__NODE__NODE_CREATE_FUNCTION_STMT:
      kind(stmt->node_case == PG_QUERY__NODE__NODE_CREATE_FUNCTION_STMT ? StatementKind::ddl
                                                                        : StatementKind::other);
      other_statement_with_mapped_tables(stmt, outer);
      if (stmt->node_case == PG_QUERY__NODE__NODE_CREATE_FUNCTION_STMT) {
        mark_ddl(stmt);
      }
      return;
    default: {
      if (is_ddl_name(node_type_name(stmt))) {
        kind(StatementKind::ddl);
        mark_ddl(stmt);
        mark_descendants_change(stmt);
      } else {
        kind(StatementKind::other);
      }
      return;
    }
  }
}

}  // namespace switchyard::rewrite::detail
