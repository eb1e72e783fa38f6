// Go conformance of channels: the behaviour of Go's runtime/chan_test.go
// (TestChan, TestNonblockRecvRace, TestMultiConsumer, TestPseudoRandomSend),
// test/closedchan.go and test/chancap.go, plus nil channels and escaping
// panics. Every scenario runs on SimExecutor under seed_count() seeds.
//
// Where Go sleeps to let a goroutine reach its blocking point, these tests
// call settle(): yield until every other task is blocked, then check the
// task's wait reason, so "it blocks" is observed rather than assumed.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim_test_support.hpp"

namespace {

using namespace chanfuzz;
using chanfuzz::testing::describe;
using chanfuzz::testing::expect_ok;
using chanfuzz::testing::run_once;
using chanfuzz::testing::seed_count;

using Make = std::function<Task<void>()>;
using chanfuzz::testing::Check;
using chanfuzz::testing::expect_runs;
using chanfuzz::testing::others_blocked;
using chanfuzz::testing::settle;

constexpr std::size_t kMaxCap = 16;  // TestChan's capacities: 0..kMaxCap
const std::string kSendOnClosed = "send on closed channel";

// The state of task `id` now ("gone" once it finished).
std::string state_of(std::uint64_t id) {
  for (const TaskInfo& t : current_executor()->tasks()) {
    if (t.id == id) return t.state;
  }
  return "gone";
}

// The run's task list is exactly one task, with this name and state.
Check only_task(std::string name, std::string state) {
  return [name, state](const RunResult& r) -> std::string {
    if (r.tasks.size() != 1) return "expected exactly one task in the report";
    if (r.tasks[0].name != name) return "expected task '" + name + "'";
    if (r.tasks[0].state != state) return "expected state '" + state + "'";
    return "";
  };
}

// A panic escaped task `name` (id `id`) with Go's message.
Check panicked(std::string name, std::uint64_t id, std::string message) {
  return [=](const RunResult& r) -> std::string {
    if (r.message != message) return "expected message '" + message + "'";
    if (r.tasks.size() != 1) return "expected exactly the panicking task in the report";
    const TaskInfo& t = r.tasks[0];
    if (t.name != name || t.id != id) return "expected the panic in task '" + name + "'";
    if (t.state != "panicked" || t.panic != message) return "expected state panicked, " + message;
    return "";
  };
}

bool is_zero_closed(const Recv<int>& r) { return r.value == 0 && !r.ok; }
bool is_value(const Recv<int>& r, int v) { return r.value == v && r.ok; }

// Runs scenario(cap) for every capacity 0..kMaxCap, each under every seed.
void expect_for_every_cap(
    Task<> (*scenario)(std::size_t), RunOutcome expected = RunOutcome::ok,
    const Check& check = [](const RunResult&) { return std::string(); }) {
  for (std::size_t cap = 0; cap <= kMaxCap; ++cap) {
    SCOPED_TRACE("cap " + std::to_string(cap));
    expect_runs([scenario, cap] { return scenario(cap); }, expected, check);
  }
}

// What a synchronous call panicked with ("no panic" if it did not).
std::string panic_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Panic& p) {
    return p.what();
  }
  return "no panic";
}

// ---- TestChan, per capacity ------------------------------------------------

Task<> recv_blocks_until_send(std::size_t cap) {
  auto c = make_chan<int>(cap);
  auto got = make_chan<int>(2);
  for (int i = 0; i < 2; ++i) {
    go([c, got]() -> Task<> {
      auto r = co_await c.recv();
      CF_EXPECT(r.ok);
      co_await got.send(r.value);
    });
  }
  co_await settle();
  CF_EXPECT(state_of(2) == "chan receive");
  CF_EXPECT(state_of(3) == "chan receive");
  CF_EXPECT(got.len() == 0);
  CF_EXPECT(!c.try_recv());  // non-blocking receive does not block
  auto s = co_await select(c.recv(), default_case());
  CF_EXPECT(s.index() == 1);
  CF_EXPECT(got.len() == 0);
  co_await c.send(10);
  co_await c.send(20);
  auto a = co_await got.recv();
  auto b = co_await got.recv();
  CF_EXPECT(a.value + b.value == 30 && a.value != b.value);
  CF_EXPECT(c.len() == 0);
}

