#pragma once

#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>

// libc's recv and sendmsg are thread cancellation points: each call turns asynchronous
// cancellation on and off around the system call, about 40 instructions of the relay's ~90 per
// call, four calls per relayed statement. Switchyard never cancels a thread, so the relay's
// reads and writes go to the kernel through syscall(), which is not a cancellation point.
// Same results and errno as the libc functions.
namespace switchyard::proxy::socket_calls {

inline ssize_t recv(int fd, void* buffer, std::size_t size, int flags) {
  return ::syscall(SYS_recvfrom, fd, buffer, size, flags, nullptr, nullptr);
}

inline ssize_t send(int fd, const void* buffer, std::size_t size, int flags) {
  return ::syscall(SYS_sendto, fd, buffer, size, flags, nullptr, 0);
}

inline ssize_t sendmsg(int fd, const msghdr* message, int flags) {
  return ::syscall(SYS_sendmsg, fd, message, flags);
}

}  // namespace switchyard::proxy::socket_calls
