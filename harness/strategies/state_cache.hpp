// State caching for dfs: fingerprints of the states a search reaches, as
// the partial order of what the tasks did, and a table of those seen.
//
// The executor cannot hash its state: a task's state is a coroutine frame
// the runtime cannot read. But under dfs's assumption (tasks share memory
// only through channels, mutexes, wait groups and contexts) the state after
// a schedule is a function of its Mazurkiewicz trace: which events each task
// ran, and in what order conflicting events ran. Two schedules with the same
// trace reach the same state (up to the numbering of objects made in another
// order), so the search need not explore from there twice.
//
// An *event* is what one task does between two of its scheduling points:
// the operation there, and the code up to the next one. Its accesses are
// the object parts it read, wrote, or queued a waiter on (reads commute
// with reads, queue appends with appends; everything else conflicts). Each
// event is hashed with its task's previous event and, per part it accesses,
// the events it conflicts with before it: so an event's hash names its
// whole causal past, and the hashes of the tasks' last events name the
// whole trace (Mazurkiewicz's dependency graph). An event the strategy
// cannot describe (a clock jump, a timer decision, an object made outside
// the executor) is *global*: it depends on everything before it and
// everything after depends on it.
//
// The hash is 128 bits, two independent 64-bit lanes (splitmix64's
// finalizer): a collision would merge two states, so it is made unlikely
// enough not to matter (about n^2 / 2^129 for n states).
#pragma once

#include <algorithm>
#include <cstdint>
#include <tuple>
#include <utility>
#include <vector>

namespace chanfuzz::dfs_detail {

struct Hash128 {
  std::uint64_t a = 0, b = 0;
  friend bool operator==(const Hash128&, const Hash128&) = default;
};

inline std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// h then x, in order.
inline Hash128 mix(Hash128 h, std::uint64_t x) {
  return {mix64(h.a ^ mix64(x)),
          mix64(h.b ^ mix64(x ^ 0x5851f42d4c957f2dULL) ^ 0x14057b7ef767814fULL)};
}
inline Hash128 mix(Hash128 h, Hash128 x) { return mix(mix(h, x.a), x.b); }

// How an event touched a part of an object.
enum class Access : std::uint8_t { none = 0, read = 1, append = 2, write = 3 };

// The trace so far, as hashes.
class TraceHash {
 public:
  // One event of `task` (0: the clock) with its accesses (key, how; sorted
  // by key, one per key) and a hash of the decisions taken inside it.
  void event(std::uint64_t task, const std::vector<std::pair<std::uint64_t, Access>>& accesses,
             Hash128 decisions) {
    Hash128& chain = chain_of(task);
    Hash128 h = mix(mix(mix(Hash128{1, 2}, task), chain), global_);
    h = mix(h, decisions);
    for (const auto& [key, how] : accesses) {
      Part& part = part_of(key);
      Hash128 pred = (how == Access::write || part.group != how) ? closed(part) : part.base;
      h = mix(mix(mix(h, key), static_cast<std::uint64_t>(how)), pred);
    }
    chain = h;
    for (const auto& [key, how] : accesses) {
      Part& part = part_of(key);
      if (how == Access::write) {
        part = Part{key, h, Access::none, {}};
      } else if (part.group == how) {
        part.sum.a += h.a;  // reads (appends) in a row commute: a sum forgets their order
        part.sum.b += h.b;
      } else {
        part.base = closed(part);
        part.group = how;
        part.sum = h;
      }
    }
  }

  // An event that depends on everything before it; everything after
  // depends on it.
  void global_event(std::uint64_t task) {
    Hash128 h = mix(mix(Hash128{3, 4}, task), fingerprint());
    chain_of(task) = h;
    global_ = h;
  }

  // The trace: every task's last event (each names its causal past).
  Hash128 fingerprint() const {
    Hash128 h{5, 6};
    for (const auto& [task, chain] : chains_) h = mix(mix(h, task), chain);
    return mix(h, global_);
  }

  // A trace that starts from a known point (`seed`: what led there).
  void reset(Hash128 seed) {
    chains_.clear();
    parts_.clear();
    global_ = seed;
  }

