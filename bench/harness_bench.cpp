// Harness throughput: complete simulated runs per second, one core.
//
//   build/bench/bench/harness_bench --benchmark_repetitions=5
//
// The "Runs/scenario:<name>/<strategy>" rows are compared in the report with
// bench/go's BenchmarkRuns/scenario:<name>: the same program run for real.
//
// Each iteration is one whole run: a fresh SimExecutor, the scenario's tasks
// and channels, the strategy's decisions, the end-of-run oracles and the
// teardown. The items_per_second counter is runs per second.
#include <benchmark/benchmark.h>

#include <chanfuzz/chanfuzz.hpp>

using namespace chanfuzz;

namespace {

// A pipeline of 10 tasks: a generator, 8 stages that each add one, and a
// sink, passing 20 values through unbuffered channels, with a done channel
// that every stage also selects on.
Task<void> pipeline10() {
  constexpr int kStages = 8;
  constexpr int kValues = 20;
  auto done = make_chan<Unit>();
  auto source = make_chan<int>();
  go("generator", [source, done]() -> Task<> {
    for (int i = 0; i < kValues; ++i) {
      auto s = co_await select(source.send(i), done.recv());
      if (s.index() == 1) break;
    }
    source.close();
  });
  Chan<int> in = source;
  for (int stage = 0; stage < kStages; ++stage) {
    auto out = make_chan<int>();
    go("stage", [in, out, done]() -> Task<> {
      for (;;) {
        auto r = co_await in.recv();
        if (!r.ok) break;
        auto s = co_await select(out.send(r.value + 1), done.recv());
        if (s.index() == 1) break;
      }
      out.close();
    });
    in = out;
  }
  auto finished = make_chan<Unit>();
  go("sink", [in, finished]() -> Task<> {
    int sum = 0;
    for (;;) {
      auto r = co_await in.recv();
      if (!r.ok) break;
      sum += r.value;
    }
    require(sum == kValues * (kValues - 1) / 2 + kValues * kStages, "every value arrives once");
    finished.close();
  });
  co_await finished.recv();
  done.close();
}

void run_many(benchmark::State& state, Task<void> (*scenario)(), const char* strategy_name) {
  auto strategy = make_strategy(strategy_name);
  std::uint64_t seed = 1;
  std::uint64_t steps = 0;
  for (auto _ : state) {
    SimExecutor sim(SimOptions{.seed = seed++, .strategy = strategy.get()});
    RunResult result = sim.run(scenario());
    if (result.outcome != RunOutcome::ok) state.SkipWithError("the scenario failed");
    steps += result.steps;
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["steps_per_run"] =
      benchmark::Counter(static_cast<double>(steps) / static_cast<double>(state.iterations()));
}

// Two catalogue scenarios (bench/go has them as plain Go programs, under the
// same names: there one op is one real run of the program) and pipeline10.
void BM_runs_scenario(benchmark::State& state, const char* scenario, const char* strategy) {
  run_many(state, find_scenario(scenario)->make, strategy);
}
void BM_runs_pipeline10(benchmark::State& state, const char* strategy) {
  run_many(state, pipeline10, strategy);
}

// check() itself, as users call it: 1,000 runs per iteration.
void BM_check_1000_rand_stream_done(benchmark::State& state) {
  const ScenarioInfo& scenario = *find_scenario("rand_stream_done");
  for (auto _ : state) {
    Report r = check(scenario, Config{.runs = 1000});
    if (!r.ok()) state.SkipWithError("the scenario failed");
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}

}  // namespace

BENCHMARK_CAPTURE(BM_runs_scenario, rand_stream_done_random, "rand_stream_done", "random")
    ->Name("Runs/scenario:rand_stream_done/random");
BENCHMARK_CAPTURE(BM_runs_scenario, rand_stream_done_pct3, "rand_stream_done", "pct:3")
    ->Name("Runs/scenario:rand_stream_done/pct:3");
BENCHMARK_CAPTURE(BM_runs_scenario, pipeline_random, "pipeline", "random")
    ->Name("Runs/scenario:pipeline/random");
BENCHMARK_CAPTURE(BM_runs_scenario, pipeline_pct3, "pipeline", "pct:3")
    ->Name("Runs/scenario:pipeline/pct:3");
BENCHMARK_CAPTURE(BM_runs_pipeline10, random, "random")->Name("Runs/pipeline10/random");
BENCHMARK_CAPTURE(BM_runs_pipeline10, pct3, "pct:3")->Name("Runs/pipeline10/pct:3");
BENCHMARK(BM_check_1000_rand_stream_done)
    ->Name("Check1000/scenario:rand_stream_done")
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
