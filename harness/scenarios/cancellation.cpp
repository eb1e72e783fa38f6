// Cancellation, timeouts and limits: worker pools cancelled by a context,
// requests with a timeout, replicated requests, errgroup, a semaphore, and a
// heartbeat ("Concurrency in Go" ch. 4-5; Rob Pike, "Go Concurrency
// Patterns", 2012; golang.org/x/sync/errgroup), written against chanfuzz's
// runtime.
//
// The simulator's clock may jump to the next timer early (a slow task), so
// every correct form here tolerates a timeout that fires before the work is
// done.
#include <chanfuzz/chanfuzz.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

using namespace chanfuzz;
using namespace std::chrono_literals;

namespace {

// A random duration in [0, n) milliseconds: how long a piece of work takes.
Duration random_ms(std::uint64_t n) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(random(n)));
}

bool all_distinct(std::vector<int> values) {
  std::sort(values.begin(), values.end());
  return std::adjacent_find(values.begin(), values.end()) == values.end();
}

// errgroup.WithContext, reduced to what the scenarios use: spawn() runs a
// function that returns "" or an error; the first error is kept and cancels
// the group's context; wait() waits for every function and returns that
// first error. A handle: copies share one group.
class ErrGroup {
 public:
  ErrGroup() {
    auto [ctx, cancel] = with_cancel(background());
    ctx_ = ctx;
    cancel_ = cancel;
  }

  const Context& context() const { return ctx_; }

  // g.Go(f). `f` is a lambda returning Task<std::string>; it is kept alive in
  // the spawned task's frame.
  template <class F>
  void spawn(std::string name, F f) {
    wg_.add(1);
    go(std::move(name), [f = std::move(f), wg = wg_, cancel = cancel_, err = err_]() -> Task<> {
      Task<std::string> body = f();
      std::string e = co_await body;
      if (!e.empty() && err->empty()) {
        *err = e;
        cancel();
      }
      wg.done();
    });
  }

  // g.Wait().
  Task<std::string> wait() const {
    co_await wg_.wait();
    cancel_();
    co_return *err_;
  }

  // The first error so far ("" if none).
  const std::string& first_error() const { return *err_; }

 private:
  Context ctx_;
  CancelFunc cancel_;
  WaitGroup wg_;
  std::shared_ptr<std::string> err_ = std::make_shared<std::string>();
};

}  // namespace

// The worker pools' feeder: sends jobs 1..12 until the context is cancelled,
// then closes the job channel.
void spawn_feeder(const Chan<int>& jobs, const Context& ctx) {
  go("feeder", [jobs, ctx]() -> Task<> {
    for (int i = 1; i <= 12; ++i) {
      auto s = co_await select(jobs.send(i), ctx.done().recv());
      if (s.index() == 1) break;
    }
    jobs.close();
  });
}

// Worker pool cancelled by a context: a feeder sends 12 jobs, 3 workers
// select on ctx.done() at both the job receive and the result send. Main
// takes 4 results, cancels, and waits for the workers. The results are
// distinct and valid, and every task exits.
CHANFUZZ_SCENARIO(worker_pool, "3 workers, 12 jobs; main takes 4 results, cancels the context") {
  auto [ctx, cancel] = with_cancel(background());
  auto jobs = make_chan<int>();
  auto results = make_chan<int>();
  spawn_feeder(jobs, ctx);
  WaitGroup wg;
  for (int w = 0; w < 3; ++w) {
    wg.add(1);
    go("worker", [jobs, results, wg, ctx = ctx]() -> Task<> {
      for (;;) {
        auto s = co_await select(jobs.recv(), ctx.done().recv());
        if (s.index() == 1) break;
        auto job = s.get<0>();
        if (!job.ok) break;
        auto t = co_await select(results.send(job.value * 10), ctx.done().recv());
        if (t.index() == 1) break;
      }
      wg.done();
    });
  }
  std::vector<int> got;
  for (int i = 0; i < 4; ++i) {
    auto r = co_await results.recv();
    require(r.ok && r.value % 10 == 0 && r.value >= 10 && r.value <= 120, "a valid result");
    got.push_back(r.value);
  }
  cancel();
  co_await wg.wait();
  require(all_distinct(got), "every job is done once");
  require(ctx.err() == ContextError::canceled, "the context reports context canceled");
}

