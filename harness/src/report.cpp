// Report::text() and Report::json().
#include "chanfuzz/report.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "chanfuzz/check.hpp"

namespace chanfuzz {

namespace {

// Quotes an argument for a POSIX shell when it needs it.
std::string shell_word(const std::string& word) {
  bool plain = !word.empty();
  for (char c : word) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) ||
          std::string_view("-_./:=+,@%").find(c) != std::string_view::npos)) {
      plain = false;
    }
  }
  if (plain) return word;
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

nlohmann::json location_json(const SourceLocation& where) {
  if (!where.known()) return nullptr;
  return {{"file", short_path(where.file)}, {"line", where.line}, {"function", where.function}};
}

const char* object_kind_name(WaitObject::Kind kind) {
  switch (kind) {
    case WaitObject::Kind::channel:
      return "channel";
    case WaitObject::Kind::mutex:
      return "mutex";
    case WaitObject::Kind::wait_group:
      return "wait_group";
  }
  return "?";
}

}  // namespace

const char* failure_kind_name(FailureKind kind) noexcept {
  switch (kind) {
    case FailureKind::none:
      return "ok";
    case FailureKind::leak:
      return "leak";
    case FailureKind::deadlock:
      return "deadlock";
    case FailureKind::panic:
      return "panic";
    case FailureKind::assertion:
      return "assertion";
    case FailureKind::step_limit:
      return "step-limit";
    case FailureKind::diverged:
      return "diverged";
  }
  return "?";
}

std::string Report::replay_command() const {
  if (trace.empty()) return {};
  std::string steps = max_steps ? fmt::format(" --max-steps {}", max_steps) : std::string();
  if (!scenario.empty()) {
    return fmt::format("{} replay {}{} --trace {}", shell_word(command_name()),
                       shell_word(scenario), steps, trace);
  }
  std::string env = max_steps ? fmt::format(" CHANFUZZ_MAX_STEPS={}", max_steps) : std::string();
  return fmt::format("CHANFUZZ_STRATEGY=replay CHANFUZZ_TRACE={}{} <rerun this test>", trace, env);
}

std::string Report::text() const {
  std::ostringstream out;
  if (ok() && systematic) {
    std::string about = scenario.empty() ? std::string() : scenario + "; ";
    about += "strategy " + strategy;
    if (random_limited) about += " (random(n) explored only the values= it names)";
    if (redundant_runs > 0) {
      about += fmt::format(", {} more {} cut short as redundant", redundant_runs,
                           redundant_runs == 1 ? "run" : "runs");
    }
    if (skipped > 0) about += fmt::format(", {} runs abandoned at the step limit", skipped);
    const char* noun = schedules == 1 ? "schedule" : "schedules";
    if (search_complete) {
      out << fmt::format(
          "chanfuzz: ok: explored all {} {} with at most {} preemptions: no failure ({}, "
          "{:.2f}s)\n",
          schedules, noun, preemption_bound, about, elapsed_s);
    } else {
      std::string share = fraction_done >= 0
                              ? fmt::format("about {:.0f}% of the bounded space, ",
                                            100 * fraction_done)
                              : std::string();
      out << fmt::format(
          "chanfuzz: ok: search incomplete: {} {} with at most {} preemptions explored, no "
          "failure ({}, {}stopped by the time budget, {:.2f}s)\n",
          schedules, noun, preemption_bound, about, share, elapsed_s);
    }
    return out.str();
  }
  if (ok()) {
    out << fmt::format("chanfuzz: ok: {} {}, no failure", runs, runs == 1 ? "run" : "runs");
    if (!scenario.empty()) out << " in " << scenario;
    out << fmt::format(" (strategy {}", strategy);
    if (strategy != "replay" && runs > 0) {
      out << fmt::format(", seeds {}..{}", first_seed, first_seed + runs - 1);
    }
    if (skipped > 0) out << fmt::format(", {} runs abandoned at the step limit", skipped);
    out << fmt::format(", {:.2f}s)\n", elapsed_s);
    return out.str();
  }
  out << fmt::format("chanfuzz: {}: {}\n", failure_kind_name(kind), summary);
  if (!tasks.empty()) out << "\n";
  for (const TaskInfo& task : tasks) write_task(out, task);
  if (tasks.empty()) out << "\n";
  if (strategy == "replay") {
    out << "seed:     (replayed from the trace)\n";
  } else if (systematic) {
    out << fmt::format("schedule: {} of the search (strategy {}; the trace replays it)\n",
                       schedules, strategy);
  } else {
    out << fmt::format("seed:     {} (run {} of this check, strategy {})\n", seed, runs, strategy);
  }
  out << fmt::format("trace:    {}\n", trace);
  if (!minimized_from.empty()) {
    auto count = [](std::uint64_t n, const char* one, const char* many) {
      return fmt::format("{} {}", n, n == 1 ? one : many);
    };
    out << fmt::format("minimized: {}, {} (from {}, {}: {})\n",
                       count(decisions, "decision", "decisions"),
                       count(preemptions, "preemption", "preemptions"),
                       count(minimized_from_decisions, "decision", "decisions"),
                       count(minimized_from_preemptions, "preemption", "preemptions"),
                       minimized_from);
  }
  out << fmt::format("replay:   {}\n", replay_command());
  return out.str();
}

std::string Report::json() const {
  nlohmann::json tasks_json = nlohmann::json::array();
  for (const TaskInfo& task : tasks) {
    nlohmann::json waiting = nlohmann::json::array();
    for (const WaitObject& object : task.waiting_on) {
      waiting.push_back({{"kind", object_kind_name(object.kind)},
                         {"id", object.id},
                         {"type", object.type},
                         {"nil", object.nil},
                         {"closed", object.closed},
                         {"capacity", object.capacity},
                         {"length", object.length},
                         {"senders", object.senders},
                         {"receivers", object.receivers},
                         {"created_at", location_json(object.created_at)},
                         {"description", object.describe()}});
    }
    tasks_json.push_back({{"id", task.id},
                          {"name", task.name},
                          {"state", task.state},
                          {"steps_blocked", task.steps_blocked},
                          {"time_blocked_ns", task.time_blocked.count()},
                          {"blocked_at", location_json(task.blocked_at)},
                          {"created_at", location_json(task.created_at)},
                          {"parent_id", task.parent_id},
                          {"panic", task.panic},
                          {"waiting_on", waiting}});
  }
  nlohmann::json out = {
      {"chanfuzz_report", 1},
      {"ok", ok()},
      {"category", failure_kind_name(kind)},
      {"summary", summary},
      {"scenario", scenario},
      {"strategy", strategy},
      {"runs", runs},
      {"skipped", skipped},
      {"seed", seed},
      {"first_seed", first_seed},
      {"steps", steps},
      {"elapsed_s", elapsed_s},
      {"trace", trace},
      {"replay", replay_command()},
      {"tasks", tasks_json},
  };
  if (systematic) {
    out["search"] = {{"complete", search_complete},
                     {"preemption_bound", preemption_bound},
                     {"schedules", schedules},
                     {"redundant_runs", redundant_runs},
                     {"random_limited", random_limited},
                     {"fraction_done", fraction_done}};
  }
  if (!minimized_from.empty()) {
    out["minimized"] = {{"from_trace", minimized_from},
                        {"from_decisions", minimized_from_decisions},
                        {"from_preemptions", minimized_from_preemptions},
                        {"decisions", decisions},
                        {"preemptions", preemptions}};
  }
  return out.dump(2);
}

}  // namespace chanfuzz
