// dfs's state cache (harness/strategies/state_cache.hpp): the trace hash
// names a Mazurkiewicz trace (orders of commuting events hash the same,
// orders of conflicting ones do not), the table prunes a revisit only with
// at least the tasks asleep that were asleep at the first visit, and the
// simulator reports the changes the hash must see although they take no
// step (a Context's cancel, a LockGuard's unlock, timers).
#include <gtest/gtest.h>

#include <chanfuzz/chanfuzz.hpp>
#include <chanfuzz/sim_executor.hpp>

#include "../strategies/state_cache.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

using namespace chanfuzz;
using dfs_detail::Access;
using dfs_detail::Hash128;
using dfs_detail::TraceHash;

namespace {

using Accesses = std::vector<std::pair<std::uint64_t, Access>>;

struct Event {
  std::uint64_t task;
  Accesses accesses;
  std::uint64_t decision = 0;  // 0: none
  bool global = false;
};

Hash128 hash_of(const std::vector<Event>& events) {
  TraceHash trace;
  for (const Event& event : events) {
    if (event.global) {
      trace.global_event(event.task);
      continue;
    }
    Hash128 decisions;
    if (event.decision) decisions = dfs_detail::mix(decisions, event.decision);
    trace.event(event.task, event.accesses, decisions);
  }
  return trace.fingerprint();
}

constexpr std::uint64_t kA = 4, kB = 8;  // two object parts

TEST(TraceHash, independent_events_commute) {
  Event one{1, {{kA, Access::write}}};
  Event two{2, {{kB, Access::write}}};
  EXPECT_EQ(hash_of({one, two}), hash_of({two, one}));
}

TEST(TraceHash, reads_commute_with_reads_and_appends_with_appends) {
  Event read1{1, {{kA, Access::read}}};
  Event read2{2, {{kA, Access::read}}};
  Event append1{1, {{kA, Access::append}}};
  Event append2{2, {{kA, Access::append}}};
  EXPECT_EQ(hash_of({read1, read2}), hash_of({read2, read1}));
  EXPECT_EQ(hash_of({append1, append2}), hash_of({append2, append1}));
  // ... also after a write, and between two writes.
  Event write3{3, {{kA, Access::write}}};
  EXPECT_EQ(hash_of({write3, read1, read2, write3}), hash_of({write3, read2, read1, write3}));
}

TEST(TraceHash, conflicting_events_do_not_commute) {
  Event write1{1, {{kA, Access::write}}};
  Event write2{2, {{kA, Access::write}}};
  Event read2{2, {{kA, Access::read}}};
  Event append2{2, {{kA, Access::append}}};
  Event read1{1, {{kA, Access::read}}};
  EXPECT_NE(hash_of({write1, write2}), hash_of({write2, write1}));
  EXPECT_NE(hash_of({write1, read2}), hash_of({read2, write1}));
  EXPECT_NE(hash_of({read1, append2}), hash_of({append2, read1}));
  // A read before or after the write of a third task's read-write pair.
  EXPECT_NE(hash_of({read1, write2, read1}), hash_of({read1, read1, write2}));
}

TEST(TraceHash, a_task_that_ran_one_more_event_is_another_state) {
  Event local{1, {}};
  EXPECT_NE(hash_of({local}), hash_of({local, local}));
  EXPECT_NE(hash_of({}), hash_of({local}));
}

TEST(TraceHash, decisions_inside_an_event_count) {
  Event took0{1, {{kA, Access::read}}, 1};
  Event took1{1, {{kA, Access::read}}, 2};
  EXPECT_NE(hash_of({took0}), hash_of({took1}));
}

TEST(TraceHash, a_global_event_orders_everything_around_it) {
  Event one{1, {{kA, Access::write}}};
  Event two{2, {{kB, Access::write}}};
  Event clock{0, {}, 0, true};
  EXPECT_NE(hash_of({one, clock, two}), hash_of({two, clock, one}));
  EXPECT_NE(hash_of({one, clock}), hash_of({clock, one}));
  EXPECT_EQ(hash_of({one, two, clock}), hash_of({two, one, clock}));
}

TEST(StateTable, prunes_a_revisit_only_with_at_least_the_same_tasks_asleep) {
  dfs_detail::StateTable table;
  Hash128 state{11, 12};
  EXPECT_FALSE(table.visit(state, 0b0110));  // first visit: tasks 1 and 2 asleep
  EXPECT_FALSE(table.visit(state, 0b0010));  // task 2 awake now: explore (and keep {1})
  EXPECT_TRUE(table.visit(state, 0b0010));   // {1} again: explored
  EXPECT_TRUE(table.visit(state, 0b1010));   // more asleep: explored
  EXPECT_FALSE(table.visit(state, 0));       // nothing asleep: explore
  EXPECT_TRUE(table.visit(state, 0));
  EXPECT_FALSE(table.visit(Hash128{11, 13}, 0));  // another state
  EXPECT_EQ(table.size(), 2u);
}

TEST(StateTable, prunes_a_revisit_with_no_more_budget_left) {
  dfs_detail::StateTable table;
  Hash128 state{11, 12};
  EXPECT_FALSE(table.visit(state, 0, 1));  // explored with 1 preemption spent
  EXPECT_TRUE(table.visit(state, 0, 1));
  EXPECT_TRUE(table.visit(state, 0, 2));   // less budget left: nothing new
  EXPECT_FALSE(table.visit(state, 0, 0));  // more budget left: explore (and keep it)
  EXPECT_TRUE(table.visit(state, 0, 1));
  EXPECT_TRUE(table.visit(state, 0, 0));
  // Both rules at once: fewer asleep with less budget is still explored.
  Hash128 other{21, 22};
  EXPECT_FALSE(table.visit(other, 0b10, 0));
  EXPECT_FALSE(table.visit(other, 0, 1));
  EXPECT_TRUE(table.visit(other, 0b110, 1));
  // Budgets past what a byte holds are compared exactly.
  Hash128 deep{31, 32};
  EXPECT_FALSE(table.visit(deep, 0, 300));
  EXPECT_TRUE(table.visit(deep, 0, 300));
  EXPECT_FALSE(table.visit(deep, 0, 400));
  EXPECT_FALSE(table.visit(deep, 0, 254));
}

TEST(StateTable, stops_learning_when_full_and_never_prunes_what_it_did_not_keep) {
  dfs_detail::StateTable table(std::size_t{1} << 16);
  std::uint64_t states = (std::uint64_t{1} << 16) + 100;
  for (std::uint64_t i = 1; i <= states; ++i) EXPECT_FALSE(table.visit(Hash128{i * 7919, i}, 0));
  EXPECT_TRUE(table.full());
  std::uint64_t pruned = 0;
  for (std::uint64_t i = 1; i <= states; ++i) pruned += table.visit(Hash128{i * 7919, i}, 0);
  EXPECT_EQ(pruned, table.size());
  EXPECT_LT(table.size(), states);
}

// ---- the state model: tasks named by what they are ---------------------------

using dfs_detail::StateModel;
constexpr std::uint64_t kClosure = 0x5eed;

// Main (task 1) spawns tasks 2 and 3 from closures `a` and `b`; task 2
// receives `first` and task 3 `second` (values named by hashes), and each
// reaches its next scheduling point.
StateModel two_receivers(std::uint64_t a, std::uint64_t b, std::uint64_t first,
                         std::uint64_t second) {
  StateModel model;
  model.point(1);
  model.spawned(2, 1, a);
  model.spawned(3, 1, b);
  model.observe(2, 1, Hash128{first, 0});
  model.point(2);
  model.observe(3, 1, Hash128{second, 0});
  model.point(3);
  return model;
}

TEST(StateModel, tasks_of_equal_closures_are_interchangeable) {
  // Task 2 got x and task 3 y, or the other way round: one state.
  EXPECT_EQ(two_receivers(kClosure, kClosure, 10, 20).fingerprint(),
            two_receivers(kClosure, kClosure, 20, 10).fingerprint());
  // Both got x: another state.
  EXPECT_NE(two_receivers(kClosure, kClosure, 10, 20).fingerprint(),
            two_receivers(kClosure, kClosure, 10, 10).fingerprint());
  // Different closures (a worker's number captured): not interchangeable.
  EXPECT_NE(two_receivers(kClosure, kClosure + 1, 10, 20).fingerprint(),
            two_receivers(kClosure, kClosure + 1, 20, 10).fingerprint());
  // No closure known (go() given a Task): each starts where its parent was.
  EXPECT_NE(two_receivers(0, 0, 10, 20).fingerprint(), two_receivers(0, 0, 20, 10).fingerprint());
}

TEST(StateModel, queues_name_their_waiters_by_state) {
  // Tasks 2 and 3 of one closure, in different states, wait on one queue:
  // the order of the two states in it counts, not the ids.
  auto queued = [](std::uint64_t first, std::uint64_t second, bool swap) {
    StateModel model = two_receivers(kClosure, kClosure, first, second);
    model.set_status(2, StateModel::blocked);
    model.set_status(3, StateModel::blocked);
    model.enqueue(100, swap ? 3 : 2);
    model.enqueue(100, swap ? 2 : 3);
    return model.fingerprint();
  };
  EXPECT_EQ(queued(10, 20, false), queued(20, 10, true));  // x's holder first, both ways
  EXPECT_NE(queued(10, 20, false), queued(10, 20, true));  // y's holder first
}

TEST(StateModel, interchangeable_tasks_asleep_compare_by_how_many) {
  // Tasks 2 and 3 in one state, neither queued: whichever of them is
  // asleep, the canonical mask is the same; both asleep is a superset.
  StateModel model = two_receivers(kClosure, kClosure, 10, 10);
  Hash128 current;
  std::uint64_t two = 0, three = 0, both = 0, none = 0;
  ASSERT_TRUE(model.canonical(1, {2}, current, two));
  ASSERT_TRUE(model.canonical(1, {3}, current, three));
  ASSERT_TRUE(model.canonical(1, {2, 3}, current, both));
  ASSERT_TRUE(model.canonical(1, {}, current, none));
  EXPECT_EQ(two, three);
  EXPECT_NE(two, 0u);
  EXPECT_EQ(two & ~both, 0u);
  EXPECT_NE(both, two);
  EXPECT_EQ(none, 0u);
  // In different states they are not interchangeable.
  StateModel apart = two_receivers(kClosure, kClosure, 10, 20);
  ASSERT_TRUE(apart.canonical(1, {2}, current, two));
  ASSERT_TRUE(apart.canonical(1, {3}, current, three));
  EXPECT_NE(two, three);
}

TEST(StateModel, a_finished_task_keeps_no_history) {
  StateModel x = two_receivers(kClosure, kClosure + 1, 10, 20);
  StateModel y = two_receivers(kClosure, kClosure + 1, 30, 20);
  EXPECT_NE(x.fingerprint(), y.fingerprint());
  x.set_status(2, StateModel::finished);
  y.set_status(2, StateModel::finished);
  EXPECT_EQ(x.fingerprint(), y.fingerprint());
}

TEST(StateModel, a_checkpoint_forgets_the_history_before_it) {
  Hash128 site{7, 1};
  StateModel x = two_receivers(kClosure, kClosure + 1, 10, 20);
  StateModel y = two_receivers(kClosure, kClosure + 1, 30, 20);
  x.checkpoint(2, site);
  y.checkpoint(2, site);
  EXPECT_EQ(x.fingerprint(), y.fingerprint());
  // What it receives after the checkpoint counts again.
  x.observe(2, 1, Hash128{40, 0});
  x.point(2);
  y.observe(2, 1, Hash128{50, 0});
  y.point(2);
  EXPECT_NE(x.fingerprint(), y.fingerprint());
  // Another site, or another declared state: another state.
  StateModel z = two_receivers(kClosure, kClosure + 1, 10, 20);
  z.checkpoint(2, Hash128{7, 2});
  StateModel w = two_receivers(kClosure, kClosure + 1, 10, 20);
  w.checkpoint(2, site);
  EXPECT_NE(z.fingerprint(), w.fingerprint());
}

// ---- what the simulator reports without a step ---------------------------

struct Changed {
  std::string operation;
  std::uint64_t object;
  std::uint64_t task;
};

std::vector<Changed> changes_of(Task<void> (*program)(std::uint64_t*), std::uint64_t* ids,
                                std::uint64_t* unlock_id) {
  std::vector<Changed> out;
  SimOptions options;
  options.seed = 1;
  options.observer = [&out, unlock_id](const SimEvent& event) {
    if (event.kind == SimEvent::Kind::changed) {
      out.push_back({event.operation, event.object, event.task});
    }
    if (event.kind == SimEvent::Kind::operation &&
        std::string_view(event.operation) == "sync.Mutex.Unlock") {
      *unlock_id = event.object;
    }
  };
  SimExecutor sim(options);
  RunResult result = sim.run(program(ids));
  EXPECT_EQ(result.outcome, RunOutcome::ok) << result.message;
  return out;
}

Task<void> cancel_and_guard(std::uint64_t* done_id) {
  auto pair = with_cancel(background());
  *done_id = pair.first.done().id();
  pair.second();
  pair.second();  // idempotent: closes once
  Mutex mu;
  { LockGuard guard = co_await mu.scoped(); }
  co_await mu.lock();
  mu.unlock();  // names the mutex at its poll point
}

TEST(ChangedEvents, a_cancel_and_a_guard_unlock_name_their_objects) {
  std::uint64_t done_id = 0, mutex_id = 0;
  std::vector<Changed> changes = changes_of(cancel_and_guard, &done_id, &mutex_id);
  ASSERT_NE(done_id, 0u);
  ASSERT_NE(mutex_id, 0u);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].operation, "context cancel");
  EXPECT_EQ(changes[0].object, done_id);
  EXPECT_EQ(changes[0].task, 1u);
  EXPECT_EQ(changes[1].operation, "sync.Mutex.Unlock");
  EXPECT_EQ(changes[1].object, mutex_id);
}

