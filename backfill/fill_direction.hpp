#pragma once

// Which way `switchyard backfill` copies. While reads = "old" it fills the new column from the
// old one (step 3), never the reverse: the old column is then what apps read. While reads = "new"
// the operator must say: after a rollback from writes = "new" the new column is the only current
// one (--direction to-old makes the old column current again before reads = "old"), but reads
// flipped before any backfill leave the old column as the only good copy. Under writes = "old" it
// refuses: apps write the old column alone, so rows written after the walk passed them would stay
// behind (DESIGN step 2 comes first). Under writes = "new" it refuses either way: the new column is
// the only one written, so copying into it would overwrite it with stale values, and copying out of
// it would go stale again with the next write.

#include <optional>
#include <string>

#include "backfill/sql.hpp"
#include "config/config.hpp"

namespace switchyard::backfill {

struct FillChoice {
  Direction fill = Direction::to_new;
  /// Set when the run must not start; says why and what to do instead.
  std::string error;
  /// Set when --direction copies into the column apps read.
  std::string warning;
};

/// `asked`: --direction when given. Pure.
FillChoice choose_fill(std::optional<Direction> asked, config::Writes writes, config::Reads reads);

}  // namespace switchyard::backfill
