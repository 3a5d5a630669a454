#include "backfill/interrupt.hpp"

#include <csignal>
#include <thread>

namespace switchyard::backfill {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;

void on_signal(int) { g_interrupted = 1; }

}  // namespace

void catch_interrupts() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  // A dropped ssh session sends SIGHUP; under nohup it is ignored, and must stay so.
  struct sigaction hangup {};
  if (sigaction(SIGHUP, nullptr, &hangup) == 0 && hangup.sa_handler != SIG_IGN) {
    sigaction(SIGHUP, &action, nullptr);
  }
}

bool interrupted() { return g_interrupted != 0; }

bool pause_for(std::chrono::milliseconds duration) {
  // Short steps, so Ctrl-C during a long --sleep or a lag pause is answered promptly.
  const auto deadline = std::chrono::steady_clock::now() + duration;
  while (!interrupted()) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) {
      return true;
    }
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(50)));
  }
  return false;
}

}  // namespace switchyard::backfill
