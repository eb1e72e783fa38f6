// The runtime's hot paths on both executors, side by side with the same
// programs in Go (bench/go/chanfuzz_bench_test.go: same names).
//
//   build/bench/bench/chanfuzz_bench --benchmark_filter='PingPong'
//   scripts/bench-report            # both sides, alternating, and the report
//
// Every benchmark runs once per executor configuration; the name ends with it:
//   sim_random   SimExecutor, the default `random` strategy (explores: it may
//                switch tasks at every scheduling point)
//   sim_fixed    SimExecutor, FixedStrategy below (explores nothing: the
//                current task goes on, a blocked one hands over to the first
//                runnable task), so sim_fixed - sim_random is the cost of
//                exploration and sim_fixed alone the runtime's own
//   threads:1    ThreadExecutor, 1 worker thread
//   threads:2    ThreadExecutor, 2 worker threads
// Times are wall-clock (Go reports wall-clock too). The cancellation
// benchmarks time only the region from done.close() until every task has
// exited (manual time), and add the same per task as `ns_per_task`.
//
// Every benchmark also reports two counters for its measured region:
//   cpu_ns_per_op  process CPU time (every thread) per op, from
//                  clock_gettime(CLOCK_PROCESS_CPUTIME_ID); on a loaded
//                  machine wall-clock also counts waiting for a core
//                  (bench/go reports the same as cpu-ns/op);
//   allocs_per_op  operator new calls per op (this binary replaces the
//                  global operator new and delete to count them, and the live
//                  bytes for MemoryPerBlockedTask).
//
// CHANFUZZ_BENCH_ICOUNT=1 (scripts/bench-report --callgrind) gives every
// benchmark a small fixed iteration count and brackets the timed region with
// callgrind's client requests, so that `valgrind --tool=callgrind
// --collect-atstart=no` counts exactly the instructions of that region and
// dumps one profile per benchmark (docs/benchmarks.md).
//
// Coroutine rules (README, "Pitfalls"): no co_await in a condition, no
// by-value-capturing lambda in a statement that co_awaits.
#include <malloc.h>
#include <time.h>

#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <chanfuzz/chanfuzz.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <new>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define CHANFUZZ_HAVE_CALLGRIND 1
#endif

// ---- allocation counting -------------------------------------------------------

// Every operator new of the process (coroutine frames, task records, waiter
// lists, vectors) goes through here: the count of calls and the usable bytes
// live, over all threads (relaxed atomics: only differences between two quiet
// moments are read).
namespace {
std::atomic<std::uint64_t> g_allocations{0};
std::atomic<std::int64_t> g_live_bytes{0};

void* counted_alloc(std::size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  g_live_bytes.fetch_add(static_cast<std::int64_t>(malloc_usable_size(p)),
                         std::memory_order_relaxed);
  return p;
}
void counted_free(void* p) noexcept {
  if (p == nullptr) return;
  g_live_bytes.fetch_sub(static_cast<std::int64_t>(malloc_usable_size(p)),
                         std::memory_order_relaxed);
  std::free(p);
}
}  // namespace

void* operator new(std::size_t size) { return counted_alloc(size); }
void* operator new[](std::size_t size) { return counted_alloc(size); }
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }

using namespace chanfuzz;

namespace {

// ---- the non-exploring strategy ---------------------------------------------

// Decides every choice the way a plain single-threaded scheduler would, so a
// SimExecutor run measures the runtime and the executor, not exploration: at
// a scheduling point the current task goes on; when it blocks, the first
// runnable task (lowest id) runs; select and random() choices are uniform
// from a seeded Rng (as Go's are); the clock option is taken only when it is
// the only option; due timers fire in arming order.
class FixedStrategy final : public Strategy {
 public:
  std::string name() const override { return "fixed"; }
  void begin_run(std::uint64_t seed) override { rng_.reseed(seed); }
  std::uint64_t choose(const DecisionPoint& point) override {
    switch (point.kind) {
      case DecisionKind::task:
        if (point.current) return point.runnable.size();  // the current task goes on
        if (!point.runnable.empty()) return 0;            // the first runnable task
        return point.options - 1;                         // only the clock is left
      case DecisionKind::timer:
        return 0;
      case DecisionKind::select_case:
      case DecisionKind::random:
        break;
    }
    return rng_.below(point.options);
  }

