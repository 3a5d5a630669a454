#include "rewrite/copy_transform.hpp"

namespace switchyard::rewrite {

CopyRowTransformer::CopyRowTransformer(CopyPlan plan) : plan_(std::move(plan)) {}

bool CopyRowTransformer::feed(std::string_view chunk, std::string& out) {
  out.append(chunk);
  return true;
}

bool CopyRowTransformer::finish(std::string&) { return true; }

bool CopyRowTransformer::emit_row(std::string_view row, std::string& out) {
  out.append(row);
  return true;
}

}  // namespace switchyard::rewrite
