// dfs:<P>: systematic exploration of every schedule with at most P
// preemptions, one run per schedule, with sleep-set reduction.
//
// Stateless search (Godefroid, VeriSoft, POPL 1997): the executor cannot
// save a state, so each run starts the scenario from scratch. The strategy
// keeps the path of the last run as a stack of decision nodes; a run replays
// the stack's choices, then extends the path with new nodes, each taking its
// first allowed option. After the run, end_run() backtracks: it drops the
// nodes at the bottom that have no untried option left and advances the
// deepest one that has. When the stack runs empty, every schedule has been
// run. Memory is the stack (one node per decision of the current path, at
// most max_steps deep), the state table (below) and the queues found
// ordered; nothing else is kept per schedule, and nothing recurses.
//
// Every decision is a node: task choices, select cases, timer order,
// random(n) and the clock option. Preemption bounding (Musuvathi & Qadeer,
// "Iterative context bounding for systematic testing of multithreaded
// programs", PLDI 2007): choosing another task than the current one at its
// scheduling point is a preemption, and so is the clock option (a timer
// fires while tasks could still run: every runnable task is delayed). A run
// takes at most P of them. Choosing among runnable tasks after the current
// one blocked or finished is free, as are select cases, timer order and
// random values.
//
// Reduction: sleep sets (Godefroid, "Partial-Order Methods for the
// Verification of Concurrent Systems", 1996). A *segment* is what happens
// between two task decisions: the chosen task's operation and the code it
// runs up to its next scheduling point (through decisions where it must go
// on because no preemption is left: then up to where it blocks). After the
// search has explored option u at node n, it explores a sibling t; if t's
// segment is independent of u's, running u right after t reaches a state it
// reached already by running u first, so u is put to sleep: it is not chosen
// again until a dependent segment runs. A node whose every allowed option
// sleeps ends the run as redundant.
//
// Sleep sets and a preemption bound do not combine naively (Coons,
// Musuvathi & McKinley, "Bounded partial-order reduction", OOPSLA 2013): the
// schedule a pruned one is equivalent to may need more preemptions and lie
// outside the bound. Here u goes to sleep after sibling t only when its
// equivalent costs no more: cost(u at n) + [u's segment ended at a
// scheduling point of u] <= cost(t at n). Moving u in front of t, t2 ... tk
// changes the cost by at most that much whatever follows (the switches in
// between are the same in both orders), so every schedule within the bound
// stays covered. With this rule the current task's continuation sleeps in
// every preemption branch, and a sibling sleeps when its segment ended by
// blocking or finishing.
//
// Independence: two segments are dependent when one writes an object (a
// channel, mutex or wait group) the other reads or writes. Footprints are
// observed, not predicted: the strategy watches the run (SimEvent) and
// describes each operation's objects just before it runs (the operation of
// a task preempted at it runs later: when no decision chose the task, it
// was the only one runnable, SimEvent::resumed announces it and it joins
// the running segment). A send, a receive that takes a value, a lock, a
// close, WaitGroup.Add/Done, Unlock and TryLock (poll points that name
// their object) write; a receive from a closed, drained channel, a wait on
// a zero wait group and the cases a select checks but does not take only
// read. Which case a select takes follows from the readiness of its cases,
// which needs their directions: each case's description gives it
// (WaitObject::direction; an operation that did not say would count as
// writing all its objects, and the state model would give up on the run).
// A segment's footprint is "everything" when it holds an operation whose
// object the executor does not name (try_send, try_recv; a close of a
// channel made outside an executor), a clock jump or a timer decision.
//
// Queues of waiters: an operation that blocks reads what decides its
// readiness and *appends* a waiter to its channel's queue for its
// direction; a task woken by a segment has its waiters in its other cases
// *withdrawn* (a select's losing cases; the woken case is written by the
// waking operation itself, or by the close). Appends and withdrawals
// commute with each other: in either order the queue holds the same
// waiters, in another order. They conflict with every read and write of
// the same queue (a readiness check sees whether a waiter is there). The
// order of a queue matters only when an operation takes its first waiter
// while two or more wait, as Go's FIFO queues decide who is served: a done
// channel that is only ever closed never has that. The search is
// optimistic about it: it counts appends to a queue as commuting until a
// run takes a waiter from that queue with two or more waiting (the waiter
// counts of the taking operation's description say so); that run marks the
// queue's channel creation site as ordered (appends there count as writes
// from then on) and the search starts over, dropping what it pruned. A
// pruned schedule and the explored one it stands for differ only in the
// order of such queues, up to the first time a waiter is taken from one of
// them with two waiting, and that happens at the same point in both: so a
// search that completes without a restart has covered every schedule.
// try_send and try_recv may take waiters without the strategy seeing the
// counts: the first one met makes every queue ordered (and restarts).
//
// What is not merged: the two arrival orders of an unbuffered rendezvous
// (one sender, one receiver). Both reach the same hand-off, but the task
// that arrives second completes it and runs on while the other is only
// woken; under a preemption bound that is a different set of schedules
// (dfs_reduction_test.cpp has a program whose failure needs one order at
// dfs:0), so the reads of a readiness check keep them apart.
//
// Some state changes with no operation the executor sees: cancelling a
// Context closes its done channel, an after() timer fills its channel, a
// LockGuard unlocks its mutex. For objects of those kinds (a done channel
// made in context.cpp, a chan TimePoint, any mutex) the strategy compares
// their state (closed, length, locked) before and after: the first
// operations of sleeping tasks at every node, and those of a node's other
// options across each explored segment; and a sleeping task wakes when a
// segment operates on such an object that was not watched while its own
// segment ran.
//
// State caching (state_cache.hpp): at each task node where a segment
// ends, the strategy fingerprints the state reached and ends the run as
// redundant when that state was explored before with the same current task,
// no fewer preemptions spent and no more tasks asleep (Godefroid's rule for
// sleep sets with state caching: the first visit explored at least what this
// one would). The fingerprint is a model of the state (each task's history
// of what its operations returned, the values in each buffer, the queues of
// waiters) while the model can follow the run, else a hash of the trace's
// dependency graph. The model names tasks by their states, so tasks go()
// made from equal closures are interchangeable (symmetry), and restarts a
// task's history where it calls chanfuzz::checkpoint() (a promise by the
// user). Both rest on the assumption below; `dfs:<P>:nocache` searches
// without the cache, `dfs:<P>:nomodel` keys it on the trace alone,
// `:nosym` and `:nocheckpoint` switch off symmetry and checkpoints.
//
// What it assumes: tasks share memory only through channels, mutexes, wait
// groups and contexts, as Go's race-free programs do. A plain variable two
// tasks read and write between their operations, Context::err(),
// Chan::len() or WaitGroup::count() read without an operation on the same
// object, are invisible to the footprints, and schedules that differ only in
// them may be pruned. `dfs:<P>:full` explores without reduction.
#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "chanfuzz/sim_executor.hpp"
#include "chanfuzz/strategy.hpp"
#include "state_cache.hpp"

