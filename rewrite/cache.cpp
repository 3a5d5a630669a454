#include "rewrite/cache.hpp"

#include <functional>

namespace switchyard::rewrite {

std::size_t RewriteCache::KeyHash::operator()(const KeyView& k) const noexcept {
  std::size_t h = std::hash<std::string_view>{}(k.sql);
  h ^= std::hash<std::string_view>{}(k.context_key) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  h ^= std::hash<std::uint64_t>{}(k.generation) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

RewriteCache::RewriteCache(std::size_t capacity)
    : per_shard_(capacity / kShards > 0 ? capacity / kShards : 1) {}

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
  const KeyView probe{generation, context_key, sql};
  const std::size_t hash = KeyHash{}(probe);
  Shard& shard = shard_for(hash);
  std::lock_guard lock(shard.mutex);
  if (auto it = shard.index.find(probe); it != shard.index.end()) {
    it->second->result = std::move(result);
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
    return;
  }
  shard.lru.push_front(
      Entry{generation, std::string(context_key), std::string(sql), std::move(result)});
  const Entry& e = shard.lru.front();
  shard.index.emplace(KeyView{e.generation, e.context_key, e.sql}, shard.lru.begin());
  while (shard.lru.size() > per_shard_) {
    const Entry& victim = shard.lru.back();
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

}  // namespace switchyard::rewrite
