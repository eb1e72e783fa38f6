// cli_main(): the command line (CLI11), the `list` command, and the helpers
// the commands share (number parsing, scenario lookup, the progress line).
#include "chanfuzz/cli.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chanfuzz/strategy.hpp"
#include "commands.hpp"

#ifndef CHANFUZZ_VERSION
#define CHANFUZZ_VERSION "unknown"
#endif

namespace chanfuzz {

namespace cli {

namespace {

constexpr std::array<std::string_view, 5> kCommands = {"list", "run", "replay", "minimize",
                                                       "stress"};

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// CLI11's message as one line.
std::string one_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  std::replace(text.begin(), text.end(), '\n', ' ');
  // CLI11's "The following argument was not expected: extra".
  for (std::string_view prefix : {"The following argument was not expected: ",
                                  "The following arguments were not expected: "}) {
    if (text.starts_with(prefix)) {
      std::string rest = text.substr(prefix.size());
      if (rest.find(' ') == std::string::npos) return "unexpected argument '" + rest + "'";
      // CLI11 2.1 lists several in reverse order (rjoin of an in-order list).
      std::vector<std::string> words;
      for (std::size_t at = 0; at <= rest.size();) {
        std::size_t end = std::min(rest.find(' ', at), rest.size());
        words.push_back(rest.substr(at, end - at));
        at = end + 1;
      }
      std::string listed;
      for (auto it = words.rbegin(); it != words.rend(); ++it) {
        listed += (listed.empty() ? "'" : " '") + *it + "'";
      }
      return "unexpected arguments: " + listed;
    }
  }
  // "--runs: 1 required N missing" says more plainly that the value is missing.
  const std::string_view required = ": 1 required ";
  if (auto at = text.find(required);
      at != std::string::npos && text.size() > 8 && text.ends_with(" missing")) {
    std::string type = text.substr(at + required.size(), text.size() - 8 - (at + required.size()));
    return text.substr(0, at) + ": a value is missing (" + type + ")";
  }
  return text;
}

int usage_error(std::string message) {
  std::replace(message.begin(), message.end(), '\n', ' ');  // one line, whatever it quotes
  std::cout.flush();
  std::cerr << "chanfuzz: " << message << "\n";
  return kExitUsage;
}

}  // namespace

// ---- parsing and lookup ----

std::uint64_t parse_whole(std::string_view flag, const std::string& text) {
  std::uint64_t value = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  auto [end, error] = std::from_chars(first, last, value);
  if (error == std::errc::result_out_of_range) {
    throw UsageError(fmt::format("{}: '{}' is too large", flag, text));
  }
  if (text.empty() || error != std::errc() || end != last) {
    throw UsageError(fmt::format("{}: '{}' is not a whole number", flag, text));
  }
  return value;
}

double parse_seconds(std::string_view flag, const std::string& text) {
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value) || value < 0) {
    throw UsageError(fmt::format("{}: '{}' is not a number of seconds (0 or more)", flag, text));
  }
  return value;
}

std::string parse_strategy(std::string_view flag, const std::string& text) {
  if (text == "replay") {
    throw UsageError(
        fmt::format("{}: 'replay' needs a trace: {} replay <scenario> --trace cf1:... replays one",
                    flag, command_name()));
  }
  try {
    return make_strategy(text)->name();
  } catch (const std::invalid_argument& e) {
    throw UsageError(fmt::format("{}: {}", flag, e.what()));
  }
}

const ScenarioInfo& find_scenario_or_fail(const std::string& name) {
  if (const ScenarioInfo* found = find_scenario(name)) return *found;
  const ScenarioInfo* closest = nullptr;
  std::size_t best = 3;  // suggest names within edit distance 2
  for (const ScenarioInfo& scenario : scenarios()) {
    std::size_t distance = edit_distance(name, scenario.name);
    if (distance < best) {
      best = distance;
      closest = &scenario;
    }
  }
  std::string message = fmt::format("unknown scenario '{}'", name);
  if (closest) message += fmt::format("; did you mean '{}'?", closest->name);
  if (scenarios().empty()) {
    message += " (no scenario is registered in this program)";
  } else {
    message += fmt::format(" ({} list shows them)", command_name());
  }
  throw UsageError(message);
}