TEST(Chan, recv_on_empty_blocks_until_a_send_for_every_capacity) {
  expect_for_every_cap(recv_blocks_until_send);
}

Task<> recv_forever(std::size_t cap) {
  auto c = make_chan<int>(cap);
  co_await c.recv();
  CF_EXPECT(false);  // unreachable
}

Task<> spawn_recv_forever_and_return(std::size_t cap) {
  auto c = make_chan<int>(cap);
  go("receiver", [c]() -> Task<> { co_await c.recv(); });
  co_await settle();
}

TEST(Chan, recv_with_no_sender_ever_is_deadlock_in_main_and_leak_in_a_task) {
  expect_for_every_cap(recv_forever, RunOutcome::deadlock, only_task("main", "chan receive"));
  expect_for_every_cap(spawn_recv_forever_and_return, RunOutcome::leak,
                       only_task("receiver", "chan receive"));
}

Task<> send_blocks_when_full(std::size_t cap) {
  auto c = make_chan<int>(cap);
  for (std::size_t i = 0; i < cap; ++i) co_await c.send(static_cast<int>(i) + 1);
  CF_EXPECT(c.len() == cap);
  auto sent = make_chan<Unit>(1);
  go([c, sent]() -> Task<> {
    co_await c.send(-1);
    co_await sent.send(Unit{});
  });
  co_await settle();
  CF_EXPECT(state_of(2) == "chan send");
  CF_EXPECT(sent.len() == 0);
  CF_EXPECT(!c.try_send(99));  // non-blocking send does not block
  auto s = co_await select(c.send(99), default_case());
  CF_EXPECT(s.index() == 1);
  CF_EXPECT(c.len() == cap);
  // The buffer comes first, then the blocked sender's value; 99 was never sent.
  for (std::size_t i = 0; i < cap; ++i) {
    auto r = co_await c.recv();
    CF_EXPECT(is_value(r, static_cast<int>(i) + 1));
  }
  auto last = co_await c.recv();
  CF_EXPECT(is_value(last, -1));
  co_await sent.recv();
  CF_EXPECT(!c.try_recv());
}

TEST(Chan, send_on_unbuffered_or_full_blocks_until_a_recv_for_every_capacity) {
  expect_for_every_cap(send_blocks_when_full);
}

Task<> send_forever(std::size_t cap) {
  auto c = make_chan<int>(cap);
  for (std::size_t i = 0; i <= cap; ++i) co_await c.send(1);
  CF_EXPECT(false);  // unreachable
}

TEST(Chan, send_with_no_receiver_ever_deadlocks) {
  expect_for_every_cap(send_forever, RunOutcome::deadlock, only_task("main", "chan send"));
}

Task<> nonblocking_forms(std::size_t cap) {
  auto c = make_chan<int>(cap);
  CF_EXPECT(!c.try_recv());
  auto empty = co_await select(c.recv(), default_case());
  CF_EXPECT(empty.index() == 1);
  for (std::size_t i = 0; i < cap; ++i) {  // fill: try_send and select with room
    auto v = static_cast<int>(i);
    if (i % 2 == 0) {
      CF_EXPECT(c.try_send(v));
      continue;
    }
    auto room = co_await select(c.send(v), default_case());
    CF_EXPECT(room.index() == 0);
  }
  CF_EXPECT(c.len() == cap && !c.try_send(-1));
  auto full = co_await select(default_case(), c.send(-1));
  CF_EXPECT(full.index() == 0 && c.len() == cap);
  for (std::size_t i = 0; i < cap; ++i) {  // drain: try_recv and select with default
    auto v = static_cast<int>(i);
    if (i % 2 == 0) {
      auto r = c.try_recv();
      CF_EXPECT(r && is_value(*r, v));
      continue;
    }
    auto s = co_await select(c.recv(), default_case());
    CF_EXPECT(s.index() == 0 && is_value(s.get<0>(), v));
  }
  CF_EXPECT(!c.try_recv());
  // A blocked partner makes the non-blocking forms succeed (also unbuffered).
  auto got = make_chan<int>(1);
  go([c, got]() -> Task<> {
    auto r = co_await c.recv();
    co_await got.send(r.value);
  });
  co_await settle();
  CF_EXPECT(c.try_send(7));
  auto g = co_await got.recv();
  CF_EXPECT(g.value == 7);
  go([c]() -> Task<> { co_await c.send(8); });  // blocks only when unbuffered
  co_await settle();
  auto r = c.try_recv();
  CF_EXPECT(r && is_value(*r, 8));
}

