#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace switchyard::proxy {

/// A search_path value as Postgres prints and parses it: schemas separated by commas, unquoted
/// names folded to lower case, quoted ones kept as written.
std::vector<std::string> split_search_path(std::string_view raw);

}  // namespace switchyard::proxy
