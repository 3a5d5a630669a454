#pragma once

// Bump allocation for one protobuf-c tree, unpacked or built from JSON (json_tree). protobuf-c's
// own free_unpacked walks every field descriptor of every message (a Node has one per node type,
// about 250), which costs about as much as unpacking; with an arena the tree is dropped whole and
// never walked.

#include <protobuf-c/protobuf-c.h>

#include <cstddef>
#include <memory_resource>
#include <new>

namespace switchyard::rewrite::detail {

class UnpackArena {
 public:
  UnpackArena() = default;
  UnpackArena(const UnpackArena&) = delete;
  UnpackArena& operator=(const UnpackArena&) = delete;

  /// For `*__unpack`. What it allocates lives until the arena is destroyed; never pass the
  /// result to `*__free_unpacked`.
  ProtobufCAllocator* allocator() { return &allocator_; }

  /// Storage for a tree built by hand (json_tree); null when memory is exhausted.
  void* allocate(std::size_t size) { return allocate_in(&resource_, size); }
  std::pmr::memory_resource* resource() { return &resource_; }
  /// Frees everything allocated so far: what was built in it must not be read again.
  void clear() { resource_.release(); }

 private:
  // The parse trees of OLTP statements take 1-4 KiB unpacked; larger ones continue on the heap.
  static constexpr std::size_t kInlineBytes = 8192;

  static void* allocate_in(void* resource, std::size_t size) {
    try {
      return static_cast<std::pmr::memory_resource*>(resource)->allocate(size == 0 ? 1 : size,
                                                                         alignof(std::max_align_t));
    } catch (const std::bad_alloc&) {
      return nullptr;  // protobuf-c reports the unpack as failed; never throw through C
    }
  }
  static void release(void*, void*) {}

  alignas(std::max_align_t) std::byte inline_[kInlineBytes];
  std::pmr::monotonic_buffer_resource resource_{inline_, sizeof inline_};
  ProtobufCAllocator allocator_{&allocate_in, &release, &resource_};
};

}  // namespace switchyard::rewrite::detail
