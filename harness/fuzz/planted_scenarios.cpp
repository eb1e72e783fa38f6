// Planted scenarios: bugs placed on purpose, for the feedback benchmark
// (scripts/fuzz --bench-feedback) and the tests. Only schedule_fuzzer_planted
// links them; they are not part of the catalogue. Each is declared
// CHANFUZZ_SCENARIO_FAILS, so the plain schedule fuzzer would skip them
// anyway: select one with CHANFUZZ_FUZZ_SCENARIOS=<name>.
#include <chanfuzz/chanfuzz.hpp>

using namespace chanfuzz;

namespace {

struct Message {
  int value = 0;
  bool from_a = false;
};

}  // namespace

// A deep interleaving bug: the consumer's bookkeeping breaks only when
// producer A wins the first 20 races for the channel against producer B
// (say, a fairness counter that overflows). Every round is one ordinary
// rendezvous, the code runs the same lines whoever wins, and there is no
// branch on the winner: code coverage sees nothing grow as A's streak grows.
// The interleaving feedback does: A's i-th send (a line of its own) meeting
// the consumer's i-th receive (a line of its own) is a feature that only a
// streak of i wins can reach. Random schedules find the bug with
// probability about 2^-20 per run.
CHANFUZZ_SCENARIO_FAILS(planted_streak, assertion,
                        "A must win 20 rendezvous in a row against B; found by feedback") {
  auto ch = make_chan<Message>();
  go("producer_a", [ch]() -> Task<> {
    co_await ch.send(Message{1, true});   // round 1
    co_await ch.send(Message{2, true});   // round 2
    co_await ch.send(Message{3, true});   // round 3
    co_await ch.send(Message{4, true});   // round 4
    co_await ch.send(Message{5, true});   // round 5
    co_await ch.send(Message{6, true});   // round 6
    co_await ch.send(Message{7, true});   // round 7
    co_await ch.send(Message{8, true});   // round 8
    co_await ch.send(Message{9, true});   // round 9
    co_await ch.send(Message{10, true});  // round 10
    co_await ch.send(Message{11, true});  // round 11
    co_await ch.send(Message{12, true});  // round 12
    co_await ch.send(Message{13, true});  // round 13
    co_await ch.send(Message{14, true});  // round 14
    co_await ch.send(Message{15, true});  // round 15
    co_await ch.send(Message{16, true});  // round 16
    co_await ch.send(Message{17, true});  // round 17
    co_await ch.send(Message{18, true});  // round 18
    co_await ch.send(Message{19, true});  // round 19
    co_await ch.send(Message{20, true});  // round 20
  });
  go("producer_b", [ch]() -> Task<> {
    for (int i = 0; i < 20; ++i) co_await ch.send(Message{100 + i, false});
  });
  bool a_won_all = true;
  {
    auto r = co_await ch.recv();
    a_won_all &= r.value.from_a;
  }  // round 1
  {
    auto r = co_await ch.recv();
    a_won_all &= r.value.from_a;
  }  // round 2
  {
    auto r = co_await ch.recv();
    a_won_all &= r.value.from_a;
  }  // round 3
  {
    auto r = co_await ch.recv();
    a_won_all &= r.value.from_a;
  }  // round 4
  {
    auto r = co_await ch.recv();
    a_won_all &= r.value.from_a;
  }  // round 5
  {
    auto r = co_await ch.recv();
    a_won_all &= r.value.from_a;
  }  // round 6
  {
    auto r = co_await ch.recv();
    a_won_all &= r.value.from_a;
  }  // round 7
  {
    auto r = co_await ch.recv();
    a_won_all &= r.value.from_a;
  }  // round 8
  {
    auto r = co_await ch.recv();
    a_won_all &= r.value.from_a;
  }  // round 9
  {
    auto r = co_await ch.recv();
    a_won_all &= r.value.from_a;
  }  // round 10
  {
    auto r = co_await ch.recv();
    a_won_all &= r.value.from_a;
  }  // round 11
  {
    auto r = co_await ch.recv();
    a_won_all &= r.value.from_a;
  }  // round 12
  {
    auto r = co_await ch.recv();
    a_won_all &= r.value.from_a;
  }  // round 13
  {
    auto r = co_await ch.recv();
    a_won_all &= r.value.from_a;
  }  // round 14
  {
    auto r = co_await ch.recv();
    a_won_all &= r.value.from_a;
  }  // round 15
  {
    auto r = co_await ch.recv();
    a_won_all &= r.value.from_a;
  }  // round 16
  {
    auto r = co_await ch.recv();
    a_won_all &= r.value.from_a;
  }  // round 17
  {
    auto r = co_await ch.recv();
    a_won_all &= r.value.from_a;
  }  // round 18
  {
    auto r = co_await ch.recv();
    a_won_all &= r.value.from_a;
  }  // round 19
  {
    auto r = co_await ch.recv();
    a_won_all &= r.value.from_a;
  }  // round 20
  for (int i = 0; i < 20; ++i) co_await ch.recv();
  require(!a_won_all, "producer A won the first 20 rounds: the fairness counter overflows");
}
