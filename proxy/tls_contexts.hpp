#pragma once

#include <memory>
#include <string>
#include <variant>

#include "proxy/asio.hpp"

namespace switchyard::proxy {

/// Why TLS material could not be used: `key` is the config key ("cert", "key", "ca_file")
/// naming the file at fault, so the error can point at its line.
struct TlsFileError {
  std::string key;
  std::string message;
};

/// Client-facing TLS: the certificate and key Switchyard presents. TLS 1.2 is the floor.
/// Returns the context or what failed, naming the file.
std::variant<std::shared_ptr<ssl::context>, TlsFileError> make_server_tls_context(
    const std::string& cert_file, const std::string& key_file);

/// Upstream TLS. With `ca_file` set the peer certificate is verified against it (verify-full
/// adds the host name check per connection); without it nothing is verified (require/prefer).
std::variant<std::shared_ptr<ssl::context>, TlsFileError> make_upstream_tls_context(
    const std::string& ca_file);

}  // namespace switchyard::proxy
