// Running at scale: shards together make the unsharded check, --resume
// continues one, parallel runs (Config::jobs) report what one job reports,
// and the JUnit file check() writes.
#include <gtest/gtest.h>

#include <chanfuzz/chanfuzz.hpp>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace chanfuzz;

namespace {

// Fails on about one seed in five: whether it fails is a recorded random()
// decision, so the failing seeds are a fixed set that shards must split.
Task<void> one_in_five() {
  auto ch = make_chan<int>(1);
  go("sender", [ch]() -> Task<> { co_await ch.send(random(5)); });
  auto r = co_await ch.recv();
  require(r.value != 0, "the sender drew 0");
}

Scenario scenario_named(const std::string& name) {
  const ScenarioInfo* info = find_scenario(name);
  if (!info) throw std::runtime_error("no scenario " + name);
  return Scenario(info->make);
}

// Every failing seed among runs 0..runs-1 of `config`: check, then resume
// after each failure until a check passes.
std::set<std::uint64_t> failing_seeds(const Scenario& scenario, Config config) {
  std::set<std::uint64_t> seeds;
  for (;;) {
    Report report = check(scenario, config);
    if (report.ok()) return seeds;
    EXPECT_EQ(report.kind, FailureKind::assertion) << report.text();
    seeds.insert(report.seed);
    config.resume_seed = report.seed + 1;
  }
}

TEST(Shard, the_shards_together_find_the_failures_of_the_unsharded_check) {
  Config config;
  config.runs = 200;
  config.seed = 7;
  std::set<std::uint64_t> unsharded = failing_seeds(one_in_five, config);
  ASSERT_GT(unsharded.size(), 10u);  // about 40 of 200

  for (std::uint64_t n : {2u, 3u, 7u}) {
    std::set<std::uint64_t> together;
    for (std::uint64_t i = 1; i <= n; ++i) {
      Config shard = config;
      shard.shard_index = i;
      shard.shard_count = n;
      for (std::uint64_t seed : failing_seeds(one_in_five, shard)) {
        EXPECT_EQ((seed - config.seed) % n, i - 1) << "seed " << seed << " is not shard " << i;
        EXPECT_TRUE(together.insert(seed).second) << "two shards ran seed " << seed;
      }
    }
    EXPECT_EQ(together, unsharded) << n << " shards";
  }
}

TEST(Shard, the_first_failure_is_the_smallest_failing_seed_of_any_shard) {
  Config config;
  config.runs = 200;
  Report whole = check(one_in_five, config);
  ASSERT_FALSE(whole.ok());
  std::uint64_t smallest = UINT64_MAX;
  for (std::uint64_t i = 1; i <= 4; ++i) {
    Config shard = config;
    shard.shard_index = i;
    shard.shard_count = 4;
    Report report = check(one_in_five, shard);
    if (!report.ok()) smallest = std::min(smallest, report.seed);
    if (!report.ok() && report.seed == whole.seed) {
      EXPECT_EQ(report.trace, whole.trace);
    }
  }
  EXPECT_EQ(smallest, whole.seed);
}

TEST(Shard, passing_shards_add_up_to_the_unsharded_run_count) {
  Scenario pipeline = scenario_named("pipeline");
  Config config;
  config.runs = 101;
  std::uint64_t total = 0;
  for (std::uint64_t i = 1; i <= 3; ++i) {
    Config shard = config;
    shard.shard_index = i;
    shard.shard_count = 3;
    Report report = check(pipeline, shard);
    ASSERT_TRUE(report.ok()) << report.text();
    EXPECT_EQ(report.first_seed, config.seed + i - 1);
    total += report.runs;
  }
  EXPECT_EQ(total, 101u);
}

TEST(Shard, bad_shards_are_rejected) {
  Config config;
  config.shard_index = 3;
  config.shard_count = 2;
  EXPECT_THROW(check(one_in_five, config), std::invalid_argument);
  std::uint64_t index = 0, count = 0;
  for (const char* bad : {"", "1", "0/2", "3/2", "1/0", "a/2", "1/2x", "/2", "1/"}) {
    EXPECT_FALSE(parse_shard_spec(bad, index, count)) << bad;
  }
  ASSERT_TRUE(parse_shard_spec("2/5", index, count));
  EXPECT_EQ(index, 2u);
  EXPECT_EQ(count, 5u);
}

TEST(Resume, a_check_stopped_by_its_budget_names_the_next_seed) {
  Config config;
  config.runs = 0;
  config.time_budget_s = 0.05;
  Report report = check(scenario_named("pipeline"), config);
  ASSERT_TRUE(report.ok()) << report.text();
  EXPECT_EQ(report.resume_seed, config.seed + report.runs);
  EXPECT_NE(report.text().find("--resume " + std::to_string(report.resume_seed)),
            std::string::npos);

  Config finished;
  finished.runs = 10;
  EXPECT_EQ(check(scenario_named("pipeline"), finished).resume_seed, 0u);
}

TEST(Resume, resuming_skips_the_seeds_below) {
  Config config;
  config.runs = 200;
  Report first = check(one_in_five, config);
  ASSERT_FALSE(first.ok());
  config.resume_seed = first.seed + 1;
  Report next = check(one_in_five, config);
  ASSERT_FALSE(next.ok());
  EXPECT_GT(next.seed, first.seed);
  EXPECT_EQ(next.first_seed, first.seed + 1);
}

// The same seeds give the same result whatever the number of jobs.
class Jobs : public testing::TestWithParam<std::string> {};

TEST_P(Jobs, parallel_runs_report_what_one_job_reports) {
  const std::string name = GetParam();
  for (const char* strategy : {"random", "pct:3"}) {
    Config config;
    config.runs = 400;
    config.strategy = strategy;
    Report one = check(scenario_named(name), config);
    for (unsigned jobs : {2u, 4u}) {
      Config parallel = config;
      parallel.jobs = jobs;
      Report many = check(scenario_named(name), parallel);
      EXPECT_EQ(many.kind, one.kind) << name << " " << strategy << " jobs " << jobs;
      EXPECT_EQ(many.seed, one.seed) << name << " " << strategy << " jobs " << jobs;
      EXPECT_EQ(many.runs, one.runs) << name << " " << strategy << " jobs " << jobs;
      EXPECT_EQ(many.skipped, one.skipped) << name << " " << strategy << " jobs " << jobs;
      EXPECT_EQ(many.trace, one.trace) << name << " " << strategy << " jobs " << jobs;
      EXPECT_EQ(many.summary, one.summary) << name << " " << strategy << " jobs " << jobs;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Catalogue, Jobs,
                         testing::Values("pipeline", "tee_leak", "worker_pool_leak",
                                         "semaphore_no_release", "goker_etcd_6873",
                                         "goker_kubernetes_10182"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// Fails on about one seed in 60, after a few yields, so that the failing
// run is deep in the sequence and the jobs race for the runs before it.
Task<void> one_in_sixty() {
  auto ch = make_chan<int>(1);
  go("sender", [ch]() -> Task<> {
    for (int i = 0; i < 3; ++i) co_await yield();
    co_await ch.send(random(60));
  });
  for (int i = 0; i < 3; ++i) co_await yield();
  auto r = co_await ch.recv();
  require(r.value != 0, "the sender drew 0");
}

TEST(Jobs, a_rare_failure_is_found_at_the_same_seed_on_any_number_of_jobs) {
  for (const char* strategy : {"random", "pct:2", "random+swarm"}) {
    Config config;
    config.runs = 5000;
    config.seed = 1000;
    config.strategy = strategy;
    Report one = check(one_in_sixty, config);
    ASSERT_FALSE(one.ok()) << strategy;
    EXPECT_GT(one.runs, 5u) << strategy;
    for (unsigned jobs : {2u, 3u, 8u}) {
      config.jobs = jobs;
      Report many = check(one_in_sixty, config);
      EXPECT_EQ(many.seed, one.seed) << strategy << " jobs " << jobs;
      EXPECT_EQ(many.runs, one.runs) << strategy << " jobs " << jobs;
      EXPECT_EQ(many.trace, one.trace) << strategy << " jobs " << jobs;
    }
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(JUnit, check_writes_one_test_case_with_the_report) {
  std::string path = testing::TempDir() + "chanfuzz_scale_test_junit.xml";
  std::remove(path.c_str());
  Config config;
  config.name = "tee_leak";
  config.junit = path;
  Report report = check(scenario_named("tee_leak"), config);
  ASSERT_FALSE(report.ok());
  std::string xml = read_file(path);
  EXPECT_NE(xml.find("<testsuites"), std::string::npos) << xml;
  EXPECT_NE(xml.find("tests=\"1\" failures=\"1\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<testcase classname=\"tee_leak\" name=\"tee_leak\""), std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<failure message=\"leak: "), std::string::npos) << xml;
  EXPECT_NE(xml.find("replay:   chanfuzz replay tee_leak --trace cf1:"), std::string::npos) << xml;
  std::remove(path.c_str());
}

TEST(JUnit, special_characters_are_escaped) {
  Report report;
  report.scenario = "a<b>&\"c'";
  report.kind = FailureKind::assertion;
  report.summary = "x < y && \x01";
  std::string xml = junit_xml("suite", report);
  EXPECT_NE(xml.find("name=\"a&lt;b&gt;&amp;&quot;c&apos;\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("x &lt; y &amp;&amp; ?"), std::string::npos) << xml;
  EXPECT_EQ(xml.find('\x01'), std::string::npos);
}

}  // namespace
