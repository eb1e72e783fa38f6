// Topologies: printing, the generator, and the scenario that builds one.
#include "topology.hpp"

#include "generators.hpp"

#include <algorithm>
#include <map>
#include <ostream>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace chanfuzz::properties {

// ---- the value ----

int Topology::total_values() const {
  int total = 0;
  for (int n : producers) total += n;
  return total;
}

int Topology::tasks() const {
  const int count = static_cast<int>(producers.size());
  int tasks = count + (count > 1 ? count + 1 : 0);  // producers; forwarders and a closer
  for (const Stage& stage : stages) {
    switch (stage.kind) {
      case StageKind::map:
      case StageKind::or_done:
        tasks += 1;
        break;
      case StageKind::fan_out:
        tasks += stage.workers + 1;  // workers and a closer
        break;
      case StageKind::tee:
        tasks += 2;  // the tee and its side reader
        break;
    }
  }
  return tasks;
}

int Topology::total_capacity() const {
  const int count = static_cast<int>(producers.size());
  int total = count * source_capacity + (count > 1 ? merge_capacity : 0);
  for (const Stage& stage : stages) {
    total += stage.kind == StageKind::tee ? 2 * stage.capacity : stage.capacity;
  }
  return total;
}

int Topology::hops() const {
  const auto tees = std::count_if(stages.begin(), stages.end(),
                                  [](const Stage& stage) { return stage.kind == StageKind::tee; });
  return 1 + (producers.size() > 1 ? 1 : 0) + static_cast<int>(stages.size()) +
         static_cast<int>(tees);
}

int Topology::leaky_stages() const {
  return static_cast<int>(
      std::count_if(stages.begin(), stages.end(), [](const Stage& stage) { return stage.leaky; }));
}

namespace {

std::string cap(int capacity) { return "(cap " + std::to_string(capacity) + ")"; }

std::string stage_text(const Stage& stage) {
  std::string text = stage.leaky ? "LEAKY " : "";
  switch (stage.kind) {
    case StageKind::map:
      text += "map";
      break;
    case StageKind::or_done:
      text += "or-done";
      break;
    case StageKind::fan_out:
      text += "fan-out to " + std::to_string(stage.workers) +
              (stage.workers == 1 ? " worker" : " workers");
      break;
    case StageKind::tee:
      text += "tee with a side reader";
      break;
  }
  if (stage.leaky) text += " (its forwarding send ignores done)";
  return text + " " + cap(stage.capacity);
}

std::string cancel_text(const Topology& t) {
  const std::string after =
      std::to_string(t.cancel_after) + (t.cancel_after == 1 ? " value" : " values");
  switch (t.cancel) {
    case CancelMode::none:
      return std::string("no cancellation: the consumer drains every value, then closes done") +
             (t.plain_sends ? "; every send is a plain send (no done case)" : "");
    case CancelMode::close_done:
      return "the consumer closes done after " + after;
    case CancelMode::context_cancel:
      return "every task watches ctx.done(); the consumer cancels the context after " + after;
    case CancelMode::timeout:
      return "every task watches ctx.done() of a " + std::to_string(t.timeout_ms) +
             "ms timeout; the consumer stops reading after " + after + " and waits for it";
  }
  return "?";
}

}  // namespace

std::string describe(const Topology& t) {
  std::ostringstream out;
  const std::size_t count = t.producers.size();
  out << count << (count == 1 ? " producer sending " : " producers sending ");
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0) out << (i + 1 == count ? " and " : ", ");
    out << t.producers[i];
  }
  out << (count == 1 && t.producers[0] == 1 ? " value " : " values ") << cap(t.source_capacity);
  if (count > 1) out << " each -> merge " << cap(t.merge_capacity);
  for (const Stage& stage : t.stages) out << " -> " << stage_text(stage);
  out << " -> consumer; " << cancel_text(t) << "  [" << t.tasks() << " tasks, " << t.total_values()
      << " values, capacity " << t.total_capacity() << ", " << t.hops() << " hops]";
  return out.str();
}

std::ostream& operator<<(std::ostream& out, const Topology& topology) {
  return out << describe(topology);
}

void showValue(const Topology& topology, std::ostream& out) { out << describe(topology); }

// ---- the generator ----

