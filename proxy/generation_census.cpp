#include "proxy/generation_census.hpp"

namespace switchyard::proxy {

void GenerationCensus::add_to(GenerationCensus& total) const {
  for (std::size_t i = 0; i < kSlots; ++i) {
    total.sessions_[i].fetch_add(sessions_[i].load(relaxed), relaxed);
  }
}

GenerationCensus::Older GenerationCensus::older_than(std::uint64_t latest) const {
  Older out;
  // Slot by slot from the oldest generation a slot can stand for, latest - kSlots + 1.
  for (std::uint64_t back = kSlots - 1; back >= 1; --back) {
    if (back > latest) {
      continue;
    }
    const std::uint64_t generation = latest - back;
    const std::int64_t open = sessions_[generation % kSlots].load(relaxed);
    if (open > 0) {
      out.oldest = out.oldest.value_or(generation);
      out.sessions += static_cast<std::uint64_t>(open);
    }
  }
  return out;
}

}  // namespace switchyard::proxy
