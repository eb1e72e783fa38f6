// SimExecutor: determinism, decisions, outcomes, step limits and the clock.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim_test_support.hpp"

namespace chanfuzz {
namespace {

using namespace std::chrono_literals;
using testing::run_once;
using testing::seed_count;

using testing::statistical_seeds;

using Log = std::shared_ptr<std::string>;

// Three producers race into a buffered channel; the consumer selects
// between it, a quit signal and a timer, then asks for a random number.
// Every choice the executor makes shows in the log.
std::function<Task<void>()> racy_scenario(Log log) {
  return [log]() -> Task<> {
    auto ch = make_chan<int>(1);
    auto quit = make_chan<Unit>();
    WaitGroup wg;
    for (int p = 0; p < 3; ++p) {
      wg.add(1);
      go([ch, wg, p]() -> Task<> {
        for (int i = 0; i < 3; ++i) co_await ch.send(p * 10 + i);
        wg.done();
      });
    }
    go([wg, quit]() -> Task<> {
      co_await wg.wait();
      quit.close();
    });
    Chan<TimePoint> timeout = after(1ms);
    for (;;) {
      auto s = co_await select(ch.recv(), quit.recv(), timeout.recv());
      if (s.index() == 1) break;
      *log += s.index() == 0 ? std::to_string(s.get<0>().value) + "," : "T,";
    }
    *log += "r" + std::to_string(chanfuzz::random(1000));
  };
}

TEST(SimExecutor, same_seed_gives_identical_decisions_and_behaviour) {
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    auto first_log = std::make_shared<std::string>();
    auto second_log = std::make_shared<std::string>();
    RunResult first = run_once(racy_scenario(first_log), seed);
    RunResult second = run_once(racy_scenario(second_log), seed);
    ASSERT_EQ(first.outcome, RunOutcome::ok) << testing::describe(first);
    EXPECT_FALSE(first.decisions.empty());
    EXPECT_TRUE(first.decisions == second.decisions) << "seed " << seed;
    EXPECT_EQ(*first_log, *second_log) << "seed " << seed;
    EXPECT_EQ(first.steps, second.steps);
    EXPECT_EQ(first.end_time, second.end_time);
  }
}

TEST(SimExecutor, different_seeds_explore_different_schedules) {
  std::set<std::string> logs;
  std::vector<std::vector<Decision>> traces;
  for (std::uint64_t seed = 1; seed <= statistical_seeds(); ++seed) {
    auto log = std::make_shared<std::string>();
    RunResult result = run_once(racy_scenario(log), seed);
    ASSERT_EQ(result.outcome, RunOutcome::ok) << testing::describe(result);
    logs.insert(*log);
    if (std::find(traces.begin(), traces.end(), result.decisions) == traces.end()) {
      traces.push_back(result.decisions);
    }
  }
  EXPECT_GT(traces.size(), statistical_seeds() * 9 / 10);
  EXPECT_GT(logs.size(), statistical_seeds() * 9 / 10);
}

// Checks every DecisionPoint against the contract of strategy.hpp, and
// decides like RandomStrategy.
class CheckingStrategy final : public Strategy {
 public:
  std::string name() const override { return "checking"; }
  void begin_run(std::uint64_t seed) override { inner_.begin_run(seed); }
  std::uint64_t choose(const DecisionPoint& point) override {
    auto fail = [&](const std::string& what) { problems.push_back(what); };
    if (point.options < 2) fail("fewer than 2 options");
    if (point.step < last_step_) fail("step went backwards");
    last_step_ = point.step;
    if (point.kind == DecisionKind::task) {
      std::uint64_t expected =
          point.runnable.size() + (point.current ? 1 : 0) + (point.clock_option ? 1 : 0);
      if (point.options != expected) fail("task options do not match runnable/current/clock");
      for (std::size_t i = 1; i < point.runnable.size(); ++i) {
        if (point.runnable[i - 1]->id >= point.runnable[i]->id)
          fail("runnable not by increasing id");
      }
      for (TaskRecord* task : point.runnable) {
        if (task == point.current) fail("the current task is also listed as runnable");
      }
    } else if (!point.runnable.empty() || point.current || point.clock_option) {
      fail("a non-task decision carries task options");
    }
    std::uint64_t value = inner_.choose(point);
    answers.push_back(Decision{point.kind, point.options, value});
    return value;
  }

  std::vector<std::string> problems;
  std::vector<Decision> answers;

