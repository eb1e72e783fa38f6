// The built-in scenario catalogue, checked against its own declarations:
// every scenario declared correct passes 10,000 runs of each strategy, every
// scenario declared failing is found, in its declared category, within 1,000
// runs of each strategy, and its failure replays exactly from the trace.
//
// The expectations come from the catalogue (ScenarioInfo::expected), never
// from a list kept here: a new scenario is tested as soon as it is linked.
#include <gtest/gtest.h>

#include <chanfuzz/chanfuzz.hpp>
#include <chanfuzz/scenario.hpp>
#include <chanfuzz/trace.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#ifndef CHANFUZZ_SOURCE_DIR
#error "catalogue.cmake defines CHANFUZZ_SOURCE_DIR"
#endif

using namespace chanfuzz;

namespace {

constexpr std::uint64_t kFindRuns = 1000;  // a failing scenario is found within this
// A correct scenario passes this many runs (a tenth in sanitizer builds,
// which are ~5x slower and look for memory errors, not rare schedules).
#if CHANFUZZ_SANITIZED_BUILD
constexpr std::uint64_t kPassRuns = 1000;
#else
constexpr std::uint64_t kPassRuns = 10000;
#endif
const char* const kStrategies[] = {"random", "pct:3"};

const ScenarioInfo& scenario(const std::string& name) {
  const ScenarioInfo* info = find_scenario(name);
  if (!info) throw std::logic_error("no scenario named " + name);
  return *info;
}

// Names of the scenarios declared to pass (failing == false) or to fail.
// The GoKer kernels (goker_*) have their own test, goker_test.cpp: they need
// their run settings (step bound, skip) and one of them fails in either of
// two categories.
std::vector<std::string> names(bool failing) {
  std::vector<std::string> out;
  for (const ScenarioInfo& info : scenarios()) {
    if (info.name.rfind("goker_", 0) == 0) continue;
    if ((info.expected != FailureKind::none) == failing) out.push_back(info.name);
  }
  return out;
}

Report find_failure(const ScenarioInfo& info, const char* strategy) {
  Config config;
  config.runs = kFindRuns;
  config.strategy = strategy;
  return check(info, config);
}

bool ends_with(std::string_view text, std::string_view tail) {
  return text.size() >= tail.size() && text.substr(text.size() - tail.size()) == tail;
}

std::string location(const SourceLocation& where) {
  std::ostringstream out;
  out << where.file << ":" << where.line << " in " << where.function;
  return out.str();
}

// Every line of a report's text except the "seed:" line (a check names the
// seed, a replay says it was replayed from the trace).
std::vector<std::string> lines_but_seed(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("seed:", 0) != 0) out.push_back(line);
  }
  return out;
}

// The line number of the first line of `path` that contains `needle` (0: none).
std::uint32_t line_of(const std::string& path, std::string_view needle) {
  std::ifstream in(path);
  std::uint32_t number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.find(needle) != std::string::npos) return number;
  }
  return 0;
}

std::string param_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

// ---- the catalogue as a whole ----------------------------------------------

TEST(Catalogue, HasAtLeastTwentyScenariosWithUniqueNamesAndDescriptions) {
  const auto& all = scenarios();
  EXPECT_GE(all.size(), 20u);
  std::set<std::string> seen;
  for (const ScenarioInfo& info : all) {
    EXPECT_FALSE(info.name.empty());
    EXPECT_TRUE(seen.insert(info.name).second) << "duplicate scenario " << info.name;
    EXPECT_FALSE(info.description.empty()) << info.name << " has no description";
    EXPECT_NE(info.make, nullptr) << info.name;
    EXPECT_NE(info.expected, FailureKind::diverged) << info.name << ": diverged is not a bug class";
    EXPECT_TRUE(info.where.known()) << info.name;
    EXPECT_EQ(find_scenario(info.name), &info);
  }
}

