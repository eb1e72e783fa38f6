// Go conformance of select: the behaviour of Go's test/chan/select3.go,
// doubleselect.go, select4.go and the select tests of runtime/chan_test.go
// (TestSelfSelect, TestSelectStress, TestSelectFairness,
// TestSelectDuplicateChannel, TestNonblockSelectRace), plus the select API:
// default_case positions, case indices, results. Every scenario runs on
// SimExecutor under seed_count() seeds.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
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

const std::string kSendOnClosed = "send on closed channel";

// The state of the live task named `name` ("gone" if there is none).
std::string state_of(const std::string& name) {
  for (const TaskInfo& t : current_executor()->tasks()) {
    if (t.name == name) return t.state;
  }
  return "gone";
}

// The report lists a task `name` in `state`.
Check has_task(std::string name, std::string state) {
  return [name, state](const RunResult& r) -> std::string {
    for (const TaskInfo& t : r.tasks) {
      if (t.name == name) return t.state == state ? "" : "expected '" + name + "' in " + state;
    }
    return "expected task '" + name + "' in the report";
  };
}

std::string show(const Recv<int>& r) {
  return "recv " + std::to_string(r.value) + (r.ok ? " true" : " false");
}

// ---- select3.go: channel states x operations ----------------------------------

enum class Op { recv, send, select_recv, select_send, select_recv_default, select_send_default };
constexpr int kOpCount = 6;
const char* const kOpNames[kOpCount] = {"recv",
                                        "send",
                                        "select{recv}",
                                        "select{send}",
                                        "select{recv, default}",
                                        "select{send, default}"};

// Runs `op` on c (sending 9). The result: "recv V OK", "sent", "default",
// or "panic: <what>".
Task<std::string> run_op(Op op, Chan<int> c) {
  std::string out;
  try {
    if (op == Op::recv) {
      auto r = co_await c.recv();
      out = show(r);
    } else if (op == Op::send) {
      co_await c.send(9);
      out = "sent";
    } else if (op == Op::select_recv) {
      auto s = co_await select(c.recv());
      out = show(s.get<0>());
    } else if (op == Op::select_send) {
      co_await select(c.send(9));
      out = "sent";
    } else if (op == Op::select_recv_default) {
      auto s = co_await select(c.recv(), default_case());
      out = s.index() == 1 ? "default" : show(s.get<0>());
    } else {
      auto s = co_await select(c.send(9), default_case());
      out = s.index() == 1 ? "default" : "sent";
    }
  } catch (const Panic& p) {
    out = std::string("panic: ") + p.what();
  }
  co_return out;
}

enum class Partner { none, sender, receiver };  // a task blocked on c before the op

// A channel state and what each Op does on it: "blocks:<wait reason>" (the op
// never finishes), "panic: ..." or the op's result.
struct Row {
  const char* name;
  bool nil;
  std::size_t cap;
  bool holds_7;
  bool closed;
  Partner partner;
  std::array<const char*, kOpCount> expect;  // by Op
};
constexpr const char* P = "panic: send on closed channel";
constexpr const char* kBlocksRecv = "blocks:chan receive";
constexpr const char* kBlocksSend = "blocks:chan send";
constexpr const char* kBlocksSelect = "blocks:select";
constexpr const char* R7 = "recv 7 true";
// clang-format off
const Row kTable[] = {
  {"nil", true, 0, false, false, Partner::none,
   {"blocks:chan receive (nil chan)", "blocks:chan send (nil chan)", kBlocksSelect, kBlocksSelect,
    "default", "default"}},
  {"closed", false, 0, false, true, Partner::none,
   {"recv 0 false", P, "recv 0 false", P, "recv 0 false", P}},
  {"unbuffered, no partner", false, 0, false, false, Partner::none,
   {kBlocksRecv, kBlocksSend, kBlocksSelect, kBlocksSelect, "default", "default"}},
  {"buffered, empty", false, 1, false, false, Partner::none,
   {kBlocksRecv, "sent", kBlocksSelect, "sent", "default", "sent"}},
  {"buffered, full", false, 1, true, false, Partner::none,
   {R7, kBlocksSend, R7, kBlocksSelect, R7, "default"}},
  {"buffered, holding a value with room", false, 2, true, false, Partner::none,
   {R7, "sent", R7, "sent", R7, "sent"}},
  {"closed, holding a value", false, 2, true, true, Partner::none,
   {R7, P, R7, P, R7, P}},
  {"unbuffered, a sender waiting", false, 0, false, false, Partner::sender,
   {R7, kBlocksSend, R7, kBlocksSelect, R7, "default"}},
  {"unbuffered, a receiver waiting", false, 0, false, false, Partner::receiver,
   {kBlocksRecv, "sent", kBlocksSelect, "sent", "default", "sent"}},
};
// clang-format on