 private:
  struct Part {
    std::uint64_t key = 0;
    Hash128 base;                 // the events up to the last write, and any closed groups
    Access group = Access::none;  // the open group of commuting accesses (reads or appends)
    Hash128 sum;                  // their hashes, summed
  };
  static Hash128 closed(const Part& part) {
    if (part.group == Access::none) return part.base;
    return mix(mix(part.base, static_cast<std::uint64_t>(part.group)), part.sum);
  }
  Hash128& chain_of(std::uint64_t task) {
    auto at = std::lower_bound(chains_.begin(), chains_.end(), task,
                               [](const auto& entry, std::uint64_t t) { return entry.first < t; });
    if (at == chains_.end() || at->first != task) at = chains_.insert(at, {task, Hash128{}});
    return at->second;
  }
  Part& part_of(std::uint64_t key) {
    auto at = std::lower_bound(parts_.begin(), parts_.end(), key,
                               [](const Part& part, std::uint64_t k) { return part.key < k; });
    if (at == parts_.end() || at->key != key)
      at = parts_.insert(at, Part{key, {}, Access::none, {}});
    return *at;
  }

  std::vector<std::pair<std::uint64_t, Hash128>> chains_;  // by task id
  std::vector<Part> parts_;                                // by key
  Hash128 global_;
};

// What one task did since its last scheduling point.
struct OpenEvent {
  std::vector<std::pair<std::uint64_t, Access>> accesses;  // sorted by key
  Hash128 decisions;
  bool global = false;
  bool open = false;  // something was recorded (or the task ran at all)

  void add(std::uint64_t key, Access how) {
    open = true;
    auto at = std::lower_bound(accesses.begin(), accesses.end(), key,
                               [](const auto& entry, std::uint64_t k) { return entry.first < k; });
    if (at == accesses.end() || at->first != key) {
      accesses.insert(at, {key, how});
    } else if (at->second != how) {
      at->second = Access::write;  // read and append, or either and write: conflicts with all
    }
  }
  void decision(std::uint64_t kind, std::uint64_t options, std::uint64_t value) {
    open = true;
    decisions = mix(mix(mix(decisions, kind), options), value);
  }
};

// States seen, with the tasks asleep and the preemptions spent when each
// was explored: a revisit with (at least) those tasks asleep and no fewer
// preemptions spent is pruned (from the same state, a smaller budget left
// allows only schedules the first visit's budget allowed). Open
// addressing, 24 bytes a slot (the preemptions spent take the low byte of
// the key's second word), growing up to `max_slots`; when full it stops
// learning (the search stays complete, it only prunes less).
class StateTable {
 public:
  explicit StateTable(std::size_t max_slots = std::size_t{1} << 23) : max_slots_(max_slots) {}

  // The most slots (a power of two, at least 2^16) that fit in `mib` MiB.
  static std::size_t slots_within(std::uint64_t mib) {
    std::size_t slots = std::size_t{1} << 16;
    while (slots < (std::size_t{1} << 40) && (slots * 2) * sizeof(Slot) <= (mib << 20)) slots *= 2;
    return slots;
  }