 private:
  RandomStrategy inner_;
  std::uint64_t last_step_ = 0;
};

TEST(SimExecutor, asks_its_strategy_with_well_formed_decision_points_and_records_the_answers) {
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    CheckingStrategy strategy;
    SimOptions options;
    options.strategy = &strategy;
    RunResult result = run_once(racy_scenario(std::make_shared<std::string>()), seed, options);
    ASSERT_EQ(result.outcome, RunOutcome::ok) << testing::describe(result);
    EXPECT_TRUE(strategy.problems.empty()) << "seed " << seed << ": " << strategy.problems.front();
    EXPECT_TRUE(result.decisions == strategy.answers) << "seed " << seed;
    // The scenario makes every kind of decision except, perhaps, timer.
    auto has = [&](DecisionKind kind) {
      return std::any_of(result.decisions.begin(), result.decisions.end(),
                         [kind](const Decision& d) { return d.kind == kind; });
    };
    EXPECT_TRUE(has(DecisionKind::task));
    EXPECT_TRUE(has(DecisionKind::random));
  }
}

// Answers from a recorded list; a decision that does not match ends the run.
class ReplayDecisions final : public Strategy {
 public:
  explicit ReplayDecisions(std::vector<Decision> decisions) : decisions_(std::move(decisions)) {}
  std::string name() const override { return "replay-decisions"; }
  void begin_run(std::uint64_t) override { next_ = 0; }
  std::uint64_t choose(const DecisionPoint& point) override {
    if (next_ >= decisions_.size()) return point.options;
    const Decision& d = decisions_[next_++];
    if (d.kind != point.kind || d.options != point.options) return point.options;
    return d.value;
  }

 private:
  std::vector<Decision> decisions_;
  std::size_t next_ = 0;
};

TEST(SimExecutor, recorded_decisions_replay_the_run_exactly) {
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    auto recorded_log = std::make_shared<std::string>();
    RunResult recorded = run_once(racy_scenario(recorded_log), seed);
    ReplayDecisions replay(recorded.decisions);
    SimOptions options;
    options.strategy = &replay;
    auto replayed_log = std::make_shared<std::string>();
    RunResult replayed = run_once(racy_scenario(replayed_log), seed + 1000, options);
    ASSERT_EQ(replayed.outcome, RunOutcome::ok) << testing::describe(replayed);
    EXPECT_TRUE(replayed.decisions == recorded.decisions) << "seed " << seed;
    EXPECT_EQ(*replayed_log, *recorded_log);
  }
}

TEST(SimExecutor, a_strategy_that_cannot_answer_ends_the_run_as_diverged) {
  std::vector<Decision> recorded =
      run_once(racy_scenario(std::make_shared<std::string>()), 1).decisions;
  ASSERT_GT(recorded.size(), 4u);
  recorded.resize(recorded.size() / 2);
  ReplayDecisions replay(recorded);
  SimOptions options;
  options.strategy = &replay;
  RunResult result = run_once(racy_scenario(std::make_shared<std::string>()), 1, options);
  EXPECT_EQ(result.outcome, RunOutcome::diverged) << testing::describe(result);
  EXPECT_FALSE(result.message.empty());  // says where
}

TEST(SimExecutor, random_values_are_recorded_as_decisions) {
  auto values = std::make_shared<std::vector<std::uint64_t>>();
  RunResult result = run_once(
      [values]() -> Task<> {
        for (std::uint64_t n : {2u, 7u, 1000u}) values->push_back(chanfuzz::random(n));
        co_return;
      },
      5);
  ASSERT_EQ(result.outcome, RunOutcome::ok);
  ASSERT_EQ(result.decisions.size(), 3u);
  std::uint64_t n[] = {2, 7, 1000};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(result.decisions[i].kind, DecisionKind::random);
    EXPECT_EQ(result.decisions[i].options, n[i]);
    EXPECT_EQ(result.decisions[i].value, (*values)[i]);
  }
}

// ---- outcomes ----

Task<> nothing() { co_return; }

TEST(SimExecutor, outcome_ok_when_main_returns_and_every_task_exited) {
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    RunResult result = run_once(
        []() -> Task<> {
          auto ch = make_chan<int>();
          go([ch]() -> Task<> { co_await ch.send(1); });
          auto r = co_await ch.recv();
          CF_EXPECT(r.ok);
        },
        seed);
    EXPECT_EQ(result.outcome, RunOutcome::ok) << testing::describe(result);
    EXPECT_TRUE(result.main_returned);
    EXPECT_TRUE(result.tasks.empty());
    EXPECT_EQ(result.tasks_spawned, 2u);
  }
}