TEST(Chan, try_send_try_recv_and_default_select_never_block_and_report_correctly) {
  expect_for_every_cap(nonblocking_forms);
}

Task<> close_drains(std::size_t cap) {
  auto c = make_chan<int>(cap);
  for (std::size_t i = 0; i < cap; ++i) co_await c.send(static_cast<int>(i) + 1);
  c.close();
  CF_EXPECT(c.len() == cap);
  for (std::size_t i = 0; i < cap; ++i) {
    if (i % 2 == 0) {
      auto r = co_await c.recv();
      CF_EXPECT(is_value(r, static_cast<int>(i) + 1));
    } else {
      auto r = c.try_recv();
      CF_EXPECT(r && is_value(*r, static_cast<int>(i) + 1));
    }
  }
  for (int i = 0; i < 3; ++i) {
    auto r = co_await c.recv();
    CF_EXPECT(is_zero_closed(r));
    auto t = c.try_recv();
    CF_EXPECT(t && is_zero_closed(*t));  // closed is ready: not nullopt
  }
  CF_EXPECT(c.len() == 0 && c.cap() == cap);
}

TEST(Chan, close_drains_buffer_then_returns_zero_false) { expect_for_every_cap(close_drains); }

Task<> close_wakes_receivers(std::size_t cap) {
  auto c = make_chan<int>(cap);
  auto results = make_chan<Recv<int>>(3);
  for (int i = 0; i < 3; ++i) {
    go([c, results]() -> Task<> {
      auto r = co_await c.recv();
      co_await results.send(r);
    });
  }
  co_await settle();
  for (std::uint64_t id = 2; id <= 4; ++id) CF_EXPECT(state_of(id) == "chan receive");
  c.close();
  for (int i = 0; i < 3; ++i) {
    auto r = co_await results.recv();
    CF_EXPECT(r.ok && is_zero_closed(r.value));
  }
}

TEST(Chan, close_unblocks_every_blocked_receiver_with_zero_false) {
  expect_for_every_cap(close_wakes_receivers);
}

Task<> close_panics_senders(std::size_t cap) {
  auto c = make_chan<int>(cap);
  for (std::size_t i = 0; i < cap; ++i) co_await c.send(static_cast<int>(i) + 1);
  auto messages = make_chan<std::string>(3);
  for (int i = 0; i < 3; ++i) {
    go([c, messages, i]() -> Task<> {
      std::string message = "no panic";
      try {
        co_await c.send(100 + i);
      } catch (const Panic& p) {
        message = p.what();
      }
      co_await messages.send(message);
    });
  }
  co_await settle();
  for (std::uint64_t id = 2; id <= 4; ++id) CF_EXPECT(state_of(id) == "chan send");
  c.close();
  for (int i = 0; i < 3; ++i) {
    auto m = co_await messages.recv();
    CF_EXPECT(m.value == kSendOnClosed);
  }
  // The blocked senders' values never entered the channel.
  for (std::size_t i = 0; i < cap; ++i) {
    auto r = co_await c.recv();
    CF_EXPECT(is_value(r, static_cast<int>(i) + 1));
  }
  auto r = co_await c.recv();
  CF_EXPECT(is_zero_closed(r));
}

TEST(Chan, close_makes_every_blocked_sender_panic_send_on_closed_channel) {
  expect_for_every_cap(close_panics_senders);
}