namespace chanfuzz {

namespace {

constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

// ---- objects, and what segments do to them ----

// Object keys: the kind in the top bits, the executor's object id, and two
// bits for the part of the object an access touches. A channel has three:
// its values (buffer, closed), its queue of receivers, its queue of senders.
// Checking whether a receive is ready reads the values and the senders;
// queueing a receiver writes the receivers; and so on (finish_running()).
constexpr std::uint64_t kSpawnKey = std::uint64_t{15} << 60;   // the task table
constexpr std::uint64_t kTimersKey = std::uint64_t{14} << 60;  // the timer heap (hashes only)
constexpr std::uint64_t kValues = 0, kReceivers = 1, kSenders = 2;
constexpr std::uint64_t base_key(std::uint64_t key) { return key & ~std::uint64_t{3}; }
constexpr std::uint64_t object_key(WaitObject::Kind kind, std::uint64_t id) {
  return ((static_cast<std::uint64_t>(kind) + 1) << 60) | (id << 2);
}

// Objects whose state may change without an operation the executor sees:
// an after() channel, which a timer fills. (A Context's cancel and a
// LockGuard's unlock name their object: SimEvent::Kind::changed.)
bool changes_unseen(const WaitObject& object) {
  return object.kind == WaitObject::Kind::channel && object.type == "chan TimePoint";
}

// One object of an operation, as it was when described.
struct Obj {
  std::uint64_t key = 0;  // 0: a nil channel (never ready, never changes)
  bool closed = false;    // a mutex: locked
  bool unseen = false;    // changes_unseen()
  std::size_t length = 0, capacity = 0, senders = 0, receivers = 0;
  SourceLocation site;  // where the object was made
};

// What an operation acts on, in case order for a select. `global`: an
// object made outside any executor (no identity).
struct Objects {
  std::vector<Obj> objects;
  // Per object, +1 receive, -1 send, as the operation says (WaitObject::direction)
  // when it says so for all of them; empty otherwise.
  std::vector<int> directions;
  bool global = false;
  bool has_unseen = false;
};

Objects describe_objects(const Blocker* op) {
  Objects out;
  if (!op) return out;
  std::vector<WaitObject> described;
  op->describe(described);
  for (const WaitObject& object : described) {
    if (object.direction == WaitObject::Direction::none) {
      out.directions.clear();
    } else if (out.directions.size() == out.objects.size()) {
      out.directions.push_back(object.direction == WaitObject::Direction::receive ? 1 : -1);
    }
    Obj obj;
    if (!object.nil) {
      if (object.id == 0) out.global = true;
      obj.key = object_key(object.kind, object.id);
      obj.closed = object.closed;
      obj.unseen = changes_unseen(object);
      obj.length = object.length;
      obj.capacity = object.capacity;
      obj.senders = object.senders;
      obj.receivers = object.receivers;
      obj.site = object.created_at;
      out.has_unseen = out.has_unseen || obj.unseen;
    }
    out.objects.push_back(obj);
  }
  return out;
}

// The state of an object, as far as unseen changes go.
struct ObjectState {
  std::uint64_t key = 0;
  bool closed = false;  // closing is monotonic: an old `false` errs on the safe side
  std::size_t length = 0;
  bool unseen = false;
};

std::vector<ObjectState> states_of(const Objects& objects) {
  std::vector<ObjectState> out;
  for (const Obj& obj : objects.objects) {
    if (obj.key) out.push_back({obj.key, obj.closed, obj.length, obj.unseen});
  }
  return out;
}

// The objects whose state changed from `before` to `after`: any state of an
// object that may change unseen; with `closes`, any channel that was closed.
std::vector<std::uint64_t> changed(const std::vector<ObjectState>& before,
                                   const std::vector<ObjectState>& after, bool closes) {
  std::vector<std::uint64_t> out;
  for (const ObjectState& b : before) {
    if (!b.unseen && !closes) continue;
    auto a = std::find_if(after.begin(), after.end(), [&](auto& x) { return x.key == b.key; });
    bool differs = a == after.end() || a->closed != b.closed || (b.unseen && a->length != b.length);
    if (differs) out.push_back(b.key);
  }
  return out;
}

bool is_channel(std::uint64_t key) {
  return (key >> 60) == static_cast<std::uint64_t>(WaitObject::Kind::channel) + 1;
}
bool is_kind(std::uint64_t key, WaitObject::Kind kind) {
  return (key >> 60) == static_cast<std::uint64_t>(kind) + 1;
}

void insert_sorted(std::vector<std::uint64_t>& keys, std::uint64_t key) {
  auto at = std::lower_bound(keys.begin(), keys.end(), key);
  if (at == keys.end() || *at != key) keys.insert(at, key);
}

bool intersect(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b) {
  auto i = a.begin();
  auto j = b.begin();
  while (i != a.end() && j != b.end()) {
    if (*i == *j) return true;
    if (*i < *j) {
      ++i;
    } else {
      ++j;
    }
  }
  return false;
}

// What a segment did: objects it wrote and read, queues it appended waiters
// to or withdrew them from (sorted keys), or everything. Poll points name
// their object (SimEvent::object) except on objects made outside an
// executor (id 0): Unlock and TryLock then count as writing every mutex,
// Add/Done every wait group, and a close (`closes`) writes the channels
// found closed after it among those the live tasks' operations name
// (`close_scope`, see finish_segment()); what it did to any other channel
// is unknown.
struct Footprint {
  bool global = false;
  bool closes = false;
  bool any_mutex = false;
  bool any_wait_group = false;
  std::vector<std::uint64_t> writes;
  std::vector<std::uint64_t> reads;
  std::vector<std::uint64_t> appends;      // waiters queued (a queue part of a channel)
  std::vector<std::uint64_t> withdraws;    // waiters made stale (a woken select's other cases)
  std::vector<std::uint64_t> close_scope;  // with `closes`: the channels it is known for

  void write(std::uint64_t key) { insert_sorted(writes, key); }
  void read(std::uint64_t key) { insert_sorted(reads, key); }
  void append(std::uint64_t key) { insert_sorted(appends, key); }
  void withdraw(std::uint64_t key) { insert_sorted(withdraws, key); }
  void write_object(std::uint64_t key) {  // every part of it
    for (std::uint64_t part : {kValues, kReceivers, kSenders}) write(base_key(key) | part);
  }
  void merge(const Footprint& other) {
    if (closes && other.closes) {  // known for a channel only if known in both
      std::vector<std::uint64_t> both;
      std::set_intersection(close_scope.begin(), close_scope.end(), other.close_scope.begin(),
                            other.close_scope.end(), std::back_inserter(both));
      close_scope = std::move(both);
    } else if (other.closes) {
      close_scope = other.close_scope;
    }
    global = global || other.global;
    closes = closes || other.closes;
    any_mutex = any_mutex || other.any_mutex;
    any_wait_group = any_wait_group || other.any_wait_group;
    for (std::uint64_t key : other.writes) write(key);
    for (std::uint64_t key : other.reads) read(key);
    for (std::uint64_t key : other.appends) append(key);
    for (std::uint64_t key : other.withdraws) withdraw(key);
  }
  // Every channel it acted on (base keys).
  std::vector<std::uint64_t> channels() const {
    std::vector<std::uint64_t> out;
    for (const auto* keys : {&writes, &reads, &appends, &withdraws}) {
      for (std::uint64_t key : *keys) {
        if (is_channel(key)) insert_sorted(out, base_key(key));
      }
    }
    return out;
  }
  bool touches(WaitObject::Kind kind) const {
    auto of_kind = [kind](std::uint64_t key) { return is_kind(key, kind); };
    return std::any_of(writes.begin(), writes.end(), of_kind) ||
           std::any_of(reads.begin(), reads.end(), of_kind);
  }
  bool depends_on(const Footprint& other) const {
    if (global || other.global || (closes && other.closes)) return true;
    if ((any_mutex && (other.any_mutex || other.touches(WaitObject::Kind::mutex))) ||
        (other.any_mutex && touches(WaitObject::Kind::mutex))) {
      return true;
    }
    if ((any_wait_group && (other.any_wait_group || other.touches(WaitObject::Kind::wait_group))) ||
        (other.any_wait_group && touches(WaitObject::Kind::wait_group))) {
      return true;
    }
    if (intersect(writes, other.writes) || intersect(writes, other.reads) ||
        intersect(reads, other.writes)) {
      return true;
    }
    // Queueing a waiter and withdrawing one change what a readiness check
    // sees, and a write (taking a waiter, closing) sees them; but two
    // appends, two withdrawals, or one of each commute: they change only the
    // order of a queue, which only taking a waiter from it observes (see
    // `ordered_queues_` in DfsStrategy).
    for (const auto* mine : {&appends, &withdraws}) {
      for (const auto* theirs : {&other.writes, &other.reads}) {
        if (intersect(*mine, *theirs)) return true;
      }
    }
    for (const auto* theirs : {&other.appends, &other.withdraws}) {
      if (intersect(writes, *theirs) || intersect(reads, *theirs)) return true;
    }
    return false;
  }
};

// A task asleep at a node, or an option explored there (then also `cost`
// and `ends_at_point`).
struct SleepEntry {
  std::uint64_t task = 0;
  Footprint footprint;                // what its segment did
  std::vector<ObjectState> first_op;  // its operation's objects, as they were at its node
  std::vector<std::uint64_t> scope;   // objects watched while its segment ran
  std::uint64_t cost = 0;
  bool ends_at_point = false;  // its segment ended at a scheduling point of its own
};

struct Node {
  DecisionKind kind = DecisionKind::task;
  std::uint64_t options = 0;
  std::uint64_t positions = 0;  // options in the exploration order (random(n) may be limited)
  std::uint64_t position = 0;   // of the option being explored
  std::uint64_t chosen = 0;
  std::uint64_t rank = 0;         // allowed options explored before this one
  std::uint64_t allowed = 0;      // allowed options, for the progress estimate
  std::uint64_t preemptions = 0;  // taken before this node
  // Task decisions:
  bool passes = false;               // no budget left to preempt: the segment goes on through it
  std::uint64_t current = 0;         // the current task's id (0: none)
  std::vector<std::uint64_t> tasks;  // the task id behind each option (0: the clock)
  std::vector<SleepEntry> sleep;     // asleep on arrival
  std::vector<SleepEntry> done;      // options explored, with what their segments did
  SleepEntry explored;               // the chosen option's segment, over every variant so far
  dfs_detail::TraceHash hash;        // with the state cache: the trace up to this node
  dfs_detail::StateModel model;      // and the state (while the model can follow it)
};

// A task's last scheduling point.
struct TaskOp {
  const Blocker* subject = nullptr;  // alive while the task waits there or blocks in it
  const char* operation = "";
  SourceLocation where;
  bool described = false;  // `objects` holds its objects (their state: as last described)
  Objects objects;
  std::uint64_t origin = 0;  // its closure (SimEvent::object of spawned)
  bool ran = false;          // it did anything since it was spawned
  bool finished = false;
};

class DfsStrategy final : public Strategy {
 public:
  explicit DfsStrategy(DfsOptions options) : options_(options) {
    status_.preemption_bound = options.preemption_bound;
    status_.reduced = options.reduce;
    caching_ = options.reduce && options.cache;
    status_.random_values = options.random_values;
    states_ =
        dfs_detail::StateTable(dfs_detail::StateTable::slots_within(options.state_memory_mib));
  }