// The same pool, but the workers' result send ignores the context, and main
// returns right after cancel() without waiting. Leaks every worker that
// holds a result: blocked in "chan send" on results, which nobody reads.
CHANFUZZ_SCENARIO_FAILS(worker_pool_leak, leak,
                        "workers send results without a ctx.done() case; main cancels, returns") {
  auto [ctx, cancel] = with_cancel(background());
  auto jobs = make_chan<int>();
  auto results = make_chan<int>();
  spawn_feeder(jobs, ctx);
  for (int w = 0; w < 3; ++w) {
    go("worker", [jobs, results, ctx = ctx]() -> Task<> {
      for (;;) {
        auto s = co_await select(jobs.recv(), ctx.done().recv());
        if (s.index() == 1) break;
        auto job = s.get<0>();
        if (!job.ok) break;
        co_await results.send(job.value * 10);  // the bug: no ctx.done() case
      }
    });
  }
  for (int i = 0; i < 4; ++i) {
    auto r = co_await results.recv();
    require(r.ok, "results closed early");
  }
  cancel();
}

// Request with a timeout: three requests in turn, each served by its own
// task that works 0-9ms and answers on a reply channel of capacity 1, so the
// answer is never stuck when the client has stopped waiting (5ms). Every
// answer that arrives is right; every server exits.
CHANFUZZ_SCENARIO(request_timeout, "3 requests with a 5ms timeout; reply channel of capacity 1") {
  int answered = 0;
  int timed_out = 0;
  for (int request = 0; request < 3; ++request) {
    auto reply = make_chan<int>(1);  // the fix: room for a late answer
    go("server", [reply, request]() -> Task<> {
      co_await sleep_for(random_ms(10));
      co_await reply.send(request * request);
    });
    auto s = co_await select(reply.recv(), after(5ms).recv());
    if (s.index() == 0) {
      require(s.get<0>().ok && s.get<0>().value == request * request, "the answer is right");
      ++answered;
    } else {
      ++timed_out;
    }
  }
  require(answered + timed_out == 3, "every request ends, answered or timed out");
}

// The same with an unbuffered reply channel: when the client times out
// first, the server's send can never complete. Leaks one "server" per
// timed-out request, blocked in "chan send" on its reply channel.
CHANFUZZ_SCENARIO_FAILS(request_timeout_leak, leak,
                        "3 requests with a 5ms timeout; unbuffered reply channel") {
  for (int request = 0; request < 3; ++request) {
    auto reply = make_chan<int>();  // the bug: nobody receives after a timeout
    go("server", [reply, request]() -> Task<> {
      co_await sleep_for(random_ms(10));
      co_await reply.send(request * request);
    });
    auto s = co_await select(reply.recv(), after(5ms).recv());
    if (s.index() == 0) require(s.get<0>().value == request * request, "the answer is right");
  }
}

// Replicated request (Pike's "Google Search 2.0"): ask 3 replicas, take the
// first answer. The answer channel has room for every reply, so the slower
// replicas finish too. The answer comes from one of the replicas.
CHANFUZZ_SCENARIO(first_result, "ask 3 replicas, take the first reply; buffered for all replies") {
  constexpr int replicas = 3;
  auto answers = make_chan<int>(replicas);
  for (int r = 0; r < replicas; ++r) {
    go("replica", [answers, r]() -> Task<> {
      co_await sleep_for(random_ms(10));
      co_await answers.send(100 + r);
    });
  }
  auto first = co_await answers.recv();
  require(first.ok && first.value >= 100 && first.value < 100 + replicas, "a replica's answer");
}

