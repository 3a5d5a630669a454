#pragma once

#include <memory>
#include <string>
#include <variant>

#include "proxy/asio.hpp"

namespace switchyard::proxy {

/// Client-facing TLS: the certificate and key Switchyard presents. TLS 1.2 is the floor.
/// Returns the context or a message naming the file that failed.
std::variant<std::shared_ptr<ssl::context>, std::string> make_server_tls_context(
    const std::string& cert_file, const std::string& key_file);

/// Upstream TLS. With `ca_file` set the peer certificate is verified against it (verify-full
/// adds the host name check per connection); without it nothing is verified (require/prefer).
std::variant<std::shared_ptr<ssl::context>, std::string> make_upstream_tls_context(
    const std::string& ca_file);

}  // namespace switchyard::proxy