 private:
  Rng rng_;
};

// ---- callgrind brackets (instruction-count mode) ------------------------------

bool icount_mode() {
  static const bool on = [] {
    const char* v = std::getenv("CHANFUZZ_BENCH_ICOUNT");
    return v && *v && std::string(v) != "0";
  }();
  return on;
}

// Operator new calls and process CPU time inside measured regions since the
// benchmark began.
std::uint64_t g_region_allocations = 0;
std::uint64_t g_region_start = 0;
std::int64_t g_region_cpu_ns = 0;
std::int64_t g_region_cpu_start = 0;

std::int64_t process_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Around the measured region: callgrind collection on/off (a no-op outside
// valgrind), the allocation count and the process CPU time.
void measure_begin() {
  g_region_cpu_start = process_cpu_ns();
  g_region_start = g_allocations.load(std::memory_order_relaxed);
#ifdef CHANFUZZ_HAVE_CALLGRIND
  if (icount_mode()) CALLGRIND_TOGGLE_COLLECT;
#endif
}
void measure_end() {
#ifdef CHANFUZZ_HAVE_CALLGRIND
  if (icount_mode()) CALLGRIND_TOGGLE_COLLECT;
#endif
  g_region_allocations += g_allocations.load(std::memory_order_relaxed) - g_region_start;
  g_region_cpu_ns += process_cpu_ns() - g_region_cpu_start;
}
void icount_dump(const std::string& name) {
#ifdef CHANFUZZ_HAVE_CALLGRIND
  if (icount_mode()) CALLGRIND_DUMP_STATS_AT(name.c_str());
#else
  (void)name;
#endif
}

// ---- executors ----------------------------------------------------------------

enum class ExecKind { sim_random, sim_fixed, threads };
struct ExecConfig {
  const char* name;
  ExecKind kind;
  unsigned threads;
};
constexpr std::array<ExecConfig, 4> kExecutors{{
    {"sim_random", ExecKind::sim_random, 0},
    {"sim_fixed", ExecKind::sim_fixed, 0},
    {"threads:1", ExecKind::threads, 1},
    {"threads:2", ExecKind::threads, 2},
}};

using Body = Task<void> (*)(benchmark::State&, std::int64_t);

// Runs body(state, arg) as the main task of a fresh executor.
void run_on(benchmark::State& state, const ExecConfig& exec, Body body, std::int64_t arg);

// run_on, then the cpu_ns_per_op and allocs_per_op counters.
void run_and_count(benchmark::State& state, const ExecConfig& exec, Body body, std::int64_t arg) {
  g_region_allocations = 0;
  g_region_cpu_ns = 0;
  run_on(state, exec, body, arg);
  state.counters["cpu_ns_per_op"] =
      benchmark::Counter(static_cast<double>(g_region_cpu_ns), benchmark::Counter::kAvgIterations);
  state.counters["allocs_per_op"] = benchmark::Counter(static_cast<double>(g_region_allocations),
                                                       benchmark::Counter::kAvgIterations);
}

void run_on(benchmark::State& state, const ExecConfig& exec, Body body, std::int64_t arg) {
  if (exec.kind == ExecKind::threads) {
    ThreadExecutor executor(ThreadOptions{.threads = exec.threads, .seed = 1});
    ThreadRunResult result = executor.run(body(state, arg));
    if (result.outcome != ThreadRunResult::Outcome::ok) {
      state.SkipWithError((std::string("run ended as ") + thread_outcome_name(result.outcome) +
                           ": " + result.message)
                              .c_str());
    }
    return;
  }
  FixedStrategy fixed;
  RandomStrategy random;
  Strategy* strategy = exec.kind == ExecKind::sim_fixed ? static_cast<Strategy*>(&fixed) : &random;
  SimExecutor sim(SimOptions{
      .seed = 1, .max_steps = std::numeric_limits<std::uint64_t>::max(), .strategy = strategy});
  RunResult result = sim.run(body(state, arg));
  if (result.outcome != RunOutcome::ok) {
    state.SkipWithError(
        (std::string("run ended as ") + run_outcome_name(result.outcome) + ": " + result.message)
            .c_str());
  }
}

// Heap bytes in use, over every malloc arena (the worker threads' too).
std::size_t heap_in_use() {
  struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

// ---- select -------------------------------------------------------------------

// One value is put into a buffered channel, then a select over `cases`
// receive cases takes it: the ready case is the last one, the others are
// unbuffered channels nobody uses. Per op: one buffered send + one select.
template <std::size_t... I>
Task<void> select_ready_impl(benchmark::State& state, std::index_sequence<I...>) {
  std::array<Chan<int>, sizeof...(I)> idle;
  for (auto& c : idle) c = make_chan<int>();
  auto ready = make_chan<int>(1);
  measure_begin();
  for (auto _ : state) {
    co_await ready.send(1);
    auto s = co_await select(idle[I].recv()..., ready.recv());
    benchmark::DoNotOptimize(s.index());
  }
  measure_end();
}
Task<void> select_ready(benchmark::State& state, std::int64_t cases) {
  switch (cases) {
    case 1:
      return select_ready_impl(state, std::make_index_sequence<0>{});
    case 2:
      return select_ready_impl(state, std::make_index_sequence<1>{});
    case 4:
      return select_ready_impl(state, std::make_index_sequence<3>{});
    default:
      return select_ready_impl(state, std::make_index_sequence<7>{});
  }
}

// A select over `cases` receive cases on channels nobody uses, and a
// default: none is ready, default is taken. Per op: one select.
template <std::size_t... I>
Task<void> select_default_impl(benchmark::State& state, std::index_sequence<I...>) {
  std::array<Chan<int>, sizeof...(I)> idle;
  for (auto& c : idle) c = make_chan<int>();
  measure_begin();
  for (auto _ : state) {
    auto s = co_await select(idle[I].recv()..., default_case());
    benchmark::DoNotOptimize(s.index());
  }
  measure_end();
}
Task<void> select_default(benchmark::State& state, std::int64_t cases) {
  if (cases == 1) return select_default_impl(state, std::make_index_sequence<1>{});
  return select_default_impl(state, std::make_index_sequence<2>{});
}

// Two tasks meet in selects on both sides: a sender loops on
// select{c <- i, <-done}, main on select{<-c, <-quit}. Per op: one hand-over
// between two selects on an unbuffered channel.
Task<void> select_contended(benchmark::State& state, std::int64_t) {
  auto c = make_chan<int>();
  auto done = make_chan<Unit>();
  auto quit = make_chan<Unit>();
  auto exited = make_chan<Unit>();
  go("sender", [c, done, exited]() -> Task<> {
    for (int i = 0;; ++i) {
      auto s = co_await select(c.send(i), done.recv());
      if (s.index() == 1) break;
    }
    exited.close();
  });
  measure_begin();
  for (auto _ : state) {
    auto s = co_await select(c.recv(), quit.recv());
    benchmark::DoNotOptimize(s.index());
  }
  measure_end();
  done.close();
  co_await exited.recv();
}

// ---- channels -------------------------------------------------------------------

// Unbuffered ping-pong: main sends on ping, an echo task sends it back on
// pong. Per op: one round trip (two hand-overs, two task switches).
Task<void> ping_pong(benchmark::State& state, std::int64_t) {
  auto ping = make_chan<int>();
  auto pong = make_chan<int>();
  auto exited = make_chan<Unit>();
  go("echo", [ping, pong, exited]() -> Task<> {
    for (;;) {
      auto r = co_await ping.recv();
      if (!r.ok) break;
      co_await pong.send(r.value);
    }
    exited.close();
  });
  measure_begin();
  for (auto _ : state) {
    co_await ping.send(1);
    auto r = co_await pong.recv();
    benchmark::DoNotOptimize(r.value);
  }
  measure_end();
  ping.close();
  co_await exited.recv();
}

// Producer/consumer through a buffered channel of capacity `cap`: a producer
// task sends every item, then closes; main receives them. Per op: one item.
Task<void> buffered(benchmark::State& state, std::int64_t cap) {
  auto c = make_chan<int>(static_cast<std::size_t>(cap));
  const auto items = static_cast<std::int64_t>(state.max_iterations);
  go("producer", [c, items]() -> Task<> {
    for (std::int64_t i = 0; i < items; ++i) co_await c.send(static_cast<int>(i));
    c.close();
  });
  measure_begin();
  for (auto _ : state) {
    auto r = co_await c.recv();
    benchmark::DoNotOptimize(r.value);
  }
  measure_end();
  auto last = co_await c.recv();  // the close
  benchmark::DoNotOptimize(last.ok);
}

// One task sends into a buffered channel (capacity 1) and receives the value
// back. Per op: one send + one recv, never blocking.
Task<void> buffered_self(benchmark::State& state, std::int64_t) {
  auto c = make_chan<int>(1);
  measure_begin();
  for (auto _ : state) {
    co_await c.send(1);
    auto r = co_await c.recv();
    benchmark::DoNotOptimize(r.value);
  }
  measure_end();
}

// ---- tasks ------------------------------------------------------------------------

// go() of a task that only signals a WaitGroup and exits; main waits for
// each batch of 1,000. Per op: one spawn + run + exit (+ 1/1000 of a wait).
Task<void> spawn_exit(benchmark::State& state, std::int64_t) {
  constexpr int kBatch = 1000;
  WaitGroup wg;
  int in_batch = 0;
  measure_begin();
  for (auto _ : state) {
    wg.add(1);
    go("spawned", [wg]() -> Task<> {
      wg.done();
      co_return;
    });
    if (++in_batch == kBatch) {
      in_batch = 0;
      co_await wg.wait();
    }
  }
  measure_end();
  co_await wg.wait();
}

// ---- cancellation -----------------------------------------------------------------

// Spawns n tasks, each blocked in select{<-work, <-done} once `started` is
// zero; each signals `exited` as it returns.
void spawn_blocked(std::int64_t n, Chan<int> work, Chan<Unit> done, WaitGroup started,
                   WaitGroup exited) {
  started.add(n);
  exited.add(n);
  for (std::int64_t i = 0; i < n; ++i) {
    go("blocked", [work, done, started, exited]() -> Task<> {
      started.done();
      auto s = co_await select(work.recv(), done.recv());
      benchmark::DoNotOptimize(s.index());
      exited.done();
    });
  }
}

using Clock = std::chrono::steady_clock;

// N tasks blocked in select{<-work, <-done}; the time from done.close() until
// every one has exited (manual time), and the same per task.
Task<void> cancel(benchmark::State& state, std::int64_t n) {
  double total_s = 0;
  for (auto _ : state) {
    auto work = make_chan<int>();
    auto done = make_chan<Unit>();
    WaitGroup started;
    WaitGroup exited;
    spawn_blocked(n, work, done, started, exited);
    co_await started.wait();
    measure_begin();
    const auto t0 = Clock::now();
    done.close();
    co_await exited.wait();
    const auto t1 = Clock::now();
    measure_end();
    const double s = std::chrono::duration<double>(t1 - t0).count();
    total_s += s;
    state.SetIterationTime(s);
  }
  state.counters["ns_per_task"] = benchmark::Counter(total_s * 1e9 / static_cast<double>(n),
                                                     benchmark::Counter::kAvgIterations);
}

// The same through a context tree: one root from with_cancel(background()),
// `children` contexts from with_cancel(root), one task blocked on each
// child's done(); the time from cancelling the root until all have exited.
Task<void> cancel_context_tree(benchmark::State& state, std::int64_t children) {
  double total_s = 0;
  for (auto _ : state) {
    auto work = make_chan<int>();
    auto [root, cancel_root] = with_cancel(background());
    std::vector<CancelFunc> cancels;
    cancels.reserve(static_cast<std::size_t>(children));
    WaitGroup started;
    WaitGroup exited;
    started.add(children);
    exited.add(children);
    for (std::int64_t i = 0; i < children; ++i) {
      auto [child, cancel_child] = with_cancel(root);
      cancels.push_back(cancel_child);
      go("blocked", [work, done = child.done(), started, exited]() -> Task<> {
        started.done();
        auto s = co_await select(work.recv(), done.recv());
        benchmark::DoNotOptimize(s.index());
        exited.done();
      });
    }
    co_await started.wait();
    measure_begin();
    const auto t0 = Clock::now();
    cancel_root();
    co_await exited.wait();
    const auto t1 = Clock::now();
    measure_end();
    for (auto& c : cancels) c();
    const double s = std::chrono::duration<double>(t1 - t0).count();
    total_s += s;
    state.SetIterationTime(s);
  }
  state.counters["ns_per_task"] = benchmark::Counter(total_s * 1e9 / static_cast<double>(children),
                                                     benchmark::Counter::kAvgIterations);
}

// Bytes per blocked task, measured two ways before spawning n tasks blocked
// in select{<-work, <-done} and once all are blocked, divided by n (task
// frames, task records, waiters, executor bookkeeping):
//   bytes_per_task       usable bytes of live operator new blocks (the
//                        replaced operator new above);
//   heap_bytes_per_task  mallinfo2(): the same plus malloc's chunk headers
//                        and anything allocated by malloc directly.
// The time per op is spawning, blocking and cancelling all of them; the
// numbers that matter are the counters. Go's side reports heap + stacks.
Task<void> memory_per_blocked_task(benchmark::State& state, std::int64_t n) {
  double total_bytes = 0;
  double total_heap = 0;
  for (auto _ : state) {
    auto work = make_chan<int>();
    auto done = make_chan<Unit>();
    WaitGroup started;
    WaitGroup exited;
    const std::int64_t live_before = g_live_bytes.load(std::memory_order_relaxed);
    const std::size_t heap_before = heap_in_use();
    spawn_blocked(n, work, done, started, exited);
    co_await started.wait();
    const std::int64_t live_after = g_live_bytes.load(std::memory_order_relaxed);
    const std::size_t heap_after = heap_in_use();
    total_bytes += static_cast<double>(live_after - live_before);
    total_heap += static_cast<double>(heap_after) - static_cast<double>(heap_before);
    done.close();
    co_await exited.wait();
  }
  state.counters["bytes_per_task"] =
      benchmark::Counter(total_bytes / static_cast<double>(n), benchmark::Counter::kAvgIterations);
  state.counters["heap_bytes_per_task"] =
      benchmark::Counter(total_heap / static_cast<double>(n), benchmark::Counter::kAvgIterations);
}

// ---- registration ---------------------------------------------------------------------

struct Spec {
  std::string name;  // as in Go: Benchmark<Name>, sub-benchmarks after '/'
  Body body;
  std::int64_t arg;
  bool manual_time;
  benchmark::IterationCount icount_iterations;  // in instruction-count mode
};

std::vector<Spec> specs() {
  std::vector<Spec> out;
  for (int cases : {1, 2, 4, 8}) {
    out.push_back({"SelectReady/cases:" + std::to_string(cases), select_ready, cases, false, 2000});
  }
  for (int cases : {1, 2}) {
    out.push_back(
        {"SelectDefault/cases:" + std::to_string(cases), select_default, cases, false, 2000});
  }
  out.push_back({"SelectContended", select_contended, 0, false, 2000});
  out.push_back({"PingPong", ping_pong, 0, false, 2000});
  for (int cap : {1, 100}) {
    out.push_back({"Buffered/cap:" + std::to_string(cap), buffered, cap, false, 2000});
  }
  out.push_back({"BufferedSelf", buffered_self, 0, false, 2000});
  out.push_back({"Spawn", spawn_exit, 0, false, 2000});
  for (int n : {1, 100, 10000}) {
    out.push_back(
        {"Cancel/tasks:" + std::to_string(n), cancel, n, true, n == 10000 ? 1 : 20000 / (n * 10)});
  }
  out.push_back({"CancelContextTree/children:1000", cancel_context_tree, 1000, true, 5});
  out.push_back({"MemoryPerBlockedTask/tasks:10000", memory_per_blocked_task, 10000, false, 1});
  return out;
}

// Online leak detection: one ThreadExecutor::find_leaks() (stop the
// workers, mark, resume) on a program with `tasks` blocked tasks, half of
// them leaked (each on a channel only it holds), half waiting on a channel
// main still holds; main waits in a select with a 1ms timer. The cost of a
// check, paid every leak_check_interval; the tracking that makes it
// possible costs every handle copy (the other rows, against a build without
// it: docs/diagnostics.md).
void find_leaks_bench(benchmark::State& state, int tasks) {
  ThreadExecutor executor({.threads = 2});
  auto end = make_chan<Unit>();
  std::atomic<int> started{0};
  std::thread program([&] {
    executor.run([](int tasks, Chan<Unit> end, std::atomic<int>* started) -> Task<void> {
      auto held = make_chan<int>();
      for (int i = 0; i < tasks; ++i) {
        if (i % 2 == 0) {
          go([started]() -> Task<> {
            auto mine = make_chan<int>();
            started->fetch_add(1);
            co_await mine.recv();
          });
        } else {
          go([held, started]() -> Task<> {
            started->fetch_add(1);
            co_await held.recv();
          });
        }
      }
      for (;;) {
        auto s = co_await select(end.recv(), after(std::chrono::milliseconds(1)).recv());
        if (s.index() == 0) break;
      }
      held.close();
    }(tasks, end, &started));
  });
  while (started.load() < tasks) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the last ones block
  std::size_t found = 0;
  for (auto _ : state) found += executor.find_leaks().size();
  state.counters["leaked"] = static_cast<double>(found);
  end.close();
  program.join();
}

void register_all() {
  if (!icount_mode()) {
    for (int tasks : {100, 10000}) {
      std::string name = "FindLeaks/tasks:" + std::to_string(tasks) + "/threads:2";
      benchmark::RegisterBenchmark(
          name.c_str(), [tasks](benchmark::State& state) { find_leaks_bench(state, tasks); })
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime();
    }
  }
  for (const Spec& spec : specs()) {
    for (const ExecConfig& exec : kExecutors) {
      // Instruction counts are only repeatable on the simulator; the memory
      // benchmark has no measured region.
      if (icount_mode() && (exec.kind == ExecKind::threads || spec.body == memory_per_blocked_task))
        continue;
      std::string name = spec.name + "/" + exec.name;
      auto* b =
          benchmark::RegisterBenchmark(name.c_str(), [spec, exec, name](benchmark::State& state) {
            run_and_count(state, exec, spec.body, spec.arg);
            icount_dump(name);
          });
      if (spec.manual_time) {
        b->UseManualTime();
      } else {
        b->UseRealTime();
      }
      b->Unit(spec.manual_time ? benchmark::kMicrosecond : benchmark::kNanosecond);
      if (icount_mode()) b->Iterations(spec.icount_iterations);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