// errgroup: 3 workers send up to 4 results each, selecting on the group's
// context; worker 1 fails at its second item, which cancels the context, so
// the others stop early. A closer waits for the group and closes results;
// main drains them. The group's error is worker 1's, worker 1 sent at most
// one value, and every task exits.
CHANFUZZ_SCENARIO(errgroup, "first failing worker cancels the group's context; all others exit") {
  ErrGroup group;
  auto ctx = group.context();
  auto results = make_chan<int>();
  for (int w = 0; w < 3; ++w) {
    group.spawn("worker", [w, results, ctx]() -> Task<std::string> {
      for (int i = 0; i < 4; ++i) {
        if (w == 1 && i == 1) co_return "worker 1: bad input";
        auto s = co_await select(results.send(10 * w + i), ctx.done().recv());
        if (s.index() == 1) co_return context_error_message(ctx.err());
      }
      co_return "";
    });
  }
  auto err = std::make_shared<std::string>();
  go("closer", [group, results, err]() -> Task<> {
    *err = co_await group.wait();
    results.close();
  });
  std::vector<int> got;
  for (;;) {
    auto r = co_await results.recv();
    if (!r.ok) break;
    got.push_back(r.value);
  }
  require(*err == "worker 1: bad input", "the group returns the first error");
  require(ctx.err() == ContextError::canceled, "the first error cancelled the context");
  require(std::count_if(got.begin(), got.end(), [](int v) { return v / 10 == 1; }) <= 1,
          "worker 1 sent at most one value before it failed");
  require(all_distinct(got), "no value arrives twice");
}

// errgroup where the workers' sends ignore the context and main stops
// reading as soon as the context is cancelled, returning the error without
// g.Wait(). Leaks every worker still holding a value ("chan send" on
// results) and the closer ("sync.WaitGroup.Wait"), which waits for them.
CHANFUZZ_SCENARIO_FAILS(errgroup_leak, leak,
                        "worker sends ignore the group's context; main stops at cancellation") {
  ErrGroup group;
  auto ctx = group.context();
  auto results = make_chan<int>();
  for (int w = 0; w < 3; ++w) {
    group.spawn("worker", [w, results]() -> Task<std::string> {
      for (int i = 0; i < 4; ++i) {
        if (w == 1 && i == 1) co_return "worker 1: bad input";
        co_await results.send(10 * w + i);  // the bug: no ctx.done() case
      }
      co_return "";
    });
  }
  go("closer", [group, results]() -> Task<> {
    co_await group.wait();
    results.close();
  });
  for (;;) {
    auto s = co_await select(results.recv(), ctx.done().recv());
    if (s.index() == 1 || !s.get<0>().ok) break;
  }
  require(group.first_error() == "worker 1: bad input", "the group's first error");
}

// Bounded parallelism: a buffered Chan<Unit> of capacity 2 is a semaphore
// (send acquires, receive releases). 5 workers; never more than 2 inside at
// once; all 5 finish. The counters are atomic: on real threads (stress) the
// two workers inside run in parallel.
CHANFUZZ_SCENARIO(semaphore, "5 workers behind a semaphore channel of capacity 2") {
  constexpr int limit = 2;
  auto sem = make_chan<Unit>(limit);
  auto inside = std::make_shared<std::atomic<int>>(0);
  auto finished = std::make_shared<std::atomic<int>>(0);
  WaitGroup wg;
  for (int i = 0; i < 5; ++i) {
    wg.add(1);
    go("worker", [sem, inside, finished, wg]() -> Task<> {
      co_await sem.send(Unit{});  // acquire
      int now_inside = ++*inside;
      require(now_inside <= limit, "never more than 2 workers inside the semaphore");
      co_await yield();  // the work: others run meanwhile
      co_await yield();
      --*inside;
      ++*finished;
      co_await sem.recv();  // release
      wg.done();
    });
  }
  co_await wg.wait();
  require(*finished == 5 && *inside == 0, "every worker ran and left");
}