TEST(Catalogue, HasScenariosThatPassAndScenariosThatLeak) {
  const auto& all = scenarios();
  auto count = [&](FailureKind kind) {
    return std::count_if(all.begin(), all.end(),
                         [&](const ScenarioInfo& info) { return info.expected == kind; });
  };
  EXPECT_GE(count(FailureKind::none), 1);
  EXPECT_GE(count(FailureKind::leak), 1);
}

// ---- the tutorial's leaks, in detail -----------------------------------------

TEST(Catalogue, RandStreamLeakNamesTheBlockedProducer) {
  const ScenarioInfo& info = scenario("rand_stream_leak");
  for (const char* strategy : kStrategies) {
    SCOPED_TRACE(strategy);
    Report report = find_failure(info, strategy);
    ASSERT_EQ(report.kind, FailureKind::leak) << report.text();
    ASSERT_EQ(report.tasks.size(), 1u) << report.text();
    const TaskInfo& task = report.tasks.front();
    EXPECT_EQ(task.name, "rand_stream");
    EXPECT_EQ(task.state, "chan send");
    EXPECT_EQ(task.parent_id, 1u) << "created by the scenario's main task";
    EXPECT_TRUE(ends_with(task.blocked_at.file, "tutorial.cpp")) << location(task.blocked_at);
    EXPECT_STREQ(task.blocked_at.function, "operator()") << location(task.blocked_at);
    const std::string tutorial =
        std::string(CHANFUZZ_SOURCE_DIR) + "/harness/scenarios/tutorial.cpp";
    const std::uint32_t send_line = line_of(tutorial, "co_await rand_stream.send(");
    ASSERT_NE(send_line, 0u) << "no producer send in " << tutorial;
    EXPECT_EQ(task.blocked_at.line, send_line) << location(task.blocked_at);
    EXPECT_TRUE(ends_with(task.created_at.file, "tutorial.cpp")) << location(task.created_at);
    EXPECT_STREQ(task.created_at.function, "chanfuzz_scenario_rand_stream_leak")
        << location(task.created_at);
    EXPECT_EQ(task.created_at.line, line_of(tutorial, "go(\"rand_stream\""));
    ASSERT_EQ(task.waiting_on.size(), 1u);
    EXPECT_EQ(task.waiting_on.front().type, "chan int");
  }
}

TEST(Catalogue, DoWorkNilLeakNamesTheNilChannelReceive) {
  Report report = find_failure(scenario("do_work_nil_leak"), "random");
  ASSERT_EQ(report.kind, FailureKind::leak) << report.text();
  ASSERT_EQ(report.tasks.size(), 1u) << report.text();
  const TaskInfo& task = report.tasks.front();
  EXPECT_EQ(task.name, "do_work");
  EXPECT_EQ(task.state, "chan receive (nil chan)");
  EXPECT_STREQ(task.created_at.function, "chanfuzz_scenario_do_work_nil_leak");
  EXPECT_EQ(report.runs, 1u) << "it leaks on every schedule";
}

// ---- scenarios declared to fail ------------------------------------------------

class FailingScenario : public ::testing::TestWithParam<std::string> {
 protected:
  const ScenarioInfo& info() const { return scenario(GetParam()); }

  void expect_found(const char* strategy) {
    Report report = find_failure(info(), strategy);
    EXPECT_EQ(report.kind, info().expected)
        << info().name << " with " << strategy << ": expected "
        << failure_kind_name(info().expected) << " within " << kFindRuns << " runs, got "
        << failure_kind_name(report.kind) << " after " << report.runs << " runs\n"
        << report.text();
    EXPECT_LE(report.runs, kFindRuns);
    if (report.kind == info().expected) {
      EXPECT_FALSE(report.trace.empty());
      EXPECT_FALSE(report.summary.empty());
      EXPECT_EQ(report.scenario, info().name);
      if (report.kind == FailureKind::leak) {
        EXPECT_FALSE(report.tasks.empty()) << "a leak names the leaked tasks";
      }
    }
    RecordProperty(std::string("runs_") + strategy, static_cast<int>(report.runs));
  }
};