Task<void> timers(std::uint64_t*) {
  co_await sleep_for(std::chrono::milliseconds(5));  // armed, then fires
  auto pair = with_timeout(background(), std::chrono::milliseconds(5));
  pair.second();  // cancels the timer, closes done
}

TEST(ChangedEvents, timers_armed_cancelled_and_fired_are_reported) {
  std::uint64_t unused = 0, unlock = 0;
  std::vector<Changed> changes = changes_of(timers, &unused, &unlock);
  std::vector<std::string> operations;
  for (const Changed& change : changes) operations.push_back(change.operation);
  EXPECT_EQ(operations,
            (std::vector<std::string>{"timer", "timer", "timer", "timer", "context cancel"}));
}

// go() hands the simulator each closure's origin (dfs's symmetry), and
// checkpoint() reports the state it declares; neither takes a step.
Task<void> origins_and_a_checkpoint() {
  auto ch = make_chan<int>();
  for (int w = 0; w < 2; ++w) go("same", [ch]() -> Task<> { co_await ch.send(1); });
  go(
      "numbered", [ch](int n) -> Task<> { co_await ch.send(n); }, 7);
  go(
      "numbered", [ch](int n) -> Task<> { co_await ch.send(n); }, 8);
  go(Task<void>([](Chan<int> c) -> Task<> { co_await c.send(0); }(ch)));
  int sum = 0;
  for (int i = 0; i < 5; ++i) sum += (co_await ch.recv()).value;
  checkpoint(sum);
}

