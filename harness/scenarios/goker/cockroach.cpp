// GoKer blocking kernels from CockroachDB, ported to chanfuzz.
//
// GoKer is the kernel half of GoBench (Yuan et al., "GoBench: A Benchmark
// Suite of Real-World Go Concurrency Bugs", CGO 2021): small Go tests that
// keep the essence of real blocking bugs. Each scenario below is written from
// the behaviour of one kernel, gobench/goker/blocking/cockroach/<id>/ in the
// GoBench repository (github.com/timmyyuan/gobench); no Go code is copied.
// The kernel's test function is the scenario's main task, so a kernel whose
// test returns with goroutines blocked is a `leak`, and one whose test
// blocks with every goroutine is a `deadlock` (Go's "all goroutines are
// asleep"). Names follow the Go code; "G1", "G2" are the kernels' own labels.
#include <chanfuzz/chanfuzz.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

using namespace chanfuzz;
using namespace std::chrono_literals;

namespace {

// For kernels that may never end on some schedules (a stop channel nobody
// closes, a goroutine spinning on a select with default that PCT keeps
// running first): such a run is abandoned at the step bound. Failing runs
// take a few dozen steps, and the random strategy's passing runs of the
// fixed variants under 200.
constexpr ScenarioSettings kMayNeverEnd{.max_steps = 2000, .on_step_limit = StepLimit::skip};

}  // namespace

// ---- cockroach_2448 ---------------------------------------------------------
//
// Kernel: GoKer cockroach/2448, gobench/goker/blocking/cockroach/2448/
// (cockroachdb/cockroach pull request 2448, MultiRaft's Events channel).
//
// G2 (MultiRaft's `state.start`) loops on a select: stop, a callback from
// `callbackChan` (run it), or default: commit an entry, which sends an event
// on the unbuffered `Events` (a select with stop). G1 (`Store.processRaft`)
// receives events and runs each event's callback, which sends a function on
// the unbuffered `callbackChan` (a select with stop). Nobody closes stop.
//
// Interleaving: G2 sends event 1; G1 receives it and starts its callback.
// Before G1 reaches the `callbackChan` send, G2 loops, finds `callbackChan`
// not ready, takes default and blocks sending event 2. G1 then blocks on
// `callbackChan`: each waits for the other. The test has returned, so both
// leak. On the other schedules G2 busy-loops for ever (stop is never closed):
// the only quiescent end is the deadlock, hence kMayNeverEnd.
//
// No fixed variant: the kernel only sketches the fix (queue events instead of
// blocking in sendEvent), and with stop never closed a fixed kernel never
// ends either, so it would have nothing to pass.
namespace {
namespace cockroach2448 {

using Callback = std::function<Task<void>()>;  // Go's func()

// EventMembershipChangeCommitted, the only event the kernel sends on
// Events (an interface{} channel).
struct MembershipChangeCommitted {
  explicit MembershipChangeCommitted(Callback c = {}) : callback(std::move(c)) {}
  Callback callback;
};

struct MultiRaft {
  MultiRaft()
      : stopper(make_chan<bool>()),
        events(make_chan<MembershipChangeCommitted>()),
        callback_chan(make_chan<Callback>()) {}
  Chan<bool> stopper;  // Stopper.Done: ShouldStop(); never closed
  Chan<MembershipChangeCommitted> events;
  Chan<Callback> callback_chan;
};

// MultiRaft.sendEvent: blocks until processRaft takes the event.
Task<void> send_event(const MultiRaft& m, MembershipChangeCommitted event) {
  auto s = co_await select(m.events.send(std::move(event)), m.stopper.recv());
  (void)s;
}

// state.processCommittedEntry: an event whose callback hands a function to
// the MultiRaft loop through callbackChan.
Task<void> process_committed_entry(const MultiRaft& m) {
  Callback callback = [m]() -> Task<void> {
    Callback work = []() -> Task<void> { co_await sleep_for(1ns); };
    auto s = co_await select(m.callback_chan.send(std::move(work)), m.stopper.recv());
    (void)s;
  };
  MembershipChangeCommitted event(std::move(callback));
  co_await send_event(m, std::move(event));
}

// state.start (G2).
Task<void> state_start(const MultiRaft& m) {
  for (;;) {
    auto s = co_await select(m.stopper.recv(), m.callback_chan.recv(), default_case());
    if (s.index() == 0) co_return;
    if (s.index() == 1) {
      Callback cb = std::move(s.get<1>().value);
      Task<void> running = cb();
      co_await running;
      continue;
    }
    co_await process_committed_entry(m);  // handleWriteResponse
  }
}

// Store.processRaft (G1).
Task<void> process_raft(const MultiRaft& m) {
  for (;;) {
    auto s = co_await select(m.events.recv(), m.stopper.recv());
    if (s.index() == 1) co_return;
    Callback callback = std::move(s.get<0>().value.callback);
    if (callback) {
      Task<void> running = callback();
      co_await running;
    }
  }
}

}  // namespace cockroach2448
}  // namespace

