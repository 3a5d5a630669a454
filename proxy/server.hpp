#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "proxy/logging.hpp"
#include "proxy/proxy_state.hpp"

namespace switchyard::proxy {

/// The running proxy: the client listeners (one io_context per thread), the admin endpoint,
/// the config reloader and its file watch. The main thread handles signals: SIGHUP reloads,
/// SIGTERM/SIGINT drain and stop. A reload that changes `[listen] address` or `[admin] address`
/// binds the new address before it takes effect; open sessions are never dropped.
class Server {
 public:
  /// `loaded_text`: the bytes of the config file the running config came from.
  /// `log_overrides`: the log settings the command line gave, which reloads keep.
  Server(std::filesystem::path config_path, std::shared_ptr<ProxyState> state,
         std::string loaded_text, LogOverrides log_overrides);
  /// Runs until drained. Returns the process exit code.
  int run();

 private:
  std::filesystem::path config_path_;
  std::shared_ptr<ProxyState> state_;
  std::string loaded_text_;
  LogOverrides log_overrides_;
};

}  // namespace switchyard::proxy
