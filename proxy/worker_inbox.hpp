#pragma once

#include <boost/asio/posix/stream_descriptor.hpp>
#include <concepts>
#include <cstdint>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>
#include <vector>

#include "proxy/asio.hpp"

namespace switchyard::proxy {

/// The concurrency hint of a worker's io_context: Asio takes no lock at all, neither around
/// each handler in its scheduler (about 190 of a relayed statement's 4,200 instructions, and
/// four atomic read-modify-writes) nor per I/O operation. The price is that nothing but the
/// worker's own thread may use the context, not even to post to it or stop it; other threads
/// hand it work through its WorkerInbox. Asio's own resolver refuses to work on such a context
/// (it posts its answer from a thread of its own), hence OffThread.
inline constexpr int kWorkerConcurrencyHint = BOOST_ASIO_CONCURRENCY_HINT_UNSAFE;

/// How other threads reach a worker: post() queues a task under a lock of the inbox's own and
/// wakes the worker's epoll through an eventfd; the worker runs the tasks in the order posted.
class WorkerInbox {
 public:
  /// A piece of work to run once; move-only, since it often carries a completion handler.
  class Task {
   public:
    // Implicit, so that post() takes a lambda as it is.
    template <std::invocable F>
    Task(F f)
        : impl_(std::make_unique<Impl<F>>(std::move(f))) {}  // NOLINT(google-explicit-constructor)
    void operator()() { impl_->run(); }

   private:
    struct Base {
      virtual ~Base() = default;
      virtual void run() = 0;
    };
    template <class F>
    struct Impl final : Base {
      explicit Impl(F f) : fn(std::move(f)) {}
      void run() override { fn(); }
      F fn;
    };
    std::unique_ptr<Base> impl_;
  };

  /// Listens on `context`, which must not be running yet. Throws std::system_error when no
  /// eventfd can be made (out of descriptors).
  explicit WorkerInbox(net::io_context& context);
  WorkerInbox(const WorkerInbox&) = delete;
  WorkerInbox& operator=(const WorkerInbox&) = delete;

  /// Runs `task` on the worker's thread. Any thread may call it. Once closed, the task is kept
  /// and never run: it is destroyed with the inbox, after the worker's thread has ended.
  void post(Task task);

  /// On the worker's thread (or before it runs): takes no more wake-ups.
  void close();

 private:
  void wait();
  // Runs what was posted; false once closed.
  bool run_posted();

  net::posix::basic_stream_descriptor<executor> wake_;
  std::uint64_t wake_count_ = 0;  // what the eventfd read returns; only the worker reads it
  std::mutex mutex_;
  std::vector<Task> tasks_;  // guarded by mutex_, as are the three below
  int fd_ = -1;              // the eventfd, written by post(): closed under the lock
  bool signalled_ = false;   // a wake-up is written and not yet consumed by run_posted()
  bool closed_ = false;
};

/// Blocking calls made for a worker's coroutines (libpq catalog look-ups, getaddrinfo) run on
/// a thread pool; the coroutine resumes on its worker, through the inbox, with the answer.
class OffThread {
 public:
  OffThread(net::thread_pool& pool, WorkerInbox& inbox) : pool_(&pool), inbox_(&inbox) {}

  /// The same worker's work on another pool.
  OffThread on(net::thread_pool& pool) const { return OffThread(pool, *inbox_); }

  /// `work()` on the pool; its result, on this worker: co_await it there. `work` must not
  /// throw. Callers pass a named callable: GCC 12 may destroy a temporary with a destructor
  /// twice when it sits in a co_await expression that suspends.
  template <class Work>
  auto run(Work&& work) const {
    using Answer = std::invoke_result_t<std::decay_t<Work>&>;
    return net::async_initiate<const net::use_awaitable_t<executor>, void(Answer)>(
        Initiation{pool_, inbox_}, net::use_awaitable_t<executor>{}, std::forward<Work>(work));
  }

 private:
  struct Initiation {
    net::thread_pool* pool;
    WorkerInbox* inbox;

    template <class Handler, class Work>
    void operator()(Handler handler, Work job) const {
      net::post(*pool,
                [inbox = inbox, handler = std::move(handler), job = std::move(job)]() mutable {
                  auto answer = job();
                  inbox->post([handler = std::move(handler), answer = std::move(answer)]() mutable {
                    std::move(handler)(std::move(answer));
                  });
                });
    }
  };

  net::thread_pool* pool_;
  WorkerInbox* inbox_;
};

}  // namespace switchyard::proxy