  // true: explored before with a sleep set within `asleep` and at most
  // `spent` preemptions spent (prune). Otherwise records the visit: with as
  // many preemptions spent, the sleep set kept is the intersection of both
  // (each visit explored all but its sleep set); with fewer, this visit
  // replaces the old one; with more, the old one stays.
  bool visit(Hash128 key, std::uint64_t asleep, std::uint64_t spent = 0) {
    if (spent >= 255) {  // too many to compare in a byte: kept apart, compared exactly
      key = mix(key, spent);
      spent = 255;
    }
    key.a ^= (key.b & 0xff) * 0x9e3779b97f4a7c15ULL;  // the byte the budget takes, kept in a
    key.b = (key.b & ~std::uint64_t{0xff}) | spent;
    if (key.a == 0 && (key.b >> 8) == 0) key.a = 1;  // 0,0 marks an empty slot
    if (slots_.empty()) slots_.resize(std::size_t{1} << 16);
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = key.a & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.key.a == 0 && slot.key.b == 0) break;
      if (slot.key.a == key.a && (slot.key.b >> 8) == (key.b >> 8)) {
        std::uint64_t before = slot.key.b & 0xff;
        if (before <= spent && (slot.asleep & ~asleep) == 0) return true;
        if (before == spent) {
          slot.asleep &= asleep;
        } else if (spent < before) {
          slot.key = key;
          slot.asleep = asleep;
        }
        return false;
      }
    }
    if ((used_ + 1) * 10 > slots_.size() * 7) {
      if (slots_.size() >= max_slots_) {
        full_ = true;
        return false;
      }
      grow();
      mask = slots_.size() - 1;
    }
    std::size_t i = key.a & mask;
    while (!(slots_[i].key.a == 0 && slots_[i].key.b == 0)) i = (i + 1) & mask;
    slots_[i] = Slot{key, asleep};
    ++used_;
    return false;
  }
  void clear() {
    slots_.clear();
    slots_.shrink_to_fit();
    used_ = 0;
    full_ = false;
  }
  std::size_t size() const { return used_; }
  bool full() const { return full_; }

 private:
  struct Slot {
    Hash128 key;
    std::uint64_t asleep = 0;
  };
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot{});
    std::size_t mask = slots_.size() - 1;
    for (const Slot& slot : old) {
      if (slot.key.a == 0 && slot.key.b == 0) continue;
      std::size_t i = slot.key.a & mask;
      while (!(slots_[i].key.a == 0 && slots_[i].key.b == 0)) i = (i + 1) & mask;
      slots_[i] = slot;
    }
  }

  std::vector<Slot> slots_;
  std::size_t used_ = 0;
  std::size_t max_slots_;
  bool full_ = false;
};

}  // namespace chanfuzz::dfs_detail

namespace chanfuzz::dfs_detail {

// The state itself, as far as it is not a function of the tasks' local
// states: a fingerprint that also merges schedules that are not
// Mazurkiewicz-equivalent but reach the same state (a rendezvous where the
// sender or the receiver arrived first, a value that went through a buffer
// or straight to a waiting receiver).
//
// A task's local state is a function of what its operations returned (the
// case a select took, the value a receive got and its ok flag, random
// values): its *local history*, a hash chain folded at each of its
// scheduling points. A value is named by its sender's local history at the
// send (and the case that sent it). What the histories do not determine is
// kept as a shadow of the objects: the values in each channel's buffer, in
// order, and the order of each queue of waiters. A wait group's counter, a
// mutex's holder and a channel's closed flag follow from the histories
// (which Add, Done, Lock, Unlock and close calls ran).
//
// The shadow is checked against the simulator at every operation (buffer
// length, queue lengths); anything it cannot follow (a timer, the clock,
// try_send, try_recv, Mutex.Lock (a woken waiter retries unseen), an
// object without identity, a select whose case directions are not known
// yet) *poisons* it for the rest of the run, and
// the search falls back to the trace hash.
class StateModel {
 public:
  enum Status : std::uint8_t { at_point = 0, blocked = 1, woken = 2, finished = 3 };

  bool poisoned() const { return poisoned_; }
  void poison() { poisoned_ = true; }

  // Observations: folded into the task's history at its next scheduling point.
  void observe(std::uint64_t task, std::uint64_t what, Hash128 value = {}) {
    Task& t = task_of(task);
    t.obs = mix(mix(t.obs, what), value);
  }
  // The task reached a scheduling point.
  void point(std::uint64_t task) {
    Task& t = task_of(task);
    t.local = mix(mix(t.local, 0x70696e74ULL), t.obs);
    t.obs = {};
    t.status = at_point;
  }
  void set_status(std::uint64_t task, Status status) { task_of(task).status = status; }
  // A value `task` sends now in case `index`.
  Hash128 value_of(std::uint64_t task, std::uint64_t index) {
    Task& t = task_of(task);
    return mix(mix(t.local, 0x76616cULL), index);
  }
  // A task spawned by `parent` (0: none) now, from a closure of origin
  // `closure` (detail::SpawnOrigin; 0: unknown). Tasks made from equal
  // closures start in the same local state wherever they were spawned: they
  // are interchangeable (symmetry); any other task starts from where its
  // parent was.
  void spawned(std::uint64_t task, std::uint64_t parent, std::uint64_t closure = 0) {
    Hash128 origin = mix(Hash128{9, 10}, parent);
    if (parent != 0) {
      Task& p = task_of(parent);
      origin = mix(mix(origin, p.local), p.obs);
      p.obs = mix(p.obs, 0x737061776eULL);
    }
    if (closure != 0) origin = mix(Hash128{17, 18}, closure);
    Task& t = task_of(task);
    t.local = t.birth = origin;
  }
  // A task from before the search recorded: at the start of `closure` (a
  // task that has not run yet), else in a state of its own.
  void begin(std::uint64_t task, std::uint64_t closure) {
    if (closure != 0) {
      spawned(task, 0, closure);
    } else {
      task_of(task);
    }
  }
  // chanfuzz::checkpoint(): the task's history is forgotten; its state is
  // where it began, `at` (the site and the state it declared) and what it
  // does from now on.
  void checkpoint(std::uint64_t task, Hash128 at) {
    Task& t = task_of(task);
    t.local = mix(mix(t.birth, 0x636b7074ULL), at);
    t.obs = {};
  }

