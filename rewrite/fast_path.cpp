#include <algorithm>

#include "rewrite/rewriter.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite {
bool Rewriter::may_touch(std::string_view sql) const {
  // A name written U&"..." may spell a mapped table's without containing it.
  return std::any_of(needles_.begin(), needles_.end(),
                     [sql](const std::string& n) { return detail::icontains(sql, n); }) ||
         sql.find("&\"") != std::string_view::npos;
}

}  // namespace switchyard::rewrite