CHANFUZZ_SCENARIO_FAILS_WITH(goker_cockroach_2448, leak, kMayNeverEnd,
                             "GoKer cockroach#2448: processRaft's callback and the MultiRaft "
                             "loop each wait for the other on unbuffered channels") {
  using namespace cockroach2448;
  MultiRaft m;
  go("Store.processRaft", [m]() -> Task<void> { co_await process_raft(m); });
  go("state.start", [m]() -> Task<void> { co_await state_start(m); });
  co_return;
}

// ---- cockroach_24808 --------------------------------------------------------
//
// Kernel: GoKer cockroach/24808, gobench/goker/blocking/cockroach/24808/
// (cockroachdb/cockroach pull request 24808, "compactor: don't block during
// suggestion in Start()").
//
// The test puts a suggestion into the compactor's channel (capacity 1), then
// calls Start, which sends on that full channel before it starts the worker
// that would drain it. The only goroutine blocks: a global deadlock on every
// schedule, and the deferred `stopper.Stop()` never runs.
//
// Fixed (the pull request): Start's send is non-blocking (select with
// default); the worker drains the channel until the stopper closes.
namespace {
namespace cockroach24808 {

struct Stopper {
  Stopper() : stopper(make_chan<Unit>()) {}
  WaitGroup stop;
  Chan<Unit> stopper;

  // RunWorker: runs f(ctx) in a goroutine counted by `stop`.
  template <class F>
  void run_worker(const Context& ctx, F f, SourceLocation where = SourceLocation::current()) const {
    stop.add(1);
    go(
        "Stopper.RunWorker",
        [wg = stop](F body, Context c) -> Task<void> {
          Task<void> running = body(c);
          co_await running;
          wg.done();
        },
        std::move(f), ctx, where);
  }
  Chan<Unit> should_stop() const { return stopper; }
  void stop_all() const { stopper.close(); }  // Stop
};

// Compactor.Start; `blocking` chooses the kernel's send (true) or the fix's
// non-blocking one.
Task<void> start(const Chan<Unit>& ch, const Context& ctx, const Stopper& stopper, bool blocking) {
  if (blocking) {
    co_await ch.send(Unit{});
  } else {
    auto s = co_await select(ch.send(Unit{}), default_case());
    (void)s;
  }
  stopper.run_worker(ctx, [ch, stopper](Context) -> Task<void> {
    for (;;) {
      auto s = co_await select(stopper.should_stop().recv(), ch.recv());
      if (s.index() == 0) co_return;
    }
  });
}

Task<void> test(bool blocking) {
  Stopper stopper;
  auto compactor_ch = make_chan<Unit>(1);  // NewCompactor
  co_await compactor_ch.send(Unit{});      // a suggestion arrives before Start
  co_await start(compactor_ch, background(), stopper, blocking);
  stopper.stop_all();  // deferred in the test
}

}  // namespace cockroach24808
}  // namespace

CHANFUZZ_SCENARIO_FAILS(goker_cockroach_24808, deadlock,
                        "GoKer cockroach#24808: Compactor.Start sends on its full channel "
                        "before starting the worker that drains it") {
  co_await cockroach24808::test(true);
}

CHANFUZZ_SCENARIO(goker_cockroach_24808_fixed,
                  "GoKer cockroach#24808 fixed: Start's send is non-blocking") {
  co_await cockroach24808::test(false);
}

// ---- cockroach_35073 --------------------------------------------------------
//
// Kernel: GoKer cockroach/35073, gobench/goker/blocking/cockroach/35073/
// (cockroachdb/cockroach pull request 35073: the outbox could fail during
// startup without closing its RowChannel).
//
// The test pushes 16 rows into the RowChannel (capacity 16), starts a pusher
// goroutine whose Push blocks on the full channel, starts the outbox, whose
// main loop returns at once without consuming or closing the channel, waits
// for it (WaitGroup), and pushes once more. Main and the pusher block on
// the full channel: a global deadlock on every schedule.
//
// Fixed (the pull request): when the outbox's main loop ends, it closes its
// RowChannel (ConsumerClosed: mark the consumer closed and drain a row), so
// the blocked pusher completes and later pushes see ConsumerClosed.
namespace {
namespace cockroach35073 {

enum ConsumerStatus : std::uint32_t { kNeedMoreRows, kDrainRequested, kConsumerClosed };
constexpr std::size_t kRowChannelBufSize = 16;
constexpr int kOutboxBufRows = 16;

struct RowChannel {
  RowChannel()
      : status(std::make_shared<std::atomic<std::uint32_t>>(kNeedMoreRows)),
        data_chan(make_chan<int>(kRowChannelBufSize)) {}  // InitWithNumSenders
  std::shared_ptr<std::atomic<std::uint32_t>> status;     // rowSourceBase.consumerStatus
  Chan<int> data_chan;

