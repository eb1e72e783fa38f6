// Boost.Fiber, the C++ peer: the ping-pong and buffered producer/consumer
// programs of runtime_bench.cpp on Boost.Fiber's channels, one thread, its
// default round-robin scheduler (stackful fibers, context switches through
// Boost.Context).
//
//   build/bench/bench/fiber_bench
//
// Boost's buffered_channel takes a power-of-two capacity >= 2 and holds one
// item less, so cap:1 uses capacity 2 (1 item) and cap:100 capacity 128 (127
// items).
#include <benchmark/benchmark.h>

#include <boost/fiber/all.hpp>
#include <cstdint>

namespace {

namespace fibers = boost::fibers;

// Per op: one round trip through two unbuffered channels.
void ping_pong(benchmark::State& state) {
  fibers::unbuffered_channel<int> ping;
  fibers::unbuffered_channel<int> pong;
  fibers::fiber echo([&] {
    int v = 0;
    while (ping.pop(v) == fibers::channel_op_status::success) pong.push(v);
  });
  for (auto _ : state) {
    ping.push(1);
    int v = 0;
    pong.pop(v);
    benchmark::DoNotOptimize(v);
  }
  ping.close();
  echo.join();
}

// Per op: one item from a producer fiber to the main fiber.
void buffered(benchmark::State& state, std::size_t capacity) {
  fibers::buffered_channel<int> c(capacity);
  const auto items = static_cast<std::int64_t>(state.max_iterations);
  fibers::fiber producer([&] {
    for (std::int64_t i = 0; i < items; ++i) c.push(static_cast<int>(i));
    c.close();
  });
  for (auto _ : state) {
    int v = 0;
    c.pop(v);
    benchmark::DoNotOptimize(v);
  }
  producer.join();
}

}  // namespace

BENCHMARK(ping_pong)->Name("PingPong/boost_fiber")->UseRealTime();
BENCHMARK_CAPTURE(buffered, cap1, 2)->Name("Buffered/cap:1/boost_fiber")->UseRealTime();
BENCHMARK_CAPTURE(buffered, cap100, 128)->Name("Buffered/cap:100/boost_fiber")->UseRealTime();

BENCHMARK_MAIN();
