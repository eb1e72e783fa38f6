// Task, go, yield, random, num_tasks, panics, deep chains, teardown, and
// regression tests for the g++ 12 coroutine bugs of TOOLCHAIN.md.
#include <algorithm>
#include <cstdlib>
#include <functional>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim_test_support.hpp"

namespace chanfuzz {
namespace {

using testing::expect_ok;
using testing::run_once;
using testing::seed_count;

// Statistical checks need enough seeds, whatever CHANFUZZ_TEST_SEEDS says.
std::uint64_t statistical_seeds() { return std::max<std::uint64_t>(seed_count(), 100); }

constexpr int kDeep = 100000;

Task<> trivial() { co_return; }
Task<int> forty_two() { co_return 42; }
Task<std::unique_ptr<std::string>> boxed(std::string s) {
  co_return std::make_unique<std::string>(std::move(s));
}
Task<int> throws_runtime_error() {
  throw std::runtime_error("boom");
  co_return 0;
}
Task<int> rethrows_from_below() {
  int v = co_await throws_runtime_error();
  co_return v + 1;
}
Task<> send_value(Chan<int> ch, int v) { co_await ch.send(v); }
Task<> send_sum(Chan<int> ch, int a, int b, int c, int d) { co_await ch.send(a + b + c + d); }
Task<> block_forever() {
  Chan<int> nil;
  co_await nil.recv();
}
// A chain of n nested tasks; at the bottom it completes at once, yields,
// or blocks forever.
enum class Bottom { complete, yield, block };
Task<int> depth(int n, Bottom bottom = Bottom::complete) {
  if (n == 0) {
    if (bottom == Bottom::yield) co_await yield();
    if (bottom == Bottom::block) co_await block_forever();
    co_return 0;
  }
  int below = co_await depth(n - 1, bottom);
  co_return below + 1;
}

// ---- Task<T> ----

TEST(Task, is_lazy_and_returns_values_through_co_await) {
  expect_ok([]() -> Task<> {
    auto ran = std::make_shared<bool>(false);
    auto body = [](std::shared_ptr<bool> flag) -> Task<> {
      *flag = true;
      co_return;
    };
    Task<> lazy = body(ran);
    CF_EXPECT(!*ran);  // nothing runs until awaited
    co_await lazy;
    CF_EXPECT(*ran);
    int v = co_await forty_two();
    CF_EXPECT(v == 42);
    std::unique_ptr<std::string> box = co_await boxed("move-only");
    CF_EXPECT(box && *box == "move-only");
    Task<int> named = forty_two();
    int again = co_await named;
    CF_EXPECT(again == 42);
  });
}

TEST(Task, exceptions_propagate_through_co_await) {
  expect_ok([]() -> Task<> {
    std::string caught;
    try {
      int v = co_await rethrows_from_below();
      (void)v;
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
    CF_EXPECT(caught == "boom");
    // A Panic keeps its type on the way up.
    bool panic_caught = false;
    try {
      Chan<int> ch = make_chan<int>();
      ch.close();
      co_await send_value(ch, 1);
    } catch (const Panic& p) {
      panic_caught = std::string(p.what()) == "send on closed channel";
    }
    CF_EXPECT(panic_caught);
  });
}

// ---- go ----

// Spawns from a scope that ends before the task runs: the captured string
// must live in the task's frame (ASan checks the lifetime).
Task<> spawn_with_a_local_capture(Chan<int> ch) {
  std::string word = "a string long enough not to fit the small buffer";
  go([ch, word]() -> Task<> {
    co_await yield();
    co_await ch.send(static_cast<int>(word.size()));
  });
  co_return;
}

TEST(Go, all_forms_run_their_task) {
  expect_ok([]() -> Task<> {
    auto ch = make_chan<int>(16);
    go(send_value(ch, 1));                                                // go(task)
    go("named", send_value(ch, 2));                                       // go(name, task)
    go(send_value, ch, 3);                                                // go(fn, args...)
    go([](Chan<int> c, int v) -> Task<> { co_await c.send(v); }, ch, 4);  // lambda + args
    go("named fn", send_value, ch, 5);                                    // go(name, fn, args...)
    go(send_sum, ch, 1, 2, 3, 4);                                         // more than 3 args: 10
    int captured = 6;
    go([ch, captured]() -> Task<> { co_await ch.send(captured); });  // capturing lambda
    co_await spawn_with_a_local_capture(ch);                         // 48
    std::vector<int> got;
    for (int i = 0; i < 8; ++i) {
      auto r = co_await ch.recv();
      CF_EXPECT(r.ok);
      got.push_back(r.value);
    }
    std::sort(got.begin(), got.end());
    CF_EXPECT((got == std::vector<int>{1, 2, 3, 4, 5, 6, 10, 48}));
  });
}

TEST(Go, outside_an_executor_throws_logic_error) {
  EXPECT_THROW(go(trivial()), std::logic_error);
  EXPECT_THROW(go("named", trivial()), std::logic_error);
  EXPECT_THROW(go([]() -> Task<> { co_return; }), std::logic_error);
  EXPECT_THROW(go(send_value, Chan<int>(), 1), std::logic_error);
  try {
    go(trivial());
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("outside a running executor"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW((void)chanfuzz::random(3), std::logic_error);
  EXPECT_THROW(checkpoint(), std::logic_error);
  EXPECT_EQ(num_tasks(), 0u);
}

// The origin go(fn, args...) hands the executor (dfs's symmetry): equal for
// copies of one closure, different for another lambda, other captures or
// other arguments; cleared once go() returns; computed only for an
// executor that asks (the simulator with an observer).
std::uint64_t origin_of(const auto&... parts) {
  detail::SpawnOrigin set(parts...);
  return detail::spawn_origin();
}

Task<> spawn_origins(std::vector<std::uint64_t>* out) {
  auto a = make_chan<int>();
  auto b = make_chan<int>();
  auto f = [a]() -> Task<> { co_await a.send(1); };
  auto copy = f;
  auto other_lambda = [a]() -> Task<> { co_await a.send(1); };
  auto other_capture = [b]() -> Task<> { co_await b.send(1); };
  auto* fn = &send_value;  // go(send_value, ...) takes it as a pointer
  *out = {
      origin_of(f),          origin_of(copy),     origin_of(other_lambda), origin_of(other_capture),
      origin_of(fn, a, 1),   origin_of(fn, a, 1), origin_of(fn, a, 2),     origin_of(fn, b, 1),
      detail::spawn_origin()};
  co_return;
}

TEST(Go, the_spawn_origin_names_the_closure_and_its_arguments) {
  std::vector<std::uint64_t> o;
  SimOptions options;
  options.observer = [](const SimEvent&) {};
  {
    SimExecutor sim(options);
    ASSERT_EQ(sim.run(spawn_origins(&o)).outcome, RunOutcome::ok);
  }
  ASSERT_EQ(o.size(), 9u);
  EXPECT_NE(o[0], 0u);
  EXPECT_EQ(o[0], o[1]);  // a copy
  EXPECT_NE(o[0], o[2]);  // another lambda, the same capture
  EXPECT_NE(o[0], o[3]);  // the same lambda's code, another channel
  EXPECT_EQ(o[4], o[5]);
  EXPECT_NE(o[4], o[6]);  // another argument
  EXPECT_NE(o[4], o[7]);
  EXPECT_EQ(o[8], 0u);  // cleared
  // No observer, or no executor: nothing is computed.
  {
    SimExecutor sim(SimOptions{});
    ASSERT_EQ(sim.run(spawn_origins(&o)).outcome, RunOutcome::ok);
  }
  EXPECT_EQ(o[0], 0u);
  EXPECT_EQ(origin_of(trivial), 0u);
}

TEST(Go, empty_task_throws_logic_error) {
  expect_ok([]() -> Task<> {
    bool thrown = false;
    try {
      go(Task<>());
    } catch (const std::logic_error&) {
      thrown = true;
    }
    CF_EXPECT(thrown);
    co_return;
  });
}

// ---- scheduling points and introspection ----

TEST(Yield, is_a_scheduling_point_interleaving_differs_across_seeds) {
  auto orders = std::make_shared<std::set<std::string>>();
  expect_ok(
      [orders]() -> Task<> {
        auto order = std::make_shared<std::string>();
        WaitGroup wg;
        for (char name : {'a', 'b'}) {
          wg.add(1);
          go([order, wg, name]() -> Task<> {
            for (int i = 0; i < 4; ++i) {
              *order += name;
              co_await yield();
            }
            wg.done();
          });
        }
        co_await wg.wait();
        CF_EXPECT(std::count(order->begin(), order->end(), 'a') == 4);
        orders->insert(*order);
      },
      statistical_seeds());
  EXPECT_GE(orders->size(), 5u) << "yield() did not let the tasks interleave";
}

TEST(Random, values_are_in_range_and_cover_it) {
  auto seen = std::make_shared<std::set<std::uint64_t>>();
  expect_ok(
      [seen]() -> Task<> {
        for (int i = 0; i < 10; ++i) {
          std::uint64_t v = chanfuzz::random(5);
          CF_EXPECT(v < 5);
          seen->insert(v);
        }
        CF_EXPECT(chanfuzz::random(1) == 0);
        std::uint64_t big = chanfuzz::random(std::uint64_t{1} << 40);
        CF_EXPECT(big < (std::uint64_t{1} << 40));
        co_return;
      },
      statistical_seeds());
  EXPECT_EQ(seen->size(), 5u);
}

TEST(Random, zero_panics) {
  expect_ok([]() -> Task<> {
    bool panicked = false;
    try {
      (void)chanfuzz::random(0);
    } catch (const Panic&) {
      panicked = true;
    }
    CF_EXPECT(panicked);
    co_return;
  });
}

TEST(NumTasks, counts_live_tasks) {
  expect_ok([]() -> Task<> {
    CF_EXPECT(num_tasks() == 1);
    auto gate = make_chan<Unit>();
    WaitGroup wg;
    for (int i = 0; i < 3; ++i) {
      wg.add(1);
      go([gate, wg]() -> Task<> {
        auto r = co_await gate.recv();
        (void)r;
        wg.done();  // the last thing the task does: it has exited when main resumes
      });
    }
    CF_EXPECT(num_tasks() == 4);
    co_await yield();
    CF_EXPECT(num_tasks() == 4);
    gate.close();
    co_await wg.wait();
    CF_EXPECT(num_tasks() == 1);
  });
}

// ---- deep chains (TOOLCHAIN.md pitfall 1: g++ 12 does not turn symmetric
// transfer into a tail call at -O0 or under ASan; the runtime's trampoline
// must keep the stack flat) ----

TEST(DeepChain, loop_of_100000_immediately_completing_co_awaits) {
  RunResult result = run_once(
      []() -> Task<> {
        long sum = 0;
        for (int i = 0; i < kDeep; ++i) {
          co_await trivial();
          int v = co_await forty_two();
          sum += v;
        }
        CF_EXPECT(sum == 42L * kDeep);
      },
      1);
  EXPECT_EQ(result.outcome, RunOutcome::ok) << testing::describe(result);
}

TEST(DeepChain, recursive_task_100000_deep) {
  RunResult result = run_once(
      []() -> Task<> {
        int d = co_await depth(kDeep);
        CF_EXPECT(d == kDeep);
      },
      1);
  EXPECT_EQ(result.outcome, RunOutcome::ok) << testing::describe(result);
}

TEST(DeepChain, recursive_task_100000_deep_suspended_at_the_bottom_resumes) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    RunResult result = run_once(
        []() -> Task<> {
          go([]() -> Task<> {
            for (int i = 0; i < 3; ++i) co_await yield();
          });
          int d = co_await depth(kDeep, Bottom::yield);
          CF_EXPECT(d == kDeep);
        },
        seed);
    EXPECT_EQ(result.outcome, RunOutcome::ok) << testing::describe(result);
  }
}

// A leaked task suspended 100,000 coroutines deep is destroyed at teardown.
// Runs in a child process, so that a stack overflow fails this case only.
TEST(DeepChain, recursive_task_100000_deep_leaked_is_destroyed_at_teardown) {
  EXPECT_EXIT(
      {
        RunResult result = run_once(
            []() -> Task<> {
              go([]() -> Task<> {
                int d = co_await depth(kDeep, Bottom::block);
                (void)d;
              });
              co_return;
            },
            1);
        std::exit(result.outcome == RunOutcome::leak ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

// ---- panics ----

TEST(Panic, escaping_a_task_fails_the_run_against_that_task) {
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    RunResult result = run_once(
        []() -> Task<> {
          go("worker", []() -> Task<> {
            co_await yield();
            auto ch = make_chan<int>();
            ch.close();
            ch.close();
          });
          co_await block_forever();
        },
        seed);
    ASSERT_EQ(result.outcome, RunOutcome::panic) << testing::describe(result);
    EXPECT_EQ(result.message, "close of closed channel");
    ASSERT_EQ(result.tasks.size(), 1u);
    EXPECT_EQ(result.tasks[0].id, 2u);
    EXPECT_EQ(result.tasks[0].name, "worker");
    EXPECT_EQ(result.tasks[0].state, "panicked");
    EXPECT_EQ(result.tasks[0].panic, "close of closed channel");
  }
}

TEST(Panic, escaping_main_through_nested_tasks_names_main) {
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    RunResult result = run_once(
        []() -> Task<> {
          go([]() -> Task<> { co_await yield(); });
          co_await yield();
          int v = co_await rethrows_from_below();
          (void)v;
        },
        seed);
    ASSERT_EQ(result.outcome, RunOutcome::panic) << testing::describe(result);
    ASSERT_EQ(result.tasks.size(), 1u);
    EXPECT_EQ(result.tasks[0].id, 1u);
    EXPECT_EQ(result.tasks[0].name, "main");
    EXPECT_NE(result.message.find("boom"), std::string::npos) << result.message;
    EXPECT_EQ(result.tasks[0].panic, result.message);
  }
}

TEST(Panic, caught_inside_the_task_does_not_fail_the_run) {
  expect_ok([]() -> Task<> {
    auto recovered = make_chan<std::string>(1);
    go([recovered]() -> Task<> {
      auto ch = make_chan<int>();
      ch.close();
      std::string message;
      try {
        co_await ch.send(1);
      } catch (const Panic& p) {
        message = p.what();
      }
      co_await recovered.send(message);
    });
    auto r = co_await recovered.recv();
    CF_EXPECT(r.value == "send on closed channel");
  });
}

// ---- teardown ----

// A resource whose release is counted.
std::shared_ptr<int> tracked_resource(std::shared_ptr<int> released) {
  return std::shared_ptr<int>(new int(0), [released](int* p) {
    ++*released;
    delete p;
  });
}

// Leaked (main returned) or deadlocked (main blocked too): either way every
// frame is destroyed, releasing what its captures and locals hold.
TEST(Teardown, leaked_and_deadlocked_tasks_are_destroyed_when_the_run_ends) {
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    for (bool main_blocks : {false, true}) {
      auto released = std::make_shared<int>(0);
      RunResult result = run_once(
          [released, main_blocks]() -> Task<> {
            auto mine = tracked_resource(released);
            go([held = tracked_resource(released)]() -> Task<> { co_await block_forever(); });
            go([released]() -> Task<> {
              auto held = tracked_resource(released);
              co_await block_forever();
            });
            co_await yield();
            CF_EXPECT(*released == 0);
            if (main_blocks) co_await block_forever();
          },
          seed);
      ASSERT_EQ(result.outcome, main_blocks ? RunOutcome::deadlock : RunOutcome::leak)
          << testing::describe(result);
      EXPECT_EQ(*released, 3) << "seed " << seed;
    }
  }
}

TEST(Teardown, tasks_that_never_ran_are_destroyed_when_a_run_stops) {
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    auto released = std::make_shared<int>(0);
    auto ran = std::make_shared<bool>(false);
    RunResult result = run_once(
        [released, ran]() -> Task<> {
          go([ran, held = tracked_resource(released)]() -> Task<> {
            *ran = true;
            co_return;
          });
          throw std::runtime_error("stop before it runs");
          co_return;
        },
        seed);
    ASSERT_EQ(result.outcome, RunOutcome::panic) << testing::describe(result);
    EXPECT_FALSE(*ran);
    EXPECT_EQ(*released, 1) << "seed " << seed;
  }
}

// ---- g++ 12 coroutine bugs (TOOLCHAIN.md, "Coroutine pitfalls" 6) ----

// g++ 12 bug guarded against: with `switch (co_await select(...))` written
// directly in the condition, in a coroutine where a case does `co_return`,
// the coroutine after resuming neither suspends again nor finishes. The safe
// idiom, checked here in a loop, assigns the result to a local first.
Task<int> sum_until_quit(Chan<int> values, Chan<Unit> quit) {
  int total = 0;
  for (;;) {
    auto s = co_await select(values.recv(), quit.recv());
    switch (s.index()) {
      case 0:
        total += s.get<0>().value;
        break;
      case 1:
        co_return total;
    }
  }
}

TEST(GccBugRegression, select_result_switched_on_from_a_local_in_a_loop_completes) {
  expect_ok([]() -> Task<> {
    auto values = make_chan<int>();
    auto quit = make_chan<Unit>();
    auto spawned = make_chan<int>();
    go([values, quit, spawned]() -> Task<> {
      Task<int> body = sum_until_quit(values, quit);
      int total = co_await body;
      co_await spawned.send(total);
    });
    for (int i = 1; i <= 10; ++i) co_await values.send(i);
    quit.close();
    auto r = co_await spawned.recv();
    CF_EXPECT(r.ok && r.value == 55);
    // The same, awaited directly by main.
    auto values2 = make_chan<int>();
    auto quit2 = make_chan<Unit>();
    go([values2, quit2]() -> Task<> {
      for (int i = 1; i <= 5; ++i) co_await values2.send(i);
      quit2.close();
    });
    int total = co_await sum_until_quit(values2, quit2);
    CF_EXPECT(total == 15);
  });
}

// Counts constructions and destructions of a captured object.
struct Counts {
  int constructed = 0;
  int destroyed = 0;
};
struct Tracked {
  std::shared_ptr<Counts> counts;
  explicit Tracked(std::shared_ptr<Counts> c) : counts(std::move(c)) { ++counts->constructed; }
  Tracked(const Tracked& other) : counts(other.counts) { ++counts->constructed; }
  Tracked& operator=(const Tracked&) = delete;
  ~Tracked() { ++counts->destroyed; }
};

Task<> call_after_value(std::function<void()> on_value, Chan<int> ch) {
  auto r = co_await ch.recv();
  if (r.ok) on_value();
}

// g++ 12 bug guarded against: a lambda temporary converted to a
// std::function argument inside a co_await expression
// (`co_await call_after_value([t] {...}, ch)`) is destroyed twice when the
// suspended coroutine is destroyed, as leaked tasks are at teardown. The safe
// idiom, checked here, makes the std::function a named local before the
// co_await; the Task is then either a named local too, or the std::function
// is copied into the call inside the co_await (a std::function-to-
// std::function copy, which g++ 12 handles; checked as well). Without
// `deliver` the task is still suspended at teardown.
TEST(GccBugRegression, std_function_local_of_a_task_destroyed_while_suspended_is_destroyed_once) {
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    for (int mode = 0; mode < 4; ++mode) {
      bool deliver = mode & 1;
      bool named_task = mode & 2;
      auto counts = std::make_shared<Counts>();
      auto calls = std::make_shared<int>(0);
      RunResult result = run_once(
          [counts, calls, deliver, named_task]() -> Task<> {
            auto ch = make_chan<int>();
            go([counts, calls, ch, named_task]() -> Task<> {
              std::function<void()> on_value = [tracked = Tracked(counts), calls] { ++*calls; };
              if (named_task) {
                Task<> waiting = call_after_value(on_value, ch);
                co_await waiting;
              } else {
                co_await call_after_value(on_value, ch);
              }
            });
            if (deliver) co_await ch.send(1);
          },
          seed);
      ASSERT_EQ(result.outcome, deliver ? RunOutcome::ok : RunOutcome::leak)
          << testing::describe(result);
      EXPECT_EQ(*calls, deliver ? 1 : 0);
      EXPECT_GT(counts->constructed, 0);
      EXPECT_EQ(counts->destroyed, counts->constructed) << "seed " << seed << " mode " << mode;
    }
  }
}

}  // namespace
}  // namespace chanfuzz
