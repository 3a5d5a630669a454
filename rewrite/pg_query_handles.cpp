#include "rewrite/pg_query_handles.hpp"

#include "rewrite/json_tree.hpp"
#include "rewrite/plain_scan.hpp"

namespace switchyard::rewrite::detail {

ParsedSql::ParsedSql(const std::string& sql) {
  PgQueryParseResult r = pg_query_parse(sql.c_str());
  if (r.error != nullptr) {
    error_ = r.error->message != nullptr ? r.error->message : "parse error";
  } else if (r.parse_tree != nullptr) {
    tree_ = tree_from_json(r.parse_tree, sql.c_str(), arena_);
  }
  pg_query_free_parse_result(r);
  if (tree_ == nullptr && error_.empty()) {
    parse_protobuf(sql);
  }
}

void ParsedSql::parse_protobuf(const std::string& sql) {
  PgQueryProtobufParseResult r = pg_query_parse_protobuf(sql.c_str());
  if (r.error != nullptr) {
    error_ = r.error->message != nullptr ? r.error->message : "parse error";
  } else {
    tree_ = pg_query__parse_result__unpack(arena_.allocator(), r.parse_tree.len,
                                           reinterpret_cast<const uint8_t*>(r.parse_tree.data));
    if (tree_ == nullptr) {
      error_ = "cannot unpack the parse tree";
    }
  }
  pg_query_free_protobuf_parse_result(r);
}

int count_statements(const std::string& sql, std::string& error) {
  PgQuerySplitResult r = pg_query_split_with_parser(sql.c_str());
  int count = r.n_stmts;
  if (r.error != nullptr) {
    error = r.error->message != nullptr ? r.error->message : "parse error";
    count = -1;
  }
  pg_query_free_split_result(r);
  return count;
}

std::vector<Token> scan_tokens(const std::string& sql) {
  std::optional<std::vector<Token>> plain = scan_plain(sql);
  return plain.has_value() ? std::move(*plain) : scan_tokens_with_libpg_query(sql);
}

std::vector<Token> scan_tokens_with_libpg_query(const std::string& sql) {
  std::vector<Token> out;
  PgQueryScanResult r = pg_query_scan(sql.c_str());
  if (r.error == nullptr) {
    UnpackArena arena;
    PgQuery__ScanResult* scan = pg_query__scan_result__unpack(
        arena.allocator(), r.pbuf.len, reinterpret_cast<const uint8_t*>(r.pbuf.data));
    if (scan != nullptr) {
      out.reserve(scan->n_tokens);
      for (size_t i = 0; i < scan->n_tokens; ++i) {
        const PgQuery__ScanToken* t = scan->tokens[i];
        if (t->token == PG_QUERY__TOKEN__SQL_COMMENT || t->token == PG_QUERY__TOKEN__C_COMMENT) {
          continue;
        }
        out.push_back(
            Token{t->start, t->end, static_cast<int>(t->token), static_cast<int>(t->keyword_kind)});
      }
    }
  }
  pg_query_free_scan_result(r);
  return out;
}

namespace {

const ProtobufCFieldDescriptor* payload_field(const Node* node) {
  if (node == nullptr || node->node_case == PG_QUERY__NODE__NODE__NOT_SET) {
    return nullptr;
  }
  return protobuf_c_message_descriptor_get_field(&pg_query__node__descriptor,
                                                 static_cast<unsigned>(node->node_case));
}

}  // namespace

std::string_view node_type_name(const Node* node) {
  const ProtobufCFieldDescriptor* f = payload_field(node);
  if (f == nullptr) {
    return {};
  }
  return static_cast<const ProtobufCMessageDescriptor*>(f->descriptor)->short_name;
}

const ProtobufCMessage* node_payload(const Node* node) {
  const ProtobufCFieldDescriptor* f = payload_field(node);
  if (f == nullptr) {
    return nullptr;
  }
  return *reinterpret_cast<ProtobufCMessage* const*>(reinterpret_cast<const char*>(node) +
                                                     f->offset);
}

std::string_view string_value(const Node* node) {
  if (node == nullptr || node->node_case != PG_QUERY__NODE__NODE_STRING ||
      node->string == nullptr || node->string->sval == nullptr) {
    return {};
  }
  return node->string->sval;
}

std::string deparse_statement(const Node* stmt) {
  PgQuery__RawStmt raw = PG_QUERY__RAW_STMT__INIT;
  raw.stmt = const_cast<Node*>(stmt);
  PgQuery__RawStmt* stmts[1] = {&raw};
  PgQuery__ParseResult tree = PG_QUERY__PARSE_RESULT__INIT;
  tree.version = PG_VERSION_NUM;
  tree.n_stmts = 1;
  tree.stmts = stmts;
  std::string packed(pg_query__parse_result__get_packed_size(&tree), '\0');
  pg_query__parse_result__pack(&tree, reinterpret_cast<uint8_t*>(packed.data()));
  PgQueryProtobuf buf{packed.size(), packed.data()};
  PgQueryDeparseResult r = pg_query_deparse_protobuf(buf);
  std::string out;
  if (r.error == nullptr && r.query != nullptr) {
    out = r.query;
  }
  pg_query_free_deparse_result(r);
  return out;
}

}  // namespace switchyard::rewrite::detail
