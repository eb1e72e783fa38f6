// The reduction rules of dfs:<P> (harness/strategies/dfs.cpp): on small
// programs built so that each rule's side conditions decide the outcome,
// the reduced search meets exactly the distinct failures (category and
// blocked sites) that the full search meets, at bounds 0, 1 and 2, and
// never runs more complete schedules.
//
// The rules under test: objects named at poll points (close, WaitGroup.Add,
// Mutex.Unlock and TryLock), a woken select's other cases as withdrawals
// of its waiters, and waiters queued on the same channel in the same
// direction commuting until a waiter is taken from a queue holding two or
// more (then the search starts over keeping that queue's order; try_send
// and try_recv take waiters unseen and keep every order). The last program
// shows why the two arrival orders of a rendezvous are not merged: under a
// preemption bound they differ in which partner runs on.
//
// Every program is searched four ways: full, sleep sets alone (:nocache),
// the state cache keyed on the trace (:nomodel) and keyed on the state
// model where it follows the run (the default): the same failures, and the
// caches never run more schedules than sleep sets alone. The last
// programs change objects with no operation (a Context's cancel, a
// LockGuard's unlock), and one is built for the cache to prune.
#include <gtest/gtest.h>

#include <chanfuzz/chanfuzz.hpp>
#include <chanfuzz/sim_executor.hpp>
#include <chanfuzz/strategy.hpp>

#include "search_support.hpp"

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <utility>

using namespace chanfuzz;

