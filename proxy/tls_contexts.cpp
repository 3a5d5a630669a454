#include "proxy/tls_contexts.hpp"

#include <openssl/ssl.h>

namespace switchyard::proxy {
namespace {

void harden(ssl::context& context) {
  context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                      ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
}

// Without a callback OpenSSL asks for an encrypted key's passphrase on the terminal, which
// blocks start, `check` or the reloader thread (and with it every signal) for as long as
// nobody types. Answering with no passphrase makes the load fail at once; `asked` tells that
// failure apart from a file that is not a key.
int refuse_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* asked) {
  if (asked != nullptr) {
    *static_cast<bool*>(asked) = true;
  }
  return -1;
}

}  // namespace

std::variant<std::shared_ptr<ssl::context>, TlsFileError> make_server_tls_context(
    const std::string& cert_file, const std::string& key_file) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  harden(*context);
  error_code ec;
  context->use_certificate_chain_file(cert_file, ec);
  if (ec) {
    return TlsFileError{"cert", "cannot load TLS certificate " + cert_file + ": " + ec.message()};
  }
  bool asked = false;
  SSL_CTX_set_default_passwd_cb(context->native_handle(), refuse_passphrase);
  SSL_CTX_set_default_passwd_cb_userdata(context->native_handle(), &asked);
  context->use_private_key_file(key_file, ssl::context::pem, ec);
  SSL_CTX_set_default_passwd_cb_userdata(context->native_handle(), nullptr);
  if (ec && asked) {
    return TlsFileError{"key",
                        "the key in " + key_file + " is encrypted; give an unencrypted PEM key"};
  }
  if (ec) {
    return TlsFileError{"key", "cannot load TLS key " + key_file + ": " + ec.message()};
  }
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    return TlsFileError{"key", "TLS key " + key_file + " does not match certificate " + cert_file};
  }
  return context;
}

std::variant<std::shared_ptr<ssl::context>, TlsFileError> make_upstream_tls_context(
    const std::string& ca_file) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  harden(*context);
  if (!ca_file.empty()) {
    error_code ec;
    context->load_verify_file(ca_file, ec);
    if (ec) {
      return TlsFileError{"ca_file",
                          "cannot load upstream CA file " + ca_file + ": " + ec.message()};
    }
    context->set_verify_mode(ssl::verify_peer);
  } else {
    context->set_verify_mode(ssl::verify_none);
  }
  return context;
}

}  // namespace switchyard::proxy