Task<> select3_case(Row row, Op op) {
  std::string expect = row.expect[static_cast<int>(op)];
  Chan<int> c = row.nil ? Chan<int>() : make_chan<int>(row.cap);
  if (row.holds_7) CF_EXPECT(c.try_send(7));
  if (row.closed) c.close();
  auto partner_got = make_chan<int>(1);
  if (row.partner == Partner::sender) go("partner", [c]() -> Task<> { co_await c.send(7); });
  if (row.partner == Partner::receiver) {
    go("partner", [c, partner_got]() -> Task<> {
      auto r = co_await c.recv();
      co_await partner_got.send(r.value);
    });
  }
  co_await settle();
  auto result = make_chan<std::string>(1);
  go("op", [op, c, result]() -> Task<> {
    std::string r = co_await run_op(op, c);
    co_await result.send(r);
  });
  if (expect.rfind("blocks:", 0) == 0) {
    co_await settle();
    CF_EXPECT(state_of("op") == expect.substr(7));
    CF_EXPECT(!result.try_recv());
    co_return;  // the run ends as a leak of "op"
  }
  auto r = co_await result.recv();
  CF_EXPECT(r.value == expect);
  // Release a partner the op did not serve (it took default).
  if (row.partner == Partner::sender && r.value != R7) {
    auto seven = co_await c.recv();
    CF_EXPECT(seven.value == 7);
  }
  if (row.partner == Partner::receiver && r.value != "sent") co_await c.send(9);
  if (row.partner == Partner::receiver) {
    auto got = co_await partner_got.recv();
    CF_EXPECT(got.value == 9);
  } else if (r.value == "sent") {  // buffered: 9 is the last buffered value
    int last = -1;
    for (auto v = c.try_recv(); v; v = c.try_recv()) last = v->value;
    CF_EXPECT(last == 9);
  }
}

TEST(Select3, channel_state_by_operation_blocks_panics_or_completes_as_in_go) {
  for (const Row& row : kTable) {
    for (int i = 0; i < kOpCount; ++i) {
      auto op = static_cast<Op>(i);
      std::string expect = row.expect[i];
      SCOPED_TRACE(std::string(row.name) + " / " + kOpNames[i] + " -> " + expect);
      Make make = [row, op] { return select3_case(row, op); };
      if (expect.rfind("blocks:", 0) == 0) {
        expect_runs(make, RunOutcome::leak, has_task("op", expect.substr(7)));
      } else {
        expect_ok(make);
      }
    }
  }
}

// Go's `select {}`.
Task<> empty_select() { co_await select(); }

Task<> empty_select_in_main() { co_await empty_select(); }
Task<> empty_select_in_task() {
  go("empty select", []() -> Task<> { co_await empty_select(); });
  co_await settle();
  CF_EXPECT(state_of("empty select") == "select (no cases)");
}

TEST(Select3, select_with_no_cases_blocks_forever_in_state_select_no_cases) {
  expect_runs([] { return empty_select_in_main(); }, RunOutcome::deadlock,
              has_task("main", "select (no cases)"));
  expect_runs([] { return empty_select_in_task(); }, RunOutcome::leak,
              has_task("empty select", "select (no cases)"));
}

Task<> nil_only_select(int which) {
  Chan<int> nil;
  if (which == 0) {
    co_await select(nil.recv());
  } else if (which == 1) {
    co_await select(nil.send(7));
  } else {
    co_await select(nil.recv(), nil.send(7));
  }
  CF_EXPECT(false);  // unreachable
}

