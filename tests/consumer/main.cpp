// An outside program using chanfuzz through its installed package or through
// add_subdirectory: one unbuffered hand-off on the deterministic executor.
#include <chanfuzz/chanfuzz.hpp>

#include <cstdio>
#include <stdexcept>

using namespace chanfuzz;

namespace {

Task<void> scenario() {
  auto ch = make_chan<int>(0);
  go([ch]() -> Task<void> { co_await ch.send(42); });
  auto r = co_await ch.recv();  // Recv<int>{value, ok}
  if (r.value != 42 || !r.ok) throw std::runtime_error("bad value");
}

}  // namespace

int main() {
  SimExecutor ex(SimOptions{.seed = 7});
  RunResult res = ex.run(scenario());
  if (res.outcome != RunOutcome::ok) {
    std::fprintf(stderr, "consumer: the run ended with %s: %s\n", run_outcome_name(res.outcome),
                 res.message.c_str());
    return 1;
  }
  std::printf("consumer: ok\n");
  return 0;
}
