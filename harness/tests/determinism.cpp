// Determinism guard: the same seed must give the same decision trace with
// g++ and clang, on any machine (DESIGN.md decision 3).
//
//   chanfuzz_determinism --print            traces of fixed scenarios and seeds
//   chanfuzz_determinism --check FILE       compare them with a golden file
//
// ctest runs --check against golden/traces.txt in every build, so each
// compiler is held to the same expected traces; scripts/check-determinism
// also diffs the --print output of the g++ and clang builds directly.
// The scenarios together exercise every kind of decision: task choices, the
// clock option, select cases, timer ties and random(n).
#include <chanfuzz/chanfuzz.hpp>
#include <chanfuzz/sim_executor.hpp>
#include <chanfuzz/strategy.hpp>

#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace chanfuzz;
using namespace std::chrono_literals;

namespace {

// Producer -> filter stage -> consumer, cancelled through a context with a
// timeout, with random() deciding what the producer sends.
Task<void> pipeline() {
  auto [ctx, cancel] = with_timeout(background(), 50ms);
  auto numbers = make_chan<int>(2);
  auto evens = make_chan<int>(0);
  go("producer", [numbers, ctx = ctx]() -> Task<> {  // clang 14 cannot capture a binding by name
    for (int i = 0; i < 8; ++i) {
      int value = static_cast<int>(random(100));
      auto s = co_await select(numbers.send(value), ctx.done().recv());
      if (s.index() == 1) break;
    }
    numbers.close();
  });
  go("filter", [numbers, evens]() -> Task<> {
    for (;;) {
      auto r = co_await numbers.recv();
      if (!r.ok) break;
      if (r.value % 2 == 0) co_await evens.send(r.value);
    }
    evens.close();
  });
  int received = 0;
  for (;;) {
    auto s = co_await select(evens.recv(), after(10ms).recv());
    if (s.index() == 1) continue;
    if (!s.get<0>().ok) break;
    ++received;
  }
  cancel();
}

// Workers sharing a mutex, timers that are due at the same instant, and a
// wait group.
Task<void> workers() {
  Mutex mu;
  WaitGroup wg;
  auto total = std::make_shared<int>(0);
  for (int w = 0; w < 4; ++w) {
    wg.add(1);
    go(
        [mu, wg, total](int id) -> Task<> {
          co_await sleep_for(1ms * (id % 2));
          for (int i = 0; i < 3; ++i) {
            co_await mu.lock();
            int seen = *total;
            co_await yield();
            *total = seen + id;
            mu.unlock();
          }
          wg.done();
        },
        w);
  }
  co_await wg.wait();
}

// A leak on some schedules: the reply channel is unbuffered and the
// requester gives up after a timeout.
Task<void> timeout_leak() {
  auto reply = make_chan<int>(0);
  go("server", [reply]() -> Task<> {
    co_await sleep_for(1ms * static_cast<int>(random(3)));
    co_await reply.send(42);
  });
  auto s = co_await select(reply.recv(), after(1ms).recv());
  (void)s;
}

struct Named {
  const char* name;
  std::function<Task<void>()> make;
};

// Two stages and a fan-in over channels only (no timer, no lock): dfs's
// state model follows it all the way.
Task<void> relay() {
  auto a = make_chan<int>();
  auto b = make_chan<int>(1);
  auto done = make_chan<Unit>();
  go("first", [a]() -> Task<> {
    for (int i = 0; i < 3; ++i) co_await a.send(i);
    a.close();
  });
  go("second", [a, b, done]() -> Task<> {
    for (;;) {
      auto r = co_await a.recv();
      if (!r.ok) break;
      auto s = co_await select(b.send(r.value), done.recv());
      if (s.index() == 1) break;
    }
  });
  for (int i = 0; i < 2; ++i) (void)co_await b.recv();
  done.close();
}

// Three workers from one closure (interchangeable: symmetry) that promise
// at their loop head that nothing carries over (checkpoint), and a main
// that keeps the results as a set.
Task<void> pool() {
  auto jobs = make_chan<int>();
  auto results = make_chan<int>();
  for (int w = 0; w < 3; ++w) {
    go("worker", [jobs, results]() -> Task<> {
      for (;;) {
        checkpoint();
        auto job = co_await jobs.recv();
        if (!job.ok) break;
        co_await results.send(job.value);
      }
    });
  }
  go("feeder", [jobs]() -> Task<> {
    for (int i = 0; i < 2; ++i) co_await jobs.send(i);
    jobs.close();
  });
  std::uint64_t seen = 0;
  for (int i = 0; i < 2; ++i) {
    checkpoint(seen);
    auto r = co_await results.recv();
    seen |= std::uint64_t{1} << r.value;
  }
  require(seen == 3, "every job's result arrives once");
}

// A whole dfs search: its counts depend on every decision, on the sleep
// sets and on the state cache's fingerprints, which must not depend on the
// compiler either.
std::string search_line(const char* name, const std::function<Task<void>()>& make,
                        const std::string& spec) {
  std::unique_ptr<Strategy> strategy = make_strategy(spec);
  std::uint64_t runs = 0, failing = 0;
  while (runs < 20000) {
    SimOptions options;
    options.strategy = strategy.get();
    options.observer = [&strategy](const SimEvent& event) { strategy->on_event(event); };
    RunResult result;
    {
      SimExecutor sim(options);
      result = sim.run(make());
    }
    ++runs;
    if (!strategy->run_redundant() && result.outcome != RunOutcome::ok) ++failing;
    if (strategy->search_status()->exhausted) break;
  }
  const SearchStatus& status = *strategy->search_status();
  std::ostringstream out;
  out << name << " " << spec << " runs=" << runs << " schedules=" << status.schedules
      << " redundant=" << status.redundant << " revisits=" << status.revisits
      << " states=" << status.states << " failing=" << failing
      << " complete=" << (status.exhausted ? 1 : 0) << "\n";
  return out.str();
}

std::string print_all() {
  const std::vector<Named> scenarios = {
      {"pipeline", pipeline}, {"workers", workers}, {"timeout_leak", timeout_leak}};
  std::ostringstream out;
  for (const auto& scenario : scenarios) {
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
      SimExecutor sim(SimOptions{.seed = seed});
      RunResult result = sim.run(scenario.make());
      out << scenario.name << " seed=" << seed << " outcome=" << run_outcome_name(result.outcome)
          << " steps=" << result.steps << " end=" << result.end_time.time_since_epoch().count()
          << "ns trace=" << encode_trace(result.decisions) << "\n";
    }
  }
  // (pipeline draws random(100) eight times: no small search.)
  const std::vector<Named> searched = {
      {"workers", workers}, {"timeout_leak", timeout_leak}, {"relay", relay}, {"pool", pool}};
  for (const auto& scenario : searched) {
    for (const char* spec : {"dfs:1", "dfs:1:nomodel", "dfs:1:nocache"}) {
      out << search_line(scenario.name, scenario.make, spec);
    }
  }
  // Symmetry rests on go() fingerprinting its closure's bytes, and the
  // checkpoint on its call site: neither may depend on the compiler.
  for (const char* spec : {"dfs:1:nosym", "dfs:1:nocheckpoint"})
    out << search_line("pool", pool, spec);
  return out.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--print") == 0) {
    std::cout << print_all();
    return 0;
  }
  if (argc == 3 && std::strcmp(argv[1], "--check") == 0) {
    std::ifstream file(argv[2]);
    if (!file) {
      std::cerr << "chanfuzz_determinism: cannot read " << argv[2] << "\n";
      return 2;
    }
    std::stringstream golden;
    golden << file.rdbuf();
    std::string actual = print_all();
    if (actual == golden.str()) {
      std::cout << "traces match " << argv[2] << "\n";
      return 0;
    }
    std::istringstream a(actual), g(golden.str());
    std::string la, lg;
    for (int line = 1;; ++line) {
      bool more_a = static_cast<bool>(std::getline(a, la));
      bool more_g = static_cast<bool>(std::getline(g, lg));
      if (!more_a && !more_g) break;
      if (la != lg || more_a != more_g) {
        std::cerr << "traces differ from " << argv[2] << " at line " << line
                  << ":\n  golden: " << (more_g ? lg : "<end>")
                  << "\n  actual: " << (more_a ? la : "<end>") << "\n"
                  << "The same seed must give the same trace everywhere. If the scheduler's\n"
                  << "decisions changed on purpose, regenerate the file with\n"
                  << "  <build>/harness/tests/chanfuzz_determinism --print > " << argv[2] << "\n"
                  << "and say in the commit that older traces no longer replay.\n";
        return 1;
      }
    }
    return 1;
  }
  std::cerr << "usage: chanfuzz_determinism --print | --check GOLDEN_FILE\n";
  return 2;
}