const char* expectation_name(FailureKind expected) noexcept {
  return expected == FailureKind::none ? "pass" : failure_kind_name(expected);
}

Config environment_applied(Config config) {
  try {
    return apply_environment(std::move(config));
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

int exit_status(const Report& report) noexcept {
  if (report.ok()) return kExitOk;
  return report.kind == FailureKind::diverged ? kExitUsage : kExitFailure;
}

std::string group_digits(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// ---- the progress line ----

bool stderr_is_terminal() noexcept { return ::isatty(STDERR_FILENO) == 1; }

void ProgressLine::show(const std::string& text) {
  if (!enabled_) return;
  // "\033[K" erases what a longer previous line left to the right.
  std::fprintf(stderr, "\r%s\033[K", text.c_str());
  std::fflush(stderr);
  shown_ = true;
}

void ProgressLine::clear() {
  if (!shown_) return;
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  shown_ = false;
}

std::string progress_text(std::string_view scenario, const Progress& progress) {
  if (progress.systematic) {
    // Schedules explored, their rate, the depth of the path, and (from the
    // share of the bounded tree done) the time left when it can be estimated.
    double rate =
        progress.elapsed_s > 0 ? static_cast<double>(progress.schedules) / progress.elapsed_s : 0;
    std::string text =
        fmt::format("{}: {} schedules  {}/s  depth {}", scenario, group_digits(progress.schedules),
                    group_digits(static_cast<std::uint64_t>(rate)), progress.depth);
    double done = progress.fraction_done;
    if (done > 0.001 && done < 1) {
      double left = progress.elapsed_s * (1 - done) / done;
      text += fmt::format("  ~{:.0f}% done, ~{}", 100 * done,
                          left < 120 ? fmt::format("{:.0f}s left", left)
                                     : fmt::format("{:.0f}min left", left / 60));
    }
    text += fmt::format("  {:.1f}s  strategy {}", progress.elapsed_s, progress.strategy);
    if (progress.runs > progress.schedules + progress.skipped) {
      text += fmt::format("  ({} runs cut short as redundant)",
                          group_digits(progress.runs - progress.schedules - progress.skipped));
    }
    return text;
  }
  double rate =
      progress.elapsed_s > 0 ? static_cast<double>(progress.runs) / progress.elapsed_s : 0;
  std::string text = fmt::format(
      "{}: {} runs  {} runs/s  {:.1f}s  strategy {}", scenario, group_digits(progress.runs),
      group_digits(static_cast<std::uint64_t>(rate)), progress.elapsed_s, progress.strategy);
  if (progress.skipped > 0) {
    text += fmt::format("  ({} abandoned at the step limit)", group_digits(progress.skipped));
  }
  return text;
}

// ---- list ----

int list_command(bool json) {
  const auto& all = scenarios();
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const ScenarioInfo& scenario : all) {
      out.push_back({{"name", scenario.name},
                     {"description", scenario.description},
                     {"expected", expectation_name(scenario.expected)},
                     {"defined_at", format_location(scenario.where)}});
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  if (all.empty()) {
    std::cout << "no scenario is registered in this program\n";
    return kExitOk;
  }
  std::size_t name_width = std::string_view("scenario").size();
  std::size_t expected_width = std::string_view("expected").size();
  for (const ScenarioInfo& scenario : all) {
    name_width = std::max(name_width, scenario.name.size());
    expected_width =
        std::max(expected_width, std::string_view(expectation_name(scenario.expected)).size());
  }
  std::cout << fmt::format("{:<{}}  {:<{}}  {}\n", "scenario", name_width, "expected",
                           expected_width, "description");
  for (const ScenarioInfo& scenario : all) {
    std::cout << fmt::format("{:<{}}  {:<{}}  {}\n", scenario.name, name_width,
                             expectation_name(scenario.expected), expected_width,
                             scenario.description);
  }
  return kExitOk;
}

}  // namespace cli

// ---- the command line ----

namespace {

// The program name for replay commands: "chanfuzz" when the file is called
// chanfuzz (wherever it lives), else argv[0] as given.
void set_command_name_from(const char* argv0) {
  if (argv0 == nullptr || *argv0 == '\0') return;
  std::string_view path(argv0);
  std::string_view base = path.substr(path.find_last_of('/') + 1);  // npos + 1 == 0
  set_command_name(base == "chanfuzz" ? std::string("chanfuzz") : std::string(path));
}

const char* const kFooter =
    "Exit status: 0 no failure, 1 a failure was found, 2 bad usage or input (one line on "
    "stderr).";

int dispatch(int argc, char** argv) {
  using namespace cli;
  const std::string name = command_name();

  // An unknown command is named as such (CLI11 would call it an extra argument).
  if (argc >= 2 && argv[1][0] != '-' &&
      std::find(kCommands.begin(), kCommands.end(), std::string_view(argv[1])) == kCommands.end()) {
    return usage_error(fmt::format(
        "unknown command '{}' (list, run, replay, minimize, stress; {} --help)", argv[1], name));
  }

  CLI::App app(
      "chanfuzz explores the schedules of registered scenarios on a deterministic simulator and "
      "reports leaks, deadlocks, panics and assertion failures, each with a trace that replays "
      "it.",
      name);
  app.set_version_flag("--version", std::string("chanfuzz ") + CHANFUZZ_VERSION,
                       "Print the version and exit");
  app.set_help_flag("-h,--help", "Print this help and exit");
  app.footer(kFooter);

  const std::string scenario_help = fmt::format("The scenario ({} list shows them)", name);

  // list
  bool list_json = false;
  CLI::App* list = app.add_subcommand("list", "List the scenarios: name, expectation, description");
  list->add_flag("--json", list_json, "Print them as JSON");
  list->footer("Exit status: 0, or 2 for bad usage.");

  // run
  RunArgs run_args;
  std::string run_runs, run_seed, run_strategy, run_time, run_max_steps;
  CLI::App* run = app.add_subcommand(
      "run", "Run a scenario under many schedules; stop at the first failure and report it");
  run->add_option("scenario", run_args.scenario, scenario_help)->type_name("NAME");
  run->add_flag("--all", run_args.all,
                "Run every scenario and compare the results with their expectations");
  CLI::Option* runs_option = run->add_option(
      "--runs", run_runs, "Runs at most (default 1000; 2000 each with --all; 0: until --time)");
  runs_option->type_name("N");
  CLI::Option* seed_option =
      run->add_option("--seed", run_seed, "Base seed: run i uses seed S+i (default 1)");
  seed_option->type_name("S");
  CLI::Option* strategy_option = run->add_option(
      "--strategy", run_strategy,
      "random (default), pct:<depth> (depth 1-100), or dfs:<P>: every schedule with at most P "
      "preemptions, until the search is exhausted (--runs and --seed do not apply; "
      "dfs:<P>:full without reduction, dfs:<P>:nocache without the state cache, :nosym without "
      "symmetry, :nocheckpoint ignoring checkpoint(), :mem=<MiB> the state table's limit, "
      "default 1024; see docs/exploration.md)");
  strategy_option->type_name("S");
  CLI::Option* time_option =
      run->add_option("--time", run_time, "Stop after SEC seconds (per scenario with --all)");
  time_option->type_name("SEC");
  CLI::Option* max_steps_option =
      run->add_option("--max-steps", run_max_steps,
                      "Scheduling steps per run before it is cut off (default 100000)");
  max_steps_option->type_name("N");
  run->add_flag("--skip-step-limit", run_args.skip_step_limit,
                "Abandon a run that reaches --max-steps and go on, instead of failing as "
                "step-limit");
  run->add_flag("--json", run_args.json, "Print the report as JSON (no progress line)");
  std::string run_shard, run_resume, run_jobs, run_junit;
  CLI::Option* shard_option = run->add_option(
      "--shard", run_shard,
      "Run only shard I of N (1 <= I <= N): the runs whose index is I-1 modulo N, so N jobs "
      "together make the unsharded run");
  shard_option->type_name("I/N");
  CLI::Option* resume_option = run->add_option(
      "--resume", run_resume,
      "Skip the runs whose seed is below S (a run stopped by --time names the seed to resume "
      "from)");
  resume_option->type_name("S");
  CLI::Option* jobs_option = run->add_option(
      "-j,--jobs", run_jobs,
      "Runs at once on N threads (default 1); the result is the same as with 1 for the same "
      "seeds");
  jobs_option->type_name("N");
  CLI::Option* junit_option = run->add_option(
      "--junit", run_junit,
      "Also write JUnit XML to FILE: one test case per scenario, the report as the failure");
  junit_option->type_name("FILE");
  run->add_flag("--swarm", run_args.swarm,
                "Swarm testing: each run switches off some sources of variety (preemption at "
                "some operations, clock jumps, select randomization), chosen from its seed");
  run->footer(
      "The environment applies on top of the flags: CHANFUZZ_RUNS, CHANFUZZ_SEED, "
      "CHANFUZZ_STRATEGY, CHANFUZZ_TIME, CHANFUZZ_MAX_STEPS, CHANFUZZ_ON_STEP_LIMIT=fail|skip, "
      "CHANFUZZ_SWARM=1|0, CHANFUZZ_SHARD=I/N, CHANFUZZ_RESUME, CHANFUZZ_RUN_JOBS, "
      "CHANFUZZ_JUNIT.\n"
      "Exit status: 0 no failure (--all: every scenario as expected), 1 a failure was found "
      "(--all: a scenario not as expected), 2 bad usage or input.");

  // replay
  ReplayArgs replay_args;
  std::string replay_trace, replay_seed, replay_strategy, replay_max_steps;
  CLI::App* replay = app.add_subcommand(
      "replay", "Replay one run, from its trace or its seed, and report how it ends");
  replay->add_option("scenario", replay_args.scenario, scenario_help)->type_name("NAME");
  CLI::Option* trace_option =
      replay->add_option("--trace", replay_trace, "The trace of the run, from a report");
  trace_option->type_name("cf1:...");
  CLI::Option* replay_seed_option =
      replay->add_option("--seed", replay_seed, "The seed of the run (the report's seed: line)");
  replay_seed_option->type_name("S");
  CLI::Option* replay_strategy_option = replay->add_option(
      "--strategy", replay_strategy, "With --seed: the strategy of the run (default random)");
  replay_strategy_option->type_name("S");
  replay->add_flag("--verbose", replay_args.verbose,
                   "Print the interleaving step by step before the report");
  replay->add_flag("--json", replay_args.json, "Print the report as JSON");
  CLI::Option* replay_max_steps_option =
      replay->add_option("--max-steps", replay_max_steps,
                         "Scheduling steps before the run is cut off (default 100000)");
  replay_max_steps_option->type_name("N");
  replay->footer(
      "Give --trace or --seed. Exit status: 0 the run passes, 1 it fails (it reproduces), 2 bad "
      "usage or input (also a trace that no longer fits the scenario: diverged).");

  // minimize
  MinimizeArgs minimize_args;
  std::string minimize_trace, minimize_runs, minimize_time, minimize_max_steps;
  CLI::App* minimize = app.add_subcommand(
      "minimize",
      "Shorten a failing trace: fewer decisions and preemptions, the same failure category and "
      "blocked sites");
  minimize->add_option("scenario", minimize_args.scenario, scenario_help)->type_name("NAME");
  CLI::Option* minimize_trace_option =
      minimize->add_option("--trace", minimize_trace, "The failing run's trace, from a report");
  minimize_trace_option->type_name("cf1:...");
  CLI::Option* minimize_runs_option = minimize->add_option(
      "--runs", minimize_runs, "Candidate runs at most (default 20000; 0: no limit)");
  minimize_runs_option->type_name("N");
  CLI::Option* minimize_time_option =
      minimize->add_option("--time", minimize_time, "Stop after SEC seconds (default: no limit)");
  minimize_time_option->type_name("SEC");
  CLI::Option* minimize_max_steps_option =
      minimize->add_option("--max-steps", minimize_max_steps,
                           "Scheduling steps per run before it is cut off (default 100000)");
  minimize_max_steps_option->type_name("N");
  minimize->add_flag("--json", minimize_args.json, "Print the report as JSON");
  minimize->footer(
      "Prints the shorter trace's report, with a `minimized:` line naming the original. Exit "
      "status: 1 a failure (minimized), 2 bad usage or input (also a trace that does not fail, "
      "or no longer fits the scenario).");

  // stress
  StressArgs stress_args;
  std::string stress_runs, stress_seed, stress_time, stress_threads, stress_leak_wait, stress_soak;
  CLI::App* stress = app.add_subcommand(
      "stress",
      "Run a scenario many times on real threads (ThreadExecutor); report leaks, deadlocks and "
      "panics");
  stress->add_option("scenario", stress_args.scenario, scenario_help)->type_name("NAME");
  stress->add_flag("--all", stress_args.all,
                   "Stress every scenario that terminates on threads and compare with its "
                   "expectation (a schedule-dependent bug may stay unseen)");
  CLI::Option* stress_runs_option =
      stress->add_option("--runs", stress_runs, "Runs at most (default 1000; 0: until --time)");
  stress_runs_option->type_name("N");
  CLI::Option* stress_seed_option = stress->add_option(
      "--seed", stress_seed, "Base seed of the select and random() choices (default 1)");
  stress_seed_option->type_name("S");
  CLI::Option* stress_time_option =
      stress->add_option("--time", stress_time, "Stop after SEC seconds (per scenario)");
  stress_time_option->type_name("SEC");
  CLI::Option* stress_threads_option =
      stress->add_option("--threads", stress_threads, "Worker threads per run (default 2)");
  stress_threads_option->type_name("N");
  CLI::Option* stress_leak_wait_option = stress->add_option(
      "--leak-wait", stress_leak_wait,
      "After main returns, wait up to SEC seconds (growing sleeps) for the other tasks "
      "(default 1)");
  stress_leak_wait_option->type_name("SEC");
  CLI::Option* stress_soak_option = stress->add_option(
      "--soak", stress_soak,
      "Soak: stress the correct scenarios in turn for SEC seconds, printing RSS (20 runs each "
      "per round unless --runs)");
  stress_soak_option->type_name("SEC");
  stress->add_flag("--json", stress_args.json, "Print the report as JSON (no progress line)");
  stress->footer(
      "Runs on threads do not replay exactly: a report gives the seed, not a trace. The "
      "environment applies on top of the flags: CHANFUZZ_RUNS, CHANFUZZ_SEED, CHANFUZZ_TIME, "
      "CHANFUZZ_THREADS, CHANFUZZ_CLOCK_SPEED, CHANFUZZ_LEAK_WAIT.\n"
      "Exit status: 0 no failure (--all: every scenario as expected), 1 a failure, 2 bad usage "
      "or input.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    std::cout << e.what() << "\n";
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    return usage_error(one_line(e.what()));
  }

  auto given = [](CLI::Option* option, const std::string& value) {
    return option->count() > 0 ? std::optional<std::string>(value) : std::nullopt;
  };

  if (list->parsed()) return list_command(list_json);
  if (run->parsed()) {
    run_args.runs = given(runs_option, run_runs);
    run_args.seed = given(seed_option, run_seed);
    run_args.strategy = given(strategy_option, run_strategy);
    run_args.time = given(time_option, run_time);
    run_args.max_steps = given(max_steps_option, run_max_steps);
    run_args.shard = given(shard_option, run_shard);
    run_args.resume = given(resume_option, run_resume);
    run_args.jobs = given(jobs_option, run_jobs);
    run_args.junit = given(junit_option, run_junit);
    if (run_args.all) {
      if (!run_args.scenario.empty()) {
        throw UsageError(fmt::format("run: give a scenario or --all, not both ('{}' and --all)",
                                     run_args.scenario));
      }
      return run_all_command(run_args);
    }
    if (run_args.scenario.empty()) {
      throw UsageError(
          fmt::format("run: give a scenario or --all ({} list shows the scenarios)", name));
    }
    return run_command(run_args);
  }
  if (replay->parsed()) {
    replay_args.trace = given(trace_option, replay_trace);
    replay_args.seed = given(replay_seed_option, replay_seed);
    replay_args.strategy = given(replay_strategy_option, replay_strategy);
    replay_args.max_steps = given(replay_max_steps_option, replay_max_steps);
    if (replay_args.scenario.empty()) {
      throw UsageError(fmt::format("replay: give a scenario ({} list shows the scenarios)", name));
    }
    return replay_command(replay_args);
  }
  if (minimize->parsed()) {
    minimize_args.trace = given(minimize_trace_option, minimize_trace);
    minimize_args.runs = given(minimize_runs_option, minimize_runs);
    minimize_args.time = given(minimize_time_option, minimize_time);
    minimize_args.max_steps = given(minimize_max_steps_option, minimize_max_steps);
    if (minimize_args.scenario.empty()) {
      throw UsageError(
          fmt::format("minimize: give a scenario ({} list shows the scenarios)", name));
    }
    return minimize_command(minimize_args);
  }
  if (stress->parsed()) {
    stress_args.runs = given(stress_runs_option, stress_runs);
    stress_args.seed = given(stress_seed_option, stress_seed);
    stress_args.time = given(stress_time_option, stress_time);
    stress_args.threads = given(stress_threads_option, stress_threads);
    stress_args.leak_wait = given(stress_leak_wait_option, stress_leak_wait);
    stress_args.soak = given(stress_soak_option, stress_soak);
    int modes = (stress_args.all ? 1 : 0) + (stress_args.soak ? 1 : 0) +
                (stress_args.scenario.empty() ? 0 : 1);
    if (modes != 1) {
      throw UsageError(fmt::format(
          "stress: give one of a scenario, --all or --soak SEC ({} list shows the scenarios)",
          name));
    }
    if (stress_args.soak) return soak_command(stress_args);
    if (stress_args.all) return stress_all_command(stress_args);
    return stress_command(stress_args);
  }
  throw UsageError(
      fmt::format("a command is needed: list, run, replay, minimize or stress ({} --help)", name));
}

}  // namespace

int cli_main(int argc, char** argv) {
  try {
    if (argc >= 1 && argv != nullptr) set_command_name_from(argv[0]);
    return dispatch(argc, argv);
  } catch (const cli::UsageError& e) {
    return cli::usage_error(e.what());
  } catch (const std::exception& e) {
    // check() and replay() throw std::invalid_argument for a bad
    // configuration; anything else is unexpected, but still one line.
    return cli::usage_error(cli::one_line(e.what()));
  } catch (...) {
    return cli::usage_error("unexpected error (not a std::exception)");
  }
}

}  // namespace chanfuzz