  std::string name() const override {
    std::string out = "dfs:" + std::to_string(options_.preemption_bound);
    if (!options_.reduce) out += ":full";
    if (options_.reduce && !options_.cache) out += ":nocache";
    if (caching_ && !options_.model) out += ":nomodel";
    if (caching_ && options_.model && !options_.symmetry) out += ":nosym";
    if (caching_ && options_.model && !options_.checkpoints) out += ":nocheckpoint";
    if (caching_ && options_.state_memory_mib != DfsOptions{}.state_memory_mib) {
      out += ":mem=" + std::to_string(options_.state_memory_mib);
    }
    if (options_.random_values) out += ":values=" + std::to_string(options_.random_values);
    return out;
  }

  void begin_run(std::uint64_t) override {
    position_ = 0;
    preemptions_ = 0;
    redundant_ = false;
    divergence_.clear();
    tracking_ = options_.reduce && nodes_.empty();
    segment_ = Segment{};
    running_ = Running{};
    ops_.clear();
    closed_seen_.clear();
    announced_ = 0;
    hash_live_ = false;
    open_.clear();
  }

  std::uint64_t choose(const DecisionPoint& point) override;
  void end_run() override;
  std::string divergence() const override { return divergence_; }
  bool wants_events() const override { return options_.reduce; }
  void on_event(const SimEvent& event) override;
  bool run_redundant() const override { return redundant_; }

  const SearchStatus* search_status() const override {
    status_.depth = depth_;
    status_.states = states_.size();
    status_.fraction_done = status_.exhausted ? 1.0 : fraction_done();
    return &status_;
  }

 private:
  // The segment being run: from task node `node` on.
  struct Segment {
    std::size_t node = kNone;
    std::uint64_t owner = 0;  // its task (0: the clock option)
    Footprint footprint;
    std::vector<std::uint64_t> unseen;    // unseen-changing objects its operations acted on
    std::vector<std::uint64_t> channels;  // channels its operations acted on
    std::vector<SleepEntry> candidates;   // may sleep at the next task node
    struct Watch {
      std::uint64_t task;
      std::vector<ObjectState> states;
    };
    std::vector<Watch> watch;  // other options' objects, before the segment
    std::vector<std::pair<std::uint64_t, bool>> closed_before;  // closed_seen_ at its start
  };
  // An operation running in the segment, until the strategy knows how it
  // ended (blocked, or which select case it took).
  struct Running {
    std::uint64_t task = 0;  // 0: none
    const char* operation = "";
    SourceLocation where;
    Objects before;
    bool decided = false;
    std::uint64_t decision_options = 0, decision = 0;
  };

  std::uint64_t cost(const Node& node, std::uint64_t option) const {
    if (node.kind != DecisionKind::task) return 0;
    if (node.tasks[option] == 0) return 1;  // the clock option
    return node.current != 0 && node.tasks[option] != node.current ? 1 : 0;
  }
  static bool asleep(const Node& node, std::uint64_t task) {
    return std::any_of(node.sleep.begin(), node.sleep.end(),
                       [task](const SleepEntry& e) { return e.task == task; });
  }
  bool allowed(const Node& node, std::uint64_t option) const {
    if (node.preemptions + cost(node, option) > options_.preemption_bound) return false;
    return node.kind != DecisionKind::task || node.tasks[option] == 0 ||
           !asleep(node, node.tasks[option]);
  }
  // The option at a position of the exploration order: a task decision tries
  // the current task first (no preemption), then the runnable ones, then the
  // clock; random(n) tries 0, n-1, 1, 2, ...
  static std::uint64_t option_at(const Node& node, std::uint64_t position) {
    if (node.kind == DecisionKind::task && node.current != 0) {
      std::uint64_t current = node.options - (node.tasks.back() == 0 ? 2 : 1);
      if (position == 0) return current;
      return position <= current ? position - 1 : position;
    }
    if (node.kind == DecisionKind::random && node.options > 2) {
      if (position == 0) return 0;
      return position == 1 ? node.options - 1 : position - 1;
    }
    return position;
  }
  // Moves to the next allowed position at or after `from`; false if none.
  bool seek(Node& node, std::uint64_t from) const {
    for (std::uint64_t p = from; p < node.positions; ++p) {
      if (allowed(node, option_at(node, p))) {
        node.position = p;
        node.chosen = option_at(node, p);
        return true;
      }
    }
    return false;
  }

  std::uint64_t new_node(const DecisionPoint& point);
  bool replay_fits(const Node& node, const DecisionPoint& point);
  void in_segment(DecisionKind kind, std::uint64_t options, std::uint64_t value);
  void start_segment(std::size_t index, const DecisionPoint& point);
  std::vector<SleepEntry> finish_segment(const DecisionPoint* point);
  void start_running(std::uint64_t task, Objects before);
  void finish_running(bool blocked);
  void fold_announcement();
  // An event after an operation: an operation announced without a decision
  // ran, and the running one is over.
  void settle() {
    fold_announcement();
    finish_running(false);
  }
  TaskOp& op_of(std::uint64_t task);
  const Objects* first_op(const DecisionPoint& point, const TaskRecord* task, bool fresh);
  // describe_objects(), remembering each channel's closed flag.
  Objects describe(const Blocker* op);
  void identify_closed(const DecisionPoint& point);
  // Queue order (see `ordered_queues_`): does it matter for this queue of
  // the channel (kReceivers, kSenders)? may_take_waiter(): an operation that
  // may take the first waiter of that queue ran; with two waiters or more,
  // which one it takes depends on their order.
  bool queue_ordered(const Obj& obj, std::uint64_t part) const;
  void may_take_waiter(const Obj& obj, std::uint64_t part);
  // A poll point that names its object (close, WaitGroup.Add, Mutex.Unlock
  // and TryLock): writes that object; false for one not known here.
  bool write_named(std::string_view operation, std::uint64_t object, std::uint64_t task);
  // The directions of a blocked operation's channels (+1 receive, -1 send),
  // or null when not known.
  const std::vector<int>* directions_of(const TaskOp& op) const;
  // The directions of a select's cases, as its description gives them (null:
  // an operation that does not say).
  static const std::vector<int>* known_directions(const Objects& described);
  static const TaskRecord* find_task(const DecisionPoint& point, std::uint64_t id);
  static std::uint64_t current_task_id();
  // The objects of a task's next operation: described now when `fresh`,
  // else only those that may change unseen.
  std::vector<ObjectState> states_now(const DecisionPoint& point, std::uint64_t task, bool fresh);
  double fraction_done() const;

