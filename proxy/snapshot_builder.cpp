#include "proxy/snapshot_builder.hpp"

#include "proxy/tls_contexts.hpp"

namespace switchyard::proxy {

std::variant<std::shared_ptr<const Snapshot>, std::vector<std::string>> build_snapshot(
    config::Config config, std::uint64_t generation) {
  std::vector<std::string> errors;
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->generation = generation;
  if (config.tls) {
    auto made = make_server_tls_context(config.tls->cert, config.tls->key);
    if (auto* error = std::get_if<std::string>(&made)) {
      errors.push_back("[tls]: " + *error);
    } else {
      snapshot->client_tls = std::get<std::shared_ptr<ssl::context>>(made);
    }
  }
  if (config.upstream.tls != config::TlsMode::disable) {
    auto made = make_upstream_tls_context(config.upstream.ca_file);
    if (auto* error = std::get_if<std::string>(&made)) {
      errors.push_back("[upstream]: " + *error);
    } else {
      snapshot->upstream_tls = std::get<std::shared_ptr<ssl::context>>(made);
    }
  }
  if (!errors.empty()) {
    return errors;
  }
  snapshot->config = std::make_shared<const config::Config>(std::move(config));
  return std::shared_ptr<const Snapshot>(std::move(snapshot));
}

}  // namespace switchyard::proxy