namespace {

using test_support::AllFailures;
using test_support::Sites;

// The whole bounded search, going on past failing runs.
AllFailures all_failures(Task<void> (*program)(), const std::string& spec) {
  return test_support::all_failures(program, spec, 200000);
}

// Reduced and full searches at bounds 0-2: the same failures. Returns the
// schedules of both at bound 2.
std::pair<std::uint64_t, std::uint64_t> expect_same_failures(Task<void> (*program)(),
                                                             bool fails = true) {
  std::pair<std::uint64_t, std::uint64_t> at_two;
  for (int bound = 0; bound <= 2; ++bound) {
    std::string spec = "dfs:" + std::to_string(bound);
    AllFailures full = all_failures(program, spec + ":full");
    AllFailures sleep_sets = all_failures(program, spec + ":nocache");
    AllFailures trace_cache = all_failures(program, spec + ":nomodel");
    AllFailures reduced = all_failures(program, spec);
    EXPECT_TRUE(full.complete && sleep_sets.complete && trace_cache.complete && reduced.complete)
        << spec;
    EXPECT_EQ(sleep_sets.found, full.found) << spec;
    EXPECT_EQ(trace_cache.found, full.found) << spec;
    EXPECT_EQ(reduced.found, full.found) << spec;
    EXPECT_LE(trace_cache.schedules, sleep_sets.schedules) << spec;
    EXPECT_LE(sleep_sets.schedules, full.schedules) << spec;
    EXPECT_LE(reduced.schedules, sleep_sets.schedules) << spec;
    if (fails) {
      EXPECT_FALSE(full.found.empty()) << spec;
    }
    at_two = {reduced.schedules, full.schedules};
  }
  return at_two;
}

// The whole search at `spec` finishes and meets a failure.
void expect_found_at(Task<void> (*program)(), const std::string& spec) {
  AllFailures found = all_failures(program, spec);
  ASSERT_TRUE(found.complete) << spec;
  EXPECT_FALSE(found.found.empty()) << spec;
}

// ---- queue order --------------------------------------------------------------

// Two senders queue on one channel while main is preempted at its yield;
// then main takes what is there without blocking, twice. b's value first
// and a's second needs both to wait, b in front: with one preemption that
// is the only way, so the order of the queue decides the assertion.
Task<void> queue_order_decides() {
  auto ch = make_chan<int>();
  go("a", [ch]() -> Task<> { co_await ch.send(1); });
  go("b", [ch]() -> Task<> { co_await ch.send(2); });
  co_await yield();
  auto first = co_await select(ch.recv(), default_case());
  auto second = co_await select(ch.recv(), default_case());
  bool b_then_a = first.index() == 0 && first.get<0>().value == 2 && second.index() == 0;
  require(!b_then_a, "b's value came first while a waited behind it");
}

TEST(QueueOrder, taking_from_a_queue_of_two_keeps_its_order) {
  expect_same_failures(queue_order_decides);
}

// Three workers wait in a select on results (send) and done (receive);
// main takes one result, then closes done. The order of the waiters on done
// is never observed (a close wakes them all); the order on results is.
Task<void> workers_select_on_done() {
  auto done = make_chan<Unit>();
  auto results = make_chan<int>();
  for (int w = 0; w < 3; ++w) {
    go("worker", [done, results, w]() -> Task<> {
      auto s = co_await select(results.send(w), done.recv());
      (void)s;
    });
  }
  auto r = co_await results.recv();
  done.close();
  require(r.value != 2, "main got worker 2's result");
}

TEST(QueueOrder, waiters_on_a_done_channel_commute) {
  auto [reduced, full] = expect_same_failures(workers_select_on_done);
  EXPECT_LT(reduced, full);
}

// A stage that forwards one value: its select waits on the send and on
// done; when the send completes, its waiter on done is withdrawn. Two
// stages and main, which looks at b once (a select with default) before it
// closes done: the withdrawal commutes with the other stage queueing on
// done, not with main's look or its close.
Task<void> two_stages_and_done() {
  auto done = make_chan<Unit>();
  auto a = make_chan<int>();
  auto b = make_chan<int>();
  for (const auto& out : {a, b}) {
    go("stage", [done, out]() -> Task<> {
      auto s = co_await select(out.send(1), done.recv());
      require(s.index() == 0 || !s.get<1>().ok, "done is only closed");
    });
  }
  auto r = co_await a.recv();
  (void)r;
  auto late = co_await select(b.recv(), default_case());
  done.close();
  require(late.index() == 1, "stage b was ready before done was closed");
}

TEST(QueueOrder, withdrawn_waiters_commute_with_queued_ones) {
  expect_same_failures(two_stages_and_done);
}

// try_send takes the first waiting receiver without an operation the
// strategy sees: the search then keeps every queue's order. With one
// preemption, r1 gets the second value after the first was taken only if
// both waited when main sent, r2 in front.
Task<void> try_send_to_two_receivers() {
  auto ch = make_chan<int>();
  auto first_taken = std::make_shared<bool>(false);  // written before the send r1 sees
  go("r1", [ch, first_taken]() -> Task<> {
    auto v = co_await ch.recv();
    require(!(v.value == 2 && *first_taken), "r1 got the second value, r2 the first");
  });
  go("r2", [ch]() -> Task<> { (void)co_await ch.recv(); });
  co_await yield();
  *first_taken = ch.try_send(1);
  auto s = co_await select(ch.send(2), default_case());
  (void)s;
}

TEST(QueueOrder, try_send_keeps_every_queue_order) {
  expect_same_failures(try_send_to_two_receivers);
}

// ---- objects named at poll points ---------------------------------------------

// Two closes of different channels commute; each conflicts with the select
// that receives from its channel: case 1 wins only if b is closed first.
Task<void> closes_and_a_select() {
  auto a = make_chan<int>();
  auto b = make_chan<int>();
  go("close_a", [a]() -> Task<> {
    a.close();
    co_return;
  });
  go("close_b", [b]() -> Task<> {
    b.close();
    co_return;
  });
  auto s = co_await select(a.recv(), b.recv());
  require(s.index() == 0, "b was closed first");
}

TEST(NamedObjects, closes_of_different_channels_commute_not_with_their_receivers) {
  expect_same_failures(closes_and_a_select);
}

// WaitGroup.Add/Done and Mutex.Unlock/TryLock name their objects: the
// workers' Done on different groups commute, a TryLock does not commute
// with an Unlock of its mutex.
Task<void> wait_groups_and_a_mutex() {
  WaitGroup first, second;
  Mutex mu;
  first.add(1);
  second.add(1);
  co_await mu.lock();
  go("done_first", [first]() -> Task<> {
    first.done();
    co_return;
  });
  go("done_second", [second, mu]() -> Task<> {
    second.done();
    mu.unlock();
    co_return;
  });
  go("try_lock", [mu]() -> Task<> {
    co_await yield();
    require(!mu.try_lock(), "the mutex was unlocked first");
  });
  co_await first.wait();
  co_await second.wait();
}

TEST(NamedObjects, wait_groups_and_mutexes) { expect_same_failures(wait_groups_and_a_mutex); }

// ---- why rendezvous arrival orders stay apart ------------------------------

// a and b meet on an unbuffered channel. Whoever arrives second completes
// the hand-off and runs on; the other is only woken. Without a preemption,
// b sees c's value in f only if a ran on first (a's send on e lets c fill
// f before b looks): that needs b to arrive first. Merging the two arrival
// orders would lose this assertion at dfs:0.
Task<void> who_runs_on_after_a_rendezvous() {
  auto ch = make_chan<int>();
  auto e = make_chan<int>();
  auto f = make_chan<int>(1);
  go("c", [e, f]() -> Task<> {
    (void)co_await e.recv();
    co_await f.send(1);
  });
  go("a", [ch, e]() -> Task<> {
    co_await ch.send(1);
    co_await e.send(1);
  });
  go("b", [ch, f]() -> Task<> {
    (void)co_await ch.recv();
    auto s = co_await select(f.recv(), default_case());
    require(s.index() == 1, "b saw c's value");
  });
  // Main sleeps meanwhile: its timer keeps a choice (the clock) open even
  // when only one task can run.
  co_await sleep_for(std::chrono::hours(1));
}

TEST(Rendezvous, both_arrival_orders_are_explored_within_the_bound) {
  expect_found_at(who_runs_on_after_a_rendezvous, "dfs:0");
  expect_same_failures(who_runs_on_after_a_rendezvous);
}

// ---- the state cache -------------------------------------------------------

// A cancel closes the done channel with no step of its own
// (SimEvent::Kind::changed). b looks at done once, with a default, then
// waits at a gate; a cancels, then waits at its own gate. Once both wait,
// the states of the two orders differ by b's local flag alone, and b fails
// later, after an opener lets it through, only if it looked first. Were
// the cancel invisible, a's and b's events would commute and the cache
// could merge the two states. (Here the failure is also reached by other
// paths, so this program checks the search against the full one; that the
// cancel is seen at all is checked in state_cache_test.cpp.)
Task<void> cancel_seen_later() {
  auto pair = with_cancel(background());
  Context ctx = pair.first;
  CancelFunc cancel = pair.second;
  auto a_gate = make_chan<int>();
  auto b_gate = make_chan<int>();
  go("a", [cancel, a_gate]() -> Task<> {
    cancel();
    co_await yield();  // a segment that ends at a's own point: a does not sleep in b's branch
    (void)co_await a_gate.recv();
  });
  go("b", [ctx, b_gate]() -> Task<> {
    auto s = co_await select(ctx.done().recv(), default_case());
    bool saw = s.index() == 0;
    (void)co_await b_gate.recv();
    require(saw, "b looked before the cancel");
  });
  go("opener", [a_gate, b_gate]() -> Task<> {
    co_await a_gate.send(1);
    co_await b_gate.send(1);
  });
  // Main sleeps meanwhile: its timer keeps a choice (the clock) open even
  // when only one task can run, so the waits are nodes of the search.
  co_await sleep_for(std::chrono::hours(1));
}

TEST(StateCache, a_cancel_and_a_look_at_done_meet_the_full_search_failures) {
  expect_found_at(cancel_seen_later, "dfs:0");
  expect_same_failures(cancel_seen_later);
}

// The same with a LockGuard, which unlocks in its destructor (no step):
// b's try_lock fails while a holds the lock across its yield.
Task<void> guard_unlock_seen_later() {
  Mutex mu;
  WaitGroup wg;
  wg.add(2);
  go("a", [mu, wg]() -> Task<> {
    {
      LockGuard guard = co_await mu.scoped();
      co_await yield();
    }
    wg.done();
  });
  go("b", [mu, wg]() -> Task<> {
    bool got = mu.try_lock();
    if (got) mu.unlock();
    co_await yield();
    require(got, "b tried while a held the lock");
    wg.done();
  });
  co_await wg.wait();
}

TEST(StateCache, a_guard_unlock_and_a_try_lock_meet_the_full_search_failures) {
  expect_found_at(guard_unlock_seen_later, "dfs:1");  // b runs inside a's hold: one preemption
  expect_same_failures(guard_unlock_seen_later, false);
}

// Three producers fill their own buffered channels, then main drains them:
// the producers' events are independent, so the orders that only
// interleave them differently reach the same states. Sleep sets prune
// some; the cache prunes the states reached again by other orders.
Task<void> independent_producers() {
  std::vector<Chan<int>> chans;
  for (int i = 0; i < 3; ++i) chans.push_back(make_chan<int>(3));
  for (int i = 0; i < 3; ++i) {
    go("producer", [ch = chans[static_cast<std::size_t>(i)]]() -> Task<> {
      for (int v = 0; v < 3; ++v) co_await ch.send(v);
    });
  }
  int sum = 0;
  for (auto& ch : chans) {
    for (int v = 0; v < 3; ++v) sum += (co_await ch.recv()).value;
  }
  require(sum == 9, "a value was lost");
}

TEST(StateCache, prunes_states_reached_by_independent_orders) {
  AllFailures sleep_sets = all_failures(independent_producers, "dfs:2:nocache");
  AllFailures cached = all_failures(independent_producers, "dfs:2");
  ASSERT_TRUE(sleep_sets.complete && cached.complete);
  EXPECT_TRUE(cached.found.empty());
  EXPECT_LT(cached.schedules * 2, sleep_sets.schedules)
      << cached.schedules << " schedules with the cache, " << sleep_sets.schedules << " without";
  expect_same_failures(independent_producers, false);
}

// Two senders hand values to two receivers over their own unbuffered
// channels. Whether the sender or the receiver arrives first, a hand-off
// ends in the same state: two traces the trace hash keeps apart, one state
// for the state model.
Task<void> pairs_hand_over() {
  WaitGroup wg;
  wg.add(4);
  for (int i = 0; i < 2; ++i) {
    auto ch = make_chan<int>();
    go("sender", [ch, wg]() -> Task<> {
      for (int v = 0; v < 2; ++v) co_await ch.send(v);
      wg.done();
    });
    go("receiver", [ch, wg]() -> Task<> {
      for (int v = 0; v < 2; ++v) {
        auto r = co_await ch.recv();
        require(r.ok && r.value == v, "values arrive in order");
      }
      wg.done();
    });
  }
  co_await wg.wait();
}

TEST(StateCache, the_state_model_merges_rendezvous_arrival_orders) {
  AllFailures trace_cache = all_failures(pairs_hand_over, "dfs:2:nomodel");
  AllFailures model = all_failures(pairs_hand_over, "dfs:2");
  ASSERT_TRUE(trace_cache.complete && model.complete);
  EXPECT_TRUE(model.found.empty());
  EXPECT_LT(model.schedules * 2, trace_cache.schedules)
      << model.schedules << " schedules with the model, " << trace_cache.schedules
      << " with the trace alone";
  expect_same_failures(pairs_hand_over, false);
}

// ---- a select with a nil case ------------------------------------------------------

// tee's shape: a select whose send case is nil the first time it blocks;
// later the case is armed and sends to a reader that may or may not wait.
// (dfs once learned a select site's case directions from the waiter counts
// when it first blocked, and a nil case shows none; a nil case learned as a
// receive predicted the armed send's readiness wrong. Each case's
// description now says its direction, nil or not; the program checks the
// shape against the full search.)
Task<void> nil_case_armed_later() {
  auto ch = make_chan<int>();
  auto tick = make_chan<int>();
  go("tee", [ch, tick]() -> Task<> {
    Chan<int> out;  // nil until the first tick arms it
    for (int i = 0; i < 3; ++i) {
      auto s = co_await select(out.send(i), tick.recv());
      if (s.index() == 1) out = ch;
    }
  });
  go("reader", [ch]() -> Task<> {
    auto first = co_await select(ch.recv(), default_case());
    require(first.index() == 1, "the reader got a value without waiting");
  });
  co_await tick.send(0);
  co_await tick.send(0);
}

TEST(SelectDirections, a_nil_case_armed_later_meets_the_full_search_failures) {
  AllFailures found = all_failures(nil_case_armed_later, "dfs:1");
  ASSERT_TRUE(found.complete);
  EXPECT_GE(found.found.size(), 2u);  // the reader's assertion, and tee left waiting
  expect_same_failures(nil_case_armed_later, false);
}

// ---- symmetry ---------------------------------------------------------------------

// Symmetry keeps the failures: the search with it (`merged`) and without it
// (`apart`) meet those of `reference` (the full search, or one that stands
// in for it), all three complete, and `merged` runs fewer than 1/`factor`
// of `apart`'s schedules.
void expect_symmetry_keeps_failures(const AllFailures& reference, const AllFailures& apart,
                                    const AllFailures& merged, const std::string& spec,
                                    std::uint64_t factor) {
  ASSERT_TRUE(reference.complete && apart.complete && merged.complete) << spec;
  EXPECT_FALSE(reference.found.empty()) << spec;
  EXPECT_EQ(apart.found, reference.found) << spec;
  EXPECT_EQ(merged.found, reference.found) << spec;
  EXPECT_LT(merged.schedules * factor, apart.schedules)
      << spec << ": " << merged.schedules << " schedules with symmetry, " << apart.schedules
      << " without";
}

// Three workers made by one go() from equal closures take three jobs from
// one channel; main takes two results and returns, leaving a worker (and
// maybe the feeder) blocked: a leak on every schedule. Which worker took
// which job is all that tells many states apart; symmetry merges them.
Task<void> identical_workers() {
  auto jobs = make_chan<int>();
  auto results = make_chan<int>();
  for (int w = 0; w < 3; ++w) {
    go("worker", [jobs, results]() -> Task<> {
      for (;;) {
        auto job = co_await jobs.recv();
        if (!job.ok) co_return;
        co_await results.send(job.value * 10);
      }
    });
  }
  go("feeder", [jobs]() -> Task<> {
    for (int i = 1; i <= 2; ++i) co_await jobs.send(i);
    jobs.close();
  });
  auto r = co_await results.recv();
  require(r.value == 10 || r.value == 20, "a valid result");
}

TEST(Symmetry, interchangeable_workers_meet_the_same_failures_in_fewer_schedules) {
  for (int bound = 0; bound <= 2; ++bound) {
    std::string spec = "dfs:" + std::to_string(bound);
    // The full search is too big past bound 0; sleep sets alone stand in.
    AllFailures full = all_failures(identical_workers, spec + (bound == 0 ? ":full" : ":nocache"));
    AllFailures apart = all_failures(identical_workers, spec + ":nosym");
    AllFailures merged = all_failures(identical_workers, spec);
    ASSERT_NO_FATAL_FAILURE(expect_symmetry_keeps_failures(full, apart, merged, spec, 2));
  }
}

// The same pool, but each worker captures its number and tags its results
// with it; the assertion fails only when worker 2 takes job 1. Workers
// that differ in what they captured are not interchangeable: merging them
// would prune the one schedule family that fails.
Task<void> numbered_workers() {
  auto jobs = make_chan<int>();
  auto results = make_chan<int>();
  for (int w = 0; w < 3; ++w) {
    go("worker", [jobs, results, w]() -> Task<> {
      for (;;) {
        auto job = co_await jobs.recv();
        if (!job.ok) co_return;
        co_await results.send(job.value * 10 + w);
      }
    });
  }
  go("feeder", [jobs]() -> Task<> {
    for (int i = 1; i <= 2; ++i) co_await jobs.send(i);
    jobs.close();
  });
  for (int i = 0; i < 2; ++i) {
    auto r = co_await results.recv();
    require(r.value != 12, "worker 2 took job 1");
  }
}

// The workers' number passed as go()'s argument instead of captured.
Task<void> numbered_by_argument() {
  auto jobs = make_chan<int>();
  auto results = make_chan<int>();
  for (int w = 0; w < 3; ++w) {
    go(
        "worker",
        [jobs, results](int me) -> Task<> {
          for (;;) {
            auto job = co_await jobs.recv();
            if (!job.ok) co_return;
            co_await results.send(job.value * 10 + me);
          }
        },
        w);
  }
  go("feeder", [jobs]() -> Task<> {
    for (int i = 1; i <= 2; ++i) co_await jobs.send(i);
    jobs.close();
  });
  for (int i = 0; i < 2; ++i) {
    auto r = co_await results.recv();
    require(r.value != 12, "worker 2 took job 1");
  }
}

TEST(Symmetry, workers_that_differ_in_what_they_were_given_are_told_apart) {
  for (auto* program : {numbered_workers, numbered_by_argument}) {
    for (const char* spec : {"dfs:0", "dfs:1"}) {
      AllFailures full =
          all_failures(program, std::string(spec) + (spec[4] == '0' ? ":full" : ":nocache"));
      AllFailures merged = all_failures(program, spec);
      ASSERT_TRUE(full.complete && merged.complete) << spec;
      EXPECT_FALSE(full.found.empty()) << spec;
      EXPECT_EQ(merged.found, full.found) << spec;
    }
  }
}

// A fan-out whose closer waits on a WaitGroup: when the closer blocks, the
// task left to run is often a worker that was preempted at its select, and
// it runs on with no decision. Its operation must still be seen (described
// just before it runs: SimEvent::resumed), or the state model loses the
// run there and keys the rest by the trace, without symmetry. The select's
// case directions come with its description from the first run on (when
// dfs learned them only as a select first blocked, the runs before lost
// the model too). main fails when job 2's result comes first.
Task<void> fan_out_with_closer() {
  auto jobs = make_chan<int>();
  auto results = make_chan<int>();
  auto done = make_chan<Unit>();
  WaitGroup wg;
  for (int w = 0; w < 3; ++w) {
    wg.add(1);
    go("worker", [jobs, results, done, wg]() -> Task<> {
      for (;;) {
        auto job = co_await jobs.recv();
        if (!job.ok) break;
        auto sent = co_await select(results.send(job.value), done.recv());
        if (sent.index() == 1) break;
      }
      wg.done();
    });
  }
  go("feeder", [jobs]() -> Task<> {
    for (int i = 1; i <= 2; ++i) co_await jobs.send(i);
    jobs.close();
  });
  go("closer", [wg, results]() -> Task<> {
    co_await wg.wait();
    results.close();
  });
  auto first = co_await results.recv();
  require(first.value != 2, "job 2's result came first");
  while ((co_await results.recv()).ok) {
  }
  done.close();
}

TEST(Symmetry, the_model_follows_every_run_of_a_fan_out) {
  for (int bound = 0; bound <= 1; ++bound) {
    std::string spec = "dfs:" + std::to_string(bound);
    // Past bound 0 the full search is too big; the search without symmetry
    // (itself checked against the full one above) stands in.
    AllFailures apart = all_failures(fan_out_with_closer, spec + ":nosym");
    AllFailures merged = all_failures(fan_out_with_closer, spec);
    AllFailures full = bound == 0 ? all_failures(fan_out_with_closer, spec + ":full") : apart;
    ASSERT_NO_FATAL_FAILURE(expect_symmetry_keeps_failures(full, apart, merged, spec, 3));
    // Channels and a wait group only: the model follows every run.
    EXPECT_EQ(merged.trace_keyed, 0u) << spec;
    EXPECT_EQ(apart.trace_keyed, 0u) << spec;
  }
}

// ---- checkpoints --------------------------------------------------------------------

// fan_out's shape: two workers serve four jobs and promise, at the head of
// their loop, that nothing carries over from one job to the next. Main
// returns after three results: a leak on every schedule.
Task<void> checkpointed_workers() {
  auto jobs = make_chan<int>();
  auto results = make_chan<int>();
  for (int w = 0; w < 2; ++w) {
    go("worker", [jobs, results]() -> Task<> {
      for (;;) {
        checkpoint();
        auto job = co_await jobs.recv();
        if (!job.ok) co_return;
        co_await results.send(job.value * job.value);
      }
    });
  }
  go("feeder", [jobs]() -> Task<> {
    for (int i = 1; i <= 3; ++i) co_await jobs.send(i);
    jobs.close();
  });
  for (int i = 0; i < 2; ++i) {
    auto r = co_await results.recv();
    require(r.ok, "results closed");
  }
}

TEST(Checkpoint, a_kept_promise_prunes_and_meets_the_same_failures) {
  for (int bound = 0; bound <= 2; ++bound) {
    std::string spec = "dfs:" + std::to_string(bound);
    AllFailures full =
        all_failures(checkpointed_workers, spec + (bound < 2 ? ":full" : ":nocache"));
    AllFailures ignored = all_failures(checkpointed_workers, spec + ":nocheckpoint");
    AllFailures kept = all_failures(checkpointed_workers, spec);
    ASSERT_TRUE(full.complete && ignored.complete && kept.complete) << spec;
    EXPECT_FALSE(full.found.empty()) << spec;
    EXPECT_EQ(ignored.found, full.found) << spec;
    EXPECT_EQ(kept.found, full.found) << spec;
    EXPECT_LT(kept.schedules, ignored.schedules) << spec;
  }
}

// A broken promise: the worker draws a number, then promises that nothing
// before its checkpoint matters, but the draw does. dfs trusts the promise:
// after drawing 0 it explores on, after drawing 1 it meets the same state
// and prunes, so it never sees the assertion fail; :nocheckpoint (and the
// full search) do. The promise is the user's to keep (chanfuzz::checkpoint).
Task<void> broken_checkpoint() {
  auto ch = make_chan<int>();
  go("worker", [ch]() -> Task<> {
    std::uint64_t drawn = random(2);
    checkpoint();  // wrong: `drawn` carries over
    co_await ch.send(1);
    co_await ch.send(2);
    require(drawn == 0, "the worker drew 1");
  });
  for (int i = 0; i < 2; ++i) {
    auto r = co_await ch.recv();
    require(r.ok, "ch closed");
  }
}

TEST(Checkpoint, a_broken_promise_hides_a_failure_that_nocheckpoint_finds) {
  AllFailures full = all_failures(broken_checkpoint, "dfs:2:full");
  AllFailures ignored = all_failures(broken_checkpoint, "dfs:2:nocheckpoint");
  AllFailures trusted = all_failures(broken_checkpoint, "dfs:2");
  ASSERT_TRUE(full.complete && ignored.complete && trusted.complete);
  EXPECT_FALSE(full.found.empty());
  EXPECT_EQ(ignored.found, full.found);
  EXPECT_TRUE(trusted.found.empty());
}

}  // namespace
