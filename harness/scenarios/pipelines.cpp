// Pipelines and the channel combinators built on them: the Go blog's
// "Go Concurrency Patterns: Pipelines and cancellation" (Sameer Ajmani,
// 2014) and "Concurrency in Go" ch. 4 (pipelines, fan-out/fan-in, or-done,
// tee, bridge), written against chanfuzz's runtime.
//
// Each correct form passes on every schedule; each leaky form states which
// task is left blocked, and why.
#include <chanfuzz/chanfuzz.hpp>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

using namespace chanfuzz;

namespace {

// generator(done, values): sends each value in order, stops early once done
// is closed, and closes its output either way ("Concurrency in Go" p. 104).
Chan<int> generator(Chan<Unit> done, std::vector<int> values) {
  auto out = make_chan<int>();
  go("generator", [done, out, values = std::move(values)]() -> Task<> {
    for (int v : values) {
      auto s = co_await select(out.send(v), done.recv());
      if (s.index() == 1) break;
    }
    out.close();
  });
  return out;
}

// A pipeline stage: applies `op` to every value of `in`. It ranges over `in`
// (the upstream closes it) and selects on done while sending, so it exits as
// soon as done is closed or `in` runs dry.
Chan<int> stage(std::string name, Chan<Unit> done, Chan<int> in, int (*op)(int, int), int arg) {
  auto out = make_chan<int>();
  go(std::move(name), [done, in, out, op, arg]() -> Task<> {
    for (;;) {
      auto r = co_await in.recv();
      if (!r.ok) break;
      auto s = co_await select(out.send(op(r.value, arg)), done.recv());
      if (s.index() == 1) break;
    }
    out.close();
  });
  return out;
}

int mul(int v, int by) { return v * by; }
int add(int v, int by) { return v + by; }

Chan<int> multiply(Chan<Unit> done, Chan<int> in, int by) {
  return stage("multiply", done, std::move(in), mul, by);
}
Chan<int> add_to(Chan<Unit> done, Chan<int> in, int by) {
  return stage("add", done, std::move(in), add, by);
}

// The book's pipeline: generator(1, 2, 3, 4) -> multiply(2) -> add(1) -> multiply(2).
std::vector<int> pipeline_expected() { return {6, 10, 14, 18}; }

// orDone: forwards `in` until it is closed or done is closed, whichever is
// first, selecting on done at both the receive and the send.
Chan<int> or_done(Chan<Unit> done, Chan<int> in) {
  auto out = make_chan<int>();
  go("or_done", [done, in, out]() -> Task<> {
    for (;;) {
      auto s = co_await select(in.recv(), done.recv());
      if (s.index() == 1) break;
      auto r = s.get<0>();
      if (!r.ok) break;
      auto t = co_await select(out.send(r.value), done.recv());
      if (t.index() == 1) break;
    }
    out.close();
  });
  return out;
}

// Receives from `in` until it is closed.
Task<std::vector<int>> drain(Chan<int> in) {
  std::vector<int> got;
  for (;;) {
    auto r = co_await in.recv();
    if (!r.ok) break;
    got.push_back(r.value);
  }
  co_return got;
}

std::vector<int> iota_values(int first, int count) {
  std::vector<int> out;
  for (int i = 0; i < count; ++i) out.push_back(first + i);
  return out;
}

}  // namespace

// Pipeline: generator -> multiply -> add -> multiply, every stage selecting
// on done. Main takes every value; they arrive once each, in order.
CHANFUZZ_SCENARIO(pipeline, "generator -> multiply -> add -> multiply; main takes every value") {
  auto done = make_chan<Unit>();
  auto out = multiply(done, add_to(done, multiply(done, generator(done, {1, 2, 3, 4}), 2), 1), 2);
  auto got = co_await drain(out);
  require(got == pipeline_expected(), "the pipeline's values arrive once each, in order");
  done.close();
}

// Pipeline with an early stop: main takes two values and closes done. Every
// stage then exits, whether it was sending (it selects on done) or
// receiving (its upstream closes its output).
CHANFUZZ_SCENARIO(pipeline_done, "the same pipeline; main takes 2 values, then closes done") {
  auto done = make_chan<Unit>();
  auto out = multiply(done, add_to(done, multiply(done, generator(done, {1, 2, 3, 4}), 2), 1), 2);
  for (int i = 0; i < 2; ++i) {
    auto r = co_await out.recv();
    require(r.ok, "the pipeline closed before main took 2 values");
    require(r.value == pipeline_expected()[static_cast<std::size_t>(i)],
            "the first values arrive in order");
  }
  done.close();  // Go: defer close(done)
}

