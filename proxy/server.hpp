#pragma once

#include <filesystem>
#include <memory>

#include "proxy/proxy_state.hpp"

namespace switchyard::proxy {

/// The running proxy: one io_context per thread, each with its own SO_REUSEPORT listener, so
/// the kernel spreads connections across cores and a session never changes threads.
/// The main thread handles signals: SIGHUP reloads, SIGTERM/SIGINT drain and stop.
class Server {
 public:
  Server(std::filesystem::path config_path, std::shared_ptr<ProxyState> state);
  /// Runs until drained. Returns the process exit code.
  int run();

 private:
  std::filesystem::path config_path_;
  std::shared_ptr<ProxyState> state_;
};

}  // namespace switchyard::proxy