Task<> fifo_one_producer(std::size_t cap) {
  constexpr int kValues = 100;
  auto c = make_chan<int>(cap);
  go([c]() -> Task<> {
    for (int i = 0; i < kValues; ++i) co_await c.send(i);
    c.close();
  });
  for (int i = 0; i < kValues; ++i) {
    auto r = co_await c.recv();
    CF_EXPECT(is_value(r, i));
  }
  auto end = co_await c.recv();
  CF_EXPECT(is_zero_closed(end));
}

TEST(Chan, one_producer_values_arrive_in_fifo_order_for_every_capacity) {
  expect_for_every_cap(fifo_one_producer);
}

Task<> four_by_four(std::size_t cap) {
  constexpr int kP = 4;
  constexpr int kL = 40;
  auto c = make_chan<int>(cap);
  auto done = make_chan<std::vector<int>>();
  for (int p = 0; p < kP; ++p) {
    go([c, p]() -> Task<> {
      for (int i = 0; i < kL; ++i) co_await c.send(p * 1000 + i);
    });
  }
  for (int p = 0; p < kP; ++p) {
    go([c, done]() -> Task<> {
      std::vector<int> got;
      for (int i = 0; i < kL; ++i) {
        auto r = co_await c.recv();
        CF_EXPECT(r.ok);
        got.push_back(r.value);
      }
      co_await done.send(std::move(got));
    });
  }
  std::vector<int> all;
  for (int p = 0; p < kP; ++p) {
    auto r = co_await done.recv();
    // A consumer sees each producer's values in the order they were sent.
    std::array<int, kP> last{-1, -1, -1, -1};
    for (int v : r.value) {
      CF_EXPECT(v / 1000 < kP && v % 1000 > last[v / 1000]);
      last[v / 1000] = v % 1000;
    }
    all.insert(all.end(), r.value.begin(), r.value.end());
  }
  std::sort(all.begin(), all.end());
  CF_EXPECT(all.size() == std::size_t{kP * kL});
  for (int p = 0; p < kP; ++p) {
    for (int i = 0; i < kL; ++i) CF_EXPECT(all[p * kL + i] == p * 1000 + i);  // no loss, no dup
  }
}

TEST(Chan, four_producers_four_consumers_deliver_each_value_exactly_once) {
  expect_for_every_cap(four_by_four);
}

Task<> len_and_cap(std::size_t cap) {
  auto c = make_chan<int>(cap);
  CF_EXPECT(c.len() == 0 && c.cap() == cap);
  for (std::size_t i = 0; i < cap; ++i) {
    co_await c.send(static_cast<int>(i));
    CF_EXPECT(c.len() == i + 1 && c.cap() == cap);
  }
  go([c]() -> Task<> { co_await c.send(-1); });  // blocks: not counted in len
  co_await settle();
  CF_EXPECT(state_of(2) == "chan send");
  CF_EXPECT(c.len() == cap && c.cap() == cap);
  auto first = co_await c.recv();  // the blocked sender's value moves into the buffer
  CF_EXPECT(is_value(first, cap == 0 ? -1 : 0));
  CF_EXPECT(c.len() == cap);
  for (std::size_t i = cap; i > 0; --i) {
    auto r = co_await c.recv();
    CF_EXPECT(is_value(r, i == 1 ? -1 : static_cast<int>(cap - i + 1)));
    CF_EXPECT(c.len() == i - 1 && c.cap() == cap);
  }
  for (std::size_t i = 0; i < cap; ++i) co_await c.send(1);
  c.close();  // close keeps the buffered values
  CF_EXPECT(c.len() == cap && c.cap() == cap);
  while (c.try_recv()->ok) {
  }
  CF_EXPECT(c.len() == 0 && c.cap() == cap);
}

TEST(Chan, len_and_cap_follow_the_buffer_as_it_fills_and_drains) {
  expect_for_every_cap(len_and_cap);
}

// ---- TestNonblockRecvRace, TestMultiConsumer, TestPseudoRandomSend -----------