// The Go blog's first pipeline, gen -> sq -> sq, with no done channel. Main
// takes 2 of 6 values and returns. Leaks 3 tasks, each in "chan send": the
// second sq holding value 3, the first sq holding value 4, gen holding value 5.
CHANFUZZ_SCENARIO_FAILS(pipeline_leak, leak, "gen -> sq -> sq without done; main takes 2 of 6") {
  auto gen = make_chan<int>();
  go("gen", [gen]() -> Task<> {
    for (int v = 1; v <= 6; ++v) co_await gen.send(v);
    gen.close();
  });
  auto sq = [](Chan<int> in) {
    auto out = make_chan<int>();
    go("sq", [in, out]() -> Task<> {
      for (;;) {
        auto r = co_await in.recv();
        if (!r.ok) break;
        co_await out.send(r.value * r.value);  // blocks forever once main stops receiving
      }
      out.close();
    });
    return out;
  };
  auto out = sq(sq(gen));
  for (int i = 1; i <= 2; ++i) {
    auto r = co_await out.recv();
    require(r.ok && r.value == i * i * i * i, "values arrive in order");
  }
}

// Fan-out: three workers share one job channel; a WaitGroup closes the
// results channel when the last worker is done. Every job's result arrives
// exactly once (in no particular order).
CHANFUZZ_SCENARIO(fan_out, "3 workers range over one job channel; a WaitGroup closes results") {
  auto done = make_chan<Unit>();
  auto jobs = generator(done, iota_values(1, 8));
  auto results = make_chan<int>();
  WaitGroup wg;
  for (int w = 0; w < 3; ++w) {
    wg.add(1);
    go("worker", [done, jobs, results, wg]() -> Task<> {
      for (;;) {
        checkpoint();  // nothing carries over from one job to the next
        auto r = co_await jobs.recv();
        if (!r.ok) break;
        auto s = co_await select(results.send(r.value * r.value), done.recv());
        if (s.index() == 1) break;
      }
      wg.done();
    });
  }
  go("closer", [wg, results]() -> Task<> {
    co_await wg.wait();
    results.close();
  });
  // The results seen so far, as a set (bit v-1 for result v): all the check
  // needs, and all main carries from one result to the next.
  std::uint64_t seen = 0;
  for (;;) {
    checkpoint(seen);
    auto r = co_await results.recv();
    if (!r.ok) break;
    require(r.value >= 1 && r.value <= 64, "a result is a job's square");
    std::uint64_t bit = std::uint64_t{1} << (r.value - 1);
    require((seen & bit) == 0, "every job's result arrives once");
    seen |= bit;
  }
  std::uint64_t squares = 0;
  for (int v = 1; v <= 8; ++v) squares |= std::uint64_t{1} << (v * v - 1);
  require(seen == squares, "every job's result arrives once");
  done.close();
}

// Fan-in: the Go blog's merge(done, cs...): one forwarder per input, a
// WaitGroup, and a closer that closes the output once every forwarder is
// done. Main takes 3 values, closes done, then drains the output until the
// closer closes it. No value arrives twice; each input's order is kept.
CHANFUZZ_SCENARIO(merge, "merge(done, 3 generators); main takes 3, closes done, drains to close") {
  auto done = make_chan<Unit>();
  std::vector<Chan<int>> inputs = {generator(done, {1, 2, 3}), generator(done, {10, 20, 30}),
                                   generator(done, {100, 200})};
  auto out = make_chan<int>();
  WaitGroup wg;
  for (const auto& in : inputs) {
    wg.add(1);
    go("forward", [done, in, out, wg]() -> Task<> {
      for (;;) {
        auto r = co_await in.recv();
        if (!r.ok) break;
        auto s = co_await select(out.send(r.value), done.recv());
        if (s.index() == 1) break;
      }
      wg.done();
    });
  }
  go("closer", [wg, out]() -> Task<> {
    co_await wg.wait();
    out.close();
  });
  std::vector<int> got;
  for (int i = 0; i < 3; ++i) {
    auto r = co_await out.recv();
    require(r.ok, "merge closed its output before main took 3 values");
    got.push_back(r.value);
  }
  done.close();
  auto rest = co_await drain(out);  // whatever was already in flight
  got.insert(got.end(), rest.begin(), rest.end());
  for (int scale : {1, 10, 100}) {  // each input's values, in the order received
    std::vector<int> from;
    for (int v : got) {
      if (v / scale >= 1 && v / scale <= 3 && v % scale == 0) from.push_back(v / scale);
    }
    require(std::is_sorted(from.begin(), from.end()) &&
                std::adjacent_find(from.begin(), from.end()) == from.end(),
            "each input's values arrive once, in order");
  }
}