  Task<std::uint32_t> push() const {
    const std::uint32_t consumer_status = status->load();
    if (consumer_status == kNeedMoreRows) co_await data_chan.send(0);
    co_return consumer_status;
  }
  Task<void> consumer_closed() const {
    status->store(kConsumerClosed);
    auto s = co_await select(data_chan.recv(), default_case());
    (void)s;
  }
};

Task<void> test(bool fixed) {
  RowChannel outbox;  // outbox.init()
  WaitGroup wg;
  for (int i = 0; i < kOutboxBufRows; ++i) co_await outbox.push();
  WaitGroup blocked_pusher_wg;
  blocked_pusher_wg.add(1);
  go("pusher", [outbox, blocked_pusher_wg]() -> Task<void> {
    co_await outbox.push();
    blocked_pusher_wg.done();
  });
  wg.add(1);  // outbox.start(&wg)
  go("outbox.run", [outbox, wg, fixed]() -> Task<void> {
    // mainLoop() returns at once (the outbox failed to start).
    if (fixed) co_await outbox.consumer_closed();
    wg.done();
  });
  co_await wg.wait();
  co_await outbox.push();
}

}  // namespace cockroach35073
}  // namespace

CHANFUZZ_SCENARIO_FAILS(goker_cockroach_35073, deadlock,
                        "GoKer cockroach#35073: the outbox stops without closing its full "
                        "RowChannel; main's and a pusher's Push block") {
  co_await cockroach35073::test(false);
}

CHANFUZZ_SCENARIO(goker_cockroach_35073_fixed,
                  "GoKer cockroach#35073 fixed: the outbox closes its RowChannel when it stops") {
  co_await cockroach35073::test(true);
}

// ---- cockroach_10790 --------------------------------------------------------
//
// Kernel: GoKer cockroach/10790, gobench/goker/blocking/cockroach/10790/
// (cockroachdb/cockroach pull request 10790, Replica.beginCmds).
//
// beginCmds (G1) waits on each of two unbuffered command channels in turn, in
// a select with ctx.Done(); when the context wins, it spawns a goroutine that
// receives from every channel, from the first, and goes on with the loop. A
// helper sends once on each channel (a select with ctx.Done(), returning when
// cancelled); G2 cancels the context; the test quiesces its stopper and
// returns.
//
// Interleaving: the cancel lands before beginCmds has received on both
// channels, and its select picks ctx.Done() in some iteration. The spawned
// drainer then waits on a channel beginCmds already consumed, or one the
// helper abandoned after the cancel: it blocks for ever (a leak). No leak if
// both receives complete first.
//
// No fixed variant: the kernel's helper gives up its sends on cancel, so no
// drainer could be satisfied; the upstream fix changed code the kernel omits.
namespace {
namespace cockroach10790 {

struct Stopper {
  Stopper() : quiescer(make_chan<Unit>()), quiescing(std::make_shared<bool>(false)) {}
  Chan<Unit> quiescer;
  Mutex mu;
  std::shared_ptr<bool> quiescing;  // guarded by mu

  Task<void> quiesce() const {
    co_await mu.lock();
    if (!*quiescing) {
      *quiescing = true;
      quiescer.close();
    }
    mu.unlock();
  }
};

// Replica.beginCmds (G1).
Task<void> begin_cmds(std::vector<Chan<bool>> chans, Context ctx) {
  Chan<Unit> ctx_done = ctx.done();
  for (const Chan<bool>& ch : chans) {
    auto s = co_await select(ch.recv(), ctx_done.recv());
    if (s.index() == 1) {
      go("beginCmds.drain", [chans]() -> Task<void> {
        for (const Chan<bool>& c : chans) co_await c.recv();
      });
    }
  }
}

// Replica.sendChans (the kernel's helper goroutine).
Task<void> send_chans(std::vector<Chan<bool>> chans, Context ctx) {
  for (const Chan<bool>& ch : chans) {
    auto s = co_await select(ch.send(true), ctx.done().recv());
    if (s.index() == 1) co_return;
  }
}

}  // namespace cockroach10790
}  // namespace

