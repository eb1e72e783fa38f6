// Generated scenario topologies: producers, fan-in, pipeline stages (map,
// or-done, fan-out, tee) and a consumer that cancels at a generated point,
// as plain values RapidCheck generates, shrinks and prints; and the scenario
// that builds one of them on chanfuzz's runtime.
//
//   rc::Gen<Topology> g = gen_topology({.cancelled_only = true});
//   Topology t = *g;                              // inside a property
//   Report r = check(topology_scenario(t, Law::prompt), schedules.config());
//
// A topology prints as a description of itself, e.g.
//
//   2 producers sending 3 and 0 values (cap 1 each) -> merge (cap 0) -> map (cap 2)
//   -> fan-out to 3 workers (cap 0) -> tee with a side reader (cap 1) -> consumer;
//   the consumer closes done after 2 values  [11 tasks, 3 values, capacity 4, 6 hops]
//
// Every stage is the Go idiom it is named after ("Go Concurrency Patterns:
// Pipelines and cancellation"; "Concurrency in Go" ch. 4): it watches done at
// every send, and closes its output when it exits. Without cancellation a
// topology may use plain sends throughout instead (the blog's first
// pipeline): correct, since the consumer drains every value. A stage marked
// leaky (the planted bug of the negative controls) forwards with a plain
// send that ignores done, so once the consumer stops reading it blocks
// forever.
#pragma once

#include <rapidcheck.h>

#include <chanfuzz/chanfuzz.hpp>

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

namespace chanfuzz::properties {

enum class StageKind : std::uint8_t {
  map,      // ranges over its input (plain recv), selects on done at the send
  or_done,  // selects on done at both the receive and the send
  fan_out,  // 1-8 workers share the input; a WaitGroup closer closes the merged output
  tee,      // every value to the next stage and to a side reader (nil-channel select)
};

enum class CancelMode : std::uint8_t {
  none,            // the consumer drains every value, then closes done (Go: defer close(done))
  close_done,      // the consumer closes done after `cancel_after` values
  context_cancel,  // every task watches ctx.done(); the consumer calls cancel()
  timeout,         // ctx from with_timeout(timeout_ms); the consumer stops reading after
                   // `cancel_after` values and waits for the deadline
};

struct Stage {
  StageKind kind = StageKind::map;
  int workers = 1;     // fan_out: 1-8
  int capacity = 0;    // of its output channel (a tee: of both outputs)
  bool leaky = false;  // the planted bug: a forwarding send that ignores done
};

struct Topology {
  std::vector<int> producers;  // values each producer sends (fan-in of 1-8 producers)
  int source_capacity = 0;     // each producer's output channel
  int merge_capacity = 0;      // the merged channel (2+ producers)
  std::vector<Stage> stages;   // 1-5
  CancelMode cancel = CancelMode::none;
  int cancel_after = 0;      // values the consumer takes before it cancels
  int timeout_ms = 0;        // CancelMode::timeout
  bool plain_sends = false;  // CancelMode::none only: producers and stages send with plain
                             // sends, as the Go blog's first pipeline (gen -> sq -> sq) does;
                             // correct because the consumer drains every value

  int total_values() const;
  int tasks() const;           // tasks spawned (main, the consumer, excluded)
  int total_capacity() const;  // buffer slots of every channel
  int hops() const;            // channels a value can cross: the path from a producer to
                               // the consumer, plus each tee's side channel
  int leaky_stages() const;
};

std::ostream& operator<<(std::ostream& out, const Topology& topology);
std::string describe(const Topology& topology);
// RapidCheck's printer (found by ADL).
void showValue(const Topology& topology, std::ostream& out);

struct TopologyOptions {
  bool cancelled_only = false;  // never CancelMode::none
  bool plant_leak = false;      // exactly one stage is leaky
};

// Topologies whose dimensions grow with RapidCheck's size (0-100): at the
// largest, 1-8 producers, 0-50 values in all, 1-5 stages, fan-out of 1-8
// workers, capacities 0-4. Everything shrinks towards 1 producer, 0 values,
// one map stage, capacity 0 and no cancellation.
rc::Gen<Topology> gen_topology(TopologyOptions options = {});

// The law a run of a topology checks (each property checks one).
enum class Law : std::uint8_t {
  exits,         // main returns right after cancelling; the leak oracle does the rest
  conservation,  // no cancel: every value exactly once; cancel: none twice, none unknown
  fifo,          // values of one producer that took the same route arrive in send order
  prompt,        // every task exits within prompt_bound() steps of the cancel
};

// What runs of a topology measured (optional; for the bound measurement).
struct Measurements {
  std::uint64_t runs = 0;
  std::int64_t max_latency = -1;  // steps from the cancel to the last task's exit
};

Scenario topology_scenario(const Topology& topology, Law law,
                           std::shared_ptr<Measurements> measurements = nullptr);

// The bound "cancellation is prompt" states, in scheduler steps from the
// cancel to the last task's exit (docs/properties.md derives it):
//
//   4 * tasks + 2 * hops * min(values, capacity + tasks) + 4
std::int64_t prompt_bound(const Topology& topology);

}  // namespace chanfuzz::properties
