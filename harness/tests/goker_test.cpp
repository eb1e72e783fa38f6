// The GoKer blocking kernels (harness/scenarios/goker/, docs/goker.md), so
// that detection can never silently regress:
// - every kernel of the public list is registered, with its category;
// - each strategy finds each kernel, in its declared category, within a
//   small budget from a fixed seed (deterministic), and the failure replays
//   exactly from its trace;
// - every fixed variant passes a modest number of runs of each strategy
//   (scripts/goker-eval checks 10,000 runs of each in a Release build).
// Each check applies the scenario's own run settings (ScenarioSettings:
// step bound, skip for kernels that may never end).
#include <gtest/gtest.h>

#include <chanfuzz/chanfuzz.hpp>
#include <chanfuzz/scenario.hpp>

#include <string>
#include <vector>

using namespace chanfuzz;

namespace {

// The public GoKer kernels (the 19 of the issue) and the category each one's
// bug produces.
struct Kernel {
  const char* name;
  FailureKind category;
};
const Kernel kKernels[] = {
    {"goker_cockroach_1462", FailureKind::deadlock},
    {"goker_cockroach_2448", FailureKind::leak},
    {"goker_cockroach_10790", FailureKind::leak},
    {"goker_cockroach_18101", FailureKind::leak},
    {"goker_cockroach_24808", FailureKind::deadlock},
    {"goker_cockroach_35073", FailureKind::deadlock},
    {"goker_etcd_6873", FailureKind::leak},
    {"goker_etcd_7902", FailureKind::leak},
    {"goker_grpc_1275", FailureKind::leak},
    {"goker_grpc_1353", FailureKind::leak},
    {"goker_grpc_1424", FailureKind::leak},
    {"goker_istio_16224", FailureKind::deadlock},
    {"goker_kubernetes_6632", FailureKind::leak},
    {"goker_kubernetes_10182", FailureKind::leak},
    {"goker_kubernetes_38669", FailureKind::leak},
    {"goker_moby_4951", FailureKind::leak},
    {"goker_moby_21233", FailureKind::leak},
    {"goker_moby_25384", FailureKind::leak},
    {"goker_syncthing_5795", FailureKind::deadlock},
};

// Each strategy finds every kernel within this many runs from seed 1 (the
// most any needs today is about a dozen).
constexpr std::uint64_t kFindRuns = 200;
// A fixed variant passes this many runs of each strategy (sanitizer builds,
// ~5x slower, look for memory errors rather than rare schedules).
#if CHANFUZZ_SANITIZED_BUILD
constexpr std::uint64_t kPassRuns = 300;
#else
constexpr std::uint64_t kPassRuns = 2000;
#endif
const ScenarioInfo& scenario(const std::string& name) {
  const ScenarioInfo* info = find_scenario(name);
  if (!info) throw std::logic_error("no scenario named " + name);
  return *info;
}

std::vector<std::string> kernel_names() {
  std::vector<std::string> out;
  for (const Kernel& kernel : kKernels) out.push_back(kernel.name);
  return out;
}

// The registered goker_*_fixed scenarios.
std::vector<std::string> fixed_names() {
  std::vector<std::string> out;
  for (const ScenarioInfo& info : scenarios()) {
    const std::string& name = info.name;
    if (name.rfind("goker_", 0) == 0 && name.size() > 6 &&
        name.compare(name.size() - 6, 6, "_fixed") == 0) {
      out.push_back(name);
    }
  }
  return out;
}

Report run(const ScenarioInfo& info, const char* strategy, std::uint64_t runs) {
  Config config;
  config.runs = runs;
  config.seed = 1;
  config.strategy = strategy;
  return check(info, apply_settings(info, config));
}

std::string param_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

TEST(Goker, EveryPublicKernelIsRegisteredWithItsCategory) {
  for (const Kernel& kernel : kKernels) {
    const ScenarioInfo* info = find_scenario(kernel.name);
    ASSERT_NE(info, nullptr) << kernel.name << " is missing";
    EXPECT_EQ(info->expected, kernel.category) << kernel.name;
    EXPECT_NE(info->description.find("GoKer"), std::string::npos) << kernel.name;
  }
  std::size_t registered = 0;
  for (const ScenarioInfo& info : scenarios()) {
    if (info.name.rfind("goker_", 0) == 0 && info.expected != FailureKind::none) ++registered;
  }
  EXPECT_EQ(registered, std::size(kKernels)) << "a failing goker_ scenario not in the list";
}

TEST(Goker, EveryFixedVariantHasItsKernel) {
  const std::vector<std::string> fixed = fixed_names();
  EXPECT_GE(fixed.size(), 10u);
  for (const std::string& name : fixed) {
    const ScenarioInfo& info = scenario(name);
    EXPECT_EQ(info.expected, FailureKind::none) << name << " is declared to fail";
    const std::string kernel = name.substr(0, name.size() - 6);
    const ScenarioInfo* buggy = find_scenario(kernel);
    ASSERT_NE(buggy, nullptr) << name << " has no kernel " << kernel;
    EXPECT_NE(buggy->expected, FailureKind::none) << kernel;
  }
}

// ---- every kernel is found ---------------------------------------------------

class GokerKernel : public ::testing::TestWithParam<std::string> {
 protected:
  const ScenarioInfo& info() const { return scenario(GetParam()); }

  void expect_found(const char* strategy) {
    Report report = run(info(), strategy, kFindRuns);
    EXPECT_TRUE(found_as_expected(info(), report.kind))
        << info().name << " with " << strategy << ": expected "
        << failure_kind_name(info().expected) << " within " << kFindRuns << " runs, got "
        << failure_kind_name(report.kind) << " after " << report.runs << " runs\n"
        << report.text();
    EXPECT_FALSE(report.ok());
    if (!report.ok()) {
      EXPECT_FALSE(report.tasks.empty()) << "the report names the blocked tasks";
      Report again = replay(Scenario(info().make), report.trace, info().name);
      EXPECT_EQ(again.kind, report.kind) << again.text();
      EXPECT_EQ(again.steps, report.steps);
      EXPECT_EQ(again.summary, report.summary);
    }
    RecordProperty(std::string("runs_") + strategy, static_cast<int>(report.runs));
  }
};

TEST_P(GokerKernel, FoundByRandom) { expect_found("random"); }
TEST_P(GokerKernel, FoundByPct3) { expect_found("pct:3"); }

INSTANTIATE_TEST_SUITE_P(Goker, GokerKernel, ::testing::ValuesIn(kernel_names()), param_name);

// ---- every fixed variant passes ----------------------------------------------

class GokerFixed : public ::testing::TestWithParam<std::string> {
 protected:
  void expect_passes(const char* strategy) {
    const ScenarioInfo& info = scenario(GetParam());
    Report report = run(info, strategy, kPassRuns);
    EXPECT_TRUE(report.ok()) << report.text();
    EXPECT_EQ(report.runs, kPassRuns);
    // Runs abandoned at the step bound are not passes: most runs must end.
    EXPECT_LE(report.skipped * 2, report.runs) << "most runs hit the step bound";
    RecordProperty("skipped", static_cast<int>(report.skipped));
  }
};

TEST_P(GokerFixed, PassesRandom) { expect_passes("random"); }
TEST_P(GokerFixed, PassesPct3) { expect_passes("pct:3"); }

INSTANTIATE_TEST_SUITE_P(Goker, GokerFixed, ::testing::ValuesIn(fixed_names()), param_name);

}  // namespace