TEST(Select3, select_with_only_nil_cases_blocks_forever_in_state_select) {
  for (int which = 0; which < 3; ++which) {
    expect_runs([which] { return nil_only_select(which); }, RunOutcome::deadlock,
                has_task("main", "select"));
  }
}

Task<> self_seeing_select_alone() {
  auto c = make_chan<int>();
  co_await select(c.send(1), c.recv());
}

TEST(Select3, select_sending_and_receiving_on_one_unbuffered_channel_alone_blocks) {
  expect_runs([] { return self_seeing_select_alone(); }, RunOutcome::deadlock,
              has_task("main", "select"));
}

// ---- select API ------------------------------------------------------------------

Task<> default_positions() {
  auto a = make_chan<int>(1);
  auto b = make_chan<int>(1);
  auto only = co_await select(default_case());
  CF_EXPECT(only.index() == 0);
  auto first = co_await select(default_case(), a.recv(), b.recv());
  CF_EXPECT(first.index() == 0);
  auto middle = co_await select(a.recv(), default_case(), b.recv());
  CF_EXPECT(middle.index() == 1);
  auto last = co_await select(a.recv(), b.recv(), default_case());
  CF_EXPECT(last.index() == 2);
  co_await b.send(5);  // now case "b" is ready: default is not taken
  auto f = co_await select(default_case(), a.recv(), b.recv());
  CF_EXPECT(f.index() == 2 && f.get<2>().value == 5);
  co_await b.send(6);
  auto m = co_await select(a.recv(), default_case(), b.recv());
  CF_EXPECT(m.index() == 2 && m.get<2>().value == 6);
  co_await a.send(7);
  auto l = co_await select(a.recv(), b.recv(), default_case());
  CF_EXPECT(l.index() == 0 && l.get<0>().value == 7);
  auto s = co_await select(a.send(8), default_case(), b.recv());  // a has room
  CF_EXPECT(s.index() == 0 && a.len() == 1);
}

TEST(Select, default_case_at_any_position_is_taken_only_when_nothing_is_ready) {
  expect_ok([] { return default_positions(); });
}

Task<> indices_and_types() {
  auto a = make_chan<int>();
  auto b = make_chan<std::string>(1);
  auto c = make_chan<double>(1);
  co_await c.send(1.5);  // c full: its send case is not ready
  co_await b.send("hello");
  auto s = co_await select(a.recv(), b.recv(), c.send(2.5));
  static_assert(std::is_same_v<std::decay_t<decltype(s.get<0>())>, Recv<int>>);
  static_assert(std::is_same_v<std::decay_t<decltype(s.get<1>())>, Recv<std::string>>);
  static_assert(std::is_same_v<std::decay_t<decltype(s.get<2>())>, Unit>);
  CF_EXPECT(s.index() == 1);
  auto [text, ok] = s.get<1>();
  CF_EXPECT(text == "hello" && ok);
  co_await c.recv();  // now only the send case is ready
  auto t = co_await select(a.recv(), b.recv(), c.send(2.5));
  CF_EXPECT(t.index() == 2);
  auto v = co_await c.recv();
  CF_EXPECT(v.value == 2.5 && v.ok);  // the send case delivered its value
  // A send case to a waiting receiver hands the value over.
  auto got = make_chan<int>(1);
  go([a, got]() -> Task<> {
    auto r = co_await a.recv();
    co_await got.send(r.value);
  });
  co_await settle();
  auto u = co_await select(b.recv(), a.send(42));
  CF_EXPECT(u.index() == 1);
  auto g = co_await got.recv();
  CF_EXPECT(g.value == 42);
}

TEST(Select, index_is_argument_order_get_yields_recv_and_send_case_delivers) {
  expect_ok([] { return indices_and_types(); });
}

