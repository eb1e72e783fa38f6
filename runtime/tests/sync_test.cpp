// Mutex and WaitGroup: Go's sync.Mutex and sync.WaitGroup semantics, under
// many schedules.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "sim_test_support.hpp"

namespace chanfuzz {
namespace {

using testing::expect_ok;
using testing::expect_outcome;
using testing::run_once;
using testing::seed_count;

// Statistical checks need enough seeds, whatever CHANFUZZ_TEST_SEEDS says.
std::uint64_t statistical_seeds() { return std::max<std::uint64_t>(seed_count(), 100); }

constexpr int kWorkers = 4;
constexpr int kRounds = 8;

// Every seed: the run leaks exactly one task, blocked in `state`.
void expect_one_leaked(const std::function<Task<void>()>& make, const std::string& state) {
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    RunResult result = run_once(make, seed);
    ASSERT_EQ(result.outcome, RunOutcome::leak)
        << "seed " << seed << ": " << testing::describe(result);
    ASSERT_EQ(result.tasks.size(), 1u) << "seed " << seed;
    EXPECT_EQ(result.tasks[0].state, state) << "seed " << seed;
  }
}

// Every seed: the run panics with exactly `message`.
void expect_panic(const std::function<Task<void>()>& make, const std::string& message) {
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    RunResult result = run_once(make, seed);
    ASSERT_EQ(result.outcome, RunOutcome::panic)
        << "seed " << seed << ": " << testing::describe(result);
    EXPECT_EQ(result.message, message) << "seed " << seed;
    ASSERT_EQ(result.tasks.size(), 1u);
    EXPECT_EQ(result.tasks[0].panic, message);
  }
}

// ---- Mutex ----

// N tasks increment a counter with a scheduling point between the read and
// the write: any overlap would lose an update.
Task<> increment_under_lock(Mutex mu, WaitGroup wg, std::shared_ptr<int> counter,
                            std::shared_ptr<int> inside) {
  for (int i = 0; i < kRounds; ++i) {
    co_await mu.lock();
    CF_EXPECT(++*inside == 1);
    int seen = *counter;
    co_await yield();
    *counter = seen + 1;
    --*inside;
    mu.unlock();
  }
  wg.done();
}

TEST(Mutex, excludes_other_tasks_from_the_critical_section) {
  expect_ok([]() -> Task<> {
    Mutex mu;
    WaitGroup wg;
    auto counter = std::make_shared<int>(0);
    auto inside = std::make_shared<int>(0);
    wg.add(kWorkers);
    for (int t = 0; t < kWorkers; ++t) go(increment_under_lock, mu, wg, counter, inside);
    co_await wg.wait();
    CF_EXPECT(*counter == kWorkers * kRounds);
  });
}

// The control for the test above: without the lock the same schedules do
// lose updates, so the yield really interleaves the workers.
TEST(Mutex, control_without_the_lock_updates_are_lost_on_some_seed) {
  auto lost = std::make_shared<int>(0);
  expect_ok(
      [lost]() -> Task<> {
        WaitGroup wg;
        auto counter = std::make_shared<int>(0);
        wg.add(kWorkers);
        for (int t = 0; t < kWorkers; ++t) {
          go([wg, counter]() -> Task<> {
            for (int i = 0; i < kRounds; ++i) {
              int seen = *counter;
              co_await yield();
              *counter = seen + 1;
            }
            wg.done();
          });
        }
        co_await wg.wait();
        if (*counter != kWorkers * kRounds) ++*lost;
      },
      statistical_seeds());
  EXPECT_GT(*lost, 0);
}

TEST(Mutex, lock_blocks_until_the_holder_unlocks) {
  expect_ok([]() -> Task<> {
    Mutex mu;
    WaitGroup wg;
    auto acquired = std::make_shared<bool>(false);
    co_await mu.lock();
    wg.add(1);
    go([mu, wg, acquired]() -> Task<> {
      co_await mu.lock();
      *acquired = true;
      mu.unlock();
      wg.done();
    });
    for (int i = 0; i < 10; ++i) {
      co_await yield();
      CF_EXPECT(!*acquired);
    }
    mu.unlock();
    co_await wg.wait();
    CF_EXPECT(*acquired);
  });
}

TEST(Mutex, blocked_lock_is_reported_as_sync_mutex_lock) {
  expect_one_leaked(
      []() -> Task<> {
        Mutex mu;
        co_await mu.lock();
        go([mu]() -> Task<> { co_await mu.lock(); });
      },
      "sync.Mutex.Lock");
}

