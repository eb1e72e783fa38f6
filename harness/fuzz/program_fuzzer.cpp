// program_fuzzer: random channel programs, run on the runtime under a fuzzed
// schedule, checked against a model of Go's channel semantics.
//
// Input: a program (program.hpp: up to 6 tasks, 4 channels of capacity 0-3
// or nil, send, recv, try_send, try_recv, select with 2-4 cases and an
// optional default, close, cancel of a context, sleep, spawn), then its
// schedule: one byte per decision, as in schedule_fuzzer. The run's log goes
// to the model (program_model.hpp); a disagreement is a finding, printed
// with the program, the log up to the disagreement, the trace, and how to
// replay it:
//
//   scripts/repro program_fuzzer cfp1:<program> cf1:<trace>
//   scripts/repro program_fuzzer crash-<sha1>
//
// Programs may deadlock, leak or panic (caught, the task ends): that is the
// program's business; the model says whether Go would have done the same.
// In the replay build, `program_fuzzer --program cfp1:... --trace cf1:...`
// replays one run.
//
// CHANFUZZ_PROGRAM_SELFTEST=1: the model also reports every close that wakes
// a waiting task (tests of the reporting path; never for fuzzing).
// CHANFUZZ_PROGRAM_LOG=1 (replay build): print every input's program and log.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>

#include "chanfuzz/trace.hpp"
#include "fuzz_input.hpp"
#include "fuzz_support.hpp"
#include "interleaving_feedback.hpp"
#include "program.hpp"
#include "program_model.hpp"
#include "program_runner.hpp"