Task<> woken_by_close() {
  auto a = make_chan<int>();
  auto b = make_chan<int>();
  auto out = make_chan<std::string>(1);
  go("selector", [a, b, out]() -> Task<> {
    auto s = co_await select(a.recv(), b.recv());
    std::string r = std::to_string(s.index()) + " ";
    if (s.index() == 1) r += show(s.get<1>());
    co_await out.send(r);
  });
  co_await settle();
  CF_EXPECT(state_of("selector") == "select");
  b.close();
  a.close();  // before the selector runs again: it must not be woken twice
  auto r = co_await out.recv();
  CF_EXPECT(r.value == "1 recv 0 false");
}

Task<> stale_case_takes_nothing(bool sends) {
  auto a = make_chan<int>();
  auto b = make_chan<int>();
  auto out = make_chan<int>(1);
  go("selector", [a, b, out, sends]() -> Task<> {
    int index = -1;
    if (sends) {
      auto s = co_await select(a.send(1), b.send(2));
      index = static_cast<int>(s.index());
    } else {
      auto s = co_await select(a.recv(), b.recv());
      index = static_cast<int>(s.index());
    }
    co_await out.send(index);
  });
  co_await settle();
  CF_EXPECT(state_of("selector") == "select");
  // try_* never suspend: the selector has not withdrawn its other case yet.
  if (sends) {
    auto r = a.try_recv();
    CF_EXPECT(r && r->value == 1);
    CF_EXPECT(!b.try_recv());
  } else {
    CF_EXPECT(a.try_send(1));
    CF_EXPECT(!b.try_send(2));
  }
  auto index = co_await out.recv();
  CF_EXPECT(index.value == 0);
  CF_EXPECT(!b.try_send(3) && !b.try_recv());  // withdrawn for good
}

TEST(Select, once_one_case_completed_the_other_cases_take_nothing_even_before_withdrawal) {
  expect_ok([] { return stale_case_takes_nothing(true); });
  expect_ok([] { return stale_case_takes_nothing(false); });
}

TEST(Select, blocked_select_woken_by_close_returns_that_recv_case_with_ok_false) {
  expect_ok([] { return woken_by_close(); });
}

Task<> send_case_closed(bool catch_it) {
  auto a = make_chan<int>();
  auto b = make_chan<int>();
  auto out = make_chan<std::string>(1);
  go("selector", [a, b, out, catch_it]() -> Task<> {
    std::string r = "no panic";
    if (catch_it) {
      try {
        co_await select(a.recv(), b.send(1));
      } catch (const Panic& p) {
        r = p.what();
      }
    } else {
      co_await select(a.recv(), b.send(1));
    }
    co_await out.send(r);
  });
  co_await settle();
  CF_EXPECT(state_of("selector") == "select");
  b.close();
  auto r = co_await out.recv();
  CF_EXPECT(r.value == kSendOnClosed);
}

TEST(Select, blocked_select_send_case_panics_send_on_closed_channel_when_closed) {
  expect_ok([] { return send_case_closed(true); });
  expect_runs([] { return send_case_closed(false); }, RunOutcome::panic,
              [](const RunResult& r) -> std::string {
                if (r.message != kSendOnClosed) return "expected Go's message";
                if (r.tasks.size() != 1 || r.tasks[0].name != "selector" ||
                    r.tasks[0].panic != kSendOnClosed || r.tasks[0].state != "panicked")
                  return "expected the panic in task 'selector'";
                return "";
              });
}

// ---- select4.go: an unchosen receive takes nothing ---------------------------------

struct Tally {
  std::uint64_t first = 0;
  std::uint64_t second = 0;
};

Task<> unchosen_recv(Tally* tally) {
  auto c = make_chan<int>(1);
  auto c1 = make_chan<int>();
  co_await c.send(42);
  auto s = co_await select(c1.recv(), c.recv());  // select4.go: only c is ready
  CF_EXPECT(s.index() == 1 && s.get<1>().value == 42);
  // Both ready: the unchosen one keeps its value for a later receive.
  auto a = make_chan<int>(1);
  auto b = make_chan<int>(1);
  co_await a.send(1);
  co_await b.send(2);
  auto t = co_await select(a.recv(), b.recv());
  Chan<int> other = t.index() == 0 ? b : a;
  int v = t.index() == 0 ? t.get<0>().value : t.get<1>().value;
  CF_EXPECT(v == (t.index() == 0 ? 1 : 2));
  CF_EXPECT(other.len() == 1);
  auto rest = co_await other.recv();
  CF_EXPECT(rest.ok && rest.value == (t.index() == 0 ? 2 : 1));
  ++(t.index() == 0 ? tally->first : tally->second);
}