TEST(Mutex, try_lock_takes_a_free_mutex_and_fails_on_a_held_one) {
  expect_ok([]() -> Task<> {
    Mutex mu;
    CF_EXPECT(mu.try_lock());
    CF_EXPECT(!mu.try_lock());
    mu.unlock();
    CF_EXPECT(mu.try_lock());
    // Held by another task: try_lock fails there too, and never blocks.
    auto result = make_chan<bool>(1);
    go([mu, result]() -> Task<> { co_await result.send(mu.try_lock()); });
    auto r = co_await result.recv();
    CF_EXPECT(r.ok && !r.value);
    mu.unlock();
    co_await mu.lock();
    mu.unlock();
  });
}

TEST(Mutex, scoped_guard_unlocks_at_scope_end) {
  expect_ok([]() -> Task<> {
    Mutex mu;
    {
      LockGuard guard = co_await mu.scoped();
      CF_EXPECT(guard.owns_lock());
      CF_EXPECT(!mu.try_lock());
    }
    CF_EXPECT(mu.try_lock());
    mu.unlock();
    // unlock() releases early; the destructor then does nothing.
    {
      LockGuard guard = co_await mu.scoped();
      guard.unlock();
      CF_EXPECT(!guard.owns_lock());
      CF_EXPECT(mu.try_lock());
      mu.unlock();
    }
    // A moved guard unlocks once, from its new owner.
    LockGuard outer;
    {
      LockGuard inner = co_await mu.scoped();
      outer = std::move(inner);
    }
    CF_EXPECT(!mu.try_lock());
    outer.unlock();
    CF_EXPECT(mu.try_lock());
    mu.unlock();
  });
}

TEST(Mutex, scoped_waits_for_the_holder_and_releases_for_the_next) {
  expect_ok([]() -> Task<> {
    Mutex mu;
    WaitGroup wg;
    auto counter = std::make_shared<int>(0);
    wg.add(kWorkers);
    for (int t = 0; t < kWorkers; ++t) {
      go([mu, wg, counter]() -> Task<> {
        for (int i = 0; i < kRounds; ++i) {
          LockGuard guard = co_await mu.scoped();
          int seen = *counter;
          co_await yield();
          *counter = seen + 1;
        }
        wg.done();
      });
    }
    co_await wg.wait();
    CF_EXPECT(*counter == kWorkers * kRounds);
  });
}

TEST(Mutex, another_task_may_unlock) {
  expect_ok([]() -> Task<> {
    Mutex mu;
    co_await mu.lock();
    go([mu]() -> Task<> {
      co_await yield();
      mu.unlock();
    });
    co_await mu.lock();  // only the other task's unlock lets this through
    mu.unlock();
    CF_EXPECT(mu.try_lock());
    mu.unlock();
  });
}

TEST(Mutex, unlock_of_unlocked_panics_with_gos_message) {
  expect_ok([]() -> Task<> {
    Mutex mu;
    bool caught = false;
    try {
      mu.unlock();
    } catch (const Panic& panic) {
      caught = std::string(panic.what()) == "sync: unlock of unlocked mutex";
    }
    CF_EXPECT(caught);
    CF_EXPECT(mu.try_lock());  // the failed unlock left it usable
    mu.unlock();
    co_return;
  });
  expect_panic(
      []() -> Task<> {
        Mutex mu;
        co_await mu.lock();
        mu.unlock();
        mu.unlock();
      },
      "sync: unlock of unlocked mutex");
}

// A task blocked in lock() and destroyed at teardown unlinks its waiter: the
// next unlock must not wake a destroyed task.
TEST(Mutex, blocked_waiter_destroyed_at_teardown_leaves_the_mutex_usable) {
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    Mutex mu;  // outlives both runs
    RunResult first = run_once(
        [mu]() -> Task<> {
          co_await mu.lock();
          go([mu]() -> Task<> { co_await mu.lock(); });
          go([mu]() -> Task<> { co_await mu.lock(); });
        },
        seed);
    ASSERT_EQ(first.outcome, RunOutcome::leak) << testing::describe(first);
    ASSERT_EQ(first.tasks.size(), 2u);
    RunResult second = run_once(
        [mu]() -> Task<> {
          mu.unlock();  // still held by the first run's main
          co_await mu.lock();
          go([mu]() -> Task<> {
            mu.unlock();
            co_return;
          });
          co_await mu.lock();
          mu.unlock();
        },
        seed);
    ASSERT_EQ(second.outcome, RunOutcome::ok)
        << "seed " << seed << ": " << testing::describe(second);
  }
}

// unlock() woke the waiter, but the run ended before it ran again: the
// woken waiter is destroyed without taking the lock.
TEST(Mutex, woken_waiter_destroyed_before_it_runs_does_not_keep_the_lock) {
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    Mutex mu;
    RunResult first = run_once(
        [mu]() -> Task<> {
          co_await mu.lock();
          go([mu]() -> Task<> { co_await mu.lock(); });
          for (int i = 0; i < 5; ++i) co_await yield();
          mu.unlock();
          throw std::runtime_error("stop the run here");
        },
        seed);
    ASSERT_EQ(first.outcome, RunOutcome::panic) << testing::describe(first);
    RunResult second = run_once(
        [mu]() -> Task<> {
          CF_EXPECT(mu.try_lock());
          mu.unlock();
          co_await mu.lock();
          mu.unlock();
        },
        seed);
    ASSERT_EQ(second.outcome, RunOutcome::ok)
        << "seed " << seed << ": " << testing::describe(second);
  }
}

