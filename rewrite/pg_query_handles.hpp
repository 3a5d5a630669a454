#pragma once

// The only header that includes libpg_query. The protobuf-c structs it declares are the syntax
// tree the rules walk; this file owns their memory and hides how they are produced.

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rewrite/unpack_arena.hpp"

namespace switchyard::rewrite::detail {

using Node = PgQuery__Node;

/// Owns the protobuf-c parse tree of one SQL text (in its own arena: keep it on the stack, for
/// the length of one analysis). Built from libpg_query's JSON output, or, when that cannot be
/// mapped with certainty (json_tree.hpp), unpacked from its protobuf output.
class ParsedSql {
 public:
  /// Parses `sql` (must be NUL-terminated: pass a std::string). On failure tree() is null and
  /// error() holds the parser's message.
  explicit ParsedSql(const std::string& sql);
  ParsedSql(const ParsedSql&) = delete;
  ParsedSql& operator=(const ParsedSql&) = delete;

  const PgQuery__ParseResult* tree() const { return tree_; }
  const std::string& error() const { return error_; }
  /// Frees the tree before the end of the scope (tree() is null from then on).
  void drop_tree() {
    tree_ = nullptr;
    arena_.clear();
  }

 private:
  void parse_protobuf(const std::string& sql);

  UnpackArena arena_;
  PgQuery__ParseResult* tree_ = nullptr;
  std::string error_;
};

/// How many statements `sql` (NUL-terminated) holds, or -1 when it does not parse, with the
/// parser's message in `error`. The same parser as ParsedSql without its protobuf round trip,
/// which is most of a parse's cost: for checks that need no tree.
int count_statements(const std::string& sql, std::string& error);

/// One lexical token; comments are not kept.
struct Token {
  int start = 0;
  int end = 0;
  int kind = 0;          // PgQuery__Token value
  int keyword_kind = 0;  // PgQuery__KeywordKind value
};

/// Scans `sql` into tokens (comments dropped). Empty on scanner error. Plain text is read
/// without the scanner (plain_scan.hpp), with the same result.
std::vector<Token> scan_tokens(const std::string& sql);

/// scan_tokens by libpg_query's scanner alone.
std::vector<Token> scan_tokens_with_libpg_query(const std::string& sql);

/// Protobuf short name of the node's payload ("SelectStmt", "ColumnRef", ...), "" for null.
std::string_view node_type_name(const Node* node);

/// The payload message of a Node (whatever its type), or null.
const ProtobufCMessage* node_payload(const Node* node);

/// sval of a String node, "" for anything else.
std::string_view string_value(const Node* node);

/// Calls `visit` for every Node directly or indirectly held by `msg` through fields that are not
/// themselves Nodes (so typed children such as WindowDef are looked through). Typed children
/// that are statements (SelectStmt ...) are passed to `visit_typed` instead.
template <typename VisitNode, typename VisitTyped>
void for_each_child(const ProtobufCMessage* msg, VisitNode&& visit, VisitTyped&& visit_typed);

/// Deparses one statement node back to SQL text; "" on failure. A fallback, not the main road.
std::string deparse_statement(const Node* stmt);

}  // namespace switchyard::rewrite::detail

#include "rewrite/pg_query_handles_inl.hpp"
