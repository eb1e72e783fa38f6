// Time: now(), sleep_for() and after() on SimExecutor's virtual clock.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim_test_support.hpp"

namespace chanfuzz {
namespace {

using namespace std::chrono_literals;
using testing::expect_ok;
using testing::run_once;
using testing::seed_count;

using testing::statistical_seeds;

TimePoint at(Duration d) { return TimePoint{} + d; }

SimOptions without_clock_jumps() {
  SimOptions options;
  options.clock_jumps = false;
  return options;
}

TEST(Time, clock_starts_at_zero) {
  expect_ok([]() -> Task<> {
    CF_EXPECT(now() == TimePoint{});
    CF_EXPECT(Clock::now() == TimePoint{});
    co_return;
  });
}

TEST(Time, now_outside_an_executor_throws_logic_error) {
  EXPECT_THROW((void)now(), std::logic_error);
  EXPECT_THROW((void)after(1s), std::logic_error);
}

TEST(Time, sleep_for_advances_now_by_exactly_d) {
  expect_ok([]() -> Task<> {
    TimePoint start = now();
    co_await sleep_for(3ms);
    CF_EXPECT(now() == start + 3ms);
    co_await sleep_for(1ns);
    CF_EXPECT(now() == start + 3ms + 1ns);
    co_await sleep_for(2h);
    CF_EXPECT(now() == start + 3ms + 1ns + 2h);
  });
}

// Timers fire in deadline order whatever order they were armed in; without
// clock jumps each sleeper also runs at exactly its deadline.
TEST(Time, sleepers_wake_in_deadline_order) {
  auto make = []() -> Task<> {
    auto woke = std::make_shared<std::vector<std::pair<int, TimePoint>>>();
    WaitGroup wg;
    for (int ms : {30, 10, 20}) {
      wg.add(1);
      go([woke, wg, ms]() -> Task<> {
        co_await sleep_for(std::chrono::milliseconds(ms));
        woke->emplace_back(ms, now());
        wg.done();
      });
    }
    co_await wg.wait();
    CF_EXPECT(woke->size() == 3);
    for (int i = 0; i < 3; ++i) {
      CF_EXPECT((*woke)[static_cast<std::size_t>(i)].first == 10 * (i + 1));
      CF_EXPECT((*woke)[static_cast<std::size_t>(i)].second ==
                at(std::chrono::milliseconds(10 * (i + 1))));
    }
  };
  testing::expect_outcome(make, RunOutcome::ok, seed_count(), without_clock_jumps());
}

// With clock jumps a woken sleeper may run after the clock moved on, but it
// never wakes before its deadline.
TEST(Time, sleepers_never_wake_before_their_deadline) {
  expect_ok([]() -> Task<> {
    WaitGroup wg;
    for (int ms : {30, 10, 20, 10}) {
      wg.add(1);
      go([wg, ms]() -> Task<> {
        TimePoint start = now();
        co_await sleep_for(std::chrono::milliseconds(ms));
        CF_EXPECT(now() >= start + std::chrono::milliseconds(ms));
        wg.done();
      });
    }
    co_await wg.wait();
  });
}

TEST(Time, after_delivers_the_time_it_fired_at) {
  expect_ok([]() -> Task<> {
    co_await sleep_for(2ms);
    TimePoint start = now();
    go([]() -> Task<> { co_await sleep_for(3ms); });  // another timer on the way
    Chan<TimePoint> timer = after(7ms);
    CF_EXPECT(timer.cap() == 1);
    auto r = co_await timer.recv();
    CF_EXPECT(r.ok);
    CF_EXPECT(r.value == start + 7ms);
    CF_EXPECT(now() >= start + 7ms);
  });
}

TEST(Time, after_buffers_its_value_when_nobody_receives_yet) {
  expect_ok([]() -> Task<> {
    Chan<TimePoint> timer = after(5ms);
    co_await sleep_for(20ms);
    CF_EXPECT(timer.len() == 1);
    auto r = timer.try_recv();
    CF_EXPECT(r.has_value() && r->ok && r->value == at(5ms));
    CF_EXPECT(!timer.try_recv().has_value());  // sent once, never closed
  });
}

TEST(Time, sleep_for_zero_or_negative_returns_at_once) {
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    RunResult result = run_once(
        []() -> Task<> {
          co_await sleep_for(0ns);
          co_await sleep_for(-5s);
          CF_EXPECT(now() == TimePoint{});
          Chan<TimePoint> immediate = after(-1s);  // fires at now()
          auto r = co_await immediate.recv();
          CF_EXPECT(r.ok && r.value == TimePoint{});
        },
        seed);
    ASSERT_EQ(result.outcome, RunOutcome::ok)
        << "seed " << seed << ": " << testing::describe(result);
    EXPECT_EQ(result.end_time, TimePoint{}) << "seed " << seed;
  }
}

// Go's timeout idiom racing a sender that is ready at once. Both outcomes
// are legal; the value must never be lost, and the sender usually wins
// (the strategy only sometimes models a slow task by jumping the clock).
TEST(Time, timeout_race_receives_or_times_out_without_losing_the_value) {
  auto received = std::make_shared<int>(0);
  auto timed_out = std::make_shared<int>(0);
  expect_ok(
      [received, timed_out]() -> Task<> {
        auto ch = make_chan<int>();
        go([ch]() -> Task<> { co_await ch.send(42); });
        Chan<TimePoint> timeout = after(1s);  // a named local: no temporaries in the co_await
        auto s = co_await select(ch.recv(), timeout.recv());
        if (s.index() == 0) {
          CF_EXPECT(s.get<0>().ok && s.get<0>().value == 42);
          CF_EXPECT(now() <= at(1s));
          ++*received;
        } else {
          CF_EXPECT(s.get<1>().ok && s.get<1>().value == at(1s));
          CF_EXPECT(now() == at(1s));
          auto late = co_await ch.recv();  // the sender is still there
          CF_EXPECT(late.ok && late.value == 42);
          ++*timed_out;
        }
      },
      statistical_seeds());
  EXPECT_EQ(*received + *timed_out, static_cast<int>(statistical_seeds()));
  EXPECT_GT(*received, static_cast<int>(statistical_seeds()) / 2);
  EXPECT_GT(*timed_out, 0) << "the timeout never won: the race was not explored";
}

// A task still sleeping when main returns is not leaked: the run waits for
// its timer, which costs no real time.
TEST(Time, sleeping_task_at_main_return_wakes_and_the_run_ends_ok) {
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    auto finished = std::make_shared<bool>(false);
    RunResult result = run_once(
        [finished]() -> Task<> {
          go([finished]() -> Task<> {
            co_await sleep_for(1h);
            *finished = true;
          });
          (void)after(2h);  // a timer nobody reads also just fires
          co_return;
        },
        seed);
    ASSERT_EQ(result.outcome, RunOutcome::ok)
        << "seed " << seed << ": " << testing::describe(result);
    EXPECT_TRUE(*finished);
    // The sleep may start after a clock jump to the after() timer: 2h or 3h.
    EXPECT_GE(result.end_time, at(2h));
    EXPECT_LE(result.end_time, at(3h));
  }
}