TEST(Select4, unchosen_recv_case_does_not_receive_and_value_stays_in_channel) {
  Tally tally;
  expect_ok([&tally] { return unchosen_recv(&tally); });
  EXPECT_GT(tally.first, 0u);
  EXPECT_GT(tally.second, 0u);
}

// ---- doubleselect.go -------------------------------------------------------------

Task<> double_select() {
  constexpr int kSenders = 3;
  constexpr int kN = 60;
  std::array<Chan<int>, 4> cs{make_chan<int>(), make_chan<int>(), make_chan<int>(),
                              make_chan<int>()};
  auto cmux = make_chan<std::pair<int, int>>();  // {mux index, value}
  auto done = make_chan<bool>();
  auto chosen = std::make_shared<std::vector<int>>(kSenders * kN, -1);
  WaitGroup senders;
  senders.add(kSenders);
  for (int s = 0; s < kSenders; ++s) {
    go([cs, senders, chosen, s]() -> Task<> {
      for (int i = 0; i < kN; ++i) {
        int v = s * kN + i;
        auto r = co_await select(cs[0].send(v), cs[1].send(v), cs[2].send(v), cs[3].send(v));
        (*chosen)[v] = static_cast<int>(r.index());
      }
      senders.done();
    });
  }
  go([cs, senders]() -> Task<> {
    co_await senders.wait();
    for (const auto& c : cs) c.close();
  });
  for (int k = 0; k < 4; ++k) {
    go([in = cs[k], cmux, done, k]() -> Task<> {
      for (;;) {
        auto r = co_await in.recv();
        if (!r.ok) break;
        co_await cmux.send({k, r.value});
      }
      co_await done.send(true);
    });
  }
  go([done, cmux]() -> Task<> {
    for (int i = 0; i < 4; ++i) co_await done.recv();
    cmux.close();
  });
  std::vector<int> via(kSenders * kN, -1);
  int n = 0;
  for (;;) {
    auto r = co_await cmux.recv();
    if (!r.ok) break;
    auto [k, v] = r.value;
    CF_EXPECT(v >= 0 && v < kSenders * kN && via[v] == -1);  // no duplicate
    via[v] = k;
    ++n;
  }
  CF_EXPECT(n == kSenders * kN);
  CF_EXPECT(via == *chosen);  // each value went through the case its select reported
}

TEST(DoubleSelect, senders_selecting_over_four_sends_deliver_every_value_exactly_once) {
  expect_ok([] { return double_select(); });
}

// ---- TestSelfSelect ----------------------------------------------------------------

Task<> self_select(std::size_t cap, int tasks, int iters) {
  auto c = make_chan<int>(cap);
  // Atomic: the suite also runs on ThreadExecutor's workers.
  auto sends = std::make_shared<std::atomic<std::size_t>>(0);
  auto recvs = std::make_shared<std::atomic<std::size_t>>(0);
  WaitGroup wg;
  wg.add(tasks);
  for (int p = 0; p < tasks; ++p) {
    go([c, wg, sends, recvs, p, cap, tasks, iters]() -> Task<> {
      for (int i = 0; i < iters; ++i) {
        Recv<int> got;
        bool received = false;
        if (p == 0 || i % 2 == 0) {
          auto s = co_await select(c.send(p), c.recv());
          received = s.index() == 1;
          if (received) got = s.get<1>();
        } else {
          auto s = co_await select(c.recv(), c.send(p));
          received = s.index() == 0;
          if (received) got = s.get<0>();
        }
        if (received) {
          CF_EXPECT(got.ok && got.value >= 0 && got.value < tasks);
          CF_EXPECT(cap != 0 || got.value != p);  // never its own value
          ++*recvs;
        } else {
          ++*sends;
        }
      }
      wg.done();
    });
  }
  co_await wg.wait();
  CF_EXPECT(*sends + *recvs == static_cast<std::size_t>(tasks * iters));
  CF_EXPECT(*sends - *recvs == c.len());  // nothing lost, nothing invented
}

