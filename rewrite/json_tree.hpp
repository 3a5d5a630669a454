#pragma once

// The protobuf-c parse tree, built from libpg_query's JSON output instead of its protobuf
// output. Both come from the same parse; the protobuf road costs about three times as much
// because protobuf-c sizes, packs and then unpacks every Node by walking all of its field
// descriptors (one per node type, about 250), where the JSON writer prints only what is set.

#include <pg_query/pg_query.pb-c.h>

#include "rewrite/unpack_arena.hpp"

namespace switchyard::rewrite::detail {

/// The tree that `json` (pg_query_parse's output for `sql`, both NUL-terminated; `json` is
/// parsed in place and left garbled) describes, allocated in `arena`; null when the JSON holds
/// anything that cannot be mapped onto the protobuf tree with certainty: a key or value type this
/// reader does not know, or an integer constant the JSON writer left out (it omits every Integer
/// that is not positive, and only the text says whether it was 0 or negative). The caller then
/// takes the protobuf road.
PgQuery__ParseResult* tree_from_json(char* json, const char* sql, UnpackArena& arena);

}  // namespace switchyard::rewrite::detail
