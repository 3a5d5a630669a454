#pragma once

#include <pthread.h>

#include <string>
#include <string_view>
#include <thread>

namespace switchyard::proxy {

/// Names `thread` as `top -H`, `ps -L` and /proc/PID/task/TID/comm show it, so an operator can
/// tell a saturated worker from the reloader. Called by the thread's creator right after it
/// starts, so the name is set once the creating call returns, whether or not the new thread
/// has run yet. Linux keeps 15 bytes.
inline void name_thread(std::thread& thread, std::string_view name) {
  const std::string kept(name.substr(0, 15));
  pthread_setname_np(thread.native_handle(), kept.c_str());
}

}  // namespace switchyard::proxy