Task<> nonblock_recv_race() {
  constexpr int kIters = 20;
  auto verdicts = make_chan<bool>(kIters);
  for (int i = 0; i < kIters; ++i) {
    auto c = make_chan<int>(1);
    co_await c.send(1);
    if (i % 2 == 0) {
      go([c, verdicts]() -> Task<> {
        auto s = co_await select(c.recv(), default_case());
        co_await verdicts.send(s.index() == 0);
      });
    } else {
      go([c, verdicts]() -> Task<> {
        bool seen = c.try_recv().has_value();
        co_await verdicts.send(seen);
      });
    }
    c.close();
    co_await c.recv();
  }
  for (int i = 0; i < kIters; ++i) {
    auto v = co_await verdicts.recv();
    CF_EXPECT(v.value);  // the channel was never "not ready" after the send
  }
}

TEST(Chan, nonblocking_recv_observes_a_completed_send_or_close) {
  expect_ok([] { return nonblock_recv_race(); });
}

Task<> multi_consumer() {
  constexpr int kWorkers = 23;
  constexpr int kIter = 400;
  static constexpr std::array<int, 10> kPn{2, 3, 7, 11, 13, 17, 19, 23, 27, 31};
  auto q = make_chan<int>(kWorkers * 3);
  auto r = make_chan<int>(kWorkers * 3);
  WaitGroup wg;
  for (int w = 0; w < kWorkers; ++w) {
    wg.add(1);
    go([q, r, wg, w]() -> Task<> {
      for (;;) {
        auto v = co_await q.recv();
        if (!v.ok) break;
        if (kPn[w % kPn.size()] == kPn[v.value % kPn.size()]) co_await yield();
        co_await r.send(v.value);
      }
      wg.done();
    });
  }
  go([q, r, wg]() -> Task<> {
    for (int i = 0; i < kIter; ++i) co_await q.send(i);
    q.close();
    co_await wg.wait();
    r.close();
  });
  std::vector<int> seen(kIter, 0);
  long sum = 0;
  long expect = 0;
  int n = 0;
  for (int i = 0; i < kIter; ++i) expect += kPn[i % kPn.size()];
  for (;;) {
    auto v = co_await r.recv();
    if (!v.ok) break;
    CF_EXPECT(v.value >= 0 && v.value < kIter && seen[v.value] == 0);
    seen[v.value] = 1;
    sum += kPn[v.value % kPn.size()];
    ++n;
  }
  CF_EXPECT(n == kIter && sum == expect);
}

TEST(Chan, many_consumers_of_one_work_channel_process_each_value_once) {
  expect_ok([] { return multi_consumer(); });
}

struct SendChoices {
  std::uint64_t case0 = 0;  // select chose `c.send(1)`
  std::uint64_t case1 = 0;  // select chose `c.send(0)`
};

Task<> pseudo_random_send(std::size_t cap, SendChoices* out) {
  constexpr int kN = 100;
  auto c = make_chan<int>(cap);
  auto done = make_chan<std::vector<int>>();
  go([c, done]() -> Task<> {
    std::vector<int> l;
    for (int i = 0; i < kN; ++i) {
      co_await yield();  // Go's runtime.Gosched()
      auto r = co_await c.recv();
      CF_EXPECT(r.ok);
      l.push_back(r.value);
    }
    co_await done.send(std::move(l));
  });
  std::uint64_t chosen[2] = {0, 0};
  for (int i = 0; i < kN; ++i) {
    auto s = co_await select(c.send(1), c.send(0));
    ++chosen[s.index()];
  }
  auto l = co_await done.recv();
  CF_EXPECT(l.value.size() == std::size_t{kN});
  auto ones = static_cast<std::uint64_t>(std::count(l.value.begin(), l.value.end(), 1));
  auto zeros = static_cast<std::uint64_t>(std::count(l.value.begin(), l.value.end(), 0));
  CF_EXPECT(ones == chosen[0] && zeros == chosen[1]);     // each case delivered its value
  CF_EXPECT(chosen[0] > kN / 10 && chosen[1] > kN / 10);  // Go's bound, for every run
  out->case0 += chosen[0];
  out->case1 += chosen[1];
}