TEST(SelfSelect, select_sending_and_receiving_on_one_channel_never_receives_its_own_value) {
  expect_ok([] { return self_select(0, 2, 100); });
  for (std::size_t cap : {std::size_t{1}, std::size_t{10}}) {
    SCOPED_TRACE("cap " + std::to_string(cap));
    expect_ok([cap] { return self_select(cap, 4, 60); });
  }
}

// ---- TestSelectStress ----------------------------------------------------------------

Task<> select_stress() {
  constexpr int kN = 40;
  std::array<Chan<int>, 4> c{make_chan<int>(), make_chan<int>(), make_chan<int>(2),
                             make_chan<int>(3)};
  // Guarded by a std::mutex: the suite also runs on ThreadExecutor's workers.
  struct Received {
    std::mutex mu;
    std::vector<int> values;
    void push_back(int v) {
      std::lock_guard<std::mutex> lock(mu);
      values.push_back(v);
    }
  };
  auto received = std::make_shared<Received>();
  WaitGroup wg;
  wg.add(10);
  for (int k = 0; k < 4; ++k) {
    go([c, wg, k]() -> Task<> {
      for (int i = 0; i < kN; ++i) co_await c[k].send(k * 1000 + i);
      wg.done();
    });
    go([c, wg, received, k]() -> Task<> {
      for (int i = 0; i < kN; ++i) {
        auto r = co_await c[k].recv();
        CF_EXPECT(r.ok && r.value / 1000 == k);
        received->push_back(r.value);
      }
      wg.done();
    });
  }
  go([c, wg]() -> Task<> {  // sends kN values on each channel in one select
    std::array<int, 4> n{};
    auto c1 = c;
    for (int i = 0; i < 4 * kN; ++i) {
      auto s = co_await select(c1[3].send(3500 + n[3]), c1[2].send(2500 + n[2]),
                               c1[0].send(500 + n[0]), c1[1].send(1500 + n[1]));
      int k = std::array<int, 4>{3, 2, 0, 1}[s.index()];
      if (++n[k] == kN) c1[k] = Chan<int>();  // nil: never ready again
    }
    wg.done();
  });
  go([c, wg, received]() -> Task<> {  // receives kN values on each channel in one select
    std::array<int, 4> n{};
    auto c1 = c;
    for (int i = 0; i < 4 * kN; ++i) {
      auto s = co_await select(c1[0].recv(), c1[1].recv(), c1[2].recv(), c1[3].recv());
      auto k = static_cast<int>(s.index());
      Recv<int> r = k == 0 ? s.get<0>() : k == 1 ? s.get<1>() : k == 2 ? s.get<2>() : s.get<3>();
      CF_EXPECT(r.ok && r.value / 1000 == k);
      received->push_back(r.value);
      if (++n[k] == kN) c1[k] = Chan<int>();
    }
    wg.done();
  });
  co_await wg.wait();
  std::vector<int> expected;
  for (int k = 0; k < 4; ++k) {
    for (int i = 0; i < kN; ++i) {
      expected.push_back(k * 1000 + i);
      expected.push_back(k * 1000 + 500 + i);
    }
  }
  std::sort(expected.begin(), expected.end());
  std::sort(received->values.begin(), received->values.end());
  CF_EXPECT(received->values == expected);  // every value transferred exactly once
}

TEST(SelectStress, selects_with_nil_ed_out_cases_and_plain_ops_transfer_every_value) {
  expect_ok([] { return select_stress(); });
}

// ---- TestSelectFairness ----------------------------------------------------------------

struct Fairness {
  std::uint64_t cnt1 = 0;
  std::uint64_t cnt2 = 0;
  double chi2() const {  // 1 degree of freedom, expected half each
    double d = static_cast<double>(cnt1) - static_cast<double>(cnt2);
    return d * d / static_cast<double>(cnt1 + cnt2);
  }
};
constexpr double kChi2Df1 = 10.83;     // p = 0.001, 1 degree of freedom
constexpr double kChi2Df100 = 149.45;  // p = 0.001, 100 degrees of freedom

