// stress(): the catalogue on real threads. Every scenario that fails on
// every schedule in the simulator must be found on threads, and every
// correct one must pass 1,000 runs (100 under sanitizers).
#include <gtest/gtest.h>

#include <chanfuzz/chanfuzz.hpp>
#include <string>
#include <vector>

namespace chanfuzz {
namespace {

#if CHANFUZZ_SANITIZED_BUILD
constexpr std::uint64_t kRuns = 100;
#else
constexpr std::uint64_t kRuns = 1000;
#endif

// The catalogue's own scenarios; the GoKer kernels have their own tests.
std::vector<std::string> names(bool failing) {
  std::vector<std::string> out;
  for (const ScenarioInfo& s : scenarios()) {
    if (s.name.rfind("goker_", 0) == 0) continue;
    if ((s.expected != FailureKind::none) == failing) out.push_back(s.name);
  }
  return out;
}

const ScenarioInfo& scenario(const std::string& name) {
  const ScenarioInfo* s = find_scenario(name);
  if (!s) throw std::logic_error("no scenario " + name);
  return *s;
}

// True when the simulator finds the failure on each of 100 random schedules.
bool fails_on_every_schedule(const ScenarioInfo& s) {
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    if (check(s, Config{.runs = 1, .seed = seed}).ok()) return false;
  }
  return true;
}

class StressCorrect : public ::testing::TestWithParam<std::string> {};
class StressFailing : public ::testing::TestWithParam<std::string> {};

TEST_P(StressCorrect, passes_on_two_threads) {
  const ScenarioInfo& s = scenario(GetParam());
  Report r = stress(Scenario(s.make), Config{.runs = kRuns, .name = s.name}, {.threads = 2});
  EXPECT_TRUE(r.ok()) << r.text();
  EXPECT_EQ(r.runs, kRuns);
  EXPECT_EQ(r.strategy, "threads:2");
}

TEST_P(StressFailing, found_on_two_threads_when_it_fails_on_every_schedule) {
  const ScenarioInfo& s = scenario(GetParam());
  if (!fails_on_every_schedule(s)) GTEST_SKIP() << "schedule-dependent: threads may not hit it";
  Report r = stress(Scenario(s.make), Config{.runs = kRuns, .name = s.name}, {.threads = 2});
  ASSERT_EQ(r.kind, s.expected) << r.text();
  ASSERT_FALSE(r.tasks.empty());
  for (const TaskInfo& task : r.tasks) {
    EXPECT_NE(task.state, "running") << "a leaked task is reported where it blocks";
    EXPECT_TRUE(task.blocked_at.known()) << task.name;
  }
}

std::string param_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

INSTANTIATE_TEST_SUITE_P(Catalogue, StressCorrect, ::testing::ValuesIn(names(false)), param_name);
INSTANTIATE_TEST_SUITE_P(Catalogue, StressFailing, ::testing::ValuesIn(names(true)), param_name);

TEST(Stress, bad_environment_values_name_the_variable) {
  ::setenv("CHANFUZZ_THREADS", "0", 1);
  try {
    apply_environment(StressOptions{});
    ADD_FAILURE() << "CHANFUZZ_THREADS=0 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("CHANFUZZ_THREADS='0'", 0), 0u) << e.what();
  }
  ::unsetenv("CHANFUZZ_THREADS");
  ::setenv("CHANFUZZ_LEAK_WAIT", "soon", 1);
  EXPECT_THROW(apply_environment(StressOptions{}), std::invalid_argument);
  ::unsetenv("CHANFUZZ_LEAK_WAIT");
}

}  // namespace
}  // namespace chanfuzz
