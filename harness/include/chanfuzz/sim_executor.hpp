// SimExecutor: the deterministic executor. One thread, a virtual clock, and
// every nondeterministic choice a decision of its Strategy, recorded in the
// run's trace (DESIGN.md decisions 3-5).
//
//   SimExecutor sim({.seed = 42});
//   RunResult result = sim.run(scenario());
//   if (result.outcome == RunOutcome::leak) ...   // result.tasks: the leaked tasks
//
// One run per SimExecutor. run() returns when the run is over:
// - ok:         main returned, and once nothing could run and no timer was
//               pending, every task had exited;
// - leak:       main returned, but tasks were still blocked at quiescence;
// - deadlock:   every task blocked, no timer pending, main not returned;
// - panic:      an exception escaped a task (the run stops at once, as a Go
//               program dies);
// - assertion:  a task called fail_assertion() (chanfuzz::require);
// - step_limit: more than max_steps scheduling steps;
// - diverged:   the strategy could not answer a decision (a stale trace).
// Then every task still alive is destroyed, so a run leaves nothing behind.
//
// Scheduling: each scheduling point (every channel operation, select, lock,
// wait, sleep, yield) is one step and one decision among the runnable tasks,
// the current one included (it goes on without suspending when chosen).
// Spawning adds a runnable task. Due timers fire at each scheduling point,
// before the decision. The clock starts at zero and advances to the earliest
// timer when nothing can run, or early when the strategy takes the clock
// option.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chanfuzz/executor.hpp"
#include "chanfuzz/strategy.hpp"

namespace chanfuzz {

// One thing that happened in a run, for SimOptions::observer (replay
// --verbose prints them as the interleaving, step by step).
struct SimEvent {
  enum class Kind : std::uint8_t {
    operation,   // a task reached a scheduling point (or a non-suspending operation)
    preempted,   // at that point the strategy ran another task first (`other`)
    blocked,     // the task began to wait (operation is Go's wait reason)
    woken,       // the task can run again (`other`: the task that woke it, 0: a timer)
    spawned,     // a new task (where: the go() call)
    finished,    // the task returned (or died of a panic)
    clock,       // the virtual clock moved to `now`
    checkpoint,  // the task declared its state (chanfuzz::checkpoint; object: the state)
    changed,     // the running code changed `object` with no step: a Context's cancel
                 // closed its done channel, a LockGuard unlocked; object 0 with operation
                 // "timer": a timer was armed, cancelled or fires
    resumed,     // the task runs again at the scheduling point where another task ran
                 // first (preempted), or retries a woken wait: its operation runs now,
                 // whether a decision chose the task or it was the only one runnable
  };
  Kind kind = Kind::operation;
  std::uint64_t step = 0;
  std::uint64_t task = 0;  // 0: none
  std::string_view task_name{};
  std::uint64_t other = 0;  // preempted: the task that runs instead; woken: who woke it;
                            // spawned: the task that called go() (0: none)
  const char* operation = "";
  SourceLocation where;
  const Blocker* subject = nullptr;  // operation: what it acts on (null for the others)
  std::uint64_t object = 0;  // a poll point's object id, if it names one (close, Add, Unlock);
                             // spawned: the closure's origin (detail::SpawnOrigin; 0: none)
  TimePoint now{};
};

// One line for an event: "step 12  task 2 "producer"  chan send  chan int #1 (...)  at f.cpp:9".
std::string format_event(const SimEvent& event);

struct SimOptions {
  std::uint64_t seed = 1;
  std::uint64_t max_steps = 100000;
  Strategy* strategy = nullptr;                     // not owned; null: a RandomStrategy
  bool clock_jumps = true;                          // offer the clock option while tasks can run
  std::function<void(const SimEvent&)> observer{};  // sees every event; empty: none
};

enum class RunOutcome : std::uint8_t { ok, leak, deadlock, panic, assertion, step_limit, diverged };
// "ok", "leak", "deadlock", "panic", "assertion", "step-limit", "diverged"
const char* run_outcome_name(RunOutcome outcome) noexcept;

struct Decision {
  DecisionKind kind = DecisionKind::task;
  std::uint64_t options = 0;
  std::uint64_t value = 0;
  friend bool operator==(const Decision&, const Decision&) = default;
};

struct RunResult {
  RunOutcome outcome = RunOutcome::ok;
  bool main_returned = false;
  std::string message;          // panic: the exception; diverged: where
  std::vector<TaskInfo> tasks;  // leaked, deadlocked or panicked tasks, by id
  std::vector<Decision> decisions;
  std::uint64_t steps = 0;
  std::uint64_t tasks_spawned = 0;
  TimePoint end_time{};
};

class SimExecutor final : public Executor {
 public:
  explicit SimExecutor(SimOptions options = {});
  ~SimExecutor() override;
  SimExecutor(const SimExecutor&) = delete;
  SimExecutor& operator=(const SimExecutor&) = delete;