CHANFUZZ_SCENARIO_FAILS(goker_cockroach_10790, leak,
                        "GoKer cockroach#10790: beginCmds spawns a drainer on cancel that waits "
                        "for sends that never come") {
  using namespace cockroach10790;
  Stopper stopper;  // NewReplica
  std::vector<Chan<bool>> chans{make_chan<bool>(), make_chan<bool>()};
  auto [ctx, cancel] = with_cancel(background());
  go("Replica.sendChans", [chans, ctx = ctx]() -> Task<void> { co_await send_chans(chans, ctx); });
  go("Replica.beginCmds", [chans, ctx = ctx]() -> Task<void> { co_await begin_cmds(chans, ctx); });
  go("cancel", [cancel = cancel]() -> Task<void> {
    cancel();
    co_return;
  });
  co_await stopper.quiesce();  // r.stopper.Stop()
}

// ---- cockroach_18101 --------------------------------------------------------
//
// Kernel: GoKer cockroach/18101, gobench/goker/blocking/cockroach/18101/
// (cockroachdb/cockroach pull request 18101, "sqlccl: add missing ctx select
// in splitAndScatter").
//
// restore (G1) spawns G2, which sends 8 values into readyForImportCh
// (capacity 6) and then closes it. G1 ranges over the channel, but on the
// first value it waits in a one-case select on ctx.Done() and returns. A
// helper cancels the context; the test returns at once.
//
// Interleaving: any. G1 takes one value and the buffer holds 6, so G2's 8th
// send blocks for ever (a leak on every schedule).
//
// Fixed (the pull request): G2's send is a select with ctx.Done(), so it
// returns when the context is cancelled.
namespace {
namespace cockroach18101 {

constexpr std::size_t kChanSize = 6;

Task<void> split_and_scatter(Context ctx, Chan<bool> ready, bool fixed) {
  for (std::size_t i = 0; i < kChanSize + 2; ++i) {
    if (fixed) {
      auto s = co_await select(ready.send(i != 0), ctx.done().recv());
      if (s.index() == 1) co_return;
    } else {
      co_await ready.send(i != 0);
    }
  }
}

Task<void> restore(Context ctx, bool fixed) {
  auto ready_for_import = make_chan<bool>(kChanSize);
  go("splitAndScatter", [ctx, ready_for_import, fixed]() -> Task<void> {
    co_await split_and_scatter(ctx, ready_for_import, fixed);
    ready_for_import.close();  // deferred
  });
  for (;;) {
    auto r = co_await ready_for_import.recv();
    if (!r.ok) break;
    auto s = co_await select(ctx.done().recv());  // one-case select
    (void)s;
    co_return;
  }
}

Task<void> test(bool fixed) {
  auto [ctx, cancel] = with_cancel(background());
  go("restore", [ctx = ctx, fixed]() -> Task<void> { co_await restore(ctx, fixed); });
  go("cancel", [cancel = cancel]() -> Task<void> {
    cancel();
    co_return;
  });
  co_return;
}

}  // namespace cockroach18101
}  // namespace

CHANFUZZ_SCENARIO_FAILS(goker_cockroach_18101, leak,
                        "GoKer cockroach#18101: restore returns on cancel after one value; "
                        "the sender's 8th send on a 6-slot channel blocks") {
  co_await cockroach18101::test(false);
}

CHANFUZZ_SCENARIO(goker_cockroach_18101_fixed,
                  "GoKer cockroach#18101 fixed: splitAndScatter's send selects on ctx.Done()") {
  co_await cockroach18101::test(true);
}

