// The four programs of the goroutine-leak tutorial chanfuzz grew from
// (Katherine Cox-Buday, "Concurrency in Go", O'Reilly 2017, "Preventing
// Goroutine Leaks"), written against chanfuzz's runtime.
//
// Two leak: a producer nobody stops, and a worker ranging over a nil
// channel. Their fixes pass a `done` channel that the parent closes.
#include <chanfuzz/chanfuzz.hpp>

using namespace chanfuzz;
using namespace std::chrono_literals;

// newRandStream without done: main reads three numbers and returns; the
// producer blocks forever on its next send.
CHANFUZZ_SCENARIO_FAILS(rand_stream_leak, leak,
                        "a producer loops sending random ints; main takes 3 and returns") {
  auto rand_stream = make_chan<int>();
  go("rand_stream", [rand_stream]() -> Task<> {
    for (;;) co_await rand_stream.send(static_cast<int>(random(1 << 20)));
  });
  for (int i = 0; i < 3; ++i) {
    auto r = co_await rand_stream.recv();
    require(r.ok, "rand_stream was closed early");
  }
}

// newRandStream with done: the producer also selects on done, which main
// closes when it has what it needs.
CHANFUZZ_SCENARIO(rand_stream_done,
                  "the producer selects on done too; main closes done after taking 3") {
  auto rand_stream = make_chan<int>();
  auto done = make_chan<Unit>();
  auto exited = make_chan<Unit>();
  go("rand_stream", [rand_stream, done, exited]() -> Task<> {
    for (;;) {
      auto s = co_await select(rand_stream.send(static_cast<int>(random(1 << 20))), done.recv());
      if (s.index() == 1) break;
    }
    rand_stream.close();
    exited.close();
  });
  for (int i = 0; i < 3; ++i) {
    auto r = co_await rand_stream.recv();
    require(r.ok, "rand_stream was closed before main took 3 values");
  }
  done.close();
  co_await exited.recv();  // the tutorial sleeps a second here; waiting is exact
}

// doWork(nil): the worker ranges over a nil channel, which blocks forever.
CHANFUZZ_SCENARIO_FAILS(do_work_nil_leak, leak,
                        "a worker ranges over a nil channel; main does not wait") {
  Chan<std::string> strings;  // nil
  auto completed = make_chan<Unit>();
  go("do_work", [strings, completed]() -> Task<> {
    for (;;) {
      auto r = co_await strings.recv();
      if (!r.ok) break;
    }
    completed.close();
  });
  co_return;  // "Done."
}

// doWork with done: the worker selects on the nil channel and done; another
// task closes done after one (virtual) second; main waits for the worker.
CHANFUZZ_SCENARIO(do_work_done,
                  "the worker selects on the nil channel and done; done is closed after 1s") {
  Chan<std::string> strings;  // nil
  auto done = make_chan<Unit>();
  auto terminated = make_chan<Unit>();
  go("do_work", [strings, done, terminated]() -> Task<> {
    for (;;) {
      auto s = co_await select(strings.recv(), done.recv());
      if (s.index() == 1) break;
    }
    terminated.close();
  });
  go("canceller", [done]() -> Task<> {
    co_await sleep_for(1s);
    done.close();
  });
  co_await terminated.recv();
}