  // ---- the state cache (state_cache.hpp) ----
  // Events are recorded while a segment is: what each task did since its
  // last scheduling point, with the accesses of the footprints above.
  bool hashing() const { return caching_ && tracking_ && segment_.node != kNone; }
  // Who did it: in a clock segment, the clock (whatever task was current).
  std::uint64_t attributed(std::uint64_t task) const {
    return segment_.node != kNone && segment_.owner == 0 ? 0 : task;
  }
  dfs_detail::OpenEvent& open_of(std::uint64_t task) {
    if (task >= open_.size()) open_.resize(task + 1);
    return open_[task];
  }
  void record(std::uint64_t task, std::uint64_t key, dfs_detail::Access how) {
    if (hashing()) open_of(task).add(key, how);
  }
  void record_object(std::uint64_t task, std::uint64_t key) {
    for (std::uint64_t part : {kValues, kReceivers, kSenders}) {
      record(task, base_key(key) | part, dfs_detail::Access::write);
    }
  }
  void record_global(std::uint64_t task) {
    if (!hashing()) return;
    dfs_detail::OpenEvent& event = open_of(task);
    event.global = event.open = true;
  }
  void record_decision(std::uint64_t task, DecisionKind kind, std::uint64_t options,
                       std::uint64_t value) {
    if (hashing()) open_of(task).decision(static_cast<std::uint64_t>(kind), options, value);
  }
  void record_footprint(std::uint64_t task, const Footprint& footprint);
  // The task reached a scheduling point, blocked or finished: its event is over.
  void end_event(std::uint64_t task) {
    if (hashing()) apply_event(task);
  }
  void apply_event(std::uint64_t task);
  // The state model (StateModel): what an operation did to the shadow of
  // its objects. `directions`: of its channels (null: not a channel
  // operation, or not known); `taken`: the case it completed (kNone: it
  // blocked, or a select's default).
  bool modeling() const { return options_.model && hashing() && !model_.poisoned(); }
  void model_op(const Running& run, bool blocked, const std::vector<int>* directions,
                std::size_t taken);
  void model_woken(std::uint64_t task, std::uint64_t waker, const TaskOp& op);
  // A blocked task's waiters join their queues (directions null: a wait
  // group's), with the values it offers to send.
  void model_block(std::uint64_t task, const std::vector<Obj>& objects,
                   const std::vector<int>* directions);
  void model_point(std::uint64_t task) {
    if (!modeling()) return;
    if (awaiting_ == task) model_.poison();  // its partner's value never came
    model_.point(task);
  }
  void model_poison() {
    if (hashing()) model_.poison();
  }
  // At a task node: a new node's trace, and whether its state was explored
  // before (then the run is redundant).
  bool seen_before(Node& node, const DecisionPoint& point);
  // The model's first state: the tasks blocked before the first node.
  void model_start(const DecisionPoint& point);

  DfsOptions options_;
  std::vector<Node> nodes_;
  std::size_t track_from_ = kNone;  // the first node whose segment this run records
  // Queues whose order the search keeps: (where the channel was made, part).
  // Two tasks queueing waiters on the same channel in the same direction
  // commute unless a waiter is later taken from that queue while two or more
  // wait there (Go's FIFO then decides who gets it). The search starts out
  // assuming no queue is ever taken from that way; the first run that does
  // take one marks its channel's creation site here and starts the search
  // over (`restart_`), with appends to such queues counted as writes.
  std::vector<std::tuple<std::string, std::uint32_t, std::uint64_t>> ordered_queues_;
  bool all_queues_ordered_ = false;  // a poll point that may take waiters unseen was met
  bool restart_ = false;             // this run took a waiter from a queue assumed unordered
  std::uint64_t restarts_ = 0;
  bool caching_ = false;
  std::vector<std::uint64_t> asleep_scratch_;
  dfs_detail::StateTable states_;  // states explored (cleared when the search starts over)
  mutable SearchStatus status_;
  std::uint64_t depth_ = 0;

