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
      if (revisited_runs > 0) {
        about += fmt::format(" ({} at one of {} states explored before)", revisited_runs, states);
      }
    }
    if (skipped > 0) about += fmt::format(", {} runs abandoned at the step limit", skipped);
    const char* noun = schedules == 1 ? "schedule" : "schedules";
    const char* preemptions = preemption_bound == 1 ? "preemption" : "preemptions";
    if (search_complete) {
      out << fmt::format(
          "chanfuzz: ok: explored all {} {} with at most {} {}: no failure ({}, "
          "{:.2f}s)\n",
          schedules, noun, preemption_bound, preemptions, about, elapsed_s);
    } else {
      std::string share = fraction_done >= 0 ? fmt::format("about {:.0f}% of the bounded space, ",
                                                           100 * fraction_done)
                                             : std::string();
      out << fmt::format(
          "chanfuzz: ok: search incomplete: {} {} with at most {} {} explored, no "
          "failure ({}, {}stopped by the time budget, {:.2f}s)\n",
          schedules, noun, preemption_bound, preemptions, about, share, elapsed_s);
    }
    return out.str();
  }
  if (ok()) {
    out << fmt::format("chanfuzz: ok: {} {}, no failure", runs, runs == 1 ? "run" : "runs");
    if (!scenario.empty()) out << " in " << scenario;
    out << fmt::format(" (strategy {}", strategy);
    if (strategy != "replay" && runs > 0) {
      if (shard_count > 0) {
        out << fmt::format(", shard {}/{}: seeds {}..{} step {}", shard_index, shard_count,
                           first_seed, first_seed + (runs - 1) * shard_count, shard_count);
      } else {
        out << fmt::format(", seeds {}..{}", first_seed, first_seed + runs - 1);
      }
    }
    if (skipped > 0) out << fmt::format(", {} runs abandoned at the step limit", skipped);
    out << fmt::format(", {:.2f}s)\n", elapsed_s);
    if (resume_seed > 0) {
      out << fmt::format(
          "resume:   stopped by the time budget; the next run has seed {} "
          "(--resume {})\n",
          resume_seed, resume_seed);
    }
    return out.str();
  }
  out << fmt::format("chanfuzz: {}: {}\n", failure_kind_name(kind), summary);
  if (!tasks.empty()) out << "\n";
  for (const TaskInfo& task : tasks) write_task(out, task);
  if (tasks.empty()) out << "\n";
  if (strategy == "replay" && default_tail_decisions > 0) {
    out << fmt::format("seed:     (replayed from the trace, then {} by its default tail)\n",
                       default_tail_decisions == 1
                           ? std::string("1 decision")
                           : fmt::format("{} decisions", default_tail_decisions));
  } else if (strategy == "replay") {
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
    // "9 decisions" or, with a default tail, "4 decisions + 5 by default"
    // (the trace spells out 4, its run takes 9).
    std::string spelled = count(decisions, "decision", "decisions");
    if (default_tail_decisions > 0) {
      spelled += fmt::format(" + {} by default", default_tail_decisions);
    }
    out << fmt::format("minimized: {}, {} (from {}, {}: {})\n", spelled,
                       count(preemptions, "preemption", "preemptions"),
                       count(minimized_from_decisions, "decision", "decisions"),
                       count(minimized_from_preemptions, "preemption", "preemptions"),
                       minimized_from);
  }
  out << fmt::format("replay:   {}\n", replay_command());
  return out.str();
}

namespace {

nlohmann::json tasks_json_value(const std::vector<TaskInfo>& tasks) {
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
      if (object.direction != WaitObject::Direction::none) {
        waiting.back()["direction"] =
            object.direction == WaitObject::Direction::send ? "send" : "receive";
      }
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
  return tasks_json;
}

}  // namespace

std::string tasks_json(const std::vector<TaskInfo>& tasks) {
  return tasks_json_value(tasks).dump(2);
}

std::string Report::json() const {
  nlohmann::json tasks_json = tasks_json_value(tasks);
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
  if (shard_count > 0) out["shard"] = {{"index", shard_index}, {"count", shard_count}};
  if (resume_seed > 0) out["resume_seed"] = resume_seed;
  if (systematic) {
    out["search"] = {{"complete", search_complete},      {"preemption_bound", preemption_bound},
                     {"schedules", schedules},           {"redundant_runs", redundant_runs},
                     {"revisited_runs", revisited_runs}, {"states", states},
                     {"trace_keyed", trace_keyed},       {"random_limited", random_limited},
                     {"fraction_done", fraction_done}};
  }
  if (!minimized_from.empty()) {
    out["minimized"] = {{"from_trace", minimized_from},
                        {"from_decisions", minimized_from_decisions},
                        {"from_preemptions", minimized_from_preemptions},
                        {"decisions", decisions},
                        {"default_tail_decisions", default_tail_decisions},
                        {"preemptions", preemptions}};
  }
  return out.dump(2);
}

namespace {

// Text for XML: the five special characters escaped; control characters
// other than tab and newline (not allowed in XML 1.0) replaced by '?'.
std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') {
          out += '?';
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace

std::string junit_xml(std::string_view suite, const std::vector<JUnitCase>& cases) {
  std::size_t failures = 0;
  double total_s = 0;
  for (const JUnitCase& c : cases) {
    if (!c.passed) ++failures;
    total_s += c.report ? c.report->elapsed_s : 0;
  }
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << fmt::format(
      "<testsuites name=\"chanfuzz\" tests=\"{}\" failures=\"{}\" errors=\"0\" "
      "time=\"{:.3f}\">\n",
      cases.size(), failures, total_s);
  out << fmt::format(
      "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" "
      "skipped=\"0\" time=\"{:.3f}\">\n",
      xml_escape(suite), cases.size(), failures, total_s);
  for (const JUnitCase& c : cases) {
    if (!c.report) continue;
    const Report& r = *c.report;
    std::string name = r.scenario.empty() ? std::string("scenario") : r.scenario;
    out << fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\">\n",
                       xml_escape(suite), xml_escape(name), r.elapsed_s);
    if (!c.passed) {
      std::string message = c.failure.empty()
                                ? fmt::format("{}: {}", failure_kind_name(r.kind), r.summary)
                                : c.failure;
      out << fmt::format("      <failure message=\"{}\" type=\"{}\">", xml_escape(message),
                         xml_escape(failure_kind_name(r.kind)));
      out << xml_escape(r.text()) << "</failure>\n";
    } else {
      out << "      <system-out>" << xml_escape(r.text()) << "</system-out>\n";
    }
    out << "    </testcase>\n";
  }
  out << "  </testsuite>\n</testsuites>\n";
  return out.str();
}

std::string junit_xml(std::string_view suite, const Report& report) {
  return junit_xml(suite, std::vector<JUnitCase>{JUnitCase{&report, report.ok(), {}}});
}

}  // namespace chanfuzz