// ---- cockroach_1462 ---------------------------------------------------------
//
// Kernel: GoKer cockroach/1462, gobench/goker/blocking/cockroach/1462/
// (cockroachdb/cockroach pull request 1462, "Guard localInterceptableTransport's
// message handling with stopper.StartTask"; issue 1458).
//
// A sender worker loops `select { <-ShouldStop: return; default: Events <- msg }`
// on the unbuffered Events channel; a receiver worker loops
// `select { <-Events; <-ShouldStop: return }`. The test calls Stop:
// Quiesce, close(stopper), then wait for both workers (WaitGroup).
//
// Interleaving: the sender takes default before the close and blocks on
// `Events <-`; after the close the receiver's select finds both cases ready
// and picks ShouldStop. The sender never returns, and Stop waits for it for
// ever: a global deadlock. The kernel's sync.Cond is dead code (numTasks is
// never incremented) and is dropped here. The workers can pass messages for
// ever before main runs (PCT may never run main), hence kMayNeverEnd.
//
// Fixed (the pull request): the send is a task of the stopper (StartTask /
// FinishTask) and Quiesce waits, on a sync.Cond, until no task is running,
// before the stopper closes; a sender refused by StartTask (draining) loops
// until it sees the stop.
namespace {
namespace cockroach1462 {

// sync.Cond on a Mutex: wait() unlocks, waits for a broadcast and locks
// again; broadcast() wakes every waiter. A waiter takes the channel to wait
// on while it holds the mutex, so a broadcast cannot be missed.
struct Cond {
  explicit Cond(Mutex m)
      : mu(std::move(m)), signal(std::make_shared<Chan<Unit>>(make_chan<Unit>())) {}
  Mutex mu;
  std::shared_ptr<Chan<Unit>> signal;

  Task<void> wait() const {
    Chan<Unit> current = *signal;
    mu.unlock();
    co_await current.recv();
    co_await mu.lock();
  }
  void broadcast() const {
    signal->close();
    *signal = make_chan<Unit>();
  }
};

struct Stopper {
  Stopper()
      : stopper(make_chan<Unit>()),
        stopped(make_chan<Unit>()),
        drain(mu),
        state(std::make_shared<State>()) {}
  struct State {
    bool draining = false;  // guarded by mu
    int num_tasks = 0;      // guarded by mu
  };
  Chan<Unit> stopper;
  Chan<Unit> stopped;
  WaitGroup stop;
  Mutex mu;
  Cond drain;  // used by the fixed variant only
  std::shared_ptr<State> state;

  template <class F>
  void run_worker(std::string name, F f, SourceLocation where = SourceLocation::current()) const {
    stop.add(1);  // AddWorker
    go(
        std::move(name),
        [f = std::move(f), wg = stop]() -> Task<void> {
          Task<void> running = f();
          co_await running;
          wg.done();  // deferred SetStopped
        },
        where);
  }
  Chan<Unit> should_stop() const { return stopper; }

  Task<bool> start_task() const {
    co_await mu.lock();
    bool ok = !state->draining;
    if (ok) ++state->num_tasks;
    mu.unlock();
    co_return ok;
  }
  Task<void> finish_task() const {
    co_await mu.lock();
    --state->num_tasks;
    drain.broadcast();
    mu.unlock();
  }
  Task<void> quiesce(bool wait_for_tasks) const {
    co_await mu.lock();
    state->draining = true;
    while (wait_for_tasks && state->num_tasks > 0) co_await drain.wait();
    mu.unlock();
  }
  Task<void> stop_all(bool wait_for_tasks) const {
    co_await quiesce(wait_for_tasks);
    stopper.close();
    co_await stop.wait();
    co_await mu.lock();
    stopped.close();
    mu.unlock();
  }
};

Task<void> test(bool fixed) {
  Stopper stopper;
  auto events = make_chan<int>();  // NewLocalInterceptableTransport; lt.start()
  stopper.run_worker("localInterceptableTransport", [stopper, events, fixed]() -> Task<void> {
    for (;;) {
      auto s = co_await select(stopper.should_stop().recv(), default_case());
      if (s.index() == 0) co_return;
      if (!fixed) {
        co_await events.send(0);
        continue;
      }
      const bool started = co_await stopper.start_task();
      if (!started) continue;
      co_await events.send(0);
      co_await stopper.finish_task();
    }
  });
  stopper.run_worker("processEventsUntil", [stopper, events]() -> Task<void> {
    for (;;) {
      auto s = co_await select(events.recv(), stopper.should_stop().recv());
      if (s.index() == 1 || !s.get<0>().ok) co_return;
    }
  });
  co_await stopper.stop_all(fixed);
}

}  // namespace cockroach1462
}  // namespace

CHANFUZZ_SCENARIO_FAILS_WITH(goker_cockroach_1462, deadlock, kMayNeverEnd,
                             "GoKer cockroach#1462: after Stop closes the stopper, the receiver "
                             "quits while the sender is blocked on Events; Stop waits for ever") {
  co_await cockroach1462::test(false);
}

CHANFUZZ_SCENARIO_WITH(goker_cockroach_1462_fixed, kMayNeverEnd,
                       "GoKer cockroach#1462 fixed: sends are stopper tasks; Quiesce waits for "
                       "them before the stopper closes") {
  co_await cockroach1462::test(true);
}