namespace {

// Every generator below is a fixed tuple of independent parts (no part is
// drawn only for some values of another), so RapidCheck shrinks each part
// with the others held still.
rc::Gen<Stage> gen_stage(int max_workers) {
  return rc::gen::map(
      rc::gen::tuple(any_of(StageKind::map, StageKind::or_done, StageKind::fan_out, StageKind::tee),
                     uniform(1, max_workers), uniform(0, 4)),
      [](const std::tuple<StageKind, int, int>& parts) {
        Stage stage;
        stage.kind = std::get<0>(parts);
        stage.workers = stage.kind == StageKind::fan_out ? std::get<1>(parts) : 1;
        stage.capacity = std::get<2>(parts);
        return stage;
      });
}

}  // namespace

rc::Gen<Topology> gen_topology(TopologyOptions options) {
  return rc::gen::withSize([options](int size) {
    const int scale = std::clamp(size, 0, 100);
    const int max_values = 3 + scale / 2;        // per producer; 50 in all at most
    const int max_fan = 1 + scale * 7 / 100;     // producers and workers: 1-8
    const int max_stages = 1 + scale * 4 / 100;  // 1-5
    auto cancel = options.cancelled_only ? any_of(CancelMode::close_done,
                                                  CancelMode::context_cancel, CancelMode::timeout)
                                         : any_of(CancelMode::none, CancelMode::close_done,
                                                  CancelMode::context_cancel, CancelMode::timeout);
    return rc::gen::map(
        rc::gen::tuple(gen_some(max_fan, uniform(0, max_values)),  // producers
                       uniform(0, 4),                              // source capacity
                       uniform(0, 4),                              // merge capacity
                       gen_some(max_stages, gen_stage(max_fan)),   // stages
                       uniform(0, 4),                              // the leaky stage
                       cancel,                                     // how
                       uniform(0, max_values),                     // cancel after
                       uniform(1, 20),                             // timeout ms
                       uniform(0, 1)),                             // plain sends
        [options](const std::tuple<std::vector<int>, int, int, std::vector<Stage>, int, CancelMode,
                                   int, int, int>& parts) {
          Topology t;
          t.producers = std::get<0>(parts);
          int left = 50;
          for (int& n : t.producers) {
            n = std::min(n, left);
            left -= n;
          }
          t.source_capacity = std::get<1>(parts);
          t.merge_capacity = t.producers.size() > 1 ? std::get<2>(parts) : 0;
          t.stages = std::get<3>(parts);
          if (options.plant_leak) {
            const auto last = static_cast<int>(t.stages.size()) - 1;
            t.stages[static_cast<std::size_t>(std::min(std::get<4>(parts), last))].leaky = true;
          }
          t.cancel = std::get<5>(parts);
          if (t.cancel != CancelMode::none) {
            t.cancel_after = std::min(std::get<6>(parts), t.total_values());
          }
          if (t.cancel == CancelMode::timeout) t.timeout_ms = std::get<7>(parts);
          t.plain_sends = t.cancel == CancelMode::none && std::get<8>(parts) == 1;
          return t;
        });
  });
}

// ---- the scenario ----

namespace {

// One value in flight: who sent it, its place in that producer's sequence,
// and the route it took (each fan-out multiplies by 9 and adds the worker
// number, so values of one producer on one route keep their order).
struct Item {
  int producer = 0;
  int seq = 0;
  std::uint32_t route = 0;
};

std::uint64_t sim_steps() {
  auto* sim = dynamic_cast<SimExecutor*>(current_executor());
  return sim ? sim->steps() : 0;
}

// What the tasks of one run share.
struct RunState {
  Chan<Unit> done;           // closed by the consumer, by cancel(), or by the deadline
  bool plain_sends = false;  // Topology::plain_sends
  bool timeout = false;
  TimePoint deadline{};
  std::uint64_t before_deadline = 0;  // the last step seen while now() < deadline
  std::uint64_t last_exit = 0;        // the step of the last task's exit
  WaitGroup exits;                    // every spawned task
  std::vector<std::shared_ptr<std::vector<Item>>> side;  // what each side reader received