  // Channel buffers (by base key) and queues of waiters (by part key).
  // check(): the shadow agrees with what the simulator described; a
  // channel seen the first time takes the values it holds as values made
  // before the search recorded anything (the same in every run).
  bool check(std::uint64_t channel, std::uint64_t length, std::uint64_t receivers_key,
             std::uint64_t receivers, std::uint64_t senders_key, std::uint64_t senders) {
    Buffer& buffer = buffer_of(channel, length);
    return buffer.values.size() == length && queue_of(receivers_key).waiters.size() == receivers &&
           queue_of(senders_key).waiters.size() == senders;
  }
  void push(std::uint64_t channel, Hash128 value) { buffer_of(channel, 0).values.push_back(value); }
  bool pop(std::uint64_t channel, Hash128& value) {
    Buffer& buffer = buffer_of(channel, 0);
    if (buffer.values.empty()) return false;
    value = buffer.values.front();
    buffer.values.erase(buffer.values.begin());
    return true;
  }
  // `ordered`: the order of the queue's waiters counts (else it is a set:
  // no waiter is ever taken from it while others wait, so it never shows).
  void enqueue(std::uint64_t key, std::uint64_t task, bool ordered = true) {
    Queue& queue = queue_of(key);
    queue.waiters.push_back(task);
    queue.ordered = ordered;
  }
  void dequeue_everywhere(std::uint64_t task) {
    for (Queue& queue : queues_) std::erase(queue.waiters, task);
  }
  // What a blocked task offers to send, per case.
  std::vector<Hash128>& sending(std::uint64_t task) { return task_of(task).sending; }

  // The state, with tasks named by what they are, not by their ids: the
  // multiset of task states, and each queue as the states of its waiters
  // (in order, or as a multiset where the order never shows).
  // Two states that differ only by which of two interchangeable tasks is
  // which (same local state, status and queue positions) get one
  // fingerprint.
  Hash128 fingerprint() const {
    std::vector<Hash128> states;
    for (std::uint64_t id = 0; id < tasks_.size(); ++id) {
      if (tasks_[id].known) states.push_back(state_of(id));
    }
    std::sort(states.begin(), states.end(), less);
    Hash128 h{11, 12};
    for (const Hash128& state : states) h = mix(h, state);
    h = mix(h, 0x62756673ULL);
    for (const Buffer& buffer : buffers_) {
      if (buffer.values.empty()) continue;
      h = mix(mix(h, buffer.key), buffer.values.size());
      for (const Hash128& value : buffer.values) h = mix(h, value);
    }
    h = mix(h, 0x71756575ULL);
    for (const Queue& queue : queues_) {
      if (queue.waiters.empty()) continue;
      h = mix(mix(h, queue.key), queue.waiters.size());
      states.clear();
      for (std::uint64_t task : queue.waiters) states.push_back(state_of(task));
      if (!queue.ordered) std::sort(states.begin(), states.end(), less);
      for (const Hash128& state : states) h = mix(h, state);
    }
    return h;
  }

