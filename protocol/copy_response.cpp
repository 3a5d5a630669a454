#include "protocol/copy_response.hpp"

#include <cassert>
#include <limits>

#include "protocol/byte_reader.hpp"

namespace switchyard::protocol {
namespace {

bool valid_format(int f) { return f == 0 || f == 1; }

}  // namespace

std::optional<CopyResponse> decode_copy_response(std::span<const std::byte> body) {
  ByteReader r(body);
  auto format = r.i8();
  auto count = format ? r.i16() : std::nullopt;
  if (!count || !valid_format(*format) || *count < 0) {
    return std::nullopt;
  }
  // Check the size before reserving so a lying count cannot cause a large allocation.
  if (r.remaining() != static_cast<std::size_t>(*count) * 2) {
    return std::nullopt;
  }
  CopyResponse c{*format, {}};
  c.column_formats.reserve(static_cast<std::size_t>(*count));
  for (std::int16_t i = 0; i < *count; ++i) {
    auto f = *r.i16();
    if (!valid_format(f)) {
      return std::nullopt;
    }
    c.column_formats.push_back(f);
  }
  return c;
}

void encode_copy_response(MessageWriter& w, char type, const CopyResponse& c) {
  assert(c.column_formats.size() <=
         static_cast<std::size_t>(std::numeric_limits<std::int16_t>::max()));
  w.begin_message(type);
  w.u8(static_cast<std::uint8_t>(c.format));
  w.i16(static_cast<std::int16_t>(c.column_formats.size()));
  for (std::int16_t f : c.column_formats) {
    w.i16(f);
  }
  w.finish_message();
}

}  // namespace switchyard::protocol