TEST(SimExecutor, outcome_leak_lists_the_blocked_tasks_with_their_wait_state) {
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    RunResult result = run_once(
        []() -> Task<> {
          auto ch = make_chan<int>();
          Mutex mu;
          co_await mu.lock();
          go("receiver", [ch]() -> Task<> {
            auto r = co_await ch.recv();
            (void)r;
          });
          go([]() -> Task<> { co_return; });  // exits: not listed
          go("locker", [mu]() -> Task<> { co_await mu.lock(); });
        },
        seed);
    ASSERT_EQ(result.outcome, RunOutcome::leak) << testing::describe(result);
    EXPECT_TRUE(result.main_returned);
    EXPECT_NE(result.message.find("2 tasks"), std::string::npos) << result.message;
    ASSERT_EQ(result.tasks.size(), 2u);
    EXPECT_EQ(result.tasks[0].id, 2u);
    EXPECT_EQ(result.tasks[0].name, "receiver");
    EXPECT_EQ(result.tasks[0].state, "chan receive");
    EXPECT_EQ(result.tasks[1].id, 4u);
    EXPECT_EQ(result.tasks[1].name, "locker");
    EXPECT_EQ(result.tasks[1].state, "sync.Mutex.Lock");
    for (const TaskInfo& task : result.tasks) {
      EXPECT_TRUE(task.blocked_at.known());
      EXPECT_TRUE(task.created_at.known());
      EXPECT_EQ(task.waiting_on.size(), 1u);
    }
  }
}

// What a blocked task waits on says, per channel, whether it waits to send
// or to receive there (a systematic strategy needs it for select cases).
TEST(SimExecutor, blocked_tasks_name_the_direction_of_each_channel) {
  RunResult result = run_once(
      []() -> Task<> {
        auto a = make_chan<int>();
        auto b = make_chan<int>();
        Chan<int> nil;
        go("sender", [a]() -> Task<> { co_await a.send(1); });
        go("receiver", [b]() -> Task<> { (void)co_await b.recv(); });
        go("selector",
           [a, b, nil]() -> Task<> { (void)co_await select(b.recv(), a.send(2), nil.send(3)); });
        co_await yield();
      },
      1);
  ASSERT_EQ(result.outcome, RunOutcome::leak) << testing::describe(result);
  using Direction = WaitObject::Direction;
  std::vector<std::vector<Direction>> directions;
  for (const TaskInfo& task : result.tasks) {
    directions.emplace_back();
    for (const WaitObject& object : task.waiting_on) directions.back().push_back(object.direction);
  }
  EXPECT_EQ(directions, (std::vector<std::vector<Direction>>{
                            {Direction::send},
                            {Direction::receive},
                            {Direction::receive, Direction::send, Direction::send}}));
}

TEST(SimExecutor, outcome_deadlock_when_main_is_blocked_with_everyone_else) {
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    RunResult result = run_once(
        []() -> Task<> {
          auto a = make_chan<int>();
          auto b = make_chan<int>();
          go([a, b]() -> Task<> {
            auto r = co_await a.recv();
            co_await b.send(r.value);
          });
          auto r = co_await b.recv();  // nobody sends on a: both wait forever
          (void)r;
        },
        seed);
    ASSERT_EQ(result.outcome, RunOutcome::deadlock) << testing::describe(result);
    EXPECT_FALSE(result.main_returned);
    ASSERT_EQ(result.tasks.size(), 2u);
    EXPECT_EQ(result.tasks[0].name, "main");
    EXPECT_EQ(result.tasks[0].state, "chan receive");
    EXPECT_EQ(result.tasks[1].state, "chan receive");
  }
}

TEST(SimExecutor, outcome_panic_stops_the_run_at_once) {
  auto busy_steps = std::make_shared<int>(0);
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    *busy_steps = 0;
    RunResult result = run_once(
        [busy_steps]() -> Task<> {
          go([busy_steps]() -> Task<> {
            for (int i = 0; i < 1000; ++i) {
              ++*busy_steps;
              co_await yield();
            }
          });
          throw Panic("main gives up");
          co_return;
        },
        seed);
    ASSERT_EQ(result.outcome, RunOutcome::panic) << testing::describe(result);
    EXPECT_EQ(result.message, "main gives up");
    EXPECT_EQ(*busy_steps, 0) << "a task ran after the panic";
  }
}

SimOptions limited(std::uint64_t max_steps) {
  SimOptions options;
  options.max_steps = max_steps;
  return options;
}

