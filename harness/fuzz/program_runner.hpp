// Runs a channel program (program.hpp) on SimExecutor and the real runtime,
// and records what happened, for the model (program_model.hpp) to judge.
//
// The log interleaves, in the order they happened on the executor's one
// thread:
//   begin     a task is about to perform an operation (and which value it
//             offers, for a send)
//   blocked   the task's operation linked it into a queue (SimEvent)
//   woken     another task (or a timer) completed or ended its wait (SimEvent)
//   end       the operation returned to the task: its result, or the panic
//   spawned / finished   (SimEvent)
// An operation that does not block runs entirely between its begin and its
// end: no other task runs in between, and the wakes it causes (woken, with
// `other` = this task) come just before its end.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chanfuzz/sim_executor.hpp"
#include "program.hpp"

namespace chanfuzz::fuzz {
class InterleavingFeedback;
}

namespace chanfuzz::fuzz::program {

enum class PanicCode : std::uint8_t { none, send_on_closed, close_of_closed, close_of_nil, other };

struct LogEntry {
  enum class Kind : std::uint8_t { begin, end, blocked, woken, spawned, finished };
  Kind kind = Kind::begin;
  std::uint64_t task = 0;
  std::uint64_t other = 0;  // woken: the task that woke it (0: none)
  std::uint64_t step = 0;
  std::uint8_t body = 0;  // begin/end: the operation, bodies[body][op]
  std::uint8_t op = 0;
  std::int32_t value = 0;             // begin: the value offered; end: the value received
  bool ok = false;                    // end: recv ok / try_send sent
  bool ready = false;                 // end: try_recv did not return nullopt; spawn started a task
  std::int8_t index = -1;             // end: the select case taken (cases: default)
  PanicCode panic = PanicCode::none;  // end
};

struct ProgramRun {
  RunResult result;
  std::vector<LogEntry> log;
};

// One run of `program`, each decision from `strategy`. `feedback` (may be
// null) sees the executor's events and the strategy's decisions.
ProgramRun run_program(const Program& program, Strategy& strategy, InterleavingFeedback* feedback,
                       std::uint64_t max_steps);

// The value the n-th send of a task offers (n from 1).
inline std::int32_t offered_value(std::uint64_t task, std::uint32_t n) {
  return static_cast<std::int32_t>((task << 8) | n);
}
// "0x203 (task 2's 3rd)".
std::string describe_value(std::int32_t value);
// "task 3 body 1 op 2 (select {...})".
std::string describe_entry(const Program& program, const LogEntry& entry);

// Where operation `op` of body `body` is, for reports and feedback sites.
SourceLocation op_location(std::size_t body, std::size_t op);

}  // namespace chanfuzz::fuzz::program