// A run that stops (here: a panic) while a task sleeps and an after() timer
// is pending releases both at teardown; the ASan build checks for leaks.
TEST(Time, pending_timers_are_released_when_a_run_stops) {
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    RunResult result = run_once(
        []() -> Task<> {
          go([]() -> Task<> { co_await sleep_for(1h); });
          go([]() -> Task<> {
            Chan<TimePoint> timer = after(1h);
            auto r = co_await timer.recv();
            (void)r;
          });
          auto keep = after(30min);
          (void)keep;
          for (int i = 0; i < 3; ++i) co_await yield();
          throw std::runtime_error("stop");
        },
        seed, without_clock_jumps());
    ASSERT_EQ(result.outcome, RunOutcome::panic)
        << "seed " << seed << ": " << testing::describe(result);
    EXPECT_EQ(result.end_time, TimePoint{});
  }
}

// The clock moves only to the earliest timer, and only when nothing can run
// (without clock jumps): a long computation takes no virtual time.
TEST(Time, clock_does_not_move_while_tasks_run_without_clock_jumps) {
  testing::expect_outcome(
      []() -> Task<> {
        go([]() -> Task<> { co_await sleep_for(1s); });
        for (int i = 0; i < 200; ++i) {
          co_await yield();
          CF_EXPECT(now() == TimePoint{});
        }
      },
      RunOutcome::ok, seed_count(), without_clock_jumps());
}

}  // namespace
}  // namespace chanfuzz
