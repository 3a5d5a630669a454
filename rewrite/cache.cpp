#include "rewrite/cache.hpp"

#include <functional>

namespace switchyard::rewrite {

std::size_t RewriteCache::KeyHash::operator()(const KeyView& k) const noexcept {
  std::size_t h = std::hash<std::string_view>{}(k.sql);
  h ^= std::hash<std::string_view>{}(k.context_key) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  h ^= std::hash<std::uint64_t>{}(k.generation) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

RewriteCache::RewriteCache(std::size_t capacity, std::size_t max_bytes)
    : per_shard_(capacity / kShards > 0 ? capacity / kShards : 1),
      bytes_per_shard_(max_bytes / kShards) {}

namespace {

std::size_t entry_bytes(std::string_view context_key, std::string_view sql,
                        const std::shared_ptr<const RewriteResult>& result) {
  // The position map is charged too: a bulk INSERT's holds a span per edit, about a fifth of
  // its text.
  return context_key.size() + sql.size() +
         (result ? result->sql.size() + result->positions.spans.size() * sizeof(PositionMap::Span)
                 : 0);
}

}  // namespace

RewriteCache::Shard& RewriteCache::shard_for(std::size_t hash) const {
  // The low bits feed the hash table's buckets; the high bits pick the shard.
  return shards_[(hash >> 56) % kShards];
}

std::shared_ptr<const RewriteResult> RewriteCache::find(std::uint64_t generation,
                                                        std::string_view context_key,
                                                        std::string_view sql) const {
  const KeyView key{generation, context_key, sql};
  const std::size_t hash = KeyHash{}(key);
  Shard& shard = shard_for(hash);
  std::lock_guard lock(shard.mutex);
  auto it = shard.index.find(key);
  if (it == shard.index.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return it->second->result;
}

void RewriteCache::insert(std::uint64_t generation, std::string_view context_key,
                          std::string_view sql, std::shared_ptr<const RewriteResult> result) {
  const std::size_t bytes = entry_bytes(context_key, sql, result);
  const KeyView probe{generation, context_key, sql};
  const std::size_t hash = KeyHash{}(probe);
  Shard& shard = shard_for(hash);
  std::lock_guard lock(shard.mutex);
  auto found = shard.index.find(probe);
  if (found != shard.index.end()) {
    shard.bytes -= found->second->bytes;
    const auto entry = found->second;
    shard.index.erase(found);
    shard.lru.erase(entry);
  }
  if (bytes > bytes_per_shard_) {
    return;
  }
  shard.lru.push_front(
      Entry{generation, std::string(context_key), std::string(sql), std::move(result), bytes});
  const Entry& e = shard.lru.front();
  shard.index.emplace(KeyView{e.generation, e.context_key, e.sql}, shard.lru.begin());
  shard.bytes += bytes;
  while (shard.lru.size() > per_shard_ || shard.bytes > bytes_per_shard_) {
    const Entry& victim = shard.lru.back();
    shard.bytes -= victim.bytes;
    shard.index.erase(KeyView{victim.generation, victim.context_key, victim.sql});
    shard.lru.pop_back();
  }
}

std::size_t RewriteCache::size() const {
  std::size_t n = 0;
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    n += shard.lru.size();
  }
  return n;
}

std::size_t RewriteCache::bytes() const {
  std::size_t n = 0;
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    n += shard.bytes;
  }
  return n;
}

}  // namespace switchyard::rewrite
