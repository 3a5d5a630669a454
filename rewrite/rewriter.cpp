#include "rewrite/rewriter.hpp"

#include <algorithm>
#include <cctype>

namespace switchyard::rewrite {

Rewriter::Rewriter(std::vector<Migration> migrations) : migrations_(std::move(migrations)) {
  for (const Migration& m : migrations_) {
    std::string n = m.table;
    std::transform(n.begin(), n.end(), n.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (std::find(needles_.begin(), needles_.end(), n) == needles_.end()) {
      needles_.push_back(std::move(n));
    }
  }
}

RewriteResult Rewriter::rewrite(std::string_view, const SessionContext&, const Catalog&) const {
  return RewriteResult{};
}

std::optional<std::string> validate_transform(std::string_view) { return std::nullopt; }

std::string rejection_sql(std::string_view) { return {}; }

}  // namespace switchyard::rewrite
