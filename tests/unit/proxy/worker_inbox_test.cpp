#include "proxy/worker_inbox.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace switchyard::proxy {
namespace {

constexpr auto kBound = std::chrono::seconds(20);

// The answer within kBound, or the test binary aborts: a task still queued refers to the
// test's locals, so the test cannot just return (and get() would wait for ever).
template <class T>
T answer_within_bound(std::future<T>& future) {
  if (future.wait_for(kBound) != std::future_status::ready) {
    std::fprintf(stderr, "no answer from the worker within %lld s\n",
                 static_cast<long long>(kBound.count()));
    std::abort();
  }
  return future.get();
}

// A worker as Listeners makes one: a lock-free context run by one thread, and its inbox.
struct Worker {
  net::io_context context{kWorkerConcurrencyHint};
  net::executor_work_guard<net::io_context::executor_type> keep_running{context.get_executor()};
  WorkerInbox inbox{context};
  std::thread thread;
  std::promise<bool> ended;  // set when run() returns, so that stopping is a bounded wait

  void start() {
    thread = std::thread([this] {
      context.run();
      ended.set_value(true);
    });
  }
  void stop() {
    inbox.post([this] {
      inbox.close();
      context.stop();
    });
    if (thread.joinable()) {
      auto run_ended = ended.get_future();
      answer_within_bound(run_ended);  // a stop lost in the inbox aborts instead of hanging
      thread.join();
    }
  }
  ~Worker() { stop(); }
};

// What a task run on the worker computes, handed back to the test's thread.
template <class T>
T ask(Worker& worker, std::function<T()> question) {
  std::promise<T> answer;
  auto future = answer.get_future();
  worker.inbox.post([&] { answer.set_value(question()); });
  return answer_within_bound(future);
}

TEST(WorkerInboxTest, ATaskPostedFromAnotherThreadRunsOnTheWorker) {
  Worker worker;
  worker.start();
  auto ran_on = ask<std::thread::id>(worker, [] { return std::this_thread::get_id(); });
  EXPECT_EQ(ran_on, worker.thread.get_id());
}

TEST(WorkerInboxTest, TasksPostedBeforeTheWorkerRunsRunOnceItDoes) {
  Worker worker;
  int ran = 0;  // touched by the worker only, read after a later task
  worker.inbox.post([&] { ++ran; });
  worker.inbox.post([&] { ++ran; });
  worker.start();
  EXPECT_EQ(ask<int>(worker, [&] { return ran; }), 2);
}

// Four threads post at once while the worker runs what came before: every task runs, once,
// and each thread's tasks run in the order it posted them.
TEST(WorkerInboxTest, PostsFromSeveralThreadsAllRunOnceInTheirOrder) {
  constexpr int kThreads = 4;
  constexpr int kEach = 5000;
  Worker worker;
  worker.start();
  std::vector<int> next(kThreads, 0);  // worker only
  int out_of_order = 0;                // worker only
  std::vector<std::thread> posters;
  for (int t = 0; t < kThreads; ++t) {
    posters.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        worker.inbox.post([&, t, i] {
          if (next[t] != i) {
            ++out_of_order;
          }
          next[t] = i + 1;
        });
      }
    });
  }
  for (auto& poster : posters) {
    poster.join();
  }
  auto seen = ask<std::vector<int>>(worker, [&] { return next; });
  EXPECT_EQ(seen, std::vector<int>(kThreads, kEach));
  EXPECT_EQ(ask<int>(worker, [&] { return out_of_order; }), 0);
}

// Each post lands while the worker is between two wake-ups (it has just run the previous
// task): a wake-up lost there would stop the exchange, and the bounded wait would fail.
TEST(WorkerInboxTest, PingPongWithAnotherThreadLosesNoWakeUp) {
  constexpr int kRounds = 20000;
  Worker worker;
  worker.start();
  net::thread_pool other(1);
  std::promise<int> done;
  std::function<void(int)> serve = [&](int round) {
    if (round == kRounds) {
      done.set_value(round);
      return;
    }
    net::post(other, [&, round] { worker.inbox.post([&, round] { serve(round + 1); }); });
  };
  worker.inbox.post([&] { serve(0); });
  auto future = done.get_future();
  EXPECT_EQ(answer_within_bound(future), kRounds);
  other.join();
}

TEST(WorkerInboxTest, AfterCloseTasksAreKeptUnrunAndDestroyedWithTheInbox) {
  auto sentinel = std::make_shared<int>(0);
  {
    Worker worker;
    worker.start();
    worker.stop();
    worker.inbox.post([sentinel] { ++*sentinel; });
    EXPECT_EQ(sentinel.use_count(), 2);
  }
  EXPECT_EQ(sentinel.use_count(), 1);
  EXPECT_EQ(*sentinel, 0);
}

struct Seen {
  std::thread::id worked_on;
  std::thread::id resumed_on;
  std::string answer;
};

// A function, not a lambda: a coroutine lambda's captures die with the lambda.
awaitable<void> ask_off_thread(OffThread off_thread, std::promise<Seen>& seen) {
  auto work = [] { return std::make_pair(std::this_thread::get_id(), std::string("rows")); };
  auto [worked_on, answer] = co_await off_thread.run(std::move(work));
  seen.set_value({worked_on, std::this_thread::get_id(), answer});
}

TEST(WorkerInboxTest, OffThreadRunsTheWorkOnThePoolAndResumesOnTheWorker) {
  Worker worker;
  net::thread_pool pool(1);
  std::promise<Seen> seen;
  net::co_spawn(worker.context, ask_off_thread(OffThread(pool, worker.inbox), seen), net::detached);
  worker.start();
  auto future = seen.get_future();
  auto result = answer_within_bound(future);
  EXPECT_EQ(result.answer, "rows");
  EXPECT_NE(result.worked_on, worker.thread.get_id());
  EXPECT_EQ(result.resumed_on, worker.thread.get_id());
  worker.stop();
  pool.join();
}

}  // namespace
}  // namespace switchyard::proxy
