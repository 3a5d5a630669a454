#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "protocol/message_writer.hpp"

namespace switchyard::protocol {

/// A Parse's parameter type OIDs (0 leaves a type unspecified), read where they are on the
/// wire: big-endian Int32s. Decoding a Parse, which a relay does for each query of an
/// extended-protocol client, then allocates nothing; the types are copied as bytes.
class ParamTypes {
 public:
  ParamTypes() = default;
  /// `wire` holds whole Int32s: its size is a multiple of 4.
  explicit ParamTypes(std::span<const std::byte> wire) : wire_(wire) {}

  std::size_t size() const { return wire_.size() / 4; }
  std::int32_t operator[](std::size_t i) const;
  std::span<const std::byte> wire() const { return wire_; }

  bool operator==(const ParamTypes& other) const;

 private:
  std::span<const std::byte> wire_;
};

/// Parse ("55.7 Message Formats", "55.2.3 Extended Query"). The views point into
/// the decoded body.
struct Parse {
  std::string_view statement;  ///< "" is the unnamed statement
  std::string_view query;
  ParamTypes param_types;

  bool operator==(const Parse&) const = default;
};

/// Decodes a Parse body; nullopt on a negative count, short data or trailing bytes.
std::optional<Parse> decode_parse(std::span<const std::byte> body);
/// Writes a complete Parse. Its size is known before it is written, so it is written in one
/// pass.
void encode_parse(MessageWriter& w, std::string_view statement, std::string_view query,
                  ParamTypes param_types);

}  // namespace switchyard::protocol