// merge without done (the blog's first version): main takes 3 of 6 values
// and returns. Leaks every forwarder still holding a value ("chan send" on
// the output), the generator whose values are not all taken ("chan send"),
// and the closer, waiting for the forwarders in "sync.WaitGroup.Wait".
CHANFUZZ_SCENARIO_FAILS(merge_leak, leak, "merge without done; main takes 3 of 6 values") {
  auto gen = [](std::vector<int> values) {
    auto out = make_chan<int>();
    go("gen", [out, values = std::move(values)]() -> Task<> {
      for (int v : values) co_await out.send(v);
      out.close();
    });
    return out;
  };
  std::vector<Chan<int>> inputs = {gen({1, 2, 3}), gen({10, 20, 30})};
  auto out = make_chan<int>();
  WaitGroup wg;
  for (const auto& in : inputs) {
    wg.add(1);
    go("forward", [in, out, wg]() -> Task<> {
      for (;;) {
        auto r = co_await in.recv();
        if (!r.ok) break;
        co_await out.send(r.value);  // nobody receives once main has returned
      }
      wg.done();
    });
  }
  go("closer", [wg, out]() -> Task<> {
    co_await wg.wait();
    out.close();
  });
  for (int i = 0; i < 3; ++i) {
    auto r = co_await out.recv();
    require(r.ok, "merge closed early");
  }
}

// Or-done: the consumer ranges over or_done(done, source) and never has to
// select itself. The source sends a random number of values (0-5) and
// closes; main takes up to 4, then closes done. Values arrive in order, and
// main gets min(4, n) of them.
CHANFUZZ_SCENARIO(or_done, "range over or_done(done, source); source sends 0-5 values, main <= 4") {
  auto done = make_chan<Unit>();
  const int n = static_cast<int>(random(6));
  auto source = generator(done, iota_values(0, n));
  auto values = or_done(done, source);
  std::vector<int> got;
  while (got.size() < 4) {
    auto r = co_await values.recv();
    if (!r.ok) break;
    got.push_back(r.value);
  }
  done.close();
  require(got == iota_values(0, std::min(n, 4)), "or_done forwards every value, in order");
}

// An or-done whose send ignores done. The source (buffered, never closed)
// keeps values ready until done; the consumer takes 3 values, closes done
// and returns. Leaks "or_done" in "chan send" whenever it took value 3 from
// the source before it saw done: nobody will ever receive it.
CHANFUZZ_SCENARIO_FAILS(or_done_leak, leak,
                        "or_done's forwarding send ignores done; main takes 3 values") {
  auto done = make_chan<Unit>();
  auto source = make_chan<int>(4);
  go("source", [source, done]() -> Task<> {
    for (int i = 0;; ++i) {
      auto s = co_await select(source.send(i), done.recv());
      if (s.index() == 1) break;
    }
  });
  auto values = make_chan<int>();
  go("or_done", [done, source, values]() -> Task<> {
    for (;;) {
      auto s = co_await select(source.recv(), done.recv());
      if (s.index() == 1) break;
      co_await values.send(s.get<0>().value);  // the bug: no done case here
    }
    values.close();
  });
  for (int i = 0; i < 3; ++i) {
    auto r = co_await values.recv();
    require(r.ok && r.value == i, "values arrive in order");
  }
  done.close();
}