namespace chanfuzz::fuzz {

namespace {

using namespace program;

constexpr std::uint64_t kMaxSteps = 10000;  // a program takes a few hundred at most
constexpr std::size_t kShownEntries = 40;

bool g_selftest = false;
bool g_log = false;

std::string format_entry(const Program& p, const LogEntry& e) {
  char step[32];
  std::snprintf(step, sizeof step, "  step %-4llu ", static_cast<unsigned long long>(e.step));
  std::string out = step + describe_entry(p, e) + "  ";
  switch (e.kind) {
    case LogEntry::Kind::begin:
      out += "begins";
      if (e.value != 0) out += ", offers " + describe_value(e.value);
      break;
    case LogEntry::Kind::end: {
      const Op& op = p.bodies[e.body][e.op];
      out += "-> ";
      if (e.panic != PanicCode::none) {
        out += e.panic == PanicCode::send_on_closed    ? "panic: send on closed channel"
               : e.panic == PanicCode::close_of_closed ? "panic: close of closed channel"
               : e.panic == PanicCode::close_of_nil    ? "panic: close of nil channel"
                                                       : "panic";
        break;
      }
      auto received = [&] {
        return e.ok ? "{" + describe_value(e.value) + ", true}"
                    : "{" + std::to_string(e.value) + ", false}";
      };
      switch (op.kind) {
        case OpKind::recv:
        case OpKind::wait:
          out += received();
          break;
        case OpKind::try_recv:
          out += e.ready ? received() : std::string("nothing");
          break;
        case OpKind::try_send:
          out += e.ok ? "true" : "false";
          break;
        case OpKind::select:
          if (e.index == op.cases) {
            out += "default";
          } else {
            out += "case " + std::to_string(e.index);
            if (!op.select[static_cast<std::size_t>(e.index)].send) out += " " + received();
          }
          break;
        case OpKind::spawn:
          out += e.ready ? "started" : "not started (6 tasks already)";
          break;
        default:
          out += "done";
          break;
      }
      break;
    }
    case LogEntry::Kind::blocked:
      out += "blocks";
      break;
    case LogEntry::Kind::woken:
      out += e.other ? "woken by task " + std::to_string(e.other) : std::string("woken (timer)");
      break;
    case LogEntry::Kind::spawned:
      out += "spawned";
      break;
    case LogEntry::Kind::finished:
      out += "returned";
      break;
  }
  return out + "\n";
}

// The report: identical whether the run came from fuzz bytes, a crash file
// or a --program/--trace replay (it ends with the trace: line).
std::string report_text(const Program& p, const ProgramRun& run, const Violation& violation) {
  std::string out = "chanfuzz: assertion: the runtime disagrees with Go's channel semantics: " +
                    violation.message + "\n\n";
  out += "program:  " + to_text(p) + "\n" + describe(p);
  const std::size_t end = std::min(violation.at + 1, run.log.size());
  const std::size_t begin = end > kShownEntries ? end - kShownEntries : 0;
  out += "run:      " + std::string(run_outcome_name(run.result.outcome)) + " after " +
         std::to_string(run.result.steps) + " steps; ";
  out += violation.at >= run.log.size() ? "the log, to the end of the run"
                                        : "the log, up to the disagreement";
  if (begin > 0) out += " (its last " + std::to_string(end - begin) + " entries)";
  out += ":\n";
  for (std::size_t i = begin; i < end; ++i) out += format_entry(p, run.log[i]);
  out += "trace:    " + encode_trace(run.result.decisions) + "\n";
  return out;
}

std::string repro_command(const Program& p, const ProgramRun& run) {
  return "scripts/repro program_fuzzer " + to_text(p) + " " + encode_trace(run.result.decisions);
}

[[noreturn]] void bad_usage(const std::string& message) {
  std::fprintf(stderr, "program_fuzzer: %s (program_fuzzer --help)\n", message.c_str());
  std::exit(2);
}

}  // namespace

// program_fuzzer --program cfp1:... --trace cf1:...: replays one run.
int target_command(std::span<char* const> args) {
  std::string program_text;
  std::string trace;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if ((arg == "--program" || arg == "--trace") && i + 1 >= args.size()) {
      bad_usage(std::string(arg) + ": a value is missing");
    }
    if (arg == "--program") {
      program_text = args[++i];
    } else if (arg == "--trace") {
      trace = args[++i];
    } else {
      bad_usage("unexpected argument '" + std::string(arg) + "' (give --program and --trace)");
    }
  }
  if (program_text.empty()) bad_usage("--program: give the cfp1:... program of the report");
  if (trace.empty()) bad_usage("--trace: give the cf1:... trace of the report");
  std::optional<Program> p = from_text(program_text);
  if (!p) bad_usage("--program: not a program (cfp1: and base64url of its bytes)");
  std::vector<Decision> decisions;
  try {
    decisions = decode_trace(trace);
  } catch (const TraceError& e) {
    bad_usage(std::string("--trace: ") + e.what());
  }
  ReplayStrategy strategy(std::move(decisions));
  ProgramRun run = run_program(*p, strategy, nullptr, kMaxSteps);
  if (run.result.outcome == RunOutcome::diverged || strategy.unused() > 0) {
    std::fprintf(stderr, "program_fuzzer: --trace: does not fit the program: %s\n",
                 run.result.outcome == RunOutcome::diverged ? run.result.message.c_str()
                                                            : "the run ended before the trace did");
    return 2;
  }
  ModelOptions options;
  options.selftest = g_selftest;
  if (std::optional<Violation> violation = check_run(*p, run, options)) {
    std::string text = report_text(*p, run, *violation);
    text += "repro:    " + repro_command(*p, run) + "\n";
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return 1;
  }
  std::printf("program_fuzzer: ok: the run (%s after %llu steps) agrees with the model\n",
              run_outcome_name(run.result.outcome),
              static_cast<unsigned long long>(run.result.steps));
  return 0;
}

}  // namespace chanfuzz::fuzz

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  const char* selftest = std::getenv("CHANFUZZ_PROGRAM_SELFTEST");
  chanfuzz::fuzz::g_selftest = selftest && std::strcmp(selftest, "1") == 0;
  const char* log = std::getenv("CHANFUZZ_PROGRAM_LOG");
  chanfuzz::fuzz::g_log = log && std::strcmp(log, "1") == 0;
  // `--program cfp1:... --trace cf1:...` replays one run, in the libFuzzer
  // build too (libFuzzer leaves arguments that start with "--" alone).
  for (int i = 1; i < *argc; ++i) {
    if (std::strcmp((*argv)[i], "--program") == 0 || std::strcmp((*argv)[i], "--trace") == 0) {
      std::fflush(stdout);
      std::exit(chanfuzz::fuzz::target_command(
          std::span<char* const>(*argv + 1, static_cast<std::size_t>(*argc - 1))));
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace chanfuzz::fuzz;
  using namespace chanfuzz::fuzz::program;
  FuzzInput in(data, size);
  const Program p = decode(in);
  if (std::optional<Program> again = from_text(to_text(p)); !again || !(*again == p)) {
    report_finding("chanfuzz: program_fuzzer: the program does not survive encode/decode: " +
                   to_text(p) + "\n" + describe(p) +
                   repro_lines("program_fuzzer", "", std::span<const std::uint8_t>(data, size)));
  }
  static InterleavingFeedback feedback;
  InterleavingFeedback* with =
      InterleavingFeedback::enabled() && !replay_mode() ? &feedback : nullptr;
  if (with) with->begin_run();
  FuzzBytesStrategy strategy(in.rest(), with);
  const ProgramRun run = run_program(p, strategy, with, kMaxSteps);
  ModelOptions options;
  options.feedback = with;
  options.selftest = g_selftest;
  const std::optional<Violation> violation = check_run(p, run, options);
  if (!violation) {
    if (g_log && replay_mode()) {
      std::string text = report_text(p, run, Violation{run.log.size(), "none"});
      std::fwrite(text.data(), 1, text.size(), stdout);
    }
    return 0;
  }
  std::string text = report_text(p, run, *violation);
  text += repro_lines("program_fuzzer", repro_command(p, run),
                      std::span<const std::uint8_t>(data, size));
  report_finding(text);
}