Task<> select_fairness(int trials, Fairness* out) {
  auto c1 = make_chan<int>(trials + 1);
  auto c2 = make_chan<int>(trials + 1);
  for (int i = 0; i < trials + 1; ++i) CF_EXPECT(c1.try_send(1) && c2.try_send(2));
  auto c3 = make_chan<int>();
  auto c4 = make_chan<int>();
  auto results = make_chan<int>();
  auto done = make_chan<Unit>();
  WaitGroup wg;
  wg.add(1);
  go([c1, c2, c3, c4, results, done, wg]() -> Task<> {
    for (;;) {
      auto s = co_await select(c3.recv(), c4.recv(), c1.recv(), c2.recv());
      int b = s.index() == 2 ? s.get<2>().value : s.index() == 3 ? s.get<3>().value : -1;
      auto t = co_await select(results.send(b), done.recv());
      if (t.index() == 1) break;
    }
    wg.done();
  });
  for (int i = 0; i < trials; ++i) {
    auto r = co_await results.recv();
    CF_EXPECT(r.value == 1 || r.value == 2);
    ++(r.value == 1 ? out->cnt1 : out->cnt2);
  }
  done.close();
  co_await wg.wait();
}

TEST(SelectFairness, two_always_ready_cases_are_chosen_uniformly) {
  SimOptions big;
  big.max_steps = 2'000'000;
  {  // Go's test: 10,000 trials under one seed.
    constexpr int kTrials = 10000;
    Fairness f;
    RunResult r = run_once([&f] { return select_fairness(kTrials, &f); }, 1, big);
    ASSERT_EQ(r.outcome, RunOutcome::ok) << describe(r);
    EXPECT_EQ(f.cnt1 + f.cnt2, std::uint64_t{kTrials});
    EXPECT_LE(f.chi2(), kChi2Df1) << f.cnt1 << " vs " << f.cnt2;
    if (!chanfuzz::testing::thread_workers()) {  // only the simulator records decisions
      auto picks = std::count_if(r.decisions.begin(), r.decisions.end(), [](const Decision& d) {
        return d.kind == DecisionKind::select_case && d.options == 2;
      });
      EXPECT_GE(picks, kTrials);  // every choice was the strategy's, recorded in the trace
    }
  }
  // Over seed_count() seeds of 1,000 trials: each seed within Go's 10 sigma,
  // the pooled counts and the sum of per-seed statistics within p = 0.001.
  constexpr int kTrials = 1000;
  Fairness pooled;
  double chi2_sum = 0;
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    Fairness f;
    RunResult r = run_once([&f] { return select_fairness(kTrials, &f); }, seed, big);
    ASSERT_EQ(r.outcome, RunOutcome::ok) << "seed " << seed << ": " << describe(r);
    EXPECT_LE(f.chi2(), 100.0) << "seed " << seed << ": " << f.cnt1 << " vs " << f.cnt2;
    pooled.cnt1 += f.cnt1;
    pooled.cnt2 += f.cnt2;
    chi2_sum += f.chi2();
  }
  EXPECT_LE(pooled.chi2(), kChi2Df1) << pooled.cnt1 << " vs " << pooled.cnt2;
  if (seed_count() == 100) {
    EXPECT_LE(chi2_sum, kChi2Df100);
  }
}

// ---- TestSelectDuplicateChannel -----------------------------------------------------

