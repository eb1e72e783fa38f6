// Systematic exploration (issue 9): dfs:<P> enumerates exactly the schedules
// within its preemption bound, sleep-set reduction prunes equivalent ones
// without losing a failure, minimize() shortens a failing trace and keeps
// the failure, swarm runs are a function of their seed, and the strategy
// spec rejects bad input in one line.
//
// The catalogue parts take their scenario lists from the catalogue itself
// (non-goker scenarios; the GoKer kernels have goker_test.cpp). Bounds stay
// small so that the whole file runs in seconds in a Debug build and stays
// well inside its timeout under ASan+UBSan; docs/exploration.md has the
// figures for dfs:2 in a Release build.
#include <gtest/gtest.h>

#include <chanfuzz/chanfuzz.hpp>
#include <chanfuzz/minimize.hpp>
#include <chanfuzz/scenario.hpp>
#include <chanfuzz/sim_executor.hpp>
#include <chanfuzz/strategy.hpp>
#include <chanfuzz/trace.hpp>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "search_support.hpp"

using namespace chanfuzz;

namespace {

// ---- small programs whose schedules can be counted by hand ------------------

// Two tasks, each running three stretches of code separated by two yields;
// main spawns them and returns without a scheduling point. A schedule is an
// interleaving of the six stretches that keeps each task's order: 20 of
// them. Switching tasks at a yield is a preemption; switching after a task
// finished is free, and exactly one switch happens after a task finished.
// An interleaving made of r runs (maximal stretches of one task) therefore
// takes r - 2 preemptions, and the interleavings with r = 2..6 runs number
// 2, 4, 8, 4, 2. With at most P preemptions: 2, 6, 14, 18, 20 for P = 0..4.
Task<void> two_tasks_two_yields() {
  for (int t = 0; t < 2; ++t) {
    go([]() -> Task<> {
      co_await yield();
      co_await yield();
    });
  }
  co_return;
}

// One task, no scheduling choice: random(3), then a select between two ready
// receives, then random(2): 3 * 2 * 2 = 12 schedules, whatever the bound.
Task<void> values_and_cases() {
  (void)random(3);
  auto a = make_chan<int>(1);
  auto b = make_chan<int>(1);
  co_await a.send(1);
  co_await b.send(2);
  auto s = co_await select(a.recv(), b.recv());
  (void)s;
  (void)random(2);
}

// Leaks on exactly one schedule: the task sends only when random(4) is 3,
// and nobody receives.
Task<void> leaks_on_one_value() {
  auto ch = make_chan<int>();
  if (random(4) == 3) {
    go("stuck", [ch]() -> Task<> { co_await ch.send(1); });
  }
  co_return;
}

Report explore(const Scenario& scenario, const std::string& strategy) {
  Config config;
  config.strategy = strategy;
  return check(scenario, config);
}

// ---- enumeration ------------------------------------------------------------

TEST(DfsEnumeration, counts_the_interleavings_of_two_tasks_by_preemption_bound) {
  const std::map<int, std::uint64_t> expected = {{0, 2},  {1, 6},  {2, 14},
                                                 {3, 18}, {4, 20}, {9, 20}};
  for (auto [bound, schedules] : expected) {
    Report report = explore(two_tasks_two_yields, "dfs:" + std::to_string(bound) + ":full");
    EXPECT_TRUE(report.ok()) << report.text();
    EXPECT_TRUE(report.search_complete) << "bound " << bound;
    EXPECT_EQ(report.schedules, schedules) << "bound " << bound;
    EXPECT_EQ(report.redundant_runs, 0U) << "no reduction, no run is cut short";
    EXPECT_EQ(report.runs, schedules);
  }
}

TEST(DfsEnumeration, enumerates_every_random_value_and_select_case) {
  for (const char* strategy : {"dfs:0", "dfs:0:full", "dfs:2"}) {
    Report report = explore(values_and_cases, strategy);
    EXPECT_TRUE(report.ok()) << report.text();
    EXPECT_TRUE(report.search_complete) << strategy;
    EXPECT_EQ(report.schedules, 12U) << strategy;
    EXPECT_FALSE(report.random_limited) << strategy;
  }
}

TEST(DfsEnumeration, values_option_limits_random_and_says_so) {
  // random(3) explores 2 of its values, random(2) both: 2 * 2 * 2.
  Report report = explore(values_and_cases, "dfs:0:values=2");
  EXPECT_TRUE(report.search_complete);
  EXPECT_EQ(report.schedules, 8U);
  EXPECT_TRUE(report.random_limited);
  EXPECT_NE(report.text().find("values="), std::string::npos) << report.text();
}

TEST(DfsEnumeration, finds_a_failure_hidden_behind_one_random_value) {
  for (const char* strategy : {"dfs:0", "dfs:0:full"}) {
    Report report = explore(leaks_on_one_value, strategy);
    ASSERT_EQ(report.kind, FailureKind::leak) << strategy << "\n" << report.text();
    EXPECT_FALSE(report.search_complete);
    // The values are tried in the order 0, n-1, 1, ...: 3 comes second.
    EXPECT_EQ(report.runs, 2U) << strategy;
    EXPECT_EQ(replay(leaks_on_one_value, report.trace).kind, FailureKind::leak);
  }
}

// The yields touch nothing shared, so every interleaving is equivalent to
// every other. Sleep sets prune only where the equivalent schedule needs no
// more preemptions (see dfs.cpp): with P = 1 nothing here qualifies, from
// P = 2 on some do.
TEST(DfsEnumeration, reduction_prunes_interleavings_of_independent_tasks) {
  Report one = explore(two_tasks_two_yields, "dfs:1");
  EXPECT_TRUE(one.search_complete && one.ok());
  EXPECT_LE(one.schedules, 6U);
  for (int bound : {2, 3, 4}) {
    std::string spec = "dfs:" + std::to_string(bound);
    Report full = explore(two_tasks_two_yields, spec + ":full");
    Report reduced = explore(two_tasks_two_yields, spec);
    ASSERT_TRUE(full.search_complete && reduced.search_complete) << spec;
    EXPECT_TRUE(reduced.ok()) << reduced.text();
    EXPECT_GE(reduced.schedules, 1U);
    EXPECT_LT(reduced.schedules, full.schedules) << spec;
  }
}

// ---- reports ------------------------------------------------------------------

TEST(DfsReport, a_complete_search_says_it_explored_all_schedules) {
  Report report = explore(two_tasks_two_yields, "dfs:2:full");
  EXPECT_NE(report.text().find(
                "chanfuzz: ok: explored all 14 schedules with at most 2 preemptions: no failure"),
            std::string::npos)
      << report.text();
  EXPECT_NE(explore(two_tasks_two_yields, "dfs:1:full")
                .text()
                .find("explored all 6 schedules with at most 1 preemption: no failure"),
            std::string::npos);
  auto json = nlohmann::json::parse(report.json());
  EXPECT_EQ(json["search"]["complete"], true);
  EXPECT_EQ(json["search"]["schedules"], 14);
  EXPECT_EQ(json["search"]["preemption_bound"], 2);
}

TEST(DfsReport, progress_reports_the_search) {
  Config config;
  config.strategy = "dfs:3:full";
  std::vector<Progress> seen;
  std::string strategy;  // Progress::strategy lives only during the call
  config.on_progress = [&](const Progress& p) {
    seen.push_back(p);
    strategy = p.strategy;
  };
  Report report = check(two_tasks_two_yields, config);
  ASSERT_FALSE(seen.empty());  // at least the final one
  EXPECT_TRUE(seen.back().systematic);
  EXPECT_EQ(seen.back().schedules, 18U);
  EXPECT_EQ(seen.back().fraction_done, 1.0);
  EXPECT_EQ(strategy, "dfs:3:full");
  EXPECT_EQ(report.schedules, 18U);
}

TEST(DfsReport, a_failure_names_its_schedule_and_replays) {
  Report report = explore(leaks_on_one_value, "dfs:1");
  ASSERT_EQ(report.kind, FailureKind::leak);
  EXPECT_TRUE(report.systematic);
  EXPECT_NE(report.text().find("schedule: "), std::string::npos) << report.text();
  EXPECT_NE(report.text().find("trace:    " + report.trace), std::string::npos) << report.text();
  EXPECT_NE(report.replay_command().find(report.trace), std::string::npos);
}

// ---- the strategy spec ------------------------------------------------------------

std::string spec_error(const std::string& spec) {
  try {
    make_strategy(spec);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(DfsSpec, names_round_trip) {
  for (const char* spec :
       {"dfs:0", "dfs:2", "dfs:2:full", "dfs:3:values=4", "dfs:1:full:values=2", "dfs:2:nosym",
        "dfs:2:nocheckpoint", "dfs:2:mem=64", "random+swarm", "pct:3+swarm"}) {
    EXPECT_EQ(make_strategy(spec)->name(), spec);
  }
  EXPECT_EQ(make_strategy("dfs:2:values=4:full")->name(), "dfs:2:full:values=4");
  EXPECT_NE(make_strategy("dfs:2")->search_status(), nullptr);
  EXPECT_EQ(make_strategy("random+swarm")->search_status(), nullptr);
}

TEST(DfsSpec, bad_specs_are_rejected_in_one_line) {
  for (const char* spec : {"dfs",         "dfs:",          "dfs:x",          "dfs:-1",
                           "dfs:1001",    "dfs:2x",        "dfs:2:bogus",    "dfs:2:",
                           "dfs:2::full", "dfs:2:values=", "dfs:2:values=0", "dfs:2:values=x",
                           "dfs:2+swarm", "replay+swarm",  "+swarm",         "dfs:2:full=",
                           "dfs:2:mem=",  "dfs:2:mem=0",   "dfs:2:mem=x",    "dfs:2:nosym=1"}) {
    std::string error = spec_error(spec);
    EXPECT_FALSE(error.empty()) << spec << " was accepted";
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    EXPECT_NE(error.find(std::string(spec)), std::string::npos)
        << "the message names the spec: " << error;
  }
  Config swarm_with_dfs;
  swarm_with_dfs.strategy = "dfs:2";
  swarm_with_dfs.swarm = true;
  EXPECT_THROW(check(two_tasks_two_yields, swarm_with_dfs), std::invalid_argument);
}

// ---- the catalogue ----------------------------------------------------------------

const ScenarioInfo& scenario(const std::string& name) {
  const ScenarioInfo* info = find_scenario(name);
  if (!info) throw std::logic_error("no scenario named " + name);
  return *info;
}

std::vector<std::string> catalogue(bool failing) {
  std::vector<std::string> out;
  for (const ScenarioInfo& info : scenarios()) {
    if (info.name.rfind("goker_", 0) == 0) continue;
    if ((info.expected != FailureKind::none) == failing) out.push_back(info.name);
  }
  return out;
}

Report explore(const ScenarioInfo& info, const std::string& strategy) {
  Config config;
  config.strategy = strategy;
  return check(info, apply_settings(info, config));
}

// The sites the failure is about: where its tasks block.
std::set<std::pair<std::string, std::uint32_t>> blocked_sites(const Report& report) {
  std::set<std::pair<std::string, std::uint32_t>> out;
  for (const TaskInfo& task : report.tasks) {
    out.emplace(task.blocked_at.file ? task.blocked_at.file : "", task.blocked_at.line);
  }
  return out;
}

std::string param_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

// Every leaky (failing) scenario: dfs:2 finds it in its category, the trace
// replays it, and the search without reduction finds the same category: the
// reduction loses no failure.
class DfsFindsLeaky : public ::testing::TestWithParam<std::string> {};

TEST_P(DfsFindsLeaky, with_and_without_reduction) {
  const ScenarioInfo& info = scenario(GetParam());
  Report reduced = explore(info, "dfs:2");
  EXPECT_TRUE(found_as_expected(info, reduced.kind))
      << "expected " << failure_kind_name(info.expected) << "\n"
      << reduced.text();
  EXPECT_EQ(replay(Scenario(info.make), reduced.trace).kind, reduced.kind);
  for (const char* strategy : {"dfs:2:full", "dfs:0", "dfs:0:full"}) {
    Report other = explore(info, strategy);
    EXPECT_EQ(other.kind, reduced.kind) << strategy << "\n" << other.text();
  }
}

INSTANTIATE_TEST_SUITE_P(Catalogue, DfsFindsLeaky, ::testing::ValuesIn(catalogue(true)),
                         param_name);

// Every failure in a bounded space (search_support.hpp).
using test_support::AllFailures;

AllFailures all_failures(const ScenarioInfo& info, const std::string& spec, std::uint64_t cap) {
  return test_support::all_failures(info.make, spec, cap);
}

// The reduction keeps every distinct failure (category and blocked sites)
// of the whole bounded space (dfs:0, random(n) tried on 2 values), on the
// leaky scenarios whose full space is small enough for a unit test: all but
// kLargeLeaky, which have more than 20,000 such schedules.
const std::set<std::string> kLargeLeaky = {"errgroup_leak", "merge_leak", "worker_pool_leak"};

class ReductionKeepsFailures : public ::testing::TestWithParam<std::string> {};

TEST_P(ReductionKeepsFailures, every_distinct_failure_of_the_bounded_space) {
  const ScenarioInfo& info = scenario(GetParam());
  constexpr std::uint64_t kCap = 20000;
  AllFailures full = all_failures(info, "dfs:0:full:values=2", kCap);
  if (!full.complete) GTEST_SKIP() << "more than " << kCap << " schedules: add it to kLargeLeaky";
  AllFailures reduced = all_failures(info, "dfs:0:values=2", kCap);
  ASSERT_TRUE(reduced.complete);
  EXPECT_FALSE(full.found.empty());
  EXPECT_EQ(reduced.found, full.found);
  EXPECT_LE(reduced.runs, full.runs);
}

std::vector<std::string> small_leaky() {
  std::vector<std::string> out;
  for (const std::string& name : catalogue(true)) {
    if (!kLargeLeaky.count(name)) out.push_back(name);
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Catalogue, ReductionKeepsFailures, ::testing::ValuesIn(small_leaky()),
                         param_name);

// Correct scenarios small enough to prove within a unit test's time, with
// the bound that keeps each under a few thousand schedules. The others are
// in kTooLargeForUnitTests (docs/exploration.md has their dfs:2 figures).
const std::map<std::string, std::string> kProvable = {
    {"bridge", "dfs:1"},
    {"do_work_done", "dfs:2"},
    {"first_result", "dfs:0"},
    {"heartbeat", "dfs:1"},
    {"or_done", "dfs:1"},
    {"request_timeout", "dfs:0"},
    {"rand_stream_done", "dfs:1:values=1"},
    {"semaphore", "dfs:0"},
};
const std::set<std::string> kTooLargeForUnitTests = {
    "errgroup", "fan_out", "merge", "pipeline", "pipeline_done", "tee", "worker_pool"};

TEST(DfsCatalogue, every_correct_scenario_is_proved_here_or_listed_as_too_large) {
  for (const std::string& name : catalogue(false)) {
    EXPECT_TRUE(kProvable.count(name) + kTooLargeForUnitTests.count(name) == 1)
        << name << ": add it to kProvable (with a small bound) or kTooLargeForUnitTests";
  }
}

class DfsProvesCorrect : public ::testing::TestWithParam<std::string> {};

TEST_P(DfsProvesCorrect, within_a_small_bound_and_with_fewer_schedules_than_without_reduction) {
  const ScenarioInfo& info = scenario(GetParam());
  const std::string& spec = kProvable.at(GetParam());
  Report reduced = explore(info, spec);
  EXPECT_TRUE(reduced.ok()) << reduced.text();
  EXPECT_TRUE(reduced.search_complete) << reduced.text();
  Report full = explore(info, spec + ":full");
  EXPECT_TRUE(full.ok()) << full.text();
  EXPECT_TRUE(full.search_complete) << full.text();
  EXPECT_LE(reduced.schedules, full.schedules);
}

std::vector<std::string> provable() {
  std::vector<std::string> out;
  for (const auto& entry : kProvable) {
    if (find_scenario(entry.first)) out.push_back(entry.first);
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Catalogue, DfsProvesCorrect, ::testing::ValuesIn(provable()), param_name);

// ---- minimize ---------------------------------------------------------------------

// A report's text without its "minimized: ..." line.
std::string without_minimized_line(const std::string& text) {
  std::string out;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    end = end == std::string::npos ? text.size() : end + 1;
    if (text.compare(at, 11, "minimized: ") != 0) out += text.substr(at, end - at);
    at = end;
  }
  return out;
}

// The leaky scenarios' first failing traces (random strategy), each
// minimized: the same category and blocked sites, a trace that spells out
// no more decisions and a run that takes no more, and the minimized trace
// replays to the identical report.
class Minimize : public ::testing::TestWithParam<std::string> {};

TEST_P(Minimize, keeps_the_failure_and_does_not_grow) {
  const ScenarioInfo& info = scenario(GetParam());
  Report found = explore(info, "random");
  ASSERT_FALSE(found.ok());
  MinimizeOptions options;
  options.name = info.name;
  Report small = minimize(Scenario(info.make), found.trace, options);
  EXPECT_EQ(small.kind, found.kind) << small.text();
  EXPECT_EQ(blocked_sites(small), blocked_sites(found)) << small.text();
  const std::size_t original = decode_trace(found.trace).size();
  EXPECT_EQ(small.minimized_from_decisions, original);
  EXPECT_EQ(small.minimized_from, found.trace);
  EXPECT_LE(small.decisions, small.minimized_from_decisions);
  EXPECT_LE(small.decisions + small.default_tail_decisions, original) << "a longer run";
  EXPECT_LE(small.preemptions, small.minimized_from_preemptions);
  const Trace trace = read_trace(small.trace);
  EXPECT_EQ(small.decisions, trace.decisions.size());
  // A default tail exactly when the run goes on past the spelled decisions.
  EXPECT_EQ(trace.end == TraceEnd::default_tail, small.default_tail_decisions > 0) << small.trace;
  EXPECT_NE(small.text().find("minimized: "), std::string::npos) << small.text();
  if (small.default_tail_decisions > 0) {
    const std::string tail = std::to_string(small.default_tail_decisions);
    EXPECT_NE(small.text().find(" + " + tail + " by default, "), std::string::npos) << small.text();
    EXPECT_NE(small.text().find("(replayed from the trace, then " + tail), std::string::npos)
        << small.text();
  }
  // The printed trace replays to the identical report (the minimize report
  // adds only its minimized: line).
  Report again = replay(Scenario(info.make), small.trace, info.name);
  EXPECT_EQ(again.text(), without_minimized_line(small.text()));
  EXPECT_EQ(again.kind, found.kind);
  EXPECT_EQ(blocked_sites(again), blocked_sites(found));
  EXPECT_EQ(again.default_tail_decisions, small.default_tail_decisions);
}

INSTANTIATE_TEST_SUITE_P(Catalogue, Minimize, ::testing::ValuesIn(catalogue(true)), param_name);

// Issue 9: minimized traces of the leaky scenarios spell out at most half the
// decisions of the originals on average (mean of the per-scenario ratios,
// over the scenarios whose original makes a decision at all). Deterministic:
// the same traces, the same candidate runs. docs/exploration.md has the table.
TEST(MinimizeCatalogue, halves_the_leaky_traces_and_drops_preemptions) {
  std::uint64_t before = 0, after = 0, preemptions_before = 0, preemptions_after = 0;
  double ratios = 0;
  int counted = 0;
  for (const std::string& name : catalogue(true)) {
    const ScenarioInfo& info = scenario(name);
    Report found = explore(info, "random");
    Report small = minimize(Scenario(info.make), found.trace);
    before += small.minimized_from_decisions;
    after += small.decisions;
    preemptions_before += small.minimized_from_preemptions;
    preemptions_after += small.preemptions;
    if (small.minimized_from_decisions > 0) {
      ratios += static_cast<double>(small.decisions) /
                static_cast<double>(small.minimized_from_decisions);
      ++counted;
    }
    RecordProperty(name, std::to_string(small.minimized_from_decisions) + " -> " +
                             std::to_string(small.decisions) + " + " +
                             std::to_string(small.default_tail_decisions) + " by default");
  }
  ASSERT_GT(counted, 0);
  EXPECT_LE(ratios / counted, 0.5) << "mean ratio over " << counted << " scenarios";
  EXPECT_LT(after, before);
  EXPECT_LT(preemptions_after, preemptions_before);
}

// minimize() takes its own output: a trace with a default tail is a
// starting point like any other, and nothing grows.
TEST(MinimizeCatalogue, minimizing_a_minimized_trace_keeps_it) {
  const ScenarioInfo& info = scenario("tee_leak");
  Report found = explore(info, "random");
  Report small = minimize(Scenario(info.make), found.trace);
  ASSERT_EQ(read_trace(small.trace).end, TraceEnd::default_tail) << small.text();
  Report twice = minimize(Scenario(info.make), small.trace);
  EXPECT_EQ(twice.kind, small.kind);
  EXPECT_EQ(twice.minimized_from_decisions, small.decisions);
  EXPECT_EQ(twice.minimized_from_preemptions, small.preemptions);
  EXPECT_LE(twice.decisions, small.decisions);
  EXPECT_LE(twice.decisions + twice.default_tail_decisions,
            small.decisions + small.default_tail_decisions);
}

TEST(MinimizeErrors, a_passing_or_malformed_trace_is_refused) {
  // values_and_cases passes on every schedule: any run's trace passes.
  std::string passing;
  {
    SimExecutor sim(SimOptions{.seed = 5});
    passing = encode_trace(sim.run(values_and_cases()).decisions);
  }
  ASSERT_TRUE(replay(values_and_cases, passing).ok());
  try {
    minimize(values_and_cases, passing);
    ADD_FAILURE() << "a passing trace was minimized";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("does not fail"), std::string::npos) << e.what();
  }
  EXPECT_THROW(minimize(values_and_cases, "cf1:not-a-trace"), std::invalid_argument);
}

// ---- swarm --------------------------------------------------------------------------

TEST(Swarm, runs_are_a_function_of_the_seed) {
  for (const char* name : {"pipeline_leak", "request_timeout_leak", "pipeline"}) {
    const ScenarioInfo& info = scenario(name);
    for (const char* strategy : {"random+swarm", "pct:3+swarm"}) {
      Config config;
      config.strategy = strategy;
      config.runs = 200;
      config.seed = 7;
      Report first = check(info, config);
      Report second = check(info, config);
      EXPECT_EQ(first.kind, second.kind) << name << " " << strategy;
      EXPECT_EQ(first.runs, second.runs) << name << " " << strategy;
      EXPECT_EQ(first.trace, second.trace) << name << " " << strategy;
      EXPECT_EQ(first.strategy, strategy);
      if (!first.ok()) {
        EXPECT_EQ(replay(Scenario(info.make), first.trace).kind, first.kind);
      }
    }
  }
}

TEST(Swarm, config_flag_is_the_same_as_the_strategy_suffix) {
  const ScenarioInfo& info = scenario("or_done_leak");
  Config by_flag;
  by_flag.swarm = true;
  by_flag.seed = 3;
  Config by_name;
  by_name.strategy = "random+swarm";
  by_name.seed = 3;
  Report a = check(info, by_flag);
  Report b = check(info, by_name);
  EXPECT_EQ(a.strategy, "random+swarm");
  EXPECT_EQ(a.trace, b.trace);
  EXPECT_EQ(a.runs, b.runs);
}

TEST(Swarm, still_finds_the_leaky_scenarios) {
  for (const std::string& name : catalogue(true)) {
    const ScenarioInfo& info = scenario(name);
    Config config;
    config.strategy = "random+swarm";
    config.runs = 1000;
    Report report = check(info, apply_settings(info, config));
    EXPECT_TRUE(found_as_expected(info, report.kind)) << name << "\n" << report.text();
  }
}

}  // namespace