  // The parts of a search node that name tasks, in the fingerprint's terms:
  // the current task's state, and the tasks asleep as positions in a
  // canonical order (by state, then queue position, the current task first,
  // then those asleep first: interchangeable tasks are ordered so that a
  // revisit with as many of them asleep compares as a superset). false:
  // more than 64 tasks.
  bool canonical(std::uint64_t current, const std::vector<std::uint64_t>& asleep,
                 Hash128& current_state, std::uint64_t& mask) {
    for (std::uint64_t task : asleep) task_of(task);
    current_state = current == 0 ? Hash128{} : state_hash(task_of(current));
    struct Entry {
      Hash128 state;
      std::uint64_t rank, current, awake, id;
    };
    std::vector<Entry> order;
    for (std::uint64_t id = 0; id < tasks_.size(); ++id) {
      if (tasks_[id].known) order.push_back(Entry{state_of(id), 0, id == current ? 0u : 1u, 1, id});
    }
    if (order.size() > 64) return false;
    for (std::uint64_t task : asleep) {
      auto at =
          std::find_if(order.begin(), order.end(), [task](const Entry& e) { return e.id == task; });
      at->awake = 0;
    }
    // Waiters of one state wait in the same queues, in the order they came
    // (where the order counts).
    for (const Queue& queue : queues_) {
      if (!queue.ordered) continue;
      for (std::size_t i = 0; i < queue.waiters.size(); ++i) {
        for (Entry& e : order) {
          if (e.id == queue.waiters[i] && e.rank == 0) e.rank = i + 1;
        }
      }
    }
    std::sort(order.begin(), order.end(), [](const Entry& x, const Entry& y) {
      if (!(x.state == y.state)) return less(x.state, y.state);
      return std::tie(x.rank, x.current, x.awake, x.id) <
             std::tie(y.rank, y.current, y.awake, y.id);
    });
    mask = 0;
    for (std::size_t i = 0; i < order.size(); ++i) {
      if (order[i].awake == 0) mask |= std::uint64_t{1} << i;
    }
    return true;
  }

 private:
  struct Task {
    bool known = false;
    Hash128 local, obs;
    Hash128 birth;  // local when it began
    Status status = at_point;
    std::vector<Hash128> sending;
  };
  struct Buffer {
    std::uint64_t key = 0;
    std::vector<Hash128> values;
  };
  struct Queue {
    std::uint64_t key = 0;
    std::vector<std::uint64_t> waiters;
    bool ordered = true;
  };
  Task& task_of(std::uint64_t task) {
    if (task >= tasks_.size()) tasks_.resize(task + 1);
    Task& t = tasks_[task];
    if (!t.known) {  // a task from before the search recorded: the same in every run
      t.known = true;
      t.local = t.birth = mix(Hash128{13, 14}, task);
    }
    return t;
  }
  Buffer& buffer_of(std::uint64_t key, std::uint64_t length) {
    auto at = std::lower_bound(buffers_.begin(), buffers_.end(), key,
                               [](const Buffer& b, std::uint64_t k) { return b.key < k; });
    if (at == buffers_.end() || at->key != key) {
      at = buffers_.insert(at, Buffer{key, {}});
      for (std::uint64_t i = 0; i < length; ++i) {
        at->values.push_back(mix(mix(Hash128{15, 16}, key), i));
      }
    }
    return *at;
  }
  Queue& queue_of(std::uint64_t key) {
    auto at = std::lower_bound(queues_.begin(), queues_.end(), key,
                               [](const Queue& q, std::uint64_t k) { return q.key < k; });
    if (at == queues_.end() || at->key != key) at = queues_.insert(at, Queue{key, {}});
    return *at;
  }

  Hash128 state_of(std::uint64_t id) const { return state_hash(tasks_[id]); }
  static Hash128 state_hash(const Task& t) {
    if (t.status == finished) return Hash128{19, 21};  // it will do nothing more: no history
    return mix(mix(mix(Hash128{19, 20}, t.local), t.obs), static_cast<std::uint64_t>(t.status));
  }
  static bool less(const Hash128& x, const Hash128& y) {
    return x.a != y.a ? x.a < y.a : x.b < y.b;
  }

  std::vector<Task> tasks_;
  std::vector<Buffer> buffers_;
  std::vector<Queue> queues_;
  bool poisoned_ = false;
};

}  // namespace chanfuzz::dfs_detail
