// The classic goroutine leak, found by the simulator.
//
// A producer sends numbers on an unbuffered channel; the consumer takes the
// first few and returns. Nobody receives the producer's next send: the
// producer blocks forever. The fix is Go's `done` channel: the consumer
// closes it when it stops, and the producer selects on it.
//
// Run: build/<dir>/examples/leak_producer
#include <chanfuzz/chanfuzz.hpp>

#include <iostream>

using namespace chanfuzz;

// Leaks: nobody tells the producer to stop.
Task<void> leaky() {
  auto numbers = make_chan<int>();
  go("producer", [numbers]() -> Task<> {
    for (int i = 0;; ++i) co_await numbers.send(i);
  });
  for (int i = 0; i < 3; ++i) co_await numbers.recv();
}

// Fixed: closing `done` releases the producer wherever it waits.
Task<void> fixed() {
  auto numbers = make_chan<int>();
  auto done = make_chan<Unit>();
  go("producer", [numbers, done]() -> Task<> {
    for (int i = 0;; ++i) {
      auto s = co_await select(numbers.send(i), done.recv());
      if (s.index() == 1) co_return;
    }
  });
  for (int i = 0; i < 3; ++i) co_await numbers.recv();
  done.close();
}

int main() {
  int failures = 0;
  struct Named {
    const char* name;
    Task<void> (*scenario)();
  };
  for (auto [name, scenario] : {Named{"leaky", leaky}, Named{"fixed", fixed}}) {
    // Try 100 schedules; stop at the first that fails.
    RunResult result;
    std::uint64_t seed = 1;
    for (; seed <= 100; ++seed) {
      SimExecutor sim(SimOptions{.seed = seed});
      result = sim.run(scenario());
      if (result.outcome != RunOutcome::ok) break;
    }
    std::cout << name << ": " << run_outcome_name(result.outcome);
    if (result.outcome == RunOutcome::ok) {
      std::cout << " in 100 schedules\n";
      continue;
    }
    ++failures;
    std::cout << " (" << result.message << ") at seed " << seed << "\n";
    for (const TaskInfo& task : result.tasks) write_task(std::cout, task);
    std::cout << "trace: " << encode_trace(result.decisions) << "\n";
  }
  // Expected: the leaky version leaks, the fixed one passes.
  return failures == 1 ? 0 : 1;
}