// ---- WaitGroup ----

TEST(WaitGroup, wait_returns_when_the_counter_reaches_zero) {
  expect_ok([]() -> Task<> {
    WaitGroup wg;
    auto finished = std::make_shared<int>(0);
    wg.add(kWorkers);
    for (int t = 0; t < kWorkers; ++t) {
      go([wg, finished]() -> Task<> {
        co_await yield();
        ++*finished;
        wg.done();
      });
    }
    co_await wg.wait();
    CF_EXPECT(*finished == kWorkers);
    CF_EXPECT(wg.count() == 0);
  });
}

TEST(WaitGroup, add_n_then_n_done_releases_the_waiter_only_at_the_last) {
  expect_ok([]() -> Task<> {
    WaitGroup wg;
    auto dones = std::make_shared<int>(0);
    wg.add(5);
    go([wg, dones]() -> Task<> {
      for (int i = 0; i < 5; ++i) {
        co_await yield();
        CF_EXPECT(wg.count() == 5 - i);
        ++*dones;
        wg.done();
      }
    });
    co_await wg.wait();
    CF_EXPECT(*dones == 5);
  });
}

TEST(WaitGroup, zero_counter_wakes_every_waiter) {
  expect_ok([]() -> Task<> {
    WaitGroup gate;
    WaitGroup finished;
    auto woke = std::make_shared<int>(0);
    gate.add(1);
    finished.add(3);
    for (int t = 0; t < 3; ++t) {
      go([gate, finished, woke]() -> Task<> {
        co_await gate.wait();
        ++*woke;
        finished.done();
      });
    }
    for (int i = 0; i < 5; ++i) co_await yield();
    CF_EXPECT(*woke == 0);
    gate.done();
    co_await finished.wait();
    CF_EXPECT(*woke == 3);
  });
}

TEST(WaitGroup, wait_with_zero_counter_returns_at_once) {
  expect_ok([]() -> Task<> {
    WaitGroup fresh;
    TimePoint start = now();
    co_await fresh.wait();  // a lone task: blocking here would be a deadlock
    WaitGroup used;
    used.add(2);
    used.done();
    used.done();
    co_await used.wait();
    CF_EXPECT(now() == start);
  });
}

TEST(WaitGroup, negative_counter_panics_with_gos_message) {
  expect_ok([]() -> Task<> {
    WaitGroup wg;
    bool caught = false;
    try {
      wg.done();
    } catch (const Panic& panic) {
      caught = std::string(panic.what()) == "sync: negative WaitGroup counter";
    }
    CF_EXPECT(caught);
    wg.add(1);
    caught = false;
    try {
      wg.add(-2);
    } catch (const Panic& panic) {
      caught = std::string(panic.what()) == "sync: negative WaitGroup counter";
    }
    CF_EXPECT(caught);
    co_return;
  });
  expect_panic(
      []() -> Task<> {
        WaitGroup wg;
        wg.add(1);
        go([wg]() -> Task<> {
          wg.done();
          wg.done();
          co_return;
        });
        co_await wg.wait();
        co_await sleep_for(std::chrono::seconds(1));
      },
      "sync: negative WaitGroup counter");
}

TEST(WaitGroup, blocked_waiter_is_reported_as_sync_waitgroup_wait) {
  expect_one_leaked(
      []() -> Task<> {
        WaitGroup wg;
        wg.add(1);
        go([wg]() -> Task<> { co_await wg.wait(); });
        co_return;
      },
      "sync.WaitGroup.Wait");
}

TEST(WaitGroup, blocked_waiter_destroyed_at_teardown_is_unlinked) {
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    WaitGroup wg;
    wg.add(1);
    RunResult first = run_once(
        [wg]() -> Task<> {
          go([wg]() -> Task<> { co_await wg.wait(); });
          go([wg]() -> Task<> { co_await wg.wait(); });
          co_return;
        },
        seed);
    ASSERT_EQ(first.outcome, RunOutcome::leak) << testing::describe(first);
    RunResult second = run_once(
        [wg]() -> Task<> {
          wg.done();  // would wake the destroyed waiters if they were still linked
          co_await wg.wait();
        },
        seed);
    ASSERT_EQ(second.outcome, RunOutcome::ok)
        << "seed " << seed << ": " << testing::describe(second);
  }
}

}  // namespace
}  // namespace chanfuzz
