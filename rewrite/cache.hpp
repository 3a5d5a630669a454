#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "rewrite/result.hpp"

namespace switchyard::rewrite {

/// Thread-safe cache of rewrite results keyed by (config generation, session context key, SQL
/// text). Bounded in entries and in bytes of text: each shard evicts its least recently used
/// entries, and a text too large for a shard's share of the bytes is not kept at all (bulk
/// INSERTs of a megabyte each, all different, would otherwise hold gigabytes). Sharded by key
/// hash so that sessions on different threads rarely share a mutex.
class RewriteCache {
 public:
  static constexpr std::size_t kDefaultMaxBytes = std::size_t{64} << 20;

  /// `capacity` is the total number of entries across all shards (at least one per shard);
  /// `max_bytes` bounds the text the entries hold (SQL in and out), across all shards.
  explicit RewriteCache(std::size_t capacity, std::size_t max_bytes = kDefaultMaxBytes);

  std::shared_ptr<const RewriteResult> find(std::uint64_t generation, std::string_view context_key,
                                            std::string_view sql) const;
  void insert(std::uint64_t generation, std::string_view context_key, std::string_view sql,
              std::shared_ptr<const RewriteResult> result);

  std::uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  std::uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }
  std::size_t size() const;
  /// The bytes of text held, as counted against max_bytes.
  std::size_t bytes() const;

 private:
  static constexpr std::size_t kShards = 16;
  // Views into an Entry's own strings (in the map) or into the caller's (for look-ups), so a
  // look-up allocates nothing.
  struct KeyView {
    std::uint64_t generation;
    std::string_view context_key;
    std::string_view sql;
    bool operator==(const KeyView&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const KeyView& k) const noexcept;
  };
  struct Entry {
    std::uint64_t generation;
    std::string context_key;
    std::string sql;
    std::shared_ptr<const RewriteResult> result;
    std::size_t bytes;
  };
  struct Shard {
    std::mutex mutex;
    // Most recently used at the front; the map points into the list.
    std::list<Entry> lru;
    std::unordered_map<KeyView, std::list<Entry>::iterator, KeyHash> index;
    std::size_t bytes = 0;
  };
  Shard& shard_for(std::size_t hash) const;

  std::size_t per_shard_;
  std::size_t bytes_per_shard_;
  mutable std::array<Shard, kShards> shards_;
  mutable std::atomic<std::uint64_t> hits_{0};
  mutable std::atomic<std::uint64_t> misses_{0};
};

}  // namespace switchyard::rewrite
