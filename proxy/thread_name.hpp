#pragma once

#include <pthread.h>

#include <string>
#include <string_view>

namespace switchyard::proxy {

/// Names the calling thread as `top -H`, `ps -L` and /proc/PID/task/TID/comm show it, so an
/// operator can tell a saturated worker from the reloader. Linux keeps 15 bytes of a name.
inline void name_this_thread(std::string_view name) {
  const std::string kept(name.substr(0, 15));
  pthread_setname_np(pthread_self(), kept.c_str());
}

}  // namespace switchyard::proxy