// The same semaphore, but workers 1 and 3 take an error path that returns
// without releasing their slot. Once both have failed, the semaphore is
// full for good: the remaining workers block in "chan send" on it and main
// in "sync.WaitGroup.Wait" (a deadlock), unless the two failing workers
// happened to acquire last.
CHANFUZZ_SCENARIO_FAILS(semaphore_no_release, deadlock,
                        "two workers return on an error path without releasing the semaphore") {
  constexpr int limit = 2;
  auto sem = make_chan<Unit>(limit);
  WaitGroup wg;
  for (int i = 0; i < 5; ++i) {
    wg.add(1);
    go("worker", [sem, wg, i]() -> Task<> {
      co_await sem.send(Unit{});  // acquire
      if (i == 1 || i == 3) {     // an error: the bug is the missing release
        wg.done();
        co_return;
      }
      co_await yield();
      co_await sem.recv();  // release
      wg.done();
    });
  }
  co_await wg.wait();
}

// Heartbeat: the worker ticks every 10ms (sleep_for), offers a heartbeat
// that nobody has to take (select with default on a channel of capacity 1),
// then sends its next result or stops on done. The caller takes results and
// heartbeats, gives up after 30ms of silence, closes done after 3 results
// (or on giving up), and waits for the worker. Results arrive in order.
CHANFUZZ_SCENARIO(heartbeat, "worker pulses every 10ms; caller takes 3 results, then closes done") {
  auto done = make_chan<Unit>();
  auto heartbeat = make_chan<Unit>(1);
  auto results = make_chan<int>();
  auto exited = make_chan<Unit>();
  go("worker", [done, heartbeat, results, exited]() -> Task<> {
    for (int i = 0; i < 10; ++i) {
      co_await sleep_for(10ms);  // the tick
      auto pulse = co_await select(heartbeat.send(Unit{}), default_case());
      (void)pulse;  // a pulse nobody is listening for is dropped
      auto s = co_await select(results.send(i), done.recv());
      if (s.index() == 1) break;
    }
    results.close();
    exited.close();
  });
  std::vector<int> got;
  bool healthy = true;
  while (healthy && got.size() < 3) {
    auto s = co_await select(heartbeat.recv(), results.recv(), after(30ms).recv());
    if (s.index() == 2) healthy = false;  // no pulse for 30ms (or the clock ran ahead)
    if (s.index() == 1) {
      auto r = s.get<1>();
      require(r.ok, "the worker stopped before the caller closed done");
      got.push_back(r.value);
    }
  }
  done.close();
  co_await exited.recv();
  for (std::size_t i = 0; i < got.size(); ++i) {
    require(got[i] == static_cast<int>(i), "results arrive in order");
  }
}

// The same worker, but the caller returns after 3 results without closing
// done. Leaks "worker": it sends result 3, which nobody receives, blocked in
// "select" on results and done forever.
CHANFUZZ_SCENARIO_FAILS(heartbeat_leak, leak,
                        "the caller returns after 3 results, never closes done") {
  auto done = make_chan<Unit>();
  auto heartbeat = make_chan<Unit>(1);
  auto results = make_chan<int>();
  go("worker", [done, heartbeat, results]() -> Task<> {
    for (int i = 0; i < 10; ++i) {
      co_await sleep_for(10ms);
      auto pulse = co_await select(heartbeat.send(Unit{}), default_case());
      (void)pulse;
      auto s = co_await select(results.send(i), done.recv());
      if (s.index() == 1) break;
    }
    results.close();
  });
  int received = 0;
  while (received < 3) {
    auto s = co_await select(heartbeat.recv(), results.recv(), after(30ms).recv());
    if (s.index() == 2) break;  // gave up: still returns without closing done
    if (s.index() == 1) ++received;
  }
}
