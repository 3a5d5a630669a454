#include "rewrite/table_ddl.hpp"

#include <array>

#include "rewrite/pg_query_handles.hpp"
#include "rewrite/result.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite {

namespace {

using detail::Node;

void add_table(TableDdl& ddl, std::string_view name) {
  if (!name.empty()) {
    add_name(ddl.tables, std::string(name));
  }
}

// Every RangeVar `msg` holds, through any field: for_each_child looks through typed fields
// such as ALTER TABLE's relation without showing them.
void add_range_vars(const ProtobufCMessage* msg, TableDdl& ddl) {
  if (msg == nullptr) {
    return;
  }
  if (msg->descriptor == &pg_query__range_var__descriptor) {
    const auto* rv = reinterpret_cast<const PgQuery__RangeVar*>(msg);
    add_table(ddl, rv->relname != nullptr ? rv->relname : "");
    return;
  }
  const ProtobufCMessageDescriptor* d = msg->descriptor;
  const char* base = reinterpret_cast<const char*>(msg);
  for (unsigned i = 0; i < d->n_fields; ++i) {
    const ProtobufCFieldDescriptor& f = d->fields[i];
    if (f.type != PROTOBUF_C_TYPE_MESSAGE ||
        ((f.flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 &&
         *reinterpret_cast<const uint32_t*>(base + f.quantifier_offset) != f.id)) {
      continue;
    }
    if (f.label == PROTOBUF_C_LABEL_REPEATED) {
      const auto count = *reinterpret_cast<const size_t*>(base + f.quantifier_offset);
      const auto* items = *reinterpret_cast<ProtobufCMessage* const* const*>(base + f.offset);
      for (size_t k = 0; k < count; ++k) {
        add_range_vars(items[k], ddl);
      }
    } else {
      add_range_vars(*reinterpret_cast<ProtobufCMessage* const*>(base + f.offset), ddl);
    }
  }
}

bool drops_relations(PgQuery__ObjectType type) {
  return type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE ||
         type == PG_QUERY__OBJECT_TYPE__OBJECT_VIEW ||
         type == PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW ||
         type == PG_QUERY__OBJECT_TYPE__OBJECT_FOREIGN_TABLE;
}

}  // namespace

void add_table_ddl(const Node* stmt, TableDdl& ddl) {
  switch (stmt->node_case) {
    case PG_QUERY__NODE__NODE_DROP_STMT: {
      const PgQuery__DropStmt* drop = stmt->drop_stmt;
      if (drops_relations(drop->remove_type)) {
        for (std::size_t i = 0; i < drop->n_objects; ++i) {
          const Node* object = drop->objects[i];
          if (object->node_case == PG_QUERY__NODE__NODE_LIST && object->list->n_items > 0) {
            add_table(ddl, detail::string_value(object->list->items[object->list->n_items - 1]));
          }
        }
      } else if (drop->behavior == PG_QUERY__DROP_BEHAVIOR__DROP_CASCADE) {
        ddl.any = true;  // a type, a domain or a schema takes columns or tables with it
      }
      return;
    }
    case PG_QUERY__NODE__NODE_RENAME_STMT:
      if (stmt->rename_stmt->relation == nullptr) {
        ddl.any = ddl.any || stmt->rename_stmt->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_SCHEMA;
        return;
      }
      // A column's new name reaches partitions, children and typed tables too.
      ddl.any = ddl.any || stmt->rename_stmt->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN ||
                stmt->rename_stmt->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_ATTRIBUTE;
      break;
    case PG_QUERY__NODE__NODE_DROP_OWNED_STMT:
    case PG_QUERY__NODE__NODE_DO_STMT:  // conditional DDL of migration tools
      ddl.any = true;
      return;
    case PG_QUERY__NODE__NODE_CREATE_STMT:
      if (const PgQuery__RangeVar* rv = stmt->create_stmt->relation; rv && rv->relname) {
        add_name(ddl.created, std::string(rv->relname));
      }
      return;
    case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
      if (const PgQuery__IntoClause* into = stmt->create_table_as_stmt->into;
          into && into->rel && into->rel->relname) {
        add_name(ddl.created, std::string(into->rel->relname));
      }
      return;
    case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT:
      // Postgres carries a column change to partitions, inheritance children and the tables
      // typed by an altered type (CASCADE), which the text does not name: forget them all.
      ddl.any = true;
      break;
    case PG_QUERY__NODE__NODE_CREATE_FOREIGN_TABLE_STMT:
    case PG_QUERY__NODE__NODE_VIEW_STMT:
    case PG_QUERY__NODE__NODE_ALTER_OBJECT_SCHEMA_STMT:
      break;
    default:
      return;  // an index, a function, a grant: no column list changes
  }
  // The relations a view's query reads are among them: read again too.
  add_range_vars(detail::node_payload(stmt), ddl);
}

bool may_change_columns(std::string_view sql) {
  return may_change_columns(sql, detail::sole_statement_verb(sql));
}

bool may_change_columns(std::string_view sql, detail::SoleVerb verb) {
  if (verb) {
    switch (verb->size()) {
      case 2:
        return detail::iequals(*verb, "do");
      case 4:
        return detail::iequals(*verb, "drop");
      case 5:
        return detail::iequals(*verb, "alter");
      case 6:
        return detail::iequals(*verb, "create");
      default:
        return false;
    }
  }
  constexpr std::array<std::string_view, 3> kWords{"alter", "drop", "create"};
  for (std::string_view word : kWords) {
    if (detail::icontains(sql, word)) {
      return true;
    }
  }
  return detail::icontains_name(sql, "do");
}

TableDdl table_ddl(std::string_view sql) {
  TableDdl ddl;
  detail::ParsedSql parsed{std::string(sql)};
  if (parsed.tree() == nullptr) {
    return ddl;
  }
  for (std::size_t i = 0; i < parsed.tree()->n_stmts; ++i) {
    if (const Node* stmt = parsed.tree()->stmts[i]->stmt) {
      add_table_ddl(stmt, ddl);
    }
  }
  return ddl;
}

}  // namespace switchyard::rewrite