TEST(Chan, select_with_two_sends_on_one_channel_chooses_both_cases_across_seeds) {
  for (std::size_t cap : {std::size_t{0}, std::size_t{100}}) {
    SCOPED_TRACE("cap " + std::to_string(cap));
    SendChoices choices;
    expect_ok([cap, &choices] { return pseudo_random_send(cap, &choices); });
    std::uint64_t total = choices.case0 + choices.case1;
    EXPECT_EQ(total, 100 * seed_count());
    // Go's bound (each side more than n/10), over all seeds together.
    EXPECT_GT(choices.case0 * 10, total) << choices.case0 << " / " << total;
    EXPECT_GT(choices.case1 * 10, total) << choices.case1 << " / " << total;
  }
}

// ---- chancap.go ---------------------------------------------------------------

Task<> chancap() {
  Chan<int> nil;
  CF_EXPECT(!nil && nil.len() == 0 && nil.cap() == 0);
  auto unbuffered = make_chan<int>();
  CF_EXPECT(unbuffered && unbuffered.len() == 0 && unbuffered.cap() == 0);
  auto c = make_chan<int>(10);
  CF_EXPECT(c.len() == 0 && c.cap() == 10);
  for (int i = 0; i < 3; ++i) co_await c.send(i);
  CF_EXPECT(c.len() == 3 && c.cap() == 10);
  const std::size_t huge[] = {std::numeric_limits<std::size_t>::max(),  // Go's make(T, -1)
                              std::size_t{1} << 59, std::numeric_limits<std::size_t>::max() / 2};
  for (std::size_t n : huge) {
    CF_EXPECT(panic_of([n] { make_chan<int>(n); }) == "makechan: size out of range");
  }
}

TEST(ChanCap, len_and_cap_of_nil_unbuffered_and_buffered_and_huge_make_panics) {
  expect_ok([] { return chancap(); });
}

// ---- closedchan.go --------------------------------------------------------------

// How an operation is written: Go's XChan (direct), SChan (one-case select,
// default first) and SSChan (select with a never-ready extra case, default
// in the middle).
enum class Via { direct, select, bigger_select };
const char* via_name(Via v) {
  return v == Via::direct ? "direct" : v == Via::select ? "select" : "bigger select";
}

struct Ops {
  Chan<int> c;
  Via via;
  Chan<bool> dummy;  // never ready
};

Task<> op_send(Ops o, int v) {
  if (o.via == Via::direct) {
    co_await o.c.send(v);
  } else if (o.via == Via::select) {
    co_await select(o.c.send(v));
  } else {
    auto s = co_await select(o.c.send(v), o.dummy.recv());
    CF_EXPECT(s.index() == 0);
  }
}

Task<bool> op_try_send(Ops o, int v) {
  if (o.via == Via::direct) co_return o.c.try_send(v);
  if (o.via == Via::select) {
    auto s = co_await select(default_case(), o.c.send(v));
    co_return s.index() == 1;
  }
  auto s = co_await select(o.dummy.recv(), default_case(), o.c.send(v));
  CF_EXPECT(s.index() != 0);
  co_return s.index() == 2;
}

Task<Recv<int>> op_recv(Ops o) {
  if (o.via == Via::direct) {
    auto r = co_await o.c.recv();
    co_return r;
  }
  if (o.via == Via::select) {
    auto s = co_await select(o.c.recv());
    co_return s.get<0>();
  }
  auto s = co_await select(o.dummy.recv(), o.c.recv());
  CF_EXPECT(s.index() == 1);
  co_return s.get<1>();
}

// nullopt: the non-blocking receive was not selected.
Task<std::optional<Recv<int>>> op_try_recv(Ops o) {
  if (o.via == Via::direct) co_return o.c.try_recv();
  if (o.via == Via::select) {
    auto s = co_await select(default_case(), o.c.recv());
    if (s.index() == 0) co_return std::nullopt;
    co_return s.get<1>();
  }
  auto s = co_await select(o.dummy.recv(), default_case(), o.c.recv());
  CF_EXPECT(s.index() != 0);
  if (s.index() == 1) co_return std::nullopt;
  co_return s.get<2>();
}

