// check(), replay(), require(), Config's environment variables, reports and
// the PCT strategy.
#include <gtest/gtest.h>

#include <chanfuzz/chanfuzz.hpp>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

using namespace chanfuzz;

namespace {

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_.empty()) {
      ::unsetenv(name_);
    } else {
      ::setenv(name_, old_.c_str(), 1);
    }
  }

 private:
  const char* name_;
  std::string old_;
};

std::string invalid_argument_of(const Config& config) {
  try {
    apply_environment(config);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

Task<void> passes() {
  auto ch = make_chan<int>(1);
  co_await ch.send(1);
  auto r = co_await ch.recv();
  require(r.ok && r.value == 1, "the value comes back");
}

Task<void> leaks() {
  auto ch = make_chan<int>();
  go("stuck", [ch]() -> Task<> { co_await ch.send(7); });
  co_return;
}

Task<void> deadlocks() {
  auto ch = make_chan<int>();
  co_await ch.recv();
}

Task<void> panics() {
  auto ch = make_chan<int>();
  ch.close();
  ch.close();
  co_return;
}

Task<void> spins() {
  auto ch = make_chan<int>(1);
  for (;;) {
    co_await ch.send(1);
    co_await ch.recv();
  }
}

// A bug of depth 2: it needs the checker to run exactly between the two
// halves of the writer's update.
Task<void> torn_update() {
  auto state = std::make_shared<int>(0);
  WaitGroup wg;
  wg.add(2);
  go("writer", [state, wg]() -> Task<> {
    *state = 1;
    co_await yield();
    *state = 2;
    wg.done();
  });
  go("checker", [state, wg]() -> Task<> {
    co_await yield();
    require(*state != 1, "saw a half-done update");
    wg.done();
  });
  co_await wg.wait();
}

}  // namespace

TEST(Check, passing_scenario_runs_every_run) {
  Report r = check(passes, Config{.runs = 50, .seed = 10});
  EXPECT_TRUE(r.ok()) << r.text();
  EXPECT_EQ(r.runs, 50u);
  EXPECT_EQ(r.first_seed, 10u);
  EXPECT_EQ(r.text().rfind("chanfuzz: ok: 50 runs, no failure", 0), 0u) << r.text();
}

TEST(Check, each_failure_category_is_reported) {
  EXPECT_EQ(check(leaks).kind, FailureKind::leak);
  EXPECT_EQ(check(deadlocks).kind, FailureKind::deadlock);
  Report panic = check(panics);
  EXPECT_EQ(panic.kind, FailureKind::panic);
  EXPECT_NE(panic.summary.find("close of closed channel"), std::string::npos) << panic.summary;
  Report limit = check(spins, Config{.max_steps = 500});
  EXPECT_EQ(limit.kind, FailureKind::step_limit);
  EXPECT_NE(limit.replay_command().find("CHANFUZZ_MAX_STEPS=500"), std::string::npos)
      << limit.replay_command();  // unnamed: the environment form
  Report skipped =
      check(spins, Config{.runs = 20, .max_steps = 500, .on_step_limit = StepLimit::skip});
  EXPECT_TRUE(skipped.ok());
  EXPECT_EQ(skipped.skipped, 20u);
}

TEST(Check, stops_at_the_first_failing_run_and_names_its_seed) {
  Report r = check(torn_update, Config{.runs = 10000, .seed = 100});
  ASSERT_EQ(r.kind, FailureKind::assertion) << r.text();
  EXPECT_EQ(r.seed, 100 + r.runs - 1);
  // Re-running only that seed fails the same way.
  Report again = check(torn_update, Config{.runs = 1, .seed = r.seed});
  EXPECT_EQ(again.kind, FailureKind::assertion);
  EXPECT_EQ(again.trace, r.trace);
}

TEST(Check, report_text_has_the_documented_shape) {
  Report r = check(leaks, Config{.name = "leaks"});
  const std::string text = r.text();
  EXPECT_EQ(text.rfind("chanfuzz: leak: 1 task still blocked after main returned\n", 0), 0u)
      << text;
  EXPECT_NE(text.find("task 2 \"stuck\" [chan send"), std::string::npos) << text;
  EXPECT_NE(text.find("chan int #"), std::string::npos) << text;
  EXPECT_NE(text.find("created by leaks() in task 1 at"), std::string::npos) << text;
  EXPECT_NE(text.find("seed:     1 (run 1 of this check, strategy random)"), std::string::npos);
  EXPECT_NE(text.find("trace:    cf1:"), std::string::npos);
  EXPECT_NE(text.find("replay:   chanfuzz replay leaks --trace cf1:"), std::string::npos) << text;
}

TEST(Check, report_json_carries_the_same_facts) {
  Report r = check(leaks, Config{.name = "leaks"});
  auto json = nlohmann::json::parse(r.json());
  EXPECT_EQ(json["chanfuzz_report"], 1);
  EXPECT_EQ(json["category"], "leak");
  EXPECT_EQ(json["ok"], false);
  EXPECT_EQ(json["trace"], r.trace);
  ASSERT_EQ(json["tasks"].size(), 1u);
  EXPECT_EQ(json["tasks"][0]["state"], "chan send");
  EXPECT_EQ(json["tasks"][0]["name"], "stuck");
  EXPECT_EQ(json["tasks"][0]["waiting_on"][0]["kind"], "channel");
  EXPECT_EQ(json["tasks"][0]["waiting_on"][0]["senders"], 1);
  EXPECT_EQ(json["tasks"][0]["waiting_on"][0]["direction"], "send");
  EXPECT_EQ(json["tasks"][0]["created_at"]["function"], "leaks");
}

TEST(Check, require_failure_is_an_assertion_even_if_the_task_catches_it) {
  Report r = check([]() -> Task<void> {
    try {
      require(false, "always false");
    } catch (const AssertionFailed&) {
    }
    co_return;
  });
  EXPECT_EQ(r.kind, FailureKind::assertion);
  EXPECT_NE(r.summary.find("always false"), std::string::npos) << r.summary;
}

TEST(Check, environment_overrides_the_config) {
  ScopedEnv runs("CHANFUZZ_RUNS", "7");
  ScopedEnv seed("CHANFUZZ_SEED", "42");
  ScopedEnv strategy("CHANFUZZ_STRATEGY", "pct:2");
  Report r = check(passes, Config{.runs = 1000, .seed = 1});
  EXPECT_EQ(r.runs, 7u);
  EXPECT_EQ(r.first_seed, 42u);
  EXPECT_EQ(r.strategy, "pct:2");
}

TEST(Check, a_bad_environment_value_names_the_variable) {
  struct Case {
    const char* name;
    const char* value;
    const char* expected;
  };
  for (const Case& c :
       {Case{"CHANFUZZ_RUNS", "many", "CHANFUZZ_RUNS='many': not a whole number"},
        Case{"CHANFUZZ_RUNS", "-1", "CHANFUZZ_RUNS='-1': not a whole number"},
        Case{"CHANFUZZ_SEED", "99999999999999999999999",
             "CHANFUZZ_SEED='99999999999999999999999': too large"},
        Case{"CHANFUZZ_STRATEGY", "bfs", "CHANFUZZ_STRATEGY='bfs': unknown strategy"},
        Case{"CHANFUZZ_STRATEGY", "pct:0", "CHANFUZZ_STRATEGY='pct:0': bad strategy"},
        Case{"CHANFUZZ_MAX_STEPS", "0", "CHANFUZZ_MAX_STEPS='0': must be at least 1"},
        Case{"CHANFUZZ_ON_STEP_LIMIT", "ignore",
             "CHANFUZZ_ON_STEP_LIMIT='ignore': must be fail or skip"},
        Case{"CHANFUZZ_TIME", "soon", "CHANFUZZ_TIME='soon': not a number of seconds"},
        Case{"CHANFUZZ_TIME", "-3", "CHANFUZZ_TIME='-3': not a number of seconds"},
        Case{"CHANFUZZ_TRACE", "cf1:@@", "CHANFUZZ_TRACE='cf1:@@': malformed trace"}}) {
    ScopedEnv env(c.name, c.value);
    std::string message = invalid_argument_of(Config{});
    EXPECT_EQ(message.rfind(c.expected, 0), 0u) << c.name << "=" << c.value << " gave: " << message;
  }
}

TEST(Check, replay_strategy_from_the_environment_replays_one_trace) {
  Report found = check(torn_update, Config{.runs = 10000});
  ASSERT_FALSE(found.ok());
  ScopedEnv strategy("CHANFUZZ_STRATEGY", "replay");
  ScopedEnv trace("CHANFUZZ_TRACE", found.trace.c_str());
  Report again = check(torn_update);
  EXPECT_EQ(again.kind, FailureKind::assertion);
  EXPECT_EQ(again.runs, 1u);
  EXPECT_EQ(again.trace, found.trace);
}

TEST(Check, time_budget_stops_an_unbounded_check) {
  Report r = check(passes, Config{.runs = 0, .time_budget_s = 0.05});
  EXPECT_TRUE(r.ok());
  EXPECT_GT(r.runs, 0u);
  EXPECT_THROW(check(passes, Config{.runs = 0}), std::invalid_argument);
}

TEST(Pct, is_deterministic_per_seed_and_finds_a_depth_two_bug) {
  Report first = check(torn_update, Config{.runs = 1000, .strategy = "pct:2"});
  Report second = check(torn_update, Config{.runs = 1000, .strategy = "pct:2"});
  ASSERT_EQ(first.kind, FailureKind::assertion) << first.text();
  EXPECT_EQ(first.trace, second.trace);
  EXPECT_EQ(first.runs, second.runs);
  // Depth 1 never preempts the highest-priority task, so it needs the lucky
  // initial priorities; depth 2 may also lower the writer mid-update.
  EXPECT_EQ(check(torn_update, Config{.runs = 1000, .strategy = "pct:3"}).kind,
            FailureKind::assertion);
}

TEST(Strategy, names_and_errors) {
  EXPECT_EQ(make_strategy("random")->name(), "random");
  EXPECT_EQ(make_strategy("pct:3")->name(), "pct:3");
  for (const char* bad : {"", "pct", "pct:", "pct:x", "pct:0", "pct:101", "dfs:2x", "replay"}) {
    EXPECT_THROW(make_strategy(bad), std::invalid_argument) << bad;
  }
}
