#pragma once

// Small helpers shared by the protocol unit tests.

#include <gtest/gtest.h>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocol/framer.hpp"
#include "protocol/message_writer.hpp"

namespace switchyard::protocol::test {

/// The bytes of `s`, NULs included when `s` is built with the `sv` suffix.
inline std::vector<std::byte> to_bytes(std::string_view s) {
  auto b = std::as_bytes(std::span(s.data(), s.size()));
  return {b.begin(), b.end()};
}

/// A typed message with the given body, framed by hand rather than by MessageWriter.
inline std::vector<std::byte> raw_message(char type, std::string_view body) {
  std::vector<std::byte> out;
  out.push_back(static_cast<std::byte>(type));
  auto len = static_cast<std::uint32_t>(body.size() + 4);
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<std::byte>((len >> shift) & 0xff));
  }
  auto b = to_bytes(body);
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

/// Cuts the one message `data` must hold exactly, expecting `type`.
inline std::optional<Frame> single_frame(std::span<const std::byte> data, char type) {
  FrameResult r = next_frame(data);
  const Frame* f = std::get_if<Frame>(&r);
  EXPECT_NE(f, nullptr) << "no complete frame";
  if (f == nullptr) {
    return std::nullopt;
  }
  EXPECT_EQ(f->type, type);
  EXPECT_EQ(f->size, data.size()) << "the buffer holds more than one message";
  return *f;
}

/// Cuts the one startup packet `data` must hold exactly.
inline std::optional<Frame> single_startup_frame(std::span<const std::byte> data) {
  FrameResult r = next_startup_frame(data);
  const Frame* f = std::get_if<Frame>(&r);
  EXPECT_NE(f, nullptr) << "no complete startup frame";
  if (f == nullptr) {
    return std::nullopt;
  }
  EXPECT_EQ(f->type, 0);
  EXPECT_EQ(f->size, data.size());
  return *f;
}

/// The body bytes as a string, for readable comparisons.
inline std::string as_string(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace switchyard::protocol::test