Task<> duplicate_channel(bool wake_through_duplicate) {
  auto c = make_chan<int>();
  auto d = make_chan<int>();
  auto e = make_chan<int>();
  auto wakeups = std::make_shared<int>(0);
  go("A", [c, d, e, wakeups]() -> Task<> {
    auto s = co_await select(c.recv(), c.recv(), d.recv());
    ++*wakeups;
    co_await e.send(static_cast<int>(s.index()));
  });
  co_await settle();  // A is queued on c (twice) first
  CF_EXPECT(state_of("A") == "select");
  if (wake_through_duplicate) {
    // try_send never suspends: A has not run again between these calls.
    CF_EXPECT(c.try_send(8));   // wakes A once, through one copy
    CF_EXPECT(!c.try_send(9));  // the other copy is stale: it takes nothing
    CF_EXPECT(!d.try_send(9));
    auto which = co_await e.recv();
    CF_EXPECT((which.value == 0 || which.value == 1) && *wakeups == 1);
    CF_EXPECT(!c.try_send(9));  // and it was withdrawn
    co_return;
  }
  auto b_got = make_chan<int>(1);
  go("B", [c, b_got]() -> Task<> {
    auto r = co_await c.recv();
    co_await b_got.send(r.value);
  });
  co_await settle();  // B is queued on c behind A's two waiters
  CF_EXPECT(state_of("B") == "chan receive");
  co_await d.send(7);  // wakes A, which dequeues itself from c
  auto which = co_await e.recv();
  CF_EXPECT(which.value == 2 && *wakeups == 1);
  co_await c.send(8);  // must reach B, not A's stale waiters
  auto got = co_await b_got.recv();
  CF_EXPECT(got.value == 8);
}

TEST(SelectDuplicateChannel, same_channel_twice_wakes_once_and_withdraws_the_other_copy) {
  expect_ok([] { return duplicate_channel(false); });
  expect_ok([] { return duplicate_channel(true); });
}

// A select blocked on two cases of one channel, completed later by one
// partner. Go's selectgo enqueues the cases in lock order, which for equal
// channels follows the random poll order, so either case wins (Go 1.19:
// 982 / 1018 out of 2000 for sends, 975 / 1025 for receives); its
// TestPseudoRandomSend (cap 0) relies on that.
Task<> blocked_duplicate(bool sends, Tally* tally) {
  auto c = make_chan<int>();
  auto done = make_chan<int>(1);
  go("selector", [c, done, sends]() -> Task<> {
    int index = -1;
    if (sends) {
      auto s = co_await select(c.send(0), c.send(1));
      index = static_cast<int>(s.index());
    } else {
      auto s = co_await select(c.recv(), c.recv());
      index = static_cast<int>(s.index());
    }
    co_await done.send(index);
  });
  co_await settle();
  CF_EXPECT(state_of("selector") == "select");
  int value = -1;
  if (sends) {
    auto r = co_await c.recv();
    value = r.value;
  } else {
    co_await c.send(5);
  }
  auto index = co_await done.recv();
  CF_EXPECT(!sends || value == index.value);  // the case that won delivered its value
  ++(index.value == 0 ? tally->first : tally->second);
}

TEST(SelectDuplicateChannel, blocked_select_is_completed_through_either_duplicate_case) {
  for (bool sends : {true, false}) {
    SCOPED_TRACE(sends ? "two send cases" : "two recv cases");
    Tally tally;
    expect_ok([sends, &tally] { return blocked_duplicate(sends, &tally); });
    std::uint64_t total = tally.first + tally.second;
    EXPECT_GT(tally.first * 10, total) << tally.first << " / " << total;
    EXPECT_GT(tally.second * 10, total) << tally.second << " / " << total;
  }
}

// ---- TestNonblockSelectRace / Race2 ---------------------------------------------------

Task<> nonblock_select_race(bool close_c2) {
  auto done = make_chan<bool>(1);
  for (int i = 0; i < 20; ++i) {
    auto c1 = make_chan<int>(1);
    auto c2 = make_chan<int>(close_c2 ? 0 : 1);
    co_await c1.send(1);
    go([c1, c2, done]() -> Task<> {
      auto s = co_await select(c1.recv(), c2.recv(), default_case());
      co_await done.send(s.index() != 2);
    });
    if (close_c2) {
      c2.close();
    } else {
      co_await c2.send(1);
    }
    co_await select(c1.recv(), default_case());
    auto ready = co_await done.recv();
    CF_EXPECT(ready.value);  // one of c1, c2 was ready at every moment
  }
}

TEST(Select, nonblocking_select_sees_the_channels_at_one_moment_never_default) {
  expect_ok([] { return nonblock_select_race(false); });
  expect_ok([] { return nonblock_select_race(true); });
}

}  // namespace
