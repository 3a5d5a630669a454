#pragma once

#include <pthread.h>
#include <sched.h>

#include <thread>

namespace switchyard::proxy {

/// Puts `thread` in Linux's SCHED_BATCH class. Woken by a packet, such a thread does not
/// preempt the task running on its CPU (often the database or the application beside the
/// proxy): it runs when that task's turn ends, and then finds more messages waiting, so it
/// sleeps and wakes less often per message. On an idle CPU it runs at once, as before. No
/// privilege is needed; returns 0, or the error (a seccomp filter may refuse the call).
inline int use_batch_scheduling(std::thread& thread) {
  sched_param param{};
  param.sched_priority = 0;
  return pthread_setschedparam(thread.native_handle(), SCHED_BATCH, &param);
}

}  // namespace switchyard::proxy