TEST(SpawnedEvents, closures_name_their_origin_and_checkpoints_their_state) {
  std::vector<std::uint64_t> origins, checkpoints;
  SimOptions options;
  options.seed = 1;
  options.observer = [&](const SimEvent& event) {
    if (event.kind == SimEvent::Kind::spawned) origins.push_back(event.object);
    if (event.kind == SimEvent::Kind::checkpoint) checkpoints.push_back(event.object);
  };
  SimExecutor sim(options);
  RunResult result = sim.run(origins_and_a_checkpoint());
  ASSERT_EQ(result.outcome, RunOutcome::ok) << result.message;
  ASSERT_EQ(origins.size(), 6u);  // main, then the five spawned
  EXPECT_EQ(origins[0], 0u);      // main: a Task, no closure
  EXPECT_NE(origins[1], 0u);
  EXPECT_EQ(origins[1], origins[2]);  // one closure, twice
  EXPECT_NE(origins[3], origins[4]);  // one lambda, different arguments
  EXPECT_NE(origins[1], origins[3]);
  EXPECT_EQ(origins[5], 0u);  // go() given a Task
  EXPECT_EQ(checkpoints, (std::vector<std::uint64_t>{1 + 1 + 7 + 8 + 0}));
}

// A task preempted at its scheduling point runs its operation later; when
// it is then the only task runnable, no decision announces it, and the
// simulator says so (SimEvent::resumed), before the operation's effects.
Task<void> preempted_then_alone() {
  auto ch = make_chan<int>();
  go("sender", [ch]() -> Task<> { co_await ch.send(1); });
  co_await ch.recv();
}

