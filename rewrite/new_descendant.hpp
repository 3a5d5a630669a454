#pragma once

#include <string>
#include <string_view>

#include "rewrite/result.hpp"

namespace switchyard::rewrite {

/// Whether a statement text may read or write the rows of `table`, a relation made a
/// descendant of a mapped table earlier in the same transaction (the rules cover it only once
/// that transaction ends): the text names it as a whole word, in any case, and does not start
/// with a command that leaves rows alone (CREATE, ALTER, GRANT, COMMENT, ...: the rest of a
/// script that creates a partition, such as its indexes).
bool may_touch_new_descendant(std::string_view sql, std::string_view table);

/// Why such a text is refused; names the migration.
std::string new_descendant_refusal(const NewDescendant& table);

}  // namespace switchyard::rewrite