// Go's test1: a closed, drained channel.
Task<> expect_closed_and_drained(Ops o) {
  for (int i = 0; i < 3; ++i) {
    auto r = co_await op_recv(o);
    CF_EXPECT(is_zero_closed(r));
    auto again = co_await op_recv(o);
    CF_EXPECT(is_zero_closed(again));
    auto t = co_await op_try_recv(o);
    CF_EXPECT(t && is_zero_closed(*t));  // selected, without blocking
  }
  std::string message = "no panic";
  try {
    bool sent = co_await op_try_send(o, 1);
    (void)sent;
  } catch (const Panic& p) {
    message = p.what();
  }
  CF_EXPECT(message == kSendOnClosed);
  auto after_try_send = co_await op_recv(o);
  CF_EXPECT(is_zero_closed(after_try_send));  // the value was discarded
  message = "no panic";
  try {
    co_await op_send(o, 2);
  } catch (const Panic& p) {
    message = p.what();
  }
  CF_EXPECT(message == kSendOnClosed);
  auto after_send = co_await op_recv(o);
  CF_EXPECT(is_zero_closed(after_send));
}

Task<> closed_unbuffered(Via via) {
  auto c = make_chan<int>();
  c.close();
  // A named local: an aggregate temporary with Chan members inside the
  // co_await statement is destroyed twice by g++ 12 (README, pitfalls).
  Ops ops{c, via, make_chan<bool>()};
  co_await expect_closed_and_drained(ops);
}

TEST(ClosedChan, unbuffered_closed_receives_zero_false_and_every_send_form_panics) {
  for (Via via : {Via::direct, Via::select, Via::bigger_select}) {
    SCOPED_TRACE(via_name(via));
    expect_ok([via] { return closed_unbuffered(via); });
  }
}

// Go's testasync1-4: buffered values come first, in order, then {0, false}.
Task<> closed_buffered(Via via, bool nonblocking_first) {
  auto c = make_chan<int>(3);
  co_await c.send(1);
  co_await c.send(2);
  c.close();
  Ops o{c, via, make_chan<bool>()};
  for (int want = 1; want <= 2; ++want) {
    if (nonblocking_first) {
      auto t = co_await op_try_recv(o);
      CF_EXPECT(t && is_value(*t, want));
    } else {
      auto r = co_await op_recv(o);
      CF_EXPECT(is_value(r, want));
    }
  }
  co_await expect_closed_and_drained(o);
}

TEST(ClosedChan, buffered_closed_delivers_buffered_values_in_order_then_zero_false) {
  for (Via via : {Via::direct, Via::select, Via::bigger_select}) {
    for (bool nonblocking : {false, true}) {
      SCOPED_TRACE(std::string(via_name(via)) + (nonblocking ? " non-blocking" : " blocking"));
      expect_ok([via, nonblocking] { return closed_buffered(via, nonblocking); });
    }
  }
}

Task<> double_close() {
  auto c = make_chan<int>();
  c.close();
  CF_EXPECT(panic_of([c] { c.close(); }) == "close of closed channel");
  CF_EXPECT(panic_of([] { Chan<int>().close(); }) == "close of nil channel");
  co_return;
}

TEST(ClosedChan, close_of_closed_and_of_nil_channel_panic_with_go_messages) {
  expect_ok([] { return double_close(); });
}

// ---- nil channels ----------------------------------------------------------------

Task<> nil_send_in_main() {
  Chan<int> nil;
  co_await nil.send(1);
}
Task<> nil_recv_in_main() {
  Chan<int> nil;
  co_await nil.recv();
}

TEST(NilChan, send_or_recv_in_main_blocks_forever_as_deadlock) {
  expect_runs([] { return nil_send_in_main(); }, RunOutcome::deadlock,
              only_task("main", "chan send (nil chan)"));
  expect_runs([] { return nil_recv_in_main(); }, RunOutcome::deadlock,
              only_task("main", "chan receive (nil chan)"));
}

