// `chanfuzz run <scenario>` and `chanfuzz run --all`.
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands.hpp"

namespace chanfuzz::cli {

namespace {

// The Config the flags describe, checked with the environment applied on
// top (as check() will apply it), so that every bad value is reported before
// anything runs.
Config config_from(const RunArgs& args, std::uint64_t default_runs) {
  Config config;
  config.runs = default_runs;
  if (args.runs) config.runs = parse_whole("--runs", *args.runs);
  if (args.seed) config.seed = parse_whole("--seed", *args.seed);
  if (args.strategy) config.strategy = parse_strategy("--strategy", *args.strategy);
  if (args.time) config.time_budget_s = parse_seconds("--time", *args.time);
  if (args.max_steps) {
    config.max_steps = parse_whole("--max-steps", *args.max_steps);
    if (config.max_steps == 0) throw UsageError("--max-steps: must be at least 1");
  }
  if (args.skip_step_limit) config.on_step_limit = StepLimit::skip;
  if (args.shard && !parse_shard_spec(*args.shard, config.shard_index, config.shard_count)) {
    throw UsageError("--shard: '" + *args.shard + "' is not <i>/<n> with 1 <= i <= n (e.g. 2/4)");
  }
  if (args.resume) config.resume_seed = parse_whole("--resume", *args.resume);
  if (args.jobs) {
    std::uint64_t jobs = parse_whole("-j", *args.jobs);
    if (jobs == 0 || jobs > 1024) throw UsageError("-j: from 1 to 1024 parallel runs");
    config.jobs = static_cast<unsigned>(jobs);
  }
  if (args.swarm) {
    if (config.strategy.starts_with("dfs:")) {
      throw UsageError("--swarm: varies sampled runs; it does not combine with --strategy " +
                       config.strategy);
    }
    config.swarm = true;
  }

  Config effective = environment_applied(config);
  if (effective.runs == 0 && effective.time_budget_s <= 0) {
    const char* from_environment = std::getenv("CHANFUZZ_RUNS");
    throw UsageError(from_environment && *from_environment
                         ? "CHANFUZZ_RUNS='0': 0 means no limit and needs a time budget"
                         : "--runs: 0 means no limit and needs a time budget (--time SEC)");
  }
  if (effective.strategy == "replay" && effective.trace.empty()) {
    throw UsageError("CHANFUZZ_STRATEGY: 'replay' needs a trace (CHANFUZZ_TRACE)");
  }
  if ((effective.shard_count > 0 || effective.resume_seed > 0) &&
      effective.strategy.starts_with("dfs:")) {
    throw UsageError(
        "--shard/--resume: split and resume sampled runs by seed; the systematic "
        "strategy " +
        effective.strategy + " does neither");
  }
  return config;
}

// `config` with the run settings the scenario declares (ScenarioSettings),
// except where a flag set the same field.
Config with_scenario_settings(const ScenarioInfo& scenario, const RunArgs& args, Config config) {
  Config adjusted = apply_settings(scenario, config);
  if (args.max_steps) adjusted.max_steps = config.max_steps;
  if (args.skip_step_limit) adjusted.on_step_limit = config.on_step_limit;
  return adjusted;
}

// check(), with a bad configuration (std::invalid_argument) reported as bad
// usage.
Report run_check(const ScenarioInfo& scenario, Config config) {
  try {
    return check(scenario, std::move(config));
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

std::string seconds(double s) { return fmt::format("{:.2f}s", s); }

// The JUnit file: --junit, else CHANFUZZ_JUNIT. The command writes it (once,
// for every scenario of --all), so the variable is taken out of the
// environment that check() reads.
std::string junit_path(const RunArgs& args) {
  std::string path;
  if (const char* v = std::getenv("CHANFUZZ_JUNIT"); v && *v) path = v;
  ::unsetenv("CHANFUZZ_JUNIT");
  if (args.junit) path = *args.junit;
  if (args.junit && path.empty()) throw UsageError("--junit: needs a file name");
  return path;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.flush();
  if (!out) throw UsageError("--junit: cannot write '" + path + "'");
}

}  // namespace

int run_command(const RunArgs& args) {
  const ScenarioInfo& scenario = find_scenario_or_fail(args.scenario);
  const std::string junit = junit_path(args);
  Config config = with_scenario_settings(scenario, args, config_from(args, Config{}.runs));

  ProgressLine line(!args.json && stderr_is_terminal());
  if (line.enabled()) {
    config.on_progress = [&line, &scenario](const Progress& progress) {
      line.show(progress_text(scenario.name, progress));
    };
  }
  Report report = run_check(scenario, std::move(config));
  line.clear();
  if (!junit.empty()) write_file(junit, junit_xml("chanfuzz run", report));

  std::cout << (args.json ? report.json() + "\n" : report.text());
  std::cout.flush();
  if (report.kind == FailureKind::diverged) {  // CHANFUZZ_STRATEGY=replay with a stale trace
    std::cerr << fmt::format("chanfuzz: CHANFUZZ_TRACE: does not fit scenario {}: {}\n",
                             scenario.name, report.summary);
  }
  return exit_status(report);
}

int run_all_command(const RunArgs& args) {
  // 2,000 runs each by default: enough to find the catalogue's known bugs, quick enough to run
  // the whole catalogue in a few seconds.
  constexpr std::uint64_t kDefaultRunsEach = 2000;
  const std::string junit = junit_path(args);
  Config config = config_from(args, kDefaultRunsEach);
  const auto& all = scenarios();

  struct Row {
    const ScenarioInfo* scenario;
    Report report;
    bool as_expected;
  };
  std::vector<Row> rows;
  rows.reserve(all.size());

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  ProgressLine line(!args.json && stderr_is_terminal());
  for (std::size_t i = 0; i < all.size(); ++i) {
    const ScenarioInfo& scenario = all[i];
    Config each = with_scenario_settings(scenario, args, config);
    if (line.enabled()) {
      std::string label = fmt::format("[{}/{}] {}", i + 1, all.size(), scenario.name);
      each.on_progress = [&line, label](const Progress& progress) {
        line.show(progress_text(label, progress));
      };
    }
    Report report = run_check(scenario, std::move(each));
    bool as_expected = found_as_expected(scenario, report.kind);
    rows.push_back(Row{&scenario, std::move(report), as_expected});
  }
  line.clear();
  const double total_s = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<const Row*> unexpected;
  for (const Row& row : rows) {
    if (!row.as_expected) unexpected.push_back(&row);
  }
  if (!junit.empty()) {
    std::vector<JUnitCase> cases;
    for (const Row& row : rows) {
      std::string why;
      if (!row.as_expected) {
        why = fmt::format("expected {}, found {}", expectation_name(row.scenario->expected),
                          failure_kind_name(row.report.kind));
        if (!row.report.ok()) why += ": " + row.report.summary;
      }
      cases.push_back(JUnitCase{&row.report, row.as_expected, why});
    }
    write_file(junit, junit_xml("chanfuzz run --all", cases));
  }

  if (args.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const Row& row : rows) {
      list.push_back({{"scenario", row.scenario->name},
                      {"expected", expectation_name(row.scenario->expected)},
                      {"result", failure_kind_name(row.report.kind)},
                      {"as_expected", row.as_expected},
                      {"runs", row.report.runs},
                      {"elapsed_s", row.report.elapsed_s},
                      {"report", nlohmann::json::parse(row.report.json())}});
    }
    nlohmann::json out = {{"chanfuzz_run_all", 1},
                          {"all_as_expected", unexpected.empty()},
                          {"elapsed_s", total_s},
                          {"scenarios", list}};
    std::cout << out.dump(2) << "\n";
    return unexpected.empty() ? kExitOk : kExitFailure;
  }

  // The table: scenario, expected, result, runs, time, verdict.
  const std::vector<std::string> header = {"scenario", "expected", "result",
                                           "runs",     "time",     "verdict"};
  std::vector<std::vector<std::string>> cells;
  for (const Row& row : rows) {
    cells.push_back({row.scenario->name, expectation_name(row.scenario->expected),
                     failure_kind_name(row.report.kind), group_digits(row.report.runs),
                     seconds(row.report.elapsed_s),
                     row.as_expected ? "as expected" : "UNEXPECTED"});
  }
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& r : cells) width[c] = std::max(width[c], r[c].size());
  }
  auto print_row = [&](const std::vector<std::string>& r) {
    std::string text;
    for (std::size_t c = 0; c < r.size(); ++c) {
      bool numeric = c == 3 || c == 4;  // runs and time read best right-aligned
      bool last = c + 1 == r.size();
      if (numeric) {
        text += fmt::format("{:>{}}", r[c], width[c]);
      } else if (last) {
        text += r[c];
      } else {
        text += fmt::format("{:<{}}", r[c], width[c]);
      }
      if (!last) text += "  ";
    }
    std::cout << text << "\n";
  };
  if (!rows.empty()) {
    print_row(header);
    for (const auto& r : cells) print_row(r);
  }

  for (const Row* row : unexpected) {
    std::cout << fmt::format("\n== {}: expected {}, found {}\n\n", row->scenario->name,
                             expectation_name(row->scenario->expected),
                             failure_kind_name(row->report.kind))
              << row->report.text();
  }

  std::cout << "\n";
  const std::string noun = rows.size() == 1 ? "scenario" : "scenarios";
  if (unexpected.empty()) {
    std::cout << fmt::format("{} {}, all as expected ({})\n", rows.size(), noun, seconds(total_s));
  } else {
    std::string names;
    for (const Row* row : unexpected) {
      if (!names.empty()) names += ", ";
      names += row->scenario->name;
    }
    std::cout << fmt::format("{} {}, {} not as expected: {} ({})\n", rows.size(), noun,
                             unexpected.size(), names, seconds(total_s));
  }
  std::cout.flush();
  return unexpected.empty() ? kExitOk : kExitFailure;
}

}  // namespace chanfuzz::cli
