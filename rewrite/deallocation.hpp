#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::rewrite {

/// Prepared statements a text removes on the server: `DEALLOCATE [PREPARE] name`,
/// `DEALLOCATE ALL`, `DISCARD ALL`. Drivers (psycopg among them) drop their protocol-level
/// statements this way rather than with a Close message.
struct Deallocation {
  /// One per statement, in the text's order: each earns a CommandComplete of its own when the
  /// server runs it. Empty for DEALLOCATE ALL and DISCARD ALL, which drop every named one.
  std::vector<std::string> names;
};

/// nullopt when the text deallocates nothing. No parse unless a keyword appears.
std::optional<Deallocation> deallocation(std::string_view sql);

}  // namespace switchyard::rewrite
