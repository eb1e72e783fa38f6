// `chanfuzz stress <scenario>`, `stress --all` and `stress --soak SEC`: the
// scenarios on ThreadExecutor (real threads).
#include <fmt/format.h>

#include <unistd.h>
#include <chrono>
#include <fstream>
#include <iostream>
#include <string>

#include "chanfuzz/stress.hpp"
#include "commands.hpp"

namespace chanfuzz::cli {

namespace {

struct Settings {
  Config config;
  StressOptions options;
};

Settings settings_from(const StressArgs& args, std::uint64_t default_runs) {
  Settings s;
  s.config.runs = default_runs;
  if (args.runs) s.config.runs = parse_whole("--runs", *args.runs);
  if (args.seed) s.config.seed = parse_whole("--seed", *args.seed);
  if (args.time) s.config.time_budget_s = parse_seconds("--time", *args.time);
  if (args.threads) {
    std::uint64_t threads = parse_whole("--threads", *args.threads);
    if (threads == 0 || threads > 256) throw UsageError("--threads: from 1 to 256");
    s.options.threads = static_cast<unsigned>(threads);
  }
  if (args.leak_wait) {
    s.options.leak_wait_s = parse_seconds("--leak-wait", *args.leak_wait);
    if (s.options.leak_wait_s <= 0) throw UsageError("--leak-wait: must be more than 0 seconds");
  }
  try {
    s.config = apply_environment(s.config);
    s.options = apply_environment(s.options);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (s.config.runs == 0 && s.config.time_budget_s <= 0) {
    throw UsageError("--runs: 0 means no limit and needs a time budget (--time SEC)");
  }
  return s;
}

Report run_stress(const ScenarioInfo& scenario, Settings s) {
  s.config.name = scenario.name;
  try {
    return stress(Scenario(scenario.make), s.config, s.options);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

// Resident set size in KiB, from /proc/self/statm (0 if unavailable).
std::uint64_t rss_kib() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)) / 1024;
}

// A failing stress report: the usual text, with the seed line saying how to
// run that seed again (threads do not replay exactly).
std::string stress_text(const Report& report, unsigned threads) {
  std::string text = report.text();
  std::string marker = "trace:    \n";
  if (auto at = text.find(marker); at != std::string::npos) {
    text.replace(at, marker.size(), "");
  }
  marker = "replay:   \n";
  if (auto at = text.find(marker); at != std::string::npos) {
    text.replace(at, marker.size(),
                 fmt::format("again:    chanfuzz stress {} --threads {} --seed {} --runs 1 "
                             "(real threads: the same seed need not fail the same way)\n",
                             report.scenario, threads, report.seed));
  }
  return text;
}

// Scenarios that declare they may loop for ever on their bug-free schedules
// (StepLimit::skip): the simulator abandons such a run at its step bound, but
// real threads have no step bound, so `stress --all` and the soak leave them out.
bool may_not_terminate(const ScenarioInfo& scenario) {
  return scenario.settings.on_step_limit == StepLimit::skip;
}

}  // namespace

int stress_command(const StressArgs& args) {
  const ScenarioInfo& scenario = find_scenario_or_fail(args.scenario);
  Settings s = settings_from(args, 1000);
  ProgressLine line(!args.json && stderr_is_terminal());
  if (line.enabled()) {
    s.config.on_progress = [&line, &scenario](const Progress& progress) {
      line.show(progress_text(scenario.name, progress));
    };
  }
  Report report = run_stress(scenario, s);
  line.clear();
  std::cout << (args.json ? report.json() + "\n" : stress_text(report, s.options.threads));
  return report.ok() ? kExitOk : kExitFailure;
}

int stress_all_command(const StressArgs& args) {
  Settings s = settings_from(args, 1000);
  std::cout << fmt::format("{:<30} {:<9} {:<9} {:>6} {:>7}  {}\n", "scenario", "expected", "result",
                           "runs", "time", "verdict");
  int unexpected = 0;
  std::size_t stressed = 0;
  std::string reports, left_out;
  const auto start = std::chrono::steady_clock::now();
  for (const ScenarioInfo& scenario : scenarios()) {
    if (may_not_terminate(scenario)) {
      left_out += (left_out.empty() ? "" : ", ") + scenario.name;
      continue;
    }
    ++stressed;
    Report report = run_stress(scenario, s);
    // On threads a schedule-dependent bug may not show: only a failure that
    // is not the expected one, or a correct scenario failing, is unexpected.
    bool as_expected = report.ok() || found_as_expected(scenario, report.kind);
    const char* verdict = !as_expected                                            ? "UNEXPECTED"
                          : report.ok() && scenario.expected != FailureKind::none ? "not seen"
                                                                                  : "as expected";
    if (!as_expected) {
      ++unexpected;
      reports += stress_text(report, s.options.threads) + "\n";
    }
    std::cout << fmt::format("{:<30} {:<9} {:<9} {:>6} {:>6.2f}s  {}\n", scenario.name,
                             expectation_name(scenario.expected), failure_kind_name(report.kind),
                             report.runs, report.elapsed_s, verdict);
  }
  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!left_out.empty()) {
    std::cout << fmt::format("\nleft out (may loop for ever on threads, no step bound): {}\n",
                             left_out);
  }
  std::cout << fmt::format("\n{} scenarios on {} threads, {} ({:.2f}s)\n", stressed,
                           s.options.threads,
                           unexpected ? fmt::format("{} not as expected", unexpected)
                                      : std::string("no unexpected failure"),
                           total);
  if (unexpected) std::cout << "\n" << reports;
  return unexpected ? kExitFailure : kExitOk;
}

int soak_command(const StressArgs& args) {
  double seconds = parse_seconds("--soak", *args.soak);
  if (seconds <= 0) throw UsageError("--soak: needs a number of seconds above 0");
  Settings s = settings_from(args, 20);
  s.config.time_budget_s = 0;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const std::uint64_t rss_start = rss_kib();
  std::uint64_t rss_peak = rss_start;
  std::cout << fmt::format(
                   "soak: {:.0f}s of the correct scenarios, {} runs each in turn, {} "
                   "threads; RSS at start {} KiB\n",
                   seconds, s.config.runs, s.options.threads, rss_start)
            << std::flush;
  std::uint64_t runs = 0;
  double next_line = 30;
  for (std::uint64_t round = 0; elapsed() < seconds; ++round) {
    for (const ScenarioInfo& scenario : scenarios()) {
      if (scenario.expected != FailureKind::none || may_not_terminate(scenario) ||
          elapsed() >= seconds) {
        continue;
      }
      Settings round_settings = s;
      round_settings.config.seed = s.config.seed + round * s.config.runs;
      Report report = run_stress(scenario, round_settings);
      runs += report.runs;
      if (!report.ok()) {
        std::cout << "soak: FAILED after " << runs << " runs\n"
                  << stress_text(report, s.options.threads);
        return kExitFailure;
      }
      rss_peak = std::max(rss_peak, rss_kib());
      if (elapsed() >= next_line) {
        next_line += 30;
        std::cout << fmt::format("soak: {:.0f}s, {} runs, RSS {} KiB\n", elapsed(), runs, rss_kib())
                  << std::flush;
      }
    }
  }
  std::cout << fmt::format(
      "soak: ok: {} runs in {:.0f}s, no failure; RSS {} KiB at start, {} "
      "KiB at the end, {} KiB at most\n",
      runs, elapsed(), rss_start, rss_kib(), rss_peak);
  return kExitOk;
}

}  // namespace chanfuzz::cli
