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

}  // namespace
