#include "proxy/worker_inbox.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace switchyard::proxy {
namespace {

int make_eventfd() {
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) {
    throw std::system_error(errno, std::generic_category(), "eventfd for a worker's inbox");
  }
  return fd;
}

}  // namespace

WorkerInbox::WorkerInbox(net::io_context& context) : wake_(context.get_executor()) {
  fd_ = make_eventfd();
  wake_.assign(fd_);
  wait();
}

void WorkerInbox::post(Task task) {
  std::lock_guard lock(mutex_);
  tasks_.push_back(std::move(task));
  if (signalled_ || closed_) {
    return;
  }
  signalled_ = true;
  // Under the lock: close() closes the descriptor under it, so this never writes to a number
  // the process has since reused. An eventfd write of 1 cannot block or fail short of a
  // counter near 2^64.
  const std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(fd_, &one, sizeof one);
}

void WorkerInbox::close() {
  std::lock_guard lock(mutex_);
  if (closed_) {
    return;
  }
  closed_ = true;
  error_code ignored;
  wake_.close(ignored);
  fd_ = -1;
}

// A read, not a wait for readability: Asio's reactor lets a wait complete at once until it
// sees the descriptor drained, so waits would spin. A read takes the count, or else waits for
// the next write's epoll edge; a write made while no read is queued is found by the next read.
void WorkerInbox::wait() {
  wake_.async_read_some(net::buffer(&wake_count_, sizeof wake_count_),
                        [this](error_code ec, std::size_t) {
                          if (!ec && run_posted()) {
                            wait();
                          }
                        });
}

bool WorkerInbox::run_posted() {
  std::vector<Task> batch;
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      return false;
    }
    batch.swap(tasks_);
    signalled_ = false;
  }
  for (auto& task : batch) {
    task();
  }
  std::lock_guard lock(mutex_);
  return !closed_;
}

}  // namespace switchyard::proxy
