// The reference model of Go channel semantics that program_fuzzer checks the
// runtime against.
//
// It is our own small implementation, independent of the runtime: channels
// are a deque, a flag and the set of tasks the log says are waiting. It
// reads a run's log (program_runner.hpp) in order and, at each operation,
// computes what Go (the spec, runtime/chan.go and select.go) does in the
// state so far: block, complete with which value, hand off to a waiting
// task, wake which tasks, panic. Where Go leaves a choice (which ready
// select case, which of several due timers) the model follows the run and
// checks only that the choice was allowed. At the end of a run that settled,
// every task still waiting must be one Go would leave waiting.
//
// The properties, each named in its messages:
//   - a value is received at most once, and only after its send began;
//   - FIFO: a buffered channel is a queue; one sender's values arrive in order;
//   - receives on a closed channel drain the buffer, then return {0, false};
//   - panics exactly where Go panics (send on closed, close of closed/nil);
//   - a select takes a ready case when there is one, default only when there
//     is none, and fires exactly one case;
//   - wakes: a send to a waiting receiver, a receive from a waiting sender and
//     close wake exactly the tasks Go wakes (waiting receivers first-come,
//     first-served).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "program.hpp"
#include "program_runner.hpp"

namespace chanfuzz::fuzz {
class InterleavingFeedback;
}

namespace chanfuzz::fuzz::program {

struct Violation {
  std::size_t at = 0;  // index in the log of the entry that disagrees (log size: the end)
  std::string message;
};

struct ModelOptions {
  InterleavingFeedback* feedback = nullptr;  // gets the model's features (may be null)
  // Self-test of the reporting path (CHANFUZZ_PROGRAM_SELFTEST=1): a close
  // that wakes a waiting task counts as a violation.
  bool selftest = false;
};

// Checks one run. nullopt: the run is what Go would do.
std::optional<Violation> check_run(const Program& program, const ProgramRun& run,
                                   const ModelOptions& options = {});

}  // namespace chanfuzz::fuzz::program
