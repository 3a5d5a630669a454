#pragma once

// Buffers a session or a worker reuses from statement to statement (the literal shape, the
// replacement text) are kept up to a size. One that an unusually long text, such as a bulk
// INSERT with thousands of rows, has grown past it is released after that statement, as a
// buffer made per statement would have been, so an idle session does not hold that memory.

#include <cstddef>
#include <string>

namespace switchyard::proxy {

inline constexpr std::size_t kKeptBufferBytes = 16 * 1024;

/// Releases `text`'s buffer when it is past kKeptBufferBytes; true when it did.
inline bool release_if_long(std::string& text) {
  if (text.capacity() <= kKeptBufferBytes) {
    return false;
  }
  std::string().swap(text);
  return true;
}

/// release_if_long(text) at the end of the scope.
struct ReleaseIfLong {
  std::string& text;
  ~ReleaseIfLong() { release_if_long(text); }
};

}  // namespace switchyard::proxy
