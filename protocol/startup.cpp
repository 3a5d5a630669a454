#include "protocol/startup.hpp"

#include <string>

#include "protocol/byte_reader.hpp"

namespace switchyard::protocol {
namespace {

std::string version_text(std::int32_t version) {
  auto v = static_cast<std::uint32_t>(version);
  return std::to_string(v >> 16) + "." + std::to_string(v & 0xffff);
}

StartupPacket decode_parameters(std::int32_t version, ByteReader& r) {
  StartupMessage m;
  m.version = version;
  for (;;) {
    auto name = r.cstring();
    if (!name) {
      return StartupDecodeError{"invalid startup packet layout: expected terminator as last byte"};
    }
    if (name->empty()) {
      break;
    }
    auto value = r.cstring();
    if (!value) {
      return StartupDecodeError{"invalid startup packet layout: missing value for parameter \"" +
                                std::string(*name) + "\""};
    }
    m.parameters.emplace_back(*name, *value);
  }
  // PostgreSQL insists the terminator is the last byte; so do we, so that what
  // we relay is exactly what the server would accept.
  if (!r.at_end()) {
    return StartupDecodeError{"invalid startup packet layout: expected terminator as last byte"};
  }
  return m;
}

}  // namespace

std::string_view StartupMessage::get(std::string_view name) const {
  for (const auto& [n, v] : parameters) {
    if (n == name) {
      return v;
    }
  }
  return {};
}

StartupPacket decode_startup(std::span<const std::byte> body) {
  ByteReader r(body);
  auto code = r.i32();
  if (!code) {
    return StartupDecodeError{"invalid length of startup packet"};
  }
  switch (*code) {
    case kSslRequestCode:
      if (!r.at_end()) {
        return StartupDecodeError{"invalid length of SSLRequest"};
      }
      return SslRequest{};
    case kGssEncRequestCode:
      if (!r.at_end()) {
        return StartupDecodeError{"invalid length of GSSENCRequest"};
      }
      return GssEncRequest{};
    case kCancelRequestCode: {
      auto pid = r.i32();
      auto key = r.i32();
      // Protocol 3.2 allows longer secret keys; until BackendKeyData carries
      // them, a key of any other size is reported rather than truncated.
      if (!pid || !key || !r.at_end()) {
        return StartupDecodeError{"invalid length of CancelRequest"};
      }
      return CancelRequest{*pid, *key};
    }
    default:
      break;
  }
  if ((static_cast<std::uint32_t>(*code) >> 16) != 3) {
    return StartupDecodeError{"unsupported protocol version " + version_text(*code)};
  }
  return decode_parameters(*code, r);
}

void encode_startup(MessageWriter& w, const StartupMessage& m) {
  w.begin_untyped();
  w.i32(m.version);
  for (const auto& [name, value] : m.parameters) {
    w.cstring(name);
    w.cstring(value);
  }
  w.u8(0);
  w.finish_message();
}

void encode_cancel_request(MessageWriter& w, const CancelRequest& c) {
  w.begin_untyped();
  w.i32(kCancelRequestCode);
  w.i32(c.process_id);
  w.i32(c.secret_key);
  w.finish_message();
}

void encode_ssl_request(MessageWriter& w) {
  w.begin_untyped();
  w.i32(kSslRequestCode);
  w.finish_message();
}

void encode_gssenc_request(MessageWriter& w) {
  w.begin_untyped();
  w.i32(kGssEncRequestCode);
  w.finish_message();
}

}  // namespace switchyard::protocol
