#include "protocol/authentication.hpp"

#include "protocol/byte_reader.hpp"
#include "protocol/message_types.hpp"

namespace switchyard::protocol {
namespace {

constexpr std::string_view kPlusSuffix = "-PLUS";

}  // namespace

std::optional<std::int32_t> decode_auth_code(std::span<const std::byte> body) {
  ByteReader r(body);
  return r.i32();
}

std::vector<std::string> decode_sasl_mechanisms(std::span<const std::byte> body) {
  ByteReader r(body);
  auto code = r.i32();
  if (!code || *code != static_cast<std::int32_t>(AuthCode::sasl)) {
    return {};
  }
  std::vector<std::string> out;
  for (;;) {
    auto name = r.cstring();
    if (!name) {
      return {};
    }
    if (name->empty()) {
      break;
    }
    out.emplace_back(*name);
  }
  if (!r.at_end()) {
    return {};
  }
  return out;
}

std::vector<std::byte> encode_sasl_without_plus(std::span<const std::byte> body) {
  std::vector<std::string> mechanisms = decode_sasl_mechanisms(body);
  if (mechanisms.empty()) {
    return {};
  }
  std::erase_if(mechanisms, [](const std::string& m) { return m.ends_with(kPlusSuffix); });
  MessageWriter w;
  encode_authentication_sasl(w, mechanisms);
  return w.take();
}

void encode_authentication_ok(MessageWriter& w) {
  w.begin_message(backend::kAuthentication);
  w.i32(static_cast<std::int32_t>(AuthCode::ok));
  w.finish_message();
}

void encode_authentication_sasl(MessageWriter& w, std::span<const std::string> mechanisms) {
  w.begin_message(backend::kAuthentication);
  w.i32(static_cast<std::int32_t>(AuthCode::sasl));
  for (const auto& m : mechanisms) {
    w.cstring(m);
  }
  w.u8(0);
  w.finish_message();
}

}  // namespace switchyard::protocol