// Tee: every value of `in` goes to both outputs. For each value the tee
// selects on both sends and sets each output to the nil channel once it has
// its copy, so a slow reader does not stop the other one. Both readers see
// every value, in order.
CHANFUZZ_SCENARIO(tee, "tee(done, generator of 5) to two readers, with nil-channel select cases") {
  auto done = make_chan<Unit>();
  auto in = generator(done, iota_values(1, 5));
  auto out1 = make_chan<int>();
  auto out2 = make_chan<int>();
  go("tee", [done, in, out1, out2]() -> Task<> {
    bool stopped = false;
    while (!stopped) {
      auto s = co_await select(in.recv(), done.recv());
      if (s.index() == 1) break;
      auto r = s.get<0>();
      if (!r.ok) break;
      Chan<int> a = out1;
      Chan<int> b = out2;
      for (int i = 0; i < 2 && !stopped; ++i) {
        auto t = co_await select(a.send(r.value), b.send(r.value), done.recv());
        if (t.index() == 0) a = Chan<int>{};  // nil: never ready again
        if (t.index() == 1) b = Chan<int>{};
        if (t.index() == 2) stopped = true;
      }
    }
    out1.close();
    out2.close();
  });
  auto second = std::make_shared<std::vector<int>>();
  auto finished = make_chan<Unit>();
  go("reader2", [out2, second, finished]() -> Task<> {
    *second = co_await drain(out2);
    finished.close();
  });
  auto first = co_await drain(out1);
  co_await finished.recv();
  require(first == iota_values(1, 5), "reader 1 sees every value, in order");
  require(*second == iota_values(1, 5), "reader 2 sees every value, in order");
  done.close();
}

// A tee that sends to out1 then out2 with plain sends, ignoring done. Its
// input holds 6 values, buffered; each reader takes 3, then main closes done
// and returns. Leaks "tee" in "chan send" on out1 whenever it received value
// 4 before it saw done.
CHANFUZZ_SCENARIO_FAILS(tee_leak, leak, "tee's sends ignore done; two readers take 3 values each") {
  auto done = make_chan<Unit>();
  auto in = make_chan<int>(6);
  for (int v = 1; v <= 6; ++v) co_await in.send(v);  // buffered: never blocks
  in.close();
  auto out1 = make_chan<int>();
  auto out2 = make_chan<int>();
  go("tee", [done, in, out1, out2]() -> Task<> {
    for (;;) {
      auto s = co_await select(in.recv(), done.recv());
      if (s.index() == 1) break;
      auto r = s.get<0>();
      if (!r.ok) break;
      co_await out1.send(r.value);  // the bug: neither send selects on done
      co_await out2.send(r.value);
    }
    out1.close();
    out2.close();
  });
  auto finished = make_chan<Unit>();
  go("reader2", [out2, finished]() -> Task<> {
    for (int i = 1; i <= 3; ++i) {
      auto r = co_await out2.recv();
      require(r.ok && r.value == i, "reader 2 sees values in order");
    }
    finished.close();
  });
  for (int i = 1; i <= 3; ++i) {
    auto r = co_await out1.recv();
    require(r.ok && r.value == i, "reader 1 sees values in order");
  }
  co_await finished.recv();
  done.close();
}

// Bridge: a channel of channels flattened into one stream. The source sends
// 3 channels of 2 buffered values each, closing every one; bridge drains
// them in turn, selecting on done throughout. Main gets 0..5 in order.
CHANFUZZ_SCENARIO(bridge, "bridge(done, channel of 3 channels of 2 values); main ranges over it") {
  auto done = make_chan<Unit>();
  auto streams = make_chan<Chan<int>>();
  go("streams", [done, streams]() -> Task<> {
    for (int i = 0; i < 3; ++i) {
      auto stream = make_chan<int>(2);
      co_await stream.send(2 * i);  // buffered: never blocks
      co_await stream.send(2 * i + 1);
      stream.close();
      auto s = co_await select(streams.send(stream), done.recv());
      if (s.index() == 1) break;
    }
    streams.close();
  });
  auto out = make_chan<int>();
  go("bridge", [done, streams, out]() -> Task<> {
    bool stopped = false;
    while (!stopped) {
      auto s = co_await select(streams.recv(), done.recv());
      if (s.index() == 1) break;
      auto next = s.get<0>();
      if (!next.ok) break;
      Chan<int> stream = next.value;
      for (;;) {
        auto t = co_await select(stream.recv(), done.recv());
        if (t.index() == 1) stopped = true;
        if (stopped || !t.get<0>().ok) break;
        auto u = co_await select(out.send(t.get<0>().value), done.recv());
        if (u.index() == 1) stopped = true;
        if (stopped) break;
      }
    }
    out.close();
  });
  auto got = co_await drain(out);
  require(got == iota_values(0, 6), "bridge yields every value of every stream, in order");
  done.close();
}
