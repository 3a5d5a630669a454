#include "backfill/ancestors.hpp"

#include <gtest/gtest.h>

namespace switchyard::backfill {
namespace {

TableSpec spec(std::string table) {
  TableSpec s;
  s.schema = "public";
  s.table = std::move(table);
  s.old_column = "o";
  s.new_column = "n";
  return s;
}

// What the catalog found, and the warnings it makes: each names the table written through an
// ancestor, and what to do about it.
TEST(AncestorsTest, ExplainsEachShape) {
  struct Case {
    const char* what;
    const char* table;
    std::vector<UncoveredAncestor> found;
    std::vector<std::string> expected;
  };
  const Case cases[] = {
      {"no ancestor", "pa", {}, {}},
      {"a partition declared instead of its root",
       "q1",
       {{"public.q1", "public.q", true, true, true}},
       {"public.q1 is a partition or inheritance child of public.q: a write of o through it (an "
        "INSERT or COPY the server routes into public.q1, an UPDATE or MERGE) is not rewritten "
        "by this migration, so it writes o alone and n drifts; declare the migration on "
        "public.q instead (it then covers public.q1 too)"}},
      {"a sub-partition: the root named, both parents listed",
       "q1a",
       {{"public.q1a", "public.q", true, true, true},
        {"public.q1a", "public.q1", true, false, true}},
       {"public.q1a is a partition or inheritance child of public.q, public.q1: a write of o "
        "through one of them (an INSERT or COPY the server routes into public.q1a, an UPDATE or "
        "MERGE) is not rewritten by this migration, so it writes o alone and n drifts; declare "
        "the migration on public.q instead (it then covers public.q1a too)"}},
      {"an inheritance child declared instead of its parent",
       "ic",
       {{"public.ic", "public.ip", false, true, true}},
       {"public.ic is a partition or inheritance child of public.ip: a write of o through it (an "
        "UPDATE or MERGE without ONLY) is not rewritten by this migration, so it writes o alone "
        "and n drifts; declare the migration on public.ip instead (it then covers public.ic "
        "too)"}},
      {"a covered child with another parent",
       "pa",
       {{"public.kid", "public.pc", false, true, false}},
       {"public.kid, which this migration covers as a descendant of public.pa, also inherits "
        "from public.pc: a write of o through it (an UPDATE or MERGE without ONLY) is not "
        "rewritten by this migration, so it writes o alone and n drifts; write o through "
        "public.pa or public.kid only, or make public.kid inherit from public.pa alone"}},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(explain_uncovered_ancestors(spec(c.table), c.found), c.expected) << c.what;
  }
}

}  // namespace
}  // namespace switchyard::backfill