TEST(SimExecutor, outcome_step_limit_cuts_off_an_endless_ping_pong) {
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    RunResult result = run_once(
        []() -> Task<> {
          auto ping = make_chan<int>();
          auto pong = make_chan<int>();
          go([ping, pong]() -> Task<> {
            for (;;) {
              auto r = co_await ping.recv();
              co_await pong.send(r.value + 1);
            }
          });
          go([ping, pong]() -> Task<> {
            co_await ping.send(0);
            for (;;) {
              auto r = co_await pong.recv();
              co_await ping.send(r.value + 1);
            }
          });
          co_return;
        },
        seed, limited(1000));
    ASSERT_EQ(result.outcome, RunOutcome::step_limit) << testing::describe(result);
    EXPECT_GT(result.steps, 1000u);
    EXPECT_LE(result.steps, 1001u);
    EXPECT_NE(result.message.find("1000"), std::string::npos) << result.message;
    EXPECT_EQ(result.tasks.size(), 2u);  // the players, still alive
  }
}

// try_recv never suspends, but it counts steps: a task spinning on it is cut
// off instead of hanging the run.
TEST(SimExecutor, outcome_step_limit_for_a_task_spinning_on_try_recv) {
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    RunResult spawned = run_once(
        []() -> Task<> {
          auto ch = make_chan<int>();
          WaitGroup wg;
          wg.add(1);
          go([ch, wg]() -> Task<> {
            for (;;) {
              auto r = ch.try_recv();
              if (r) break;
            }
            wg.done();
            co_return;
          });
          co_await wg.wait();
        },
        seed, limited(1000));
    EXPECT_EQ(spawned.outcome, RunOutcome::step_limit) << testing::describe(spawned);
    RunResult main_spins = run_once(
        []() -> Task<> {
          auto ch = make_chan<int>();
          for (;;) {
            auto r = ch.try_recv();
            if (r) break;
          }
          co_return;
        },
        seed, limited(1000));
    EXPECT_EQ(main_spins.outcome, RunOutcome::step_limit) << testing::describe(main_spins);
  }
}

TEST(SimExecutor, run_twice_on_one_executor_throws_logic_error) {
  SimExecutor sim;
  RunResult first = sim.run(nothing());
  EXPECT_EQ(first.outcome, RunOutcome::ok);
  EXPECT_THROW(sim.run(nothing()), std::logic_error);
  SimExecutor other;
  EXPECT_THROW(other.run(Task<>()), std::logic_error);
}

// ---- the clock ----

// A busy task yields 1000 times while a sleeper waits 1ns. The clock moves
// only when nothing can run, unless the strategy jumps it: without jumps
// the sleeper wakes only after the busy task is done; with jumps some seed
// fires its timer while the busy task is still going.
std::function<Task<void>()> busy_and_sleeper(std::shared_ptr<std::vector<int>> seen_at_wake) {
  return [seen_at_wake]() -> Task<> {
    auto busy = std::make_shared<int>(0);
    WaitGroup wg;
    wg.add(2);
    go([busy, wg]() -> Task<> {
      for (int i = 0; i < 1000; ++i) {
        ++*busy;
        co_await yield();
      }
      wg.done();
    });
    go([busy, wg, seen_at_wake]() -> Task<> {
      TimePoint start = now();
      co_await sleep_for(1ns);
      CF_EXPECT(now() >= start + 1ns);
      seen_at_wake->push_back(*busy);
      wg.done();
    });
    co_await wg.wait();
  };
}

TEST(SimExecutor, without_clock_jumps_no_timer_fires_while_a_task_can_run) {
  auto seen = std::make_shared<std::vector<int>>();
  SimOptions options;
  options.clock_jumps = false;
  testing::expect_outcome(busy_and_sleeper(seen), RunOutcome::ok, seed_count(), options);
  ASSERT_EQ(seen->size(), seed_count());
  for (int busy : *seen) EXPECT_EQ(busy, 1000);
}

TEST(SimExecutor, with_clock_jumps_some_seed_fires_a_timer_early) {
  auto seen = std::make_shared<std::vector<int>>();
  testing::expect_ok(busy_and_sleeper(seen), statistical_seeds());
  ASSERT_EQ(seen->size(), statistical_seeds());
  EXPECT_LT(*std::min_element(seen->begin(), seen->end()), 1000);
}

TEST(SimExecutor, end_time_is_the_virtual_time_the_run_ended_at) {
  RunResult result = run_once(
      []() -> Task<> {
        co_await sleep_for(90min);
        go([]() -> Task<> { co_await sleep_for(30min); });
      },
      1);
  EXPECT_EQ(result.outcome, RunOutcome::ok);
  EXPECT_EQ(result.end_time, TimePoint{} + 2h);
}

}  // namespace
}  // namespace chanfuzz
