// ThreadExecutor: the runtime on real threads. Each case runs with 1, 2 and
// 4 workers; the Go conformance suites (chan_test, select_test) also run on
// ThreadExecutor through CHANFUZZ_TEST_EXECUTOR (see CMakeLists.txt).
#include <gtest/gtest.h>

#include <atomic>
#include <chanfuzz/chanfuzz.hpp>
#include <chrono>
#include <memory>
#include <string>

namespace chanfuzz {
namespace {

using namespace std::chrono_literals;
using Outcome = ThreadRunResult::Outcome;

class ThreadExecutorTest : public ::testing::TestWithParam<unsigned> {
 protected:
  ThreadRunResult run(Task<void> main, Duration leak_wait = Duration::zero()) {
    ThreadExecutor executor(
        ThreadOptions{.threads = GetParam(), .seed = 7, .leak_wait = leak_wait});
    EXPECT_EQ(executor.threads(), GetParam());
    return executor.run(std::move(main));
  }
};

std::string describe(const ThreadRunResult& r) {
  std::string out = std::string(thread_outcome_name(r.outcome)) + ": " + r.message + "\n";
  for (const auto& task : r.tasks) out += task.name + " [" + task.state + "]\n";
  return out;
}

Task<void> ping_pong(int rounds) {
  auto ping = make_chan<int>();
  auto pong = make_chan<int>();
  go("ponger", [ping, pong, rounds]() -> Task<> {
    for (int i = 0; i < rounds; ++i) {
      auto r = co_await ping.recv();
      co_await pong.send(r.value + 1);
    }
  });
  for (int i = 0; i < rounds; ++i) {
    co_await ping.send(i);
    auto r = co_await pong.recv();
    if (r.value != i + 1) throw std::runtime_error("ping-pong got a wrong value");
  }
}

TEST_P(ThreadExecutorTest, unbuffered_ping_pong_delivers_every_value_in_order) {
  auto r = run(ping_pong(20000));
  EXPECT_EQ(r.outcome, Outcome::ok) << describe(r);
  EXPECT_TRUE(r.main_returned);
  EXPECT_EQ(r.tasks_spawned, 2u);
}

TEST_P(ThreadExecutorTest, many_producers_and_consumers_transfer_each_value_once) {
  constexpr int kProducers = 8;
  constexpr int kValues = 2000;
  auto seen = std::make_shared<std::vector<std::atomic<int>>>(kProducers * kValues);
  auto r = run([](std::shared_ptr<std::vector<std::atomic<int>>> seen) -> Task<void> {
    auto ch = make_chan<int>(4);
    WaitGroup producers;
    WaitGroup consumers;
    for (int p = 0; p < kProducers; ++p) {
      producers.add(1);
      go(
          [ch, producers](int p) -> Task<> {
            for (int i = 0; i < kValues; ++i) co_await ch.send(p * kValues + i);
            producers.done();
          },
          p);
    }
    for (int c = 0; c < 4; ++c) {
      consumers.add(1);
      go([ch, consumers, seen]() -> Task<> {
        for (;;) {
          auto r = co_await ch.recv();
          if (!r.ok) break;
          (*seen)[static_cast<std::size_t>(r.value)].fetch_add(1);
        }
        consumers.done();
      });
    }
    co_await producers.wait();
    ch.close();
    co_await consumers.wait();
  }(seen));
  ASSERT_EQ(r.outcome, Outcome::ok) << describe(r);
  for (const auto& count : *seen) ASSERT_EQ(count.load(), 1);
}

TEST_P(ThreadExecutorTest, mutex_excludes_across_workers) {
  auto counter = std::make_shared<long>(0);
  auto r = run([](std::shared_ptr<long> counter) -> Task<void> {
    Mutex mu;
    WaitGroup wg;
    for (int t = 0; t < 8; ++t) {
      wg.add(1);
      go([mu, wg, counter]() -> Task<> {
        for (int i = 0; i < 500; ++i) {
          co_await mu.lock();
          long seen = *counter;
          co_await yield();
          *counter = seen + 1;
          mu.unlock();
        }
        wg.done();
      });
    }
    co_await wg.wait();
  }(counter));
  ASSERT_EQ(r.outcome, Outcome::ok) << describe(r);
  EXPECT_EQ(*counter, 8 * 500);
}

TEST_P(ThreadExecutorTest, sleep_and_after_use_the_real_clock) {
  auto r = run([]() -> Task<void> {
    TimePoint start = now();
    co_await sleep_for(3ms);
    if (now() - start < 3ms) throw std::runtime_error("woke early");
    auto s = co_await select(after(2ms).recv(), Chan<int>().recv());
    if (s.index() != 0 || now() - start < 5ms) throw std::runtime_error("after() fired early");
  }());
  EXPECT_EQ(r.outcome, Outcome::ok) << describe(r);
}

TEST_P(ThreadExecutorTest, context_cancel_reaches_1000_waiting_children) {
  auto exited = std::make_shared<std::atomic<int>>(0);
  auto r = run([](std::shared_ptr<std::atomic<int>> exited) -> Task<void> {
    auto [root, cancel] = with_cancel(background());
    WaitGroup wg;
    for (int i = 0; i < 1000; ++i) {
      auto [child, child_cancel] = with_cancel(root);
      wg.add(1);
      go([ctx = child, wg, exited]() -> Task<> {
        co_await ctx.done().recv();
        if (ctx.err() == ContextError::canceled) exited->fetch_add(1);
        wg.done();
      });
    }
    co_await sleep_for(1ms);
    cancel();
    co_await wg.wait();
  }(exited));
  ASSERT_EQ(r.outcome, Outcome::ok) << describe(r);
  EXPECT_EQ(exited->load(), 1000);
}

TEST_P(ThreadExecutorTest, with_timeout_fires_on_the_real_clock) {
  auto r = run([]() -> Task<void> {
    // Read the clock before the deadline is set: the deadline is now() + 2ms
    // at the with_timeout call, so a start read after it could be later.
    TimePoint start = now();
    auto [ctx, cancel] = with_timeout(background(), 2ms);
    co_await ctx.done().recv();
    if (ctx.err() != ContextError::deadline_exceeded) throw std::runtime_error("not a deadline");
    if (now() - start < 2ms) throw std::runtime_error("fired early");
    cancel();
  }());
  EXPECT_EQ(r.outcome, Outcome::ok) << describe(r);
}

TEST_P(ThreadExecutorTest, every_task_blocked_is_a_deadlock_with_the_task_dump) {
  auto r = run([]() -> Task<void> {
    auto ch = make_chan<int>();
    go("sender", [ch]() -> Task<> { co_await ch.send(1); });
    co_await sleep_for(1ms);
    co_await ch.recv();  // takes the value
    co_await ch.recv();  // nobody sends again
  }());
  ASSERT_EQ(r.outcome, Outcome::deadlock) << describe(r);
  EXPECT_EQ(r.message, "all tasks are asleep");
  ASSERT_EQ(r.tasks.size(), 1u);
  EXPECT_EQ(r.tasks[0].name, "main");
  EXPECT_EQ(r.tasks[0].state, "chan receive");
  ASSERT_EQ(r.tasks[0].waiting_on.size(), 1u);
  EXPECT_EQ(r.tasks[0].waiting_on[0].receivers, 1u);
}

TEST_P(ThreadExecutorTest, a_pending_timer_is_not_a_deadlock) {
  auto r = run([]() -> Task<void> {
    auto ch = make_chan<int>(1);
    go([ch]() -> Task<> {
      co_await sleep_for(5ms);
      co_await ch.send(1);
    });
    co_await ch.recv();
  }());
  EXPECT_EQ(r.outcome, Outcome::ok) << describe(r);
}

TEST_P(ThreadExecutorTest, leaked_tasks_are_reported_after_main_returns) {
  auto r = run(
      []() -> Task<void> {
        auto ch = make_chan<int>();
        go("stuck", [ch]() -> Task<> { co_await ch.send(1); });
        go("finishes", []() -> Task<> { co_await sleep_for(2ms); });
        co_return;
      }(),
      2s);
  ASSERT_EQ(r.outcome, Outcome::leak) << describe(r);
  EXPECT_TRUE(r.main_returned);
  EXPECT_EQ(r.message, "1 task still blocked after main returned");
  ASSERT_EQ(r.tasks.size(), 1u);
  EXPECT_EQ(r.tasks[0].name, "stuck");
  EXPECT_EQ(r.tasks[0].state, "chan send");
  EXPECT_GT(r.tasks[0].blocked_at.line, 0u);
}

TEST_P(ThreadExecutorTest, without_a_leak_wait_main_returning_ends_the_run) {
  auto r = run([]() -> Task<void> {
    auto ch = make_chan<int>();
    go("stuck", [ch]() -> Task<> { co_await ch.send(1); });
    co_return;
  }());
  EXPECT_EQ(r.outcome, Outcome::ok) << describe(r);
  EXPECT_TRUE(r.main_returned);
}

TEST_P(ThreadExecutorTest, a_panic_ends_the_run_against_its_task) {
  auto r = run([]() -> Task<void> {
    auto ch = make_chan<int>();
    go("closer", [ch]() -> Task<> {
      ch.close();
      ch.close();
      co_return;
    });
    co_await ch.recv();
    co_await make_chan<int>().recv();  // main waits; the panic ends the run first
  }());
  ASSERT_EQ(r.outcome, Outcome::panic) << describe(r);
  EXPECT_EQ(r.message, "close of closed channel");
  ASSERT_EQ(r.tasks.size(), 1u);
  EXPECT_EQ(r.tasks[0].name, "closer");
  EXPECT_EQ(r.tasks[0].state, "panicked");
}

TEST_P(ThreadExecutorTest, spawning_10000_tasks_that_exit) {
  auto r = run([]() -> Task<void> {
    WaitGroup wg;
    for (int i = 0; i < 10000; ++i) {
      wg.add(1);
      go([wg]() -> Task<> {
        wg.done();
        co_return;
      });
    }
    co_await wg.wait();
  }());
  EXPECT_EQ(r.outcome, Outcome::ok) << describe(r);
  EXPECT_EQ(r.tasks_spawned, 10001u);
}

TEST_P(ThreadExecutorTest, cancelling_10000_blocked_selects) {
  auto r = run([]() -> Task<void> {
    auto work = make_chan<int>();
    auto done = make_chan<Unit>();
    WaitGroup wg;
    for (int i = 0; i < 10000; ++i) {
      wg.add(1);
      go([work, done, wg]() -> Task<> {
        auto s = co_await select(work.recv(), done.recv());
        (void)s;
        wg.done();
      });
    }
    co_await sleep_for(1ms);
    done.close();
    co_await wg.wait();
  }());
  EXPECT_EQ(r.outcome, Outcome::ok) << describe(r);
}

TEST_P(ThreadExecutorTest, a_busy_task_lets_the_others_run) {
  // One task never blocks; with a single worker the others still finish.
  auto r = run([]() -> Task<void> {
    auto stop = std::make_shared<std::atomic<bool>>(false);
    auto ch = make_chan<int>(1);
    go("busy", [stop, ch]() -> Task<> {
      while (!stop->load()) {
        co_await ch.send(1);
        co_await ch.recv();
      }
    });
    co_await sleep_for(1ms);
    stop->store(true);
  }());
  EXPECT_EQ(r.outcome, Outcome::ok) << describe(r);
}

TEST(ThreadExecutor, run_twice_and_empty_main_are_errors) {
  ThreadExecutor executor(ThreadOptions{.threads = 1});
  EXPECT_THROW(executor.run(Task<void>()), std::logic_error);
  ThreadExecutor again(ThreadOptions{.threads = 1});
  EXPECT_EQ(again.run(ping_pong(1)).outcome, Outcome::ok);
  EXPECT_THROW(again.run(ping_pong(1)), std::logic_error);
}

INSTANTIATE_TEST_SUITE_P(Workers, ThreadExecutorTest, ::testing::Values(1u, 2u, 4u),
                         [](const auto& info) { return std::to_string(info.param) + "_threads"; });

}  // namespace
}  // namespace chanfuzz