Task<> nil_ops_in_tasks() {
  Chan<int> nil;
  go("nil sender", [nil]() -> Task<> { co_await nil.send(1); });
  go("nil receiver", [nil]() -> Task<> { co_await nil.recv(); });
  co_await settle();
  CF_EXPECT(state_of(2) == "chan send (nil chan)");
  CF_EXPECT(state_of(3) == "chan receive (nil chan)");
}

TEST(NilChan, send_or_recv_in_a_task_blocks_forever_and_leaks_after_main_returns) {
  expect_runs(
      [] { return nil_ops_in_tasks(); }, RunOutcome::leak,
      [](const RunResult& r) {
        if (r.tasks.size() != 2) return std::string("expected the two nil-channel tasks");
        if (r.tasks[0].name != "nil sender" || r.tasks[0].state != "chan send (nil chan)")
          return std::string("expected the sender blocked in chan send (nil chan)");
        if (r.tasks[1].name != "nil receiver" || r.tasks[1].state != "chan receive (nil chan)")
          return std::string("expected the receiver blocked in chan receive (nil chan)");
        return std::string();
      });
}

Task<> nil_try_ops() {
  Chan<int> nil;
  for (int i = 0; i < 3; ++i) {
    CF_EXPECT(!nil.try_send(i));
    CF_EXPECT(!nil.try_recv());
  }
  CF_EXPECT(nil == Chan<int>{} && !(nil == make_chan<int>()));
  co_return;
}

TEST(NilChan, try_send_is_false_and_try_recv_is_nullopt) {
  expect_ok([] { return nil_try_ops(); });
}

// ---- panics that escape a task ------------------------------------------------------

enum class Misuse {
  send_closed,
  try_send_closed,
  blocked_sender_closed,
  close_closed,
  close_nil,
  huge_make
};

Task<> misuse_in_task(Misuse m) {
  auto c = make_chan<int>();
  auto never = make_chan<int>();
  if (m == Misuse::close_closed || m == Misuse::send_closed || m == Misuse::try_send_closed)
    c.close();
  go("culprit", [c, m]() -> Task<> {
    switch (m) {
      case Misuse::send_closed:
      case Misuse::blocked_sender_closed:
        co_await c.send(1);
        break;
      case Misuse::try_send_closed:
        c.try_send(1);
        break;
      case Misuse::close_closed:
        c.close();
        break;
      case Misuse::close_nil:
        Chan<int>().close();
        break;
      case Misuse::huge_make:
        make_chan<int>(std::numeric_limits<std::size_t>::max());
        break;
    }
  });
  if (m == Misuse::blocked_sender_closed) {
    co_await settle();
    CF_EXPECT(state_of(2) == "chan send");
    c.close();
  }
  co_await never.recv();  // the panic ends the run first
}

Task<> misuse_in_main() {
  auto c = make_chan<int>(1);
  c.close();
  co_await c.send(1);
}

TEST(Panic, escaping_a_task_ends_the_run_as_panic_with_go_message_naming_the_task) {
  struct Row {
    Misuse misuse;
    const char* message;
  };
  for (Row row : {Row{Misuse::send_closed, "send on closed channel"},
                  Row{Misuse::try_send_closed, "send on closed channel"},
                  Row{Misuse::blocked_sender_closed, "send on closed channel"},
                  Row{Misuse::close_closed, "close of closed channel"},
                  Row{Misuse::close_nil, "close of nil channel"},
                  Row{Misuse::huge_make, "makechan: size out of range"}}) {
    SCOPED_TRACE(row.message);
    Misuse m = row.misuse;
    expect_runs([m] { return misuse_in_task(m); }, RunOutcome::panic,
                panicked("culprit", 2, row.message));
  }
  expect_runs([] { return misuse_in_main(); }, RunOutcome::panic,
              panicked("main", 1, "send on closed channel"));
}

}  // namespace
