#include "backfill/fill_direction.hpp"

namespace switchyard::backfill {

FillChoice choose_fill(std::optional<Direction> asked, config::Writes writes, config::Reads reads) {
  const bool reading_new = reads == config::Reads::new_column;
  FillChoice choice;
  choice.fill = asked.value_or(Direction::to_new);
  if (writes == config::Writes::new_column) {
    choice.error =
        choice.fill == Direction::to_new
            ? "writes = \"new\": the new column is the only one written, and this backfill "
              "would overwrite it with the old column's stale values. To roll back, set "
              "writes = \"both\" and reload first; backfill then copies the new column into the "
              "old one (reads = \"new\"), and after verify agrees, reads = \"old\" is safe."
            : "writes = \"new\": the old column is not written, so every write after this "
              "backfill would leave it stale again. Set writes = \"both\" and reload first.";
    return choice;
  }
  if (writes == config::Writes::old_column) {
    // Apps still write the old column alone: a row written after the walk has passed it stays
    // behind, while progress and verify would say the work is done.
    choice.error =
        "writes = \"old\": apps write the old column alone, so every row written after this "
        "backfill passed it would disagree, while the backfill and verify looked done. Set "
        "writes = \"both\", reload every instance (switchyard_migration_info shows "
        "writes = \"both\" on all of them), then run the backfill.";
    return choice;
  }
  if (!asked && reading_new) {
    // Which column holds the truth depends on how reads = "new" came about; a guess either way
    // could overwrite the only good copy.
    choice.error =
        "reads = \"new\": say which column to fill. --direction to-old fills the old column "
        "from the new one: the rollback from writes = \"new\", where only the new column was "
        "written. --direction to-new fills the new column from the old one: reads were "
        "flipped before the backfill, and the old column holds the rows written before "
        "dual writes began.";
    return choice;
  }
  if (choice.fill == Direction::to_old && !reading_new) {
    // Apps read and write the old column here, so it is the current one: to_old(new) would
    // replace it, and erase it wherever the new column is still NULL.
    choice.error =
        "reads = \"old\": apps read the old column, and --direction to-old would overwrite it "
        "with to_old(new) (NULL wherever the new column is not filled yet). If the old column "
        "went stale under writes = \"new\" (reads = \"old\" set in the same save as "
        "writes = \"both\"), set reads = \"new\" and reload now, then run this backfill, "
        "verify, and set reads = \"old\" once it agrees.";
    return choice;
  }
  if (asked && *asked == Direction::to_new && reading_new) {
    choice.warning =
        "reads = \"new\": this backfill overwrites the column apps read with to_new(old) "
        "wherever the two disagree";
  }
  return choice;
}

}  // namespace switchyard::backfill
