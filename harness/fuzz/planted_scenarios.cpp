// Planted scenarios: bugs placed on purpose, for the feedback benchmark
// (scripts/fuzz --bench-feedback) and the tests (fuzz_test.sh, case
// planted_scenarios). Only schedule_fuzzer_planted links them; they are not
// part of the catalogue. Each is declared CHANFUZZ_SCENARIO_FAILS, so the
// plain schedule fuzzer would skip them anyway: select one with
// CHANFUZZ_FUZZ_SCENARIOS=<name>.
//
//   planted_ping_starvation  the benchmark's bug: a sequence of distinct decisions
//   planted_streak           the first benchmark: a streak of equal decisions,
//                            which byte mutations write directly (docs/fuzzing.md)
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

// A liveness ping starved for a whole job: the deep-interleaving bug of the
// feedback benchmark.
//
// What it stands for: false failure detection. A worker processes a job in
// stages; between stages it takes whatever comes first, the next part of the
// job from the reader or a liveness ping from its supervisor. The supervisor
// assumes that a busy worker still answers a ping now and then, and gives
// the job to another worker when none is answered in time (a lease that
// expires, a consumer-group member evicted for not polling, a leader
// deposed for missing heartbeats). If the parts win at every stage, the
// worker answers no ping during the whole job, the supervisor restarts the
// job elsewhere while this copy still runs, and the job runs twice.
//
// The pings wait in the worker's mailbox (a buffered channel, filled before
// the job starts), so a ping is ready at every stage; a part is ready only
// when the reader got to its send first. Each stage is a select of its own,
// with its cases in the order its author happened to write them (in Go the
// order means nothing: select chooses uniformly among the ready cases). For
// the part to win stage j, three decisions must go the reader's way: at the
// worker's select the reader runs first (option 0 of {reader, worker}), at
// its send the reader goes on (option 1 of {worker, reader}), and the select
// takes the part's case (option 0 or 1: the stage's case order). Every other
// choice gives the stage to a ping. As fuzz bytes, each reduced modulo 2:
// even, odd, then the part's case index, which by stage is
// 0 1 1 0 1 0 0 0 1 1; the whole bug is
//   0 1 0 | 0 1 1 | 0 1 1 | 0 1 0 | 0 1 1 | 0 1 0 | 0 1 0 | 0 1 0 | 0 1 1 | 0 1 1
// (modulo 2): not a repeated byte or a copied short pattern, which
// libFuzzer's byte mutators write in one step (though text has this rhythm:
// see the benchmark in docs/fuzzing.md). A random schedule takes each stage
// with probability exactly 1/8, all ten once in 2^30 runs.
//
// What the interleaving feedback sees: each part is sent from a line of its
// own and each stage selects at a line of its own, so "part j met stage j"
// (a `meet` feature) happens only when the parts won stages 1..j: one new
// feature per stage won; and "the worker at stage j was preempted for the
// reader done with part j-1" (`preempt`) one more within each stage. Code
// coverage sees none of it: every stage runs the same lines whoever wins,
// nothing branches on the winner, and the runtime's code counts (how often a
// select took a waiting sender, ...) grow with the stages the parts won in
// any order, not with an unbroken run of them.
namespace {

struct JobPart {
  int part = 0;
};
struct Ping {
  int seq = 0;
};

constexpr int kStages = 10;

}  // namespace

CHANFUZZ_SCENARIO_FAILS(planted_ping_starvation, assertion,
                        "the job's parts win all 10 stages against the supervisor's pings; "
                        "found by feedback") {
  auto pings = make_chan<Ping>(kStages);
  // The mailbox: the pings queued before the job (no other task yet: no decisions).
  for (int i = 0; i < kStages; ++i) co_await pings.send(Ping{i});
  auto parts = make_chan<JobPart>();
  go("reader", [parts]() -> Task<> {
    co_await parts.send(JobPart{1});   // the header
    co_await parts.send(JobPart{2});   // the schema
    co_await parts.send(JobPart{3});   // the index
    co_await parts.send(JobPart{4});   // block 1
    co_await parts.send(JobPart{5});   // block 2
    co_await parts.send(JobPart{6});   // block 3
    co_await parts.send(JobPart{7});   // block 4
    co_await parts.send(JobPart{8});   // block 5
    co_await parts.send(JobPart{9});   // block 6
    co_await parts.send(JobPart{10});  // the trailer
  });
  // The worker: one select per stage; `answered` counts the pings taken.
  // Whichever wins, the stage runs the same lines (no branch on the winner).
  int answered = 0;
  {
    auto s = co_await select(parts.recv(), pings.recv());  // stage 1: parse the header
    answered += static_cast<int>(s.index() == 1);
  }
  {
    auto s = co_await select(pings.recv(), parts.recv());  // stage 2: load the schema
    answered += static_cast<int>(s.index() == 0);
  }
  {
    auto s = co_await select(pings.recv(), parts.recv());  // stage 3: read the index
    answered += static_cast<int>(s.index() == 0);
  }
  {
    auto s = co_await select(parts.recv(), pings.recv());  // stage 4: apply block 1
    answered += static_cast<int>(s.index() == 1);
  }
  {
    auto s = co_await select(pings.recv(), parts.recv());  // stage 5: apply block 2
    answered += static_cast<int>(s.index() == 0);
  }
  {
    auto s = co_await select(parts.recv(), pings.recv());  // stage 6: apply block 3
    answered += static_cast<int>(s.index() == 1);
  }
  {
    auto s = co_await select(parts.recv(), pings.recv());  // stage 7: apply block 4
    answered += static_cast<int>(s.index() == 1);
  }
  {
    auto s = co_await select(parts.recv(), pings.recv());  // stage 8: apply block 5
    answered += static_cast<int>(s.index() == 1);
  }
  {
    auto s = co_await select(pings.recv(), parts.recv());  // stage 9: apply block 6
    answered += static_cast<int>(s.index() == 0);
  }
  {
    auto s = co_await select(pings.recv(), parts.recv());  // stage 10: check the trailer
    answered += static_cast<int>(s.index() == 0);
  }
  // The job is done: take the parts the pings displaced, then the pings left.
  for (int i = answered; i > 0; --i) co_await parts.recv();
  for (int i = kStages - answered; i > 0; --i) co_await pings.recv();
  require(answered > 0,
          "the worker answered no ping during the whole job: the supervisor gives the job to "
          "another worker while this one still runs it (the job runs twice)");
}
