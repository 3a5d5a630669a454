#include <algorithm>

#include "rewrite/rewriter.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite {
bool Rewriter::may_touch(std::string_view sql) const {
  return std::any_of(needles_.begin(), needles_.end(),
                     [sql](const std::string& n) { return detail::icontains(sql, n); });
}

}  // namespace switchyard::rewrite