  // The run in progress.
  std::size_t position_ = 0;
  std::uint64_t preemptions_ = 0;
  bool redundant_ = false;
  bool tracking_ = false;  // recording segments (from track_from_ on)
  std::string divergence_;
  Segment segment_;
  Running running_;
  std::vector<TaskOp> ops_;                                  // by task id
  std::vector<std::pair<std::uint64_t, bool>> closed_seen_;  // channel -> closed, as last described
  std::uint64_t announced_ = 0;              // a task whose scheduling point was not decided on yet
  dfs_detail::TraceHash trace_hash_;         // the run's trace so far (when hash_live_)
  bool hash_live_ = false;                   // trace_hash_ follows this run
  std::vector<dfs_detail::OpenEvent> open_;  // by task id (0: the clock)
  dfs_detail::StateModel model_;
  dfs_detail::Hash128 seed_;  // the decisions before the first task node
  // The last operation that may wake tasks, and what a woken task gets.
  struct LastOp {
    enum class Kind : std::uint8_t { none, send, recv, close, sync } kind = Kind::none;
    std::uint64_t channel = 0;  // base key
    std::uint64_t index = 0;    // the case it completed
    bool from_buffer = false;   // recv: took a buffered value (a woken sender refills)
    dfs_detail::Hash128 value;  // send: the value sent
    std::uint64_t task = 0;
  } last_op_;
  std::uint64_t awaiting_ = 0;  // a receiver whose value comes with the sender's wake
};

// ---- decisions ----

std::uint64_t DfsStrategy::choose(const DecisionPoint& point) {
  if (position_ >= nodes_.size()) return new_node(point);
  Node& node = nodes_[position_];
  if (!replay_fits(node, point)) return point.options;
  if (options_.reduce && position_ == track_from_) {
    tracking_ = true;
    if (caching_) {
      trace_hash_ = node.hash;
      model_ = node.model;
      open_.clear();
      hash_live_ = true;
      last_op_ = LastOp{};
      awaiting_ = 0;
    }
    start_segment(position_, point);
  } else if (tracking_) {
    in_segment(node.kind, point.options, node.chosen);
  }
  preemptions_ += cost(node, node.chosen);
  ++position_;
  return node.chosen;
}

// A decision inside the segment being recorded (not one that ends it), and
// the option taken.
void DfsStrategy::in_segment(DecisionKind kind, std::uint64_t options, std::uint64_t value) {
  switch (kind) {
    case DecisionKind::select_case:
      fold_announcement();  // a select announced by a task that was alone runs now
      if (running_.task != 0 && !running_.decided) {  // the select's choice of a ready case
        running_.decided = true;
        running_.decision_options = options;
        running_.decision = value;
      }
      record_decision(attributed(running_.task ? running_.task : current_task_id()), kind, options,
                      value);
      return;
    case DecisionKind::task:  // no preemption left: the current task goes on
      finish_running(false);
      fold_announcement();
      return;
    case DecisionKind::timer:
      segment_.footprint.global = true;
      record_global(0);
      model_poison();
      return;
    case DecisionKind::random:  // asked by the code after an operation
      settle();
      record_decision(attributed(current_task_id()), kind, options, value);
      if (modeling()) {
        model_.observe(current_task_id(), 0x72616e64ULL, dfs_detail::Hash128{value, options});
      }
      return;
  }
}

bool DfsStrategy::replay_fits(const Node& node, const DecisionPoint& point) {
  bool fits = node.kind == point.kind && node.options == point.options;
  if (fits && node.kind == DecisionKind::task) {
    const TaskRecord* task = point.task_at(node.chosen);
    fits = (point.current ? point.current->id : 0) == node.current &&
           (task ? task->id : 0) == node.tasks[node.chosen];
  }
  if (fits) return true;
  divergence_ = "dfs: the scenario did not repeat itself: decision " + std::to_string(position_) +
                " was a " + decision_kind_name(point.kind) + " decision with " +
                std::to_string(point.options) + " options, the same schedule earlier had a " +
                decision_kind_name(node.kind) + " decision with " + std::to_string(node.options) +
                " (does it depend on something outside the simulator?)";
  status_.exhausted = true;  // the search cannot go on
  return false;
}

std::uint64_t DfsStrategy::new_node(const DecisionPoint& point) {
  Node node;
  node.kind = point.kind;
  node.options = point.options;
  node.positions = point.options;
  node.preemptions = preemptions_;
  if (point.kind == DecisionKind::random && options_.random_values &&
      options_.random_values < point.options) {
    node.positions = options_.random_values;
    status_.random_limited = true;
  }
  if (point.kind == DecisionKind::task) {
    node.current = point.current ? point.current->id : 0;
    node.tasks.reserve(point.options);
    for (std::uint64_t i = 0; i < point.options; ++i) {
      const TaskRecord* task = point.task_at(i);
      node.tasks.push_back(task ? task->id : 0);
    }
    // With no preemption left the current task must go on: its segment does
    // not end here (so that it can sleep in its siblings' branches once it
    // blocked, see the top of the file).
    node.passes = node.current != 0 && preemptions_ >= options_.preemption_bound;
    if (tracking_ && node.passes) {
      in_segment(DecisionKind::task, point.options, 0);
    } else if (tracking_) {
      finish_running(false);
      announced_ = 0;  // the current task's operation: the next segment's, not this one's
      node.sleep = finish_segment(&point);
    }
    if (caching_ && !node.passes && seen_before(node, point)) {
      ++status_.revisits;
      redundant_ = true;
      divergence_ = "dfs: this run reached a state explored before";
      return point.options;
    }
  }
  for (std::uint64_t p = 0; p < node.positions; ++p) {
    if (node.kind != DecisionKind::task) {
      node.allowed = node.positions;
      break;
    }
    if (allowed(node, option_at(node, p))) ++node.allowed;
  }
  if (!seek(node, 0)) {
    // Every option within the bound sleeps: whatever follows repeats
    // schedules already run. Stop the run (the executor records it as
    // diverged; check() sees run_redundant()).
    redundant_ = true;
    divergence_ = "dfs: the rest of this run repeats schedules already explored";
    return point.options;
  }
  nodes_.push_back(std::move(node));
  std::size_t index = nodes_.size() - 1;
  Node& pushed = nodes_[index];
  if (options_.reduce && pushed.kind == DecisionKind::task && !pushed.passes) {
    tracking_ = true;
    start_segment(index, point);
  } else if (tracking_ && pushed.kind != DecisionKind::task) {
    in_segment(pushed.kind, pushed.options, pushed.chosen);
  }
  preemptions_ += cost(pushed, pushed.chosen);
  ++position_;
  return pushed.chosen;
}

void DfsStrategy::end_run() {
  if (tracking_) {
    finish_running(false);
    if (segment_.node != kNone) finish_segment(nullptr);
  }
  depth_ = position_;
  if (status_.exhausted) return;  // the scenario did not repeat itself
  if (restart_) {
    // The run took a waiter from a queue whose order the reduction had
    // ignored: what was pruned so far may be wrong. Start over, keeping
    // that queue's order (ordered_queues_).
    restart_ = false;
    nodes_.clear();
    states_.clear();
    track_from_ = kNone;
    status_.schedules = 0;
    status_.redundant = 0;
    status_.revisits = 0;
    status_.trace_keyed = 0;
    ++restarts_;
    return;
  }
  if (redundant_) {
    ++status_.redundant;
  } else {
    ++status_.schedules;
  }
  // Backtrack: advance the deepest node with an allowed option left.
  while (!nodes_.empty()) {
    Node& node = nodes_.back();
    if (options_.reduce && node.kind == DecisionKind::task && !node.passes &&
        node.tasks[node.chosen] != 0) {
      SleepEntry done = std::move(node.explored);
      done.task = node.tasks[node.chosen];
      done.cost = cost(node, node.chosen);
      node.done.push_back(std::move(done));
    }
    node.explored = SleepEntry{};
    if (seek(node, node.position + 1)) {
      ++node.rank;
      track_from_ = kNone;
      for (std::size_t i = nodes_.size(); i-- > 0;) {
        if (nodes_[i].kind == DecisionKind::task && !nodes_[i].passes) {
          track_from_ = i;
          break;
        }
      }
      return;
    }
    nodes_.pop_back();
  }
  status_.exhausted = true;
}

// ---- segments and sleep sets ----

void DfsStrategy::start_segment(std::size_t index, const DecisionPoint& point) {
  Node& node = nodes_[index];
  segment_ = Segment{};
  segment_.node = index;
  segment_.owner = node.tasks[node.chosen];
  segment_.closed_before = closed_seen_;
  running_ = Running{};
  announced_ = 0;
  if (segment_.owner == 0) {  // the clock option: timers fire, anything may change
    segment_.footprint.global = true;
    record_global(0);
    model_poison();
    return;
  }
  const TaskRecord* owner = point.task_at(node.chosen);
  if (const Objects* op = first_op(point, owner, true)) start_running(owner->id, *op);
  // Other options whose operations act on unseen-changing objects: watched,
  // so that this segment's unseen changes to them join its footprint.
  if (node.allowed >= 2) {
    for (std::uint64_t i = 0; i < node.options; ++i) {
      const TaskRecord* task = point.task_at(i);
      if (!task || task->id == segment_.owner) continue;
      std::vector<ObjectState> states = states_now(point, task->id, false);
      if (!states.empty()) segment_.watch.push_back({task->id, std::move(states)});
    }
  }
  // Who may sleep after this segment: the tasks asleep here, and the options
  // explored here whose equivalent schedule costs no more preemptions.
  segment_.candidates = node.sleep;
  std::uint64_t chosen_cost = cost(node, node.chosen);
  for (const SleepEntry& done : node.done) {
    if (done.cost + (done.ends_at_point ? 1 : 0) > chosen_cost) continue;
    SleepEntry candidate = done;
    candidate.first_op = states_now(point, done.task, false);
    segment_.candidates.push_back(std::move(candidate));
  }
}

std::vector<SleepEntry> DfsStrategy::finish_segment(const DecisionPoint* point) {
  std::vector<SleepEntry> sleep;
  if (segment_.node == kNone) return sleep;
  fold_announcement();
  finish_running(false);
  Footprint& footprint = segment_.footprint;
  if (footprint.closes && point) identify_closed(*point);
  // The other options' objects: what this segment changed there, unseen,
  // joins its footprint. (At the run's end the frames are gone: assume all.)
  std::vector<std::uint64_t> scope;
  for (const Segment::Watch& watch : segment_.watch) {
    std::vector<std::uint64_t> keys;
    if (!point) {
      for (const ObjectState& state : watch.states) keys.push_back(state.key);
    } else if (std::any_of(watch.states.begin(), watch.states.end(),
                           [](const ObjectState& state) { return state.unseen; })) {
      keys = changed(watch.states, states_now(*point, watch.task, false), false);
    }
    for (std::uint64_t key : keys) footprint.write_object(key);
    for (const ObjectState& state : watch.states) insert_sorted(scope, state.key);
  }

  Node& start = nodes_[segment_.node];
  start.explored.footprint.merge(footprint);
  start.explored.scope = scope;
  bool ends_at_point = point && point->current && point->current->id == segment_.owner;
  start.explored.ends_at_point = start.explored.ends_at_point || ends_at_point;

  if (point) {
    auto within = [](const std::vector<std::uint64_t>& keys, const std::vector<std::uint64_t>& of) {
      return std::all_of(keys.begin(), keys.end(),
                         [&](auto key) { return std::binary_search(of.begin(), of.end(), key); });
    };
    for (SleepEntry& candidate : segment_.candidates) {
      if (footprint.depends_on(candidate.footprint)) continue;
      // What the candidate's segment changed unseen is known only for the
      // objects watched while it ran.
      if (!within(segment_.unseen, candidate.scope)) continue;
      // Closes are known only for the channels named when they were checked.
      const Footprint& theirs = candidate.footprint;
      if (theirs.closes && !within(segment_.channels, theirs.close_scope)) continue;
      if (footprint.closes && !within(theirs.channels(), footprint.close_scope)) continue;
      // What this segment changed unseen: the candidate's operation sees it.
      bool unseen = std::any_of(candidate.first_op.begin(), candidate.first_op.end(),
                                [](const ObjectState& state) { return state.unseen; });
      if (unseen &&
          !changed(candidate.first_op, states_now(*point, candidate.task, false), false).empty()) {
        continue;
      }
      sleep.push_back(std::move(candidate));
    }
  }
  segment_ = Segment{};
  return sleep;
}

// ---- operations: what they read and write ----

void DfsStrategy::start_running(std::uint64_t task, Objects before) {
  finish_running(false);
  const TaskOp& op = op_of(task);
  running_.task = task;
  running_.operation = op.operation;
  running_.where = op.where;
  running_.before = std::move(before);
  if (running_.before.global) segment_.footprint.global = true;
  for (const Obj& obj : running_.before.objects) {
    if (obj.unseen) insert_sorted(segment_.unseen, obj.key);
    if (obj.key && is_channel(obj.key)) insert_sorted(segment_.channels, obj.key);
  }
}

// The running operation is over: it blocked, or it completed. What did it
// write, and what did it only read?
void DfsStrategy::finish_running(bool blocked) {
  if (running_.task == 0) return;
  Running run = std::move(running_);
  running_ = Running{};
  if (segment_.node == kNone) return;
  Footprint footprint;  // this operation's; joins the segment's at the end
  const std::vector<Obj>& objects = run.before.objects;
  // What one case (or plain operation) on a channel did. direction: +1
  // receive, -1 send, 0 unknown.
  auto access = [&](const Obj& obj, int direction, bool taken) {
    if (obj.key == 0) return;                                     // nil
    std::uint64_t own = direction > 0 ? kReceivers : kSenders;    // the queue it joins
    std::uint64_t other = direction > 0 ? kSenders : kReceivers;  // the partners it takes
    if (direction == 0) {
      footprint.write_object(obj.key);
      if (!blocked) may_take_waiter(obj, kReceivers), may_take_waiter(obj, kSenders);
    } else if (blocked) {  // checked readiness, then queued a waiter
      footprint.read(obj.key | kValues);
      footprint.read(obj.key | other);
      if (queue_ordered(obj, own)) {
        footprint.write(obj.key | own);
      } else {
        footprint.append(obj.key | own);
      }
    } else if (!taken || (direction > 0 && obj.closed && obj.length == 0)) {
      footprint.read(obj.key | kValues);  // checked only, or closed and drained
      footprint.read(obj.key | other);
    } else {  // took a value, a partner or a place in the buffer
      footprint.write(obj.key | kValues);
      footprint.write(obj.key | other);
      // A receive from a full buffer moves the first waiting sender's value in.
      may_take_waiter(obj, other);
    }
  };
  auto write_all = [&] {
    for (const Obj& obj : objects) {
      if (!obj.key) continue;
      footprint.write_object(obj.key);
      if (!blocked) may_take_waiter(obj, kReceivers), may_take_waiter(obj, kSenders);
    }
  };
  std::string_view operation = run.operation;
  if (objects.empty()) {
    // yield, sleep: nothing shared
    model_op(run, blocked, nullptr, kNone);
  } else if (operation == "chan receive") {
    access(objects.front(), 1, true);
    static const std::vector<int> kReceive{1};
    model_op(run, blocked, &kReceive, 0);
  } else if (operation == "chan send") {
    access(objects.front(), -1, true);
    static const std::vector<int> kSend{-1};
    model_op(run, blocked, &kSend, 0);
  } else if (operation == "sync.WaitGroup.Wait" && !blocked && objects.front().length == 0) {
    footprint.read(objects.front().key);
    model_op(run, blocked, nullptr, kNone);
  } else if (operation == "select") {
    const std::vector<int>* known = known_directions(run.before);
    if (!known) {
      write_all();
      model_op(run, blocked, nullptr, kNone);
    } else {
      const std::vector<int>& direction = *known;
      std::vector<std::size_t> ready;  // as pass 1 of select sees them
      for (std::size_t i = 0; i < objects.size(); ++i) {
        const Obj& obj = objects[i];
        bool is_ready =
            obj.key != 0 &&
            (direction[i] > 0 ? obj.length > 0 || obj.closed || obj.senders > 0
                              : obj.closed || obj.receivers > 0 || obj.length < obj.capacity);
        if (is_ready) ready.push_back(i);
      }
      std::size_t taken = kNone;
      if (ready.size() == 1 && !run.decided) taken = ready.front();
      if (ready.size() >= 2 && run.decided && run.decision_options == ready.size()) {
        taken = ready[run.decision];
      }
      if (!blocked && !ready.empty() && taken == kNone) {
        write_all();  // not as predicted: take no chance
        model_op(run, blocked, nullptr, kNone);
      } else {
        for (std::size_t i = 0; i < objects.size(); ++i)
          access(objects[i], direction[i], i == taken);
        model_op(run, blocked, &direction, taken);
      }
    }
  } else {
    write_all();  // lock, a wait that blocks, an operation not known here
    model_op(run, blocked, nullptr, kNone);
  }
  segment_.footprint.merge(footprint);
  record_footprint(run.task, footprint);
  bool unseen =
      std::any_of(objects.begin(), objects.end(), [](const Obj& obj) { return obj.unseen; });
  if (run.before.global || unseen) record_global(attributed(run.task));
}

const std::vector<int>* DfsStrategy::known_directions(const Objects& described) {
  return described.directions.empty() ? nullptr : &described.directions;
}

// ---- what tasks do (SimEvent) ----

Objects DfsStrategy::describe(const Blocker* op) {
  Objects out = describe_objects(op);
  for (const Obj& obj : out.objects) {
    if (!obj.key || !is_channel(obj.key)) continue;
    auto at = std::find_if(closed_seen_.begin(), closed_seen_.end(),
                           [&](const auto& seen) { return seen.first == obj.key; });
    if (at == closed_seen_.end()) {
      closed_seen_.emplace_back(obj.key, obj.closed);
    } else {
      at->second = obj.closed;
    }
  }
  return out;
}

// After a segment that closed channels: which? Every live task is at a
// scheduling point, blocked, or woken and not yet resumed, so the operation
// it last announced is alive: describe them all. A channel found closed that
// was open when last described before the segment began was closed by it
// (or earlier, unseen: the footprint then says more than it needs to).
// Channels no live operation names stay unknown.
void DfsStrategy::identify_closed(const DecisionPoint& point) {
  (void)point;  // (the tasks are all in ops_)
  const std::vector<std::pair<std::uint64_t, bool>>& before = segment_.closed_before;
  std::vector<std::uint64_t> named;
  for (TaskOp& op : ops_) {
    if (!op.subject) continue;
    op.objects = describe(op.subject);
    op.described = true;
    for (const Obj& obj : op.objects.objects) {
      if (!obj.key || !is_channel(obj.key)) continue;
      insert_sorted(named, obj.key);
      auto was = std::find_if(before.begin(), before.end(),
                              [&](const auto& seen) { return seen.first == obj.key; });
      if (obj.closed && (was == before.end() || !was->second)) {
        segment_.footprint.write_object(obj.key);
      }
    }
  }
  segment_.footprint.close_scope = std::move(named);
}

bool DfsStrategy::write_named(std::string_view operation, std::uint64_t object,
                              std::uint64_t task) {
  WaitObject::Kind kind;
  if (operation == "chan close") {
    kind = WaitObject::Kind::channel;
  } else if (operation == "sync.WaitGroup.Add") {
    kind = WaitObject::Kind::wait_group;
  } else if (operation == "sync.Mutex.Unlock" || operation == "sync.Mutex.TryLock") {
    kind = WaitObject::Kind::mutex;
  } else {
    return false;
  }
  segment_.footprint.write_object(object_key(kind, object));
  record_object(attributed(task), object_key(kind, object));
  return true;
}

const std::vector<int>* DfsStrategy::directions_of(const TaskOp& op) const {
  static const std::vector<int> kReceive{1}, kSend{-1};
  std::string_view operation = op.operation;
  if (op.objects.objects.size() == 1 && operation == "chan receive") return &kReceive;
  if (op.objects.objects.size() == 1 && operation == "chan send") return &kSend;
  if (operation != "select") return nullptr;
  return known_directions(op.objects);
}

bool DfsStrategy::queue_ordered(const Obj& obj, std::uint64_t part) const {
  if (all_queues_ordered_) return true;
  std::string_view file = obj.site.file ? obj.site.file : "";
  return std::any_of(ordered_queues_.begin(), ordered_queues_.end(), [&](const auto& queue) {
    return std::get<1>(queue) == obj.site.line && std::get<2>(queue) == part &&
           std::get<0>(queue) == file;
  });
}

void DfsStrategy::may_take_waiter(const Obj& obj, std::uint64_t part) {
  if (!obj.key || !is_channel(obj.key)) return;
  std::size_t waiting = part == kReceivers ? obj.receivers : obj.senders;
  if (waiting < 2 || queue_ordered(obj, part)) return;
  ordered_queues_.emplace_back(obj.site.file ? obj.site.file : "", obj.site.line, part);
  restart_ = true;
}

TaskOp& DfsStrategy::op_of(std::uint64_t task) {
  if (task >= ops_.size()) ops_.resize(task + 1);
  return ops_[task];
}

void DfsStrategy::fold_announcement() {
  // The last scheduling point was not decided on (its task was alone, or
  // had to go on): its operation runs inside the current segment.
  if (announced_ == 0) return;
  std::uint64_t task = announced_;
  announced_ = 0;
  TaskOp& op = op_of(task);
  if (!tracking_ || segment_.node == kNone || !op.described) return;
  start_running(task, op.objects);
}

void DfsStrategy::on_event(const SimEvent& event) {
  if (event.task != 0 && event.kind != SimEvent::Kind::spawned) op_of(event.task).ran = true;
  switch (event.kind) {
    case SimEvent::Kind::operation: {
      bool point = event.subject || std::strcmp(event.operation, "yield") == 0 ||
                   std::strcmp(event.operation, "sleep") == 0;
      if (tracking_) settle();
      announced_ = 0;
      if (point) {
        end_event(event.task);
        model_point(event.task);
      }
      if (!point) {
        // A poll point: an object the executor does not name.
        if (tracking_) {
          std::string_view operation = event.operation;
          if (event.object != 0 && write_named(operation, event.object, event.task)) {
            last_op_ = LastOp{};
            last_op_.kind = operation == "chan close" ? LastOp::Kind::close : LastOp::Kind::sync;
            last_op_.channel = object_key(WaitObject::Kind::channel, event.object);
            last_op_.task = attributed(event.task);
            // named: its object is written (a close wakes its waiters: see woken)
          } else if (operation == "chan close") {
            segment_.footprint.closes = true;
            record_global(attributed(event.task));
            model_poison();
          } else if (operation == "sync.WaitGroup.Add") {
            segment_.footprint.any_wait_group = true;
            record_global(attributed(event.task));
            model_poison();
          } else if (operation == "sync.Mutex.Unlock" || operation == "sync.Mutex.TryLock") {
            segment_.footprint.any_mutex = true;
            record_global(attributed(event.task));
            model_poison();
          } else {  // try_send, try_recv (they read too), or unknown
            segment_.footprint.global = true;
            record_global(attributed(event.task));
            model_poison();
            // They may take a waiter from a queue, unseen: keep every queue's order.
            if (!all_queues_ordered_) {
              all_queues_ordered_ = true;
              restart_ = true;
            }
          }
        }
        return;
      }
      TaskOp& op = op_of(event.task);
      op = TaskOp{};
      op.subject = event.subject;
      op.operation = event.operation;
      op.where = event.where;
      if (tracking_) {  // described now: if it runs at once, its awaiter is gone by the next event
        op.objects = describe(event.subject);
        op.described = true;
      }
      announced_ = event.task;
      return;
    }
    case SimEvent::Kind::blocked:
      if (tracking_) {
        fold_announcement();
        finish_running(true);
      }
      announced_ = 0;
      end_event(event.task);
      if (modeling()) model_.set_status(event.task, dfs_detail::StateModel::blocked);
      return;
    case SimEvent::Kind::woken: {
      if (!tracking_) return;
      settle();
      if (segment_.node == kNone) return;
      // The segment completed (or closed, or cancelled) what the task waits on.
      TaskOp& op = op_of(event.task);
      std::uint64_t by = attributed(event.other);  // 0: a timer
      if (by == 0) {
        record_global(0);
        model_poison();
      }
      if (!op.subject) {  // sleep (a timer), or unknown
        segment_.footprint.global = true;
        record_global(by);
        return;
      }
      if (!op.described) {
        op.objects = describe(op.subject);
        op.described = true;
      }
      if (op.objects.global) {
        segment_.footprint.global = true;
        record_global(by);
      }
      // The segment completed one of its cases (its own operation on that
      // channel, or a close, wrote it); the task's waiters in the others
      // are withdrawn: that writes the queue each waits in. Where the
      // direction is unknown, or the channel may change unseen (a context's
      // done channel closed by a cancel), every part is written.
      const std::vector<int>* directions = directions_of(op);
      for (std::size_t i = 0; i < op.objects.objects.size(); ++i) {
        const Obj& obj = op.objects.objects[i];
        if (!obj.key) continue;
        if (directions && !obj.unseen && is_channel(obj.key)) {
          std::uint64_t queue = obj.key | ((*directions)[i] > 0 ? kReceivers : kSenders);
          segment_.footprint.withdraw(queue);
          record(by, queue, dfs_detail::Access::append);
        } else {
          segment_.footprint.write_object(obj.key);
          record_object(by, obj.key);
          if (obj.unseen) record_global(by);
        }
      }
      model_woken(event.task, by, op);
      return;
    }
    case SimEvent::Kind::spawned:
      op_of(event.task).origin = event.object;
      if (tracking_) {
        settle();
        segment_.footprint.write(kSpawnKey);
        std::uint64_t by = attributed(event.other);
        record(by, kSpawnKey, dfs_detail::Access::write);
        if (by == 0) {
          record_global(0);
          model_poison();
        }
        if (modeling()) model_.spawned(event.task, by, options_.symmetry ? event.object : 0);
      }
      return;
    case SimEvent::Kind::clock:
      if (tracking_) segment_.footprint.global = true;
      record_global(0);
      model_poison();
      return;
    case SimEvent::Kind::finished:
      if (tracking_) settle();
      announced_ = 0;
      end_event(event.task);
      if (modeling()) {
        model_point(event.task);
        model_.set_status(event.task, dfs_detail::StateModel::finished);
      }
      op_of(event.task) = TaskOp{};  // its operations' awaiters are gone
      op_of(event.task).finished = true;
      return;
    case SimEvent::Kind::checkpoint:
      if (tracking_ && modeling() && options_.checkpoints) {
        settle();  // what the task observed before the checkpoint goes first
        // The site by its file name's address and line: fixed within the process.
        dfs_detail::Hash128 at{reinterpret_cast<std::uintptr_t>(event.where.file),
                               event.where.line};
        model_.checkpoint(attributed(event.task), dfs_detail::mix(at, event.object));
      }
      return;
    case SimEvent::Kind::resumed: {
      // A task runs the operation it stopped at while others ran first. A
      // decision that chose it started its segment (and the operation);
      // without one (it was the only task runnable) the operation runs
      // inside the current segment, described now, just before it runs.
      if (!tracking_ || running_.task == event.task) return;
      settle();
      TaskOp& op = op_of(event.task);
      if (!op.subject) return;
      op.objects = describe(op.subject);
      op.described = true;
      announced_ = event.task;
      return;
    }
    case SimEvent::Kind::changed: {
      // A Context's cancel closed its done channel, a LockGuard unlocked (no
      // step), or a timer was armed, cancelled or fires.
      if (!tracking_ || segment_.node == kNone) return;
      std::string_view operation = event.operation;
      std::uint64_t by = attributed(event.task);
      if (operation == "timer") {
        record(by, kTimersKey, dfs_detail::Access::write);
        model_poison();
        return;
      }
      WaitObject::Kind kind =
          operation == "context cancel" ? WaitObject::Kind::channel : WaitObject::Kind::mutex;
      if (event.object == 0) {  // made outside an executor: no identity
        if (kind == WaitObject::Kind::channel) {
          segment_.footprint.closes = true;
        } else {
          segment_.footprint.any_mutex = true;
        }
        record_global(by);
        model_poison();
        return;
      }
      std::uint64_t key = object_key(kind, event.object);
      segment_.footprint.write_object(key);
      record_object(by, key);
      last_op_ = LastOp{};
      last_op_.kind = kind == WaitObject::Kind::channel ? LastOp::Kind::close : LastOp::Kind::sync;
      last_op_.channel = key;
      last_op_.task = by;
      return;
    }
    case SimEvent::Kind::preempted:
      return;
  }
}

const TaskRecord* DfsStrategy::find_task(const DecisionPoint& point, std::uint64_t id) {
  for (std::uint64_t i = 0; i < point.options; ++i) {
    const TaskRecord* task = point.task_at(i);
    if (task && task->id == id) return task;
  }
  return nullptr;
}

// What the task's next operation acts on, or null when it has none (woken:
// its operation is done; new; or preempted at yield). `fresh`: describe its
// objects as they are now (else only when it may act on unseen-changing ones).
const Objects* DfsStrategy::first_op(const DecisionPoint& point, const TaskRecord* task,
                                     bool fresh) {
  if (!task) return nullptr;
  if (task != point.current && !task->pending) return nullptr;
  TaskOp& op = op_of(task->id);
  if (fresh || !op.described || op.objects.has_unseen) {
    op.objects = describe(op.subject);
    op.described = true;
  }
  return &op.objects;
}

std::vector<ObjectState> DfsStrategy::states_now(const DecisionPoint& point, std::uint64_t task,
                                                 bool fresh) {
  const Objects* op = first_op(point, find_task(point, task), fresh);
  return op ? states_of(*op) : std::vector<ObjectState>{};
}

// ---- the state cache ----

void DfsStrategy::record_footprint(std::uint64_t task, const Footprint& footprint) {
  if (!hashing()) return;
  task = attributed(task);
  if (footprint.global || footprint.closes || footprint.any_mutex || footprint.any_wait_group) {
    record_global(task);
  }
  dfs_detail::OpenEvent& event = open_of(task);
  for (std::uint64_t key : footprint.writes) event.add(key, dfs_detail::Access::write);
  for (std::uint64_t key : footprint.reads) event.add(key, dfs_detail::Access::read);
  for (const auto* keys : {&footprint.appends, &footprint.withdraws}) {
    for (std::uint64_t key : *keys) event.add(key, dfs_detail::Access::append);
  }
  event.open = true;
}

void DfsStrategy::apply_event(std::uint64_t task) {
  dfs_detail::OpenEvent& event = open_of(task);
  if (task == 0 || event.global) {
    trace_hash_.global_event(task);
  } else {
    trace_hash_.event(task, event.accesses, event.decisions);
  }
  event = dfs_detail::OpenEvent{};
}

bool DfsStrategy::seen_before(Node& node, const DecisionPoint& point) {
  if (!hash_live_) {
    // The first task node the run records from: what led here is the
    // decisions before it (the code before the first one is the same in
    // every run).
    dfs_detail::Hash128 seed{7, 8};
    for (const Node& before : nodes_) {
      seed = dfs_detail::mix(dfs_detail::mix(seed, static_cast<std::uint64_t>(before.kind)),
                             before.chosen);
    }
    trace_hash_.reset(seed);
    model_start(point);
    seed_ = seed;
    open_.clear();
    hash_live_ = true;
  } else {
    // Events still open: a timer or the clock in the last segment.
    for (std::uint64_t task = 0; task < open_.size(); ++task) {
      if (open_[task].open) apply_event(task);
    }
  }
  node.hash = trace_hash_;
  node.model = model_;
  last_op_ = LastOp{};
  // The state where the model follows it, else the trace (both name the
  // state; kept apart by their first word). The model names tasks by their
  // states (symmetry); the trace by their ids.
  if (model_.poisoned() || !options_.model) {
    ++status_.trace_keyed;
    std::uint64_t asleep = 0;
    for (const SleepEntry& entry : node.sleep) {
      if (entry.task >= 64) return false;  // not representable: explore (and do not record)
      asleep |= std::uint64_t{1} << entry.task;
    }
    dfs_detail::Hash128 key = dfs_detail::mix(dfs_detail::Hash128{1, 0}, trace_hash_.fingerprint());
    key = dfs_detail::mix(key, node.current);
    return states_.visit(key, asleep, node.preemptions);
  }
  std::vector<std::uint64_t>& asleep = asleep_scratch_;
  asleep.clear();
  for (const SleepEntry& entry : node.sleep) asleep.push_back(entry.task);
  dfs_detail::Hash128 current;
  std::uint64_t mask = 0;
  if (!model_.canonical(node.current, asleep, current, mask)) return false;
  dfs_detail::Hash128 key =
      dfs_detail::mix(dfs_detail::mix(dfs_detail::Hash128{2, 0}, seed_), model_.fingerprint());
  key = dfs_detail::mix(key, current);
  return states_.visit(key, mask, node.preemptions);
}

void DfsStrategy::model_op(const Running& run, bool blocked, const std::vector<int>* directions,
                           std::size_t taken) {
  if (!modeling()) return;
  using dfs_detail::Hash128;
  const std::vector<Obj>& objects = run.before.objects;
  std::string_view operation = run.operation;
  std::uint64_t me = run.task;
  last_op_ = LastOp{};
  if (objects.empty()) return;  // yield; sleep arms a timer, which poisons
  if (operation == "sync.WaitGroup.Wait") {
    // The counter follows from the histories; the queue of waiters does not.
    if (blocked) model_block(me, objects, nullptr);
    return;
  }
  if (!directions || run.before.global) {  // a lock (its retries are not seen), or unknown
    model_.poison();
    return;
  }
  for (const Obj& obj : objects) {
    if (obj.key == 0) continue;
    if (!is_channel(obj.key) || obj.unseen ||
        !model_.check(obj.key, obj.length, obj.key | kReceivers, obj.receivers, obj.key | kSenders,
                      obj.senders)) {
      model_.poison();
      return;
    }
  }
  const std::vector<int>& direction = *directions;
  if (blocked) {
    model_block(me, objects, &direction);
    return;
  }
  if (taken == kNone) {  // a select's default: nothing was ready
    model_.observe(me, 0x64666c74ULL);
    return;
  }
  const Obj& obj = objects[taken];
  if (direction[taken] > 0) {
    if (obj.length > 0) {
      Hash128 value;
      if (!model_.pop(obj.key, value)) {
        model_.poison();
        return;
      }
      model_.observe(me, 0x72637600ULL + taken, value);
      // A waiting sender's value moves into the buffer: see model_woken().
      last_op_ = LastOp{LastOp::Kind::recv, obj.key, taken, true, {}, me};
    } else if (obj.senders > 0) {  // the value comes with the sender's wake
      last_op_ = LastOp{LastOp::Kind::recv, obj.key, taken, false, {}, me};
      awaiting_ = me;
    } else if (obj.closed) {
      model_.observe(me, 0x7a65726fULL + taken);
    } else {
      model_.poison();  // not as the description predicts
    }
    return;
  }
  Hash128 value = model_.value_of(me, taken);
  model_.observe(me, 0x73656e74ULL + taken);
  if (obj.receivers > 0) {
    last_op_ = LastOp{LastOp::Kind::send, obj.key, taken, false, value, me};
  } else if (obj.length < obj.capacity) {
    model_.push(obj.key, value);
  } else {
    model_.poison();
  }
}

void DfsStrategy::model_woken(std::uint64_t task, std::uint64_t waker, const TaskOp& op) {
  if (!modeling()) return;
  model_.dequeue_everywhere(task);
  model_.set_status(task, dfs_detail::StateModel::woken);
  if (last_op_.kind == LastOp::Kind::none || last_op_.task != waker) {
    model_.poison();
    return;
  }
  if (last_op_.kind == LastOp::Kind::sync) {
    model_.observe(task, 0x77616b65ULL);
    return;
  }
  // Which of its cases: the one on the waker's channel.
  const std::vector<Obj>& objects = op.objects.objects;
  std::size_t index = kNone;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    if (objects[i].key == 0 || base_key(objects[i].key) != base_key(last_op_.channel)) continue;
    if (index != kNone) {  // the channel twice: which case is not known
      model_.poison();
      return;
    }
    index = i;
  }
  if (index == kNone) {
    model_.poison();
    return;
  }
  switch (last_op_.kind) {
    case LastOp::Kind::send:  // the woken receiver gets the value
      model_.observe(task, 0x72637600ULL + index, last_op_.value);
      return;
    case LastOp::Kind::close:  // a receiver gets the zero value (a sender panics)
      model_.observe(task, 0x7a65726fULL + index);
      return;
    case LastOp::Kind::recv: {  // the woken sender's value: to the buffer, or to the waker
      const std::vector<dfs_detail::Hash128>& sending = model_.sending(task);
      if (index >= sending.size()) {
        model_.poison();
        return;
      }
      dfs_detail::Hash128 value = sending[index];
      if (last_op_.from_buffer) {
        model_.push(base_key(last_op_.channel), value);
      } else if (awaiting_ == waker) {
        model_.observe(waker, 0x72637600ULL + last_op_.index, value);
        awaiting_ = 0;
      } else {
        model_.poison();
        return;
      }
      model_.observe(task, 0x73656e74ULL + index);
      return;
    }
    default:
      model_.poison();
      return;
  }
}

void DfsStrategy::model_start(const DecisionPoint& point) {
  model_ = dfs_detail::StateModel{};
  // Every task from before the first node, so that the fingerprint counts
  // the same tasks wherever it is taken. Those that have not run yet start
  // from their closure (tasks of one closure are interchangeable).
  for (std::uint64_t task = 1; task < ops_.size(); ++task) {
    const TaskOp& op = ops_[task];
    bool fresh = options_.symmetry && op.origin != 0 && !op.ran;
    model_.begin(task, fresh ? op.origin : 0);
    if (op.finished) model_.set_status(task, dfs_detail::StateModel::finished);
  }
  // The code before the first node is the same in every run; what it left
  // in buffers the model takes at first sight (StateModel::check()), and
  // the tasks it left blocked are queued here, in task order (their real
  // order is the same in every run too).
  for (std::uint64_t task = 1; task < ops_.size(); ++task) {
    TaskOp& op = ops_[task];
    if (!op.subject || find_task(point, task) || (point.current && point.current->id == task)) {
      continue;
    }
    op.objects = describe(op.subject);
    op.described = true;
    const std::vector<int>* directions = directions_of(op);
    if (!directions && std::string_view(op.operation) != "sync.WaitGroup.Wait") {
      model_.poison();
      return;
    }
    model_.set_status(task, dfs_detail::StateModel::blocked);
    model_block(task, op.objects.objects, directions);
  }
}

void DfsStrategy::model_block(std::uint64_t task, const std::vector<Obj>& objects,
                              const std::vector<int>* directions) {
  std::vector<dfs_detail::Hash128>& sending = model_.sending(task);
  sending.assign(objects.size(), dfs_detail::Hash128{});
  for (std::size_t i = 0; i < objects.size(); ++i) {
    const Obj& obj = objects[i];
    if (obj.key == 0) continue;
    if (!directions) {  // a wait group: one queue of waiters
      model_.enqueue(obj.key, task);
      continue;
    }
    std::uint64_t part = (*directions)[i] > 0 ? kReceivers : kSenders;
    // A queue no waiter is taken from while others wait (so far: see
    // ordered_queues_) is kept as a set of waiters: their order is never seen.
    model_.enqueue(obj.key | part, task, queue_ordered(obj, part));
    if ((*directions)[i] < 0) sending[i] = model_.value_of(task, i);
  }
}

std::uint64_t DfsStrategy::current_task_id() {
  Executor* executor = current_executor();
  TaskRecord* task = executor ? executor->current_task() : nullptr;
  return task ? task->id : 0;
}

// ---- progress ----

// The share of the bounded tree explored, counting each node's options as
// equally large subtrees (Knuth's estimate along the current path).
double DfsStrategy::fraction_done() const {
  double done = 0;
  double weight = 1;
  for (const Node& node : nodes_) {
    if (node.allowed == 0) break;
    double share = weight / static_cast<double>(node.allowed);
    done += share * static_cast<double>(node.rank);
    weight = share;
    if (weight < 1e-12) break;
  }
  return std::clamp(done, 0.0, 1.0);
}

}  // namespace

std::unique_ptr<Strategy> make_dfs_strategy(DfsOptions options) {
  return std::make_unique<DfsStrategy>(options);
}

}  // namespace chanfuzz
