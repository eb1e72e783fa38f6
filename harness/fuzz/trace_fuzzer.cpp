// trace_fuzzer: arbitrary strings into read_trace() and replay().
//
// Input:
//   byte 0    bit 0: 0 = the rest is the trace text as is ("cf1:..." or
//                        anything else);
//                    1 = the rest is a payload (version byte, decisions),
//                        framed with a correct checksum, so the fuzzer gets
//                        past the checksum into the decision grammar
//             bits 1-7: the scenario replayed, an index into the whole
//                        catalogue sorted by name (modulo its size)
//   rest      the text or the payload
//
// Properties (a finding aborts with a report):
//   - read_trace() returns decisions with options >= 2 and value < options
//     (and a plain end or a default tail), or throws TraceError whose message
//     starts "malformed trace: "; nothing else, never a crash;
//   - a trace it accepts encodes back to the same string (the format has one
//     spelling per run and end);
//   - replay() of an accepted trace returns a report (never throws): either
//     `diverged`, or a run that used every decision, whose report carries the
//     same trace; the report renders as text and JSON.
// Hangs are bounded by the replay's step limit (CHANFUZZ_MAX_STEPS).
#include <cstdint>
#include <exception>
#include <string>
#include <typeinfo>

#include "chanfuzz/check.hpp"
#include "chanfuzz/scenario.hpp"
#include "chanfuzz/trace.hpp"
#include "fuzz_input.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace chanfuzz;

// The trace as it may be shown on one line: printable ASCII, other bytes \xNN.
std::string escaped(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 300)) {
    auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && c != '\\') {
      out += c;
    } else {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\x%02x", byte);
      out += buffer;
    }
  }
  if (text.size() > 300) out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

[[noreturn]] void finding(const std::string& what, std::string_view trace,
                          const ScenarioInfo* scenario, std::span<const std::uint8_t> input) {
  std::string text = "chanfuzz: trace_fuzzer: " + what + "\n\n";
  text += "trace:    " + escaped(trace) + "\n";
  if (scenario) text += "scenario: " + scenario->name + "\n";
  text += fuzz::repro_lines("trace_fuzzer", "", input);
  fuzz::report_finding(text);
}

std::string describe_current_exception() {
  try {
    throw;
  } catch (const std::exception& e) {
    return std::string(typeid(e).name()) + ": " + e.what();
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> input(data, size);
  fuzz::FuzzInput in(data, size);
  if (in.empty()) return 0;
  const std::uint8_t selector = in.byte();
  const auto& all = scenarios();
  const ScenarioInfo* scenario = all.empty() ? nullptr : &all[(selector >> 1) % all.size()];
  std::span<const std::uint8_t> rest = in.rest();
  std::string_view raw(reinterpret_cast<const char*>(rest.data()), rest.size());
  const std::string trace = (selector & 1) ? detail::frame_trace_payload(raw) : std::string(raw);

  Trace decoded;
  try {
    decoded = read_trace(trace);
  } catch (const TraceError& e) {
    if (std::string_view(e.what()).rfind("malformed trace: ", 0) != 0) {
      finding("TraceError without the \"malformed trace: \" prefix: " + std::string(e.what()),
              trace, nullptr, input);
    }
    return 0;
  } catch (...) {
    finding("read_trace threw " + describe_current_exception(), trace, nullptr, input);
  }
  const std::vector<Decision>& decisions = decoded.decisions;
  for (std::size_t i = 0; i < decisions.size(); ++i) {
    const Decision& d = decisions[i];
    if (d.options < 2 || d.value >= d.options || static_cast<unsigned>(d.kind) > 3) {
      finding("read_trace accepted decision " + std::to_string(i) + " with value " +
                  std::to_string(d.value) + " of " + std::to_string(d.options) + " options",
              trace, nullptr, input);
    }
  }
  if (std::string again = encode_trace(decisions, decoded.end); again != trace) {
    finding("the accepted trace encodes back differently: " + again, trace, nullptr, input);
  }
  if (!scenario) return 0;

  Report report;
  try {
    report = replay(Scenario(scenario->make), trace, scenario->name);
    (void)report.text();
    (void)report.json();
  } catch (...) {
    finding("replay threw " + describe_current_exception(), trace, scenario, input);
  }
  if (report.kind != FailureKind::diverged && report.trace != trace) {
    finding(std::string("replay ran to its end (") + failure_kind_name(report.kind) +
                ") but reports another trace: " + report.trace,
            trace, scenario, input);
  }
  return 0;
}