  // Before each scheduling point of every task: with a timeout, the step of
  // the deadline is at least the last step seen before it.
  void mark() {
    if (timeout && now() < deadline) before_deadline = sim_steps();
  }
  void exited() {
    last_exit = std::max(last_exit, sim_steps());
    exits.done();
  }
};
using Run = std::shared_ptr<RunState>;

template <class F>
void spawn(const Run& run, std::string name, F body) {
  run->exits.add(1);
  go(std::move(name), std::move(body));
}

void spawn_producer(const Run& run, Chan<Item> out, int producer, int count) {
  spawn(run, "producer", [run, out, producer, count]() -> Task<> {
    for (int seq = 0; seq < count; ++seq) {
      Item item{producer, seq, 0};
      run->mark();
      if (run->plain_sends) {
        co_await out.send(item);
        continue;
      }
      auto s = co_await select(out.send(item), run->done.recv());
      if (s.index() == 1) break;
    }
    out.close();
    run->exited();
  });
}

// The Go blog's merge(done, cs...): one forwarder per input, each ranging
// over its input; a closer closes the output once every forwarder is done.
Chan<Item> merge(const Run& run, const std::vector<Chan<Item>>& inputs, int capacity) {
  auto out = make_chan<Item>(static_cast<std::size_t>(capacity));
  WaitGroup forwarders;
  for (const Chan<Item>& in : inputs) {
    forwarders.add(1);
    spawn(run, "merge forwarder", [run, in, out, forwarders]() -> Task<> {
      for (;;) {
        run->mark();
        auto r = co_await in.recv();
        if (!r.ok) break;
        run->mark();
        if (run->plain_sends) {
          co_await out.send(r.value);
          continue;
        }
        auto s = co_await select(out.send(r.value), run->done.recv());
        if (s.index() == 1) break;
      }
      forwarders.done();
      run->exited();
    });
  }
  spawn(run, "merge closer", [run, out, forwarders]() -> Task<> {
    run->mark();
    co_await forwarders.wait();
    out.close();
    run->exited();
  });
  return out;
}

// Sends `item` on `out` unless done is closed first; false: done. A plain
// send (a leaky stage, or a topology without cancellation that uses plain
// sends) ignores done.
Task<bool> forward(Run run, Chan<Item> out, Item item, bool plain) {
  run->mark();
  if (plain) {
    co_await out.send(item);
    co_return true;
  }
  auto s = co_await select(out.send(item), run->done.recv());
  co_return s.index() == 0;
}

Chan<Item> map_stage(const Run& run, Chan<Item> in, const Stage& stage) {
  auto out = make_chan<Item>(static_cast<std::size_t>(stage.capacity));
  spawn(run, "map", [run, in, out, plain = stage.leaky || run->plain_sends]() -> Task<> {
    for (;;) {
      run->mark();
      auto r = co_await in.recv();  // ranges over in: its upstream closes it
      if (!r.ok) break;
      bool sent = co_await forward(run, out, r.value, plain);
      if (!sent) break;
    }
    out.close();
    run->exited();
  });
  return out;
}

Chan<Item> or_done_stage(const Run& run, Chan<Item> in, const Stage& stage) {
  auto out = make_chan<Item>(static_cast<std::size_t>(stage.capacity));
  spawn(run, "or-done", [run, in, out, plain = stage.leaky || run->plain_sends]() -> Task<> {
    for (;;) {
      run->mark();
      auto s = co_await select(in.recv(), run->done.recv());
      if (s.index() == 1) break;
      auto r = s.get<0>();
      if (!r.ok) break;
      bool sent = co_await forward(run, out, r.value, plain);
      if (!sent) break;
    }
    out.close();
    run->exited();
  });
  return out;
}

Chan<Item> fan_out_stage(const Run& run, Chan<Item> in, const Stage& stage) {
  auto out = make_chan<Item>(static_cast<std::size_t>(stage.capacity));
  WaitGroup workers;
  for (int w = 0; w < stage.workers; ++w) {
    workers.add(1);
    spawn(run, "fan-out worker",
          [run, in, out, workers, w, plain = stage.leaky || run->plain_sends]() -> Task<> {
            for (;;) {
              run->mark();
              auto s = co_await select(in.recv(), run->done.recv());
              if (s.index() == 1) break;
              auto r = s.get<0>();
              if (!r.ok) break;
              Item item = r.value;
              item.route = item.route * 9 + static_cast<std::uint32_t>(w + 1);
              bool sent = co_await forward(run, out, item, plain);
              if (!sent) break;
            }
            workers.done();
            run->exited();
          });
  }
  spawn(run, "fan-out closer", [run, out, workers]() -> Task<> {
    run->mark();
    co_await workers.wait();
    out.close();
    run->exited();
  });
  return out;
}

// "Concurrency in Go"'s tee: each value goes to both outputs; an output set
// to the nil channel once it has its copy, so a slow reader does not stop
// the other. A tee with plain sends sends to one, then the other.
Chan<Item> tee_stage(const Run& run, Chan<Item> in, const Stage& stage) {
  auto out = make_chan<Item>(static_cast<std::size_t>(stage.capacity));
  auto side = make_chan<Item>(static_cast<std::size_t>(stage.capacity));
  spawn(run, "tee", [run, in, out, side, plain = stage.leaky || run->plain_sends]() -> Task<> {
    bool stopped = false;
    while (!stopped) {
      run->mark();
      auto s = co_await select(in.recv(), run->done.recv());
      if (s.index() == 1) break;
      auto r = s.get<0>();
      if (!r.ok) break;
      if (plain) {
        co_await out.send(r.value);
        co_await side.send(r.value);
        continue;
      }
      Chan<Item> a = out;
      Chan<Item> b = side;
      for (int i = 0; i < 2 && !stopped; ++i) {
        run->mark();
        auto t = co_await select(a.send(r.value), b.send(r.value), run->done.recv());
        if (t.index() == 0) a = Chan<Item>{};
        if (t.index() == 1) b = Chan<Item>{};
        if (t.index() == 2) stopped = true;
      }
    }
    out.close();
    side.close();
    run->exited();
  });
  auto received = std::make_shared<std::vector<Item>>();
  run->side.push_back(received);
  spawn(run, "tee side reader", [run, side, received]() -> Task<> {
    for (;;) {
      run->mark();
      auto s = co_await select(side.recv(), run->done.recv());
      if (s.index() == 1) break;
      auto r = s.get<0>();
      if (!r.ok) break;
      received->push_back(r.value);
    }
    run->exited();
  });
  return out;
}

Chan<Item> build_stage(const Run& run, Chan<Item> in, const Stage& stage) {
  switch (stage.kind) {
    case StageKind::map:
      return map_stage(run, std::move(in), stage);
    case StageKind::or_done:
      return or_done_stage(run, std::move(in), stage);
    case StageKind::fan_out:
      return fan_out_stage(run, std::move(in), stage);
    case StageKind::tee:
      return tee_stage(run, std::move(in), stage);
  }
  return in;
}

// "" if no value of `got` is unknown or seen twice, and (when `complete`)
// every value sent was seen; else what is wrong.
std::string conservation_error(const Topology& t, const std::vector<Item>& got, bool complete,
                               const char* reader) {
  std::map<std::pair<int, int>, int> seen;
  for (const Item& item : got) {
    const bool known = item.producer >= 0 && item.producer < static_cast<int>(t.producers.size()) &&
                       item.seq >= 0 &&
                       item.seq < t.producers[static_cast<std::size_t>(item.producer)];
    const std::string name =
        "value " + std::to_string(item.seq) + " of producer " + std::to_string(item.producer);
    if (!known) return std::string(reader) + " received " + name + ", which was never sent";
    if (++seen[{item.producer, item.seq}] == 2) {
      return std::string(reader) + " received " + name + " twice";
    }
  }
  if (complete && static_cast<int>(seen.size()) != t.total_values()) {
    return std::string(reader) + " received " + std::to_string(seen.size()) + " of the " +
           std::to_string(t.total_values()) + " values sent, without cancellation";
  }
  return "";
}

// "" if, for every producer and route, the sequence numbers increase.
std::string fifo_error(const std::vector<Item>& got, const char* reader) {
  std::map<std::pair<int, std::uint32_t>, int> last;
  for (const Item& item : got) {
    auto [it, first] = last.try_emplace({item.producer, item.route}, item.seq);
    if (!first) {
      if (item.seq <= it->second) {
        return std::string(reader) + " received value " + std::to_string(item.seq) +
               " of producer " + std::to_string(item.producer) + " after value " +
               std::to_string(it->second) + " on the same route " + std::to_string(item.route);
      }
      it->second = item.seq;
    }
  }
  return "";
}

Task<void> run_topology(Topology t, Law law, std::shared_ptr<Measurements> measurements) {
  auto run = std::make_shared<RunState>();
  run->plain_sends = t.plain_sends;
  CancelFunc cancel;
  switch (t.cancel) {
    case CancelMode::none:
    case CancelMode::close_done:
      run->done = make_chan<Unit>();
      break;
    case CancelMode::context_cancel: {
      auto [ctx, cancel_ctx] = with_cancel(background());
      run->done = ctx.done();
      cancel = cancel_ctx;
      break;
    }
    case CancelMode::timeout: {
      auto [ctx, cancel_ctx] = with_timeout(background(), std::chrono::milliseconds(t.timeout_ms));
      run->done = ctx.done();
      cancel = cancel_ctx;
      run->timeout = true;
      run->deadline = *ctx.deadline();
      break;
    }
  }

  std::vector<Chan<Item>> sources;
  for (std::size_t p = 0; p < t.producers.size(); ++p) {
    auto out = make_chan<Item>(static_cast<std::size_t>(t.source_capacity));
    spawn_producer(run, out, static_cast<int>(p), t.producers[p]);
    sources.push_back(out);
  }
  Chan<Item> current = sources.size() == 1 ? sources[0] : merge(run, sources, t.merge_capacity);
  for (const Stage& stage : t.stages) current = build_stage(run, current, stage);

  // The consumer.
  std::vector<Item> got;
  for (;;) {
    if (t.cancel != CancelMode::none && static_cast<int>(got.size()) >= t.cancel_after) break;
    run->mark();
    auto r = co_await current.recv();
    if (!r.ok) break;
    got.push_back(r.value);
  }
  std::uint64_t cancel_step = 0;
  switch (t.cancel) {
    case CancelMode::none:
      // Every value is through; a tee's side reader may still be reading.
      if (law != Law::exits) co_await run->exits.wait();
      run->done.close();  // Go: defer close(done)
      cancel_step = sim_steps();
      break;
    case CancelMode::close_done:
      run->done.close();
      cancel_step = sim_steps();
      break;
    case CancelMode::context_cancel:
      cancel();
      cancel_step = sim_steps();
      break;
    case CancelMode::timeout:
      run->mark();
      co_await run->done.recv();
      cancel_step = run->before_deadline;
      cancel();  // Go: defer cancel()
      break;
  }
  if (law == Law::exits) co_return;  // the leak oracle checks that every task exits

  if (t.cancel != CancelMode::none) co_await run->exits.wait();
  const bool complete = t.cancel == CancelMode::none;
  switch (law) {
    case Law::exits:
      break;
    case Law::conservation: {
      std::string error = conservation_error(t, got, complete, "the consumer");
      for (const auto& side : run->side) {
        if (error.empty()) error = conservation_error(t, *side, complete, "a tee's side reader");
      }
      require(error.empty(), error);
      break;
    }
    case Law::fifo: {
      std::string error = fifo_error(got, "the consumer");
      for (const auto& side : run->side) {
        if (error.empty()) error = fifo_error(*side, "a tee's side reader");
      }
      require(error.empty(), error);
      break;
    }
    case Law::prompt: {
      const std::int64_t latency =
          static_cast<std::int64_t>(run->last_exit) - static_cast<std::int64_t>(cancel_step);
      if (measurements) {
        ++measurements->runs;
        measurements->max_latency = std::max(measurements->max_latency, latency);
      }
      const std::int64_t bound = prompt_bound(t);
      require(latency <= bound, "the last task exited " + std::to_string(latency) +
                                    " steps after the cancel; the bound is " +
                                    std::to_string(bound));
      break;
    }
  }
}

}  // namespace

Scenario topology_scenario(const Topology& topology, Law law,
                           std::shared_ptr<Measurements> measurements) {
  return [topology, law, measurements]() { return run_topology(topology, law, measurements); };
}

std::int64_t prompt_bound(const Topology& t) {
  const std::int64_t tasks = t.tasks();
  const std::int64_t movable = std::min<std::int64_t>(t.total_values(), t.total_capacity() + tasks);
  return 4 * tasks + 2 * t.hops() * movable + 4;
}

}  // namespace chanfuzz::properties
