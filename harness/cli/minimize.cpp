// `chanfuzz minimize <scenario> --trace cf1:...`: a shorter trace that fails
// the same way (minimize.hpp), printed as its replay report with a
// `minimized:` line naming the original.
#include <fmt/format.h>
#include <stdlib.h>  // setenv, unsetenv (POSIX)

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include "chanfuzz/minimize.hpp"
#include "chanfuzz/trace.hpp"
#include "commands.hpp"

namespace chanfuzz::cli {

namespace {

// --max-steps reaches minimize() through CHANFUZZ_MAX_STEPS (it replays, as
// replay() does), unless the variable is set already (the environment wins,
// as for `run`); put back afterwards.
class ScopedMaxSteps {
 public:
  explicit ScopedMaxSteps(std::optional<std::uint64_t> max_steps) {
    const char* old = std::getenv("CHANFUZZ_MAX_STEPS");
    if (!max_steps || (old && *old)) return;
    if (old) old_ = old;
    ::setenv("CHANFUZZ_MAX_STEPS", std::to_string(*max_steps).c_str(), 1);
    set_ = true;
  }
  ~ScopedMaxSteps() {
    if (!set_) return;
    if (old_) {
      ::setenv("CHANFUZZ_MAX_STEPS", old_->c_str(), 1);
    } else {
      ::unsetenv("CHANFUZZ_MAX_STEPS");
    }
  }
  ScopedMaxSteps(const ScopedMaxSteps&) = delete;
  ScopedMaxSteps& operator=(const ScopedMaxSteps&) = delete;

 private:
  bool set_ = false;
  std::optional<std::string> old_;
};

}  // namespace

int minimize_command(const MinimizeArgs& args) {
  const ScenarioInfo& scenario = find_scenario_or_fail(args.scenario);
  if (!args.trace) {
    throw UsageError(
        "minimize: give the failing run's trace: --trace cf1:... (a report's trace: line)");
  }
  try {
    decode_trace(*args.trace);
  } catch (const TraceError& e) {
    throw UsageError(fmt::format("--trace: {}", e.what()));
  }
  MinimizeOptions options;
  options.name = scenario.name;
  if (args.runs) options.max_runs = parse_whole("--runs", *args.runs);
  if (args.time) options.time_budget_s = parse_seconds("--time", *args.time);
  std::optional<std::uint64_t> max_steps;
  if (args.max_steps) {
    max_steps = parse_whole("--max-steps", *args.max_steps);
    if (*max_steps == 0) throw UsageError("--max-steps: must be at least 1");
  }
  environment_applied(Config{});  // a bad CHANFUZZ_* variable is reported first

  ScopedMaxSteps scoped(max_steps);
  Report report;
  try {
    report = minimize(Scenario(scenario.make), *args.trace, options);
  } catch (const std::invalid_argument& e) {  // TraceError too
    throw UsageError(fmt::format("--trace: {}", e.what()));
  }
  std::cout << (args.json ? report.json() + "\n" : report.text());
  std::cout.flush();
  return exit_status(report);
}

}  // namespace chanfuzz::cli