// Preempts main at its receive, then lets the sender go on (it blocks).
class PreemptOnce final : public Strategy {
 public:
  std::string name() const override { return "preempt-once"; }
  void begin_run(std::uint64_t) override {}
  std::uint64_t choose(const DecisionPoint& point) override {
    ++decisions;
    if (decisions == 1) return 0;  // the sender, before main's receive
    return point.runnable.size();  // the current task goes on
  }
  int decisions = 0;
};

TEST(ResumedEvents, a_preempted_task_that_runs_alone_is_announced) {
  PreemptOnce strategy;
  std::vector<std::string> seen;
  SimOptions options;
  options.strategy = &strategy;
  options.observer = [&](const SimEvent& event) {
    std::string line = std::to_string(static_cast<int>(event.kind)) + " " +
                       std::to_string(event.task) + " " + std::to_string(event.other);
    seen.push_back(line);
  };
  SimExecutor sim(options);
  RunResult result = sim.run(preempted_then_alone());
  ASSERT_EQ(result.outcome, RunOutcome::ok) << result.message;
  EXPECT_EQ(strategy.decisions, 2);  // main's resumption was no decision
  auto line = [](SimEvent::Kind kind, std::uint64_t task, std::uint64_t other) {
    return std::to_string(static_cast<int>(kind)) + " " + std::to_string(task) + " " +
           std::to_string(other);
  };
  auto at = [&](const std::string& wanted) {
    return std::find(seen.begin(), seen.end(), wanted) - seen.begin();
  };
  auto preempted = at(line(SimEvent::Kind::preempted, 1, 2));
  auto blocked = at(line(SimEvent::Kind::blocked, 2, 0));
  auto resumed = at(line(SimEvent::Kind::resumed, 1, 0));
  auto woken = at(line(SimEvent::Kind::woken, 2, 1));
  auto end = static_cast<std::ptrdiff_t>(seen.size());
  ASSERT_LT(woken, end);
  EXPECT_LT(preempted, blocked);
  EXPECT_LT(blocked, resumed);
  EXPECT_LT(resumed, woken);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), line(SimEvent::Kind::resumed, 1, 0)), 1);
}

}  // namespace