  // Runs `main` (named "main") to the end of the run. Once per executor.
  // `where`, if given, is reported as main's creation site (Go prints none).
  RunResult run(Task<void> main, SourceLocation where = {});

  const SimOptions& options() const noexcept { return options_; }

  // Fails the run as `assertion`, against the current task; the run stops at
  // the next scheduling point. chanfuzz::require() calls this.
  void fail_assertion(std::string message, SourceLocation where);
  std::uint64_t steps() const noexcept { return step_; }

  // ---- Executor ----
  void spawn(Task<void> task, std::string name, SourceLocation where) override;
  TaskRecord* current_task() noexcept override { return current_; }
  std::size_t num_tasks() const override { return live_; }
  std::vector<TaskInfo> tasks() const override;
  bool schedule_point(const char* operation, SourceLocation where, const Blocker* subject) override;
  void poll_point(const char* operation, SourceLocation where) override;
  void poll_point_on(const char* operation, SourceLocation where, std::uint64_t object) override;
  void note_change(const char* operation, std::uint64_t object) override;
  void note_checkpoint(std::uint64_t state, SourceLocation where) override;
  bool wants_spawn_origins() const noexcept override {
    return static_cast<bool>(options_.observer);
  }
  void preempt(std::coroutine_handle<> self, PendingOp* op) override;
  void block(std::coroutine_handle<> self, WaitReason reason, SourceLocation where,
             const Blocker* blocker) override;
  void wake(TaskRecord* task, PendingOp* retry = nullptr) override;
  std::uint64_t choose(DecisionKind kind, std::uint64_t n) override;
  TimePoint now() const override { return now_; }
  void add_timer(TimerNode* timer) override;
  bool cancel_timer(TimerNode* timer) override;
  std::uint64_t new_object_id() override { return next_object_id_++; }

 private:
  enum class Stop : std::uint8_t { none, panic, assertion, step_limit, diverged };

  std::uint64_t decide(DecisionKind kind, std::uint64_t options, TaskRecord* current,
                       bool clock_option);
  TaskRecord* pick_next();
  void run_task(TaskRecord* task);
  void finish(TaskRecord* task);
  void make_runnable(TaskRecord* task);
  void count_step();
  void advance_clock();
  void fire_due_timers();
  void heap_push(TimerNode* timer);
  TimerNode* heap_pop();
  void heap_remove(TimerNode* timer);
  void heap_sift_up(std::size_t i);
  void heap_sift_down(std::size_t i);
  std::vector<TaskInfo> live_task_infos() const;
  [[gnu::noinline]] void note_timer();  // a `changed` event for a timer
  void notify(SimEvent::Kind kind, const TaskRecord* task, const char* operation = "",
              SourceLocation where = {}, const Blocker* subject = nullptr, std::uint64_t other = 0,
              std::uint64_t object = 0);
  void teardown();

  SimOptions options_;
  std::unique_ptr<Strategy> owned_strategy_;
  Strategy* strategy_;

  // Tasks: index id - 1; null once finished. Ids are dense and start at 1.
  std::vector<std::unique_ptr<TaskRecord>> tasks_;
  std::size_t live_ = 0;
  // The runnable tasks by increasing id (not the current task): a vector with
  // a head index, so taking the first one, the usual choice and the order in
  // which a close() wakes its waiters, is O(1) instead of a memmove of the
  // rest (cancelling 10,000 tasks was quadratic). The order, and so every
  // decision and trace, is that of a plain sorted vector.
  class RunQueue {
   public:
    std::size_t size() const noexcept { return items_.size() - head_; }
    bool empty() const noexcept { return head_ == items_.size(); }
    TaskRecord* operator[](std::size_t i) const noexcept { return items_[head_ + i]; }
    std::span<TaskRecord* const> view() const noexcept { return {items_.data() + head_, size()}; }
    void push_back(TaskRecord* task) { items_.push_back(task); }  // caller: the highest id
    void insert_sorted(TaskRecord* task);
    TaskRecord* take(std::size_t i);
    void clear() noexcept {
      items_.clear();
      head_ = 0;
    }

   private:
    std::vector<TaskRecord*> items_;
    std::size_t head_ = 0;  // items_[0, head_) are taken
  };
  RunQueue runnable_;
  TaskRecord* current_ = nullptr;
  TaskRecord* next_ = nullptr;  // chosen at a preemption, runs next
  TaskRecord* main_ = nullptr;
  bool main_returned_ = false;

  // Timers: a binary heap on (when, sequence); `due_` holds the timers being
  // fired now (popped from the heap, not yet fired).
  std::vector<TimerNode*> heap_;
  std::vector<TimerNode*> due_;
  std::uint64_t timer_sequence_ = 0;
  TimePoint now_{};

  std::uint64_t step_ = 0;
  std::uint64_t next_object_id_ = 1;
  std::vector<Decision> decisions_;
  Stop stop_ = Stop::none;
  RunResult result_;
  bool ran_ = false;
  bool tearing_down_ = false;
};

}  // namespace chanfuzz
