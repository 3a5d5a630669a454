#include "protocol/backend_key_data.hpp"

#include "protocol/byte_reader.hpp"
#include "protocol/message_types.hpp"

namespace switchyard::protocol {

std::optional<BackendKeyData> decode_backend_key_data(std::span<const std::byte> body) {
  ByteReader r(body);
  auto pid = r.i32();
  auto key = r.i32();
  if (!pid || !key || !r.at_end()) {
    return std::nullopt;
  }
  return BackendKeyData{*pid, *key};
}

void encode_backend_key_data(MessageWriter& w, const BackendKeyData& k) {
  w.begin_message(backend::kBackendKeyData);
  w.i32(k.process_id);
  w.i32(k.secret_key);
  w.finish_message();
}

}  // namespace switchyard::protocol