TEST_P(FailingScenario, FoundByRandom) { expect_found("random"); }
TEST_P(FailingScenario, FoundByPct3) { expect_found("pct:3"); }

void expect_same_location(const SourceLocation& a, const SourceLocation& b, const char* what) {
  EXPECT_STREQ(a.file, b.file) << what;
  EXPECT_EQ(a.line, b.line) << what;
  EXPECT_STREQ(a.function, b.function) << what;
}

TEST_P(FailingScenario, ReplayReproducesTheFailure) {
  for (const char* strategy : kStrategies) {
    SCOPED_TRACE(strategy);
    Report found = find_failure(info(), strategy);
    ASSERT_EQ(found.kind, info().expected) << found.text();
    Report again = replay(Scenario(info().make), found.trace, info().name);
    EXPECT_EQ(again.kind, found.kind) << again.text();
    EXPECT_EQ(again.summary, found.summary);
    EXPECT_EQ(again.trace, found.trace);
    EXPECT_EQ(again.steps, found.steps);
    ASSERT_EQ(again.tasks.size(), found.tasks.size()) << again.text();
    for (std::size_t i = 0; i < found.tasks.size(); ++i) {
      const TaskInfo& a = found.tasks[i];
      const TaskInfo& b = again.tasks[i];
      EXPECT_EQ(a.id, b.id);
      EXPECT_EQ(a.name, b.name);
      EXPECT_EQ(a.state, b.state);
      EXPECT_EQ(a.parent_id, b.parent_id);
      EXPECT_EQ(a.steps_blocked, b.steps_blocked);
      EXPECT_EQ(a.time_blocked, b.time_blocked);
      expect_same_location(a.blocked_at, b.blocked_at, "blocked_at");
      expect_same_location(a.created_at, b.created_at, "created_at");
    }
    EXPECT_EQ(lines_but_seed(again.text()), lines_but_seed(found.text()))
        << "check:\n"
        << found.text() << "replay:\n"
        << again.text();
    // And a replay of the replay's trace is the same again.
    Report third = replay(Scenario(info().make), again.trace, info().name);
    EXPECT_EQ(third.text(), again.text());
  }
}

// Damaged copies of a good trace: characters changed, cut short, garbage
// appended, a wrong prefix.
std::vector<std::string> corruptions(const std::string& trace) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::vector<std::string> out;
  const std::string payload = trace.substr(4);  // after "cf1:"
  // Flip characters: at most ~60 positions, spread over the whole trace.
  const std::size_t stride = std::max<std::size_t>(1, trace.size() / 60);
  for (std::size_t i = 0; i < trace.size(); i += stride) {
    for (std::size_t shift : {1u, 17u, 32u}) {
      std::string copy = trace;
      std::size_t at = kAlphabet.find(copy[i]);
      copy[i] = at == std::string_view::npos ? 'A' : kAlphabet[(at + shift) % kAlphabet.size()];
      out.push_back(copy);
    }
    for (char bad : {'!', '=', ' ', '\0', '\xff'}) {
      std::string copy = trace;
      copy[i] = bad;
      out.push_back(copy);
    }
  }
  // Cut short.
  for (std::size_t keep :
       {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{4}, std::size_t{5},
        std::size_t{6}, trace.size() / 2, trace.size() - 2, trace.size() - 1}) {
    if (keep < trace.size()) out.push_back(trace.substr(0, keep));
  }
  // Garbage appended.
  for (const char* tail : {"A", "AA", "AAA", "AAAA", "_", "__", "____", "=", "==", "!", " ", "\n",
                           "cf1:", "AQ", "gA", "BAA"}) {
    out.push_back(trace + tail);
  }
  // A wrong prefix.
  for (const char* prefix : {"cf2:", "CF1:", "cf1", "cf1::", " cf1:", "cf0:", "c:", ""}) {
    out.push_back(prefix + payload);
  }
  out.push_back("cf1:");
  out.push_back("cf1:" + payload + payload);  // a trace too long
  return out;
}

