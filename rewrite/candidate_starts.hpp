#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <string_view>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace switchyard::rewrite::detail {

/// Whether `matches_at(i)` holds for some start `i` of `hay` (`i + last < hay.size()`), asking
/// only at the starts where the byte at `i` and the byte at `i + last`, each with `fold` OR-ed
/// in, equal one of `pairs`. A needle's first and last bytes both match rarely in SQL text, so
/// 16 starts are tested at once with SSE2 (part of every x86-64) and `matches_at` decides
/// the few left. `fold` 0x20 lets ASCII letters match in either case (and a few other bytes,
/// which `matches_at` must turn away).
template <std::size_t N, class MatchesAt>
bool any_candidate_start(std::string_view hay, std::size_t last,
                         const std::array<std::pair<char, char>, N>& pairs, char fold,
                         MatchesAt matches_at) {
  if (hay.size() <= last) {
    return false;
  }
  const std::size_t starts = hay.size() - last;
  std::size_t i = 0;
#if defined(__SSE2__)
  if (starts >= 16) {
    const __m128i fold_bits = _mm_set1_epi8(fold);
    __m128i firsts[N];
    __m128i finals[N];
    for (std::size_t k = 0; k < N; ++k) {
      firsts[k] = _mm_set1_epi8(pairs[k].first);
      finals[k] = _mm_set1_epi8(pairs[k].second);
    }
    // Candidates among the 16 starts from `at`, the lowest `skip` of them already tested.
    auto block = [&](std::size_t at, unsigned skip) {
      const char* p = hay.data() + at;
      const __m128i a =
          _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), fold_bits);
      const __m128i b =
          _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + last)), fold_bits);
      __m128i hits = _mm_setzero_si128();
      for (std::size_t k = 0; k < N; ++k) {
        hits = _mm_or_si128(
            hits, _mm_and_si128(_mm_cmpeq_epi8(a, firsts[k]), _mm_cmpeq_epi8(b, finals[k])));
      }
      auto mask = static_cast<unsigned>(_mm_movemask_epi8(hits));
      mask &= ~((1u << skip) - 1);
      for (; mask != 0; mask &= mask - 1) {
        if (matches_at(at + static_cast<std::size_t>(std::countr_zero(mask)))) {
          return true;
        }
      }
      return false;
    };
    for (; i + 16 <= starts; i += 16) {
      if (block(i, 0)) {
        return true;
      }
    }
    // The last starts, in one block that overlaps the previous one.
    return i < starts && block(starts - 16, static_cast<unsigned>(i - (starts - 16)));
  }
#endif
  for (; i < starts; ++i) {
    const char a = static_cast<char>(hay[i] | fold);
    const char b = static_cast<char>(hay[i + last] | fold);
    for (const auto& [first, final] : pairs) {
      if (a == first && b == final && matches_at(i)) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace switchyard::rewrite::detail