TEST_P(FailingScenario, CorruptedTracesAreRejectedOrDiverge) {
  Report found = find_failure(info(), "random");
  ASSERT_EQ(found.kind, info().expected) << found.text();
  int malformed = 0;
  int diverged = 0;
  int other_schedule = 0;
  for (const std::string& bad : corruptions(found.trace)) {
    SCOPED_TRACE("trace '" + bad + "'");
    try {
      Report report = replay(Scenario(info().make), bad, info().name);
      if (report.kind == FailureKind::diverged) {
        ++diverged;
        EXPECT_NE(report.summary.find("diverged"), std::string::npos) << report.text();
        EXPECT_EQ(report.trace, bad) << "a diverged replay reports the trace it was given";
        continue;
      }
      // A damaged trace can still decode to a complete, valid schedule of
      // this scenario (a decision's answer changed to another valid one).
      // Then the replay must have followed exactly that schedule.
      ++other_schedule;
      std::vector<Decision> decisions;
      ASSERT_NO_THROW(decisions = decode_trace(bad)) << "replay accepted a trace it cannot decode";
      EXPECT_EQ(report.trace, report.ok() ? bad : encode_trace(decisions)) << report.text();
      Report again = replay(Scenario(info().make), bad, info().name);
      EXPECT_EQ(again.text(), report.text());
    } catch (const TraceError& e) {
      ++malformed;
      EXPECT_EQ(std::string_view(e.what()).substr(0, 15), "malformed trace") << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "unexpected exception: " << e.what();
    }
  }
  // The checksum catches every textual corruption before replay starts.
  EXPECT_GT(malformed, 0);
  EXPECT_EQ(other_schedule, 0) << "a damaged trace replayed as another schedule";

  // Well-formed traces that no longer fit the scenario diverge, at the
  // decision that differs.
  const std::vector<Decision> decisions = decode_trace(found.trace);
  for (std::size_t i = 0; i < decisions.size(); ++i) {
    std::vector<Decision> changed = decisions;
    changed[i].options += 1;
    Report report = replay(Scenario(info().make), encode_trace(changed), info().name);
    EXPECT_EQ(report.kind, FailureKind::diverged) << report.text();
    EXPECT_NE(report.summary.find("at decision " + std::to_string(i) + ":"), std::string::npos)
        << report.summary;
    ++diverged;
  }
  std::vector<Decision> longer = decisions;
  longer.push_back({DecisionKind::task, 2, 1});
  EXPECT_EQ(replay(Scenario(info().make), encode_trace(longer), info().name).kind,
            FailureKind::diverged);
  RecordProperty("malformed", malformed);
  RecordProperty("diverged", diverged);
  RecordProperty("other_schedule", other_schedule);
}

INSTANTIATE_TEST_SUITE_P(Catalogue, FailingScenario, ::testing::ValuesIn(names(true)), param_name);

// ---- scenarios declared correct -----------------------------------------------

class CorrectScenario : public ::testing::TestWithParam<std::string> {
 protected:
  void expect_passes(const char* strategy) {
    const ScenarioInfo& info = scenario(GetParam());
    Config config;
    config.runs = kPassRuns;
    config.strategy = strategy;
    Report report = check(info, config);
    EXPECT_TRUE(report.ok()) << report.text();
    if (report.ok()) {
      EXPECT_EQ(report.runs, kPassRuns);
    }
    RecordProperty("elapsed_ms", static_cast<int>(report.elapsed_s * 1000));
  }
};

TEST_P(CorrectScenario, PassesRandom) { expect_passes("random"); }
TEST_P(CorrectScenario, PassesPct3) { expect_passes("pct:3"); }

INSTANTIATE_TEST_SUITE_P(Catalogue, CorrectScenario, ::testing::ValuesIn(names(false)), param_name);

}  // namespace
