// SimExecutor: the deterministic single-threaded executor.
#include "chanfuzz/sim_executor.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <typeinfo>

namespace chanfuzz {

namespace {

// Thrown out of a non-suspending operation (try_send, try_recv, close ...)
// once the run is over, so that a task that only polls cannot spin forever.
// Not a std::exception: user code catching std::exception lets it through.
struct RunStopped {};

constexpr std::size_t kDueIndex = TimerNode::npos - 1;  // popped, about to fire

bool timer_before(const TimerNode* a, const TimerNode* b) noexcept {
  if (a->when != b->when) return a->when < b->when;
  return a->sequence < b->sequence;
}

std::string describe_exception(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const Panic& panic) {
    return panic.what();
  } catch (const std::exception& e) {
    return type_name(typeid(e).name()) + ": " + e.what();
  } catch (const RunStopped&) {
    return "run stopped";
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

}  // namespace

const char* run_outcome_name(RunOutcome outcome) noexcept {
  switch (outcome) {
    case RunOutcome::ok:
      return "ok";
    case RunOutcome::leak:
      return "leak";
    case RunOutcome::deadlock:
      return "deadlock";
    case RunOutcome::panic:
      return "panic";
    case RunOutcome::assertion:
      return "assertion";
    case RunOutcome::step_limit:
      return "step-limit";
    case RunOutcome::diverged:
      return "diverged";
  }
  return "?";
}

SimExecutor::SimExecutor(SimOptions options) : options_(options), strategy_(options.strategy) {
  if (!strategy_) {
    owned_strategy_ = std::make_unique<RandomStrategy>();
    strategy_ = owned_strategy_.get();
  }
}

SimExecutor::~SimExecutor() {
  if (!tearing_down_) teardown();
}

RunResult SimExecutor::run(Task<void> main, SourceLocation where) {
  if (ran_)
    throw std::logic_error("chanfuzz: SimExecutor::run called twice (one run per executor)");
  if (!main) throw std::logic_error("chanfuzz: SimExecutor::run called with an empty Task");
  ran_ = true;
  CurrentExecutorScope scope(this);
  strategy_->begin_run(options_.seed);
  spawn(std::move(main), "main", where);
  main_ = tasks_.front().get();

  while (stop_ == Stop::none) {
    TaskRecord* task = std::exchange(next_, nullptr);
    if (!task) {
      fire_due_timers();
      task = pick_next();
      if (!task) break;
    }
    run_task(task);
  }

  result_.main_returned = main_returned_;
  result_.steps = step_;
  result_.tasks_spawned = tasks_.size();
  result_.end_time = now_;
  switch (stop_) {
    case Stop::panic:
      result_.outcome = RunOutcome::panic;
      break;
    case Stop::assertion:
      result_.outcome = RunOutcome::assertion;
      break;
    case Stop::step_limit:
      result_.outcome = RunOutcome::step_limit;
      result_.message = "more than " + std::to_string(options_.max_steps) + " scheduling steps";
      result_.tasks = live_task_infos();
      break;
    case Stop::diverged:
      result_.outcome = RunOutcome::diverged;
      result_.tasks = live_task_infos();
      break;
    case Stop::none:
      if (!main_returned_) {
        result_.outcome = RunOutcome::deadlock;
        result_.message = "all tasks are asleep";
        result_.tasks = live_task_infos();
      } else if (live_ > 0) {
        result_.outcome = RunOutcome::leak;
        result_.message = std::to_string(live_) + (live_ == 1 ? " task" : " tasks") +
                          " still blocked after main returned";
        result_.tasks = live_task_infos();
      } else {
        result_.outcome = RunOutcome::ok;
      }
      break;
  }
  result_.decisions = std::move(decisions_);
  teardown();
  strategy_->end_run();
  return std::move(result_);
}

// ---- tasks ----

void SimExecutor::spawn(Task<void> task, std::string name, SourceLocation where) {
  if (tearing_down_) return;  // destroyed at once: nothing runs after the run ended
  auto record = std::make_unique<TaskRecord>();
  record->id = tasks_.size() + 1;
  record->name = std::move(name);
  record->executor = this;
  record->resume_handle = task.handle();
  record->task = std::move(task);
  record->state = TaskState::runnable;
  record->created_at = where;
  record->parent_id = current_ ? current_->id : 0;
  TaskRecord* raw = record.get();
  tasks_.push_back(std::move(record));
  ++live_;
  runnable_.push_back(raw);  // the highest id so far: stays sorted
  if (options_.observer) {
    notify(SimEvent::Kind::spawned, raw, "go", where, nullptr, current_ ? current_->id : 0,
           detail::spawn_origin());
  }
}

std::vector<TaskInfo> SimExecutor::tasks() const { return live_task_infos(); }

std::vector<TaskInfo> SimExecutor::live_task_infos() const {
  std::vector<TaskInfo> out;
  out.reserve(live_);
  for (const auto& task : tasks_) {
    if (task && task->state != TaskState::finished) out.push_back(task->info(step_, now_));
  }
  return out;
}

void SimExecutor::run_task(TaskRecord* task) {
  current_ = task;
  task->state = TaskState::running;
  task->wait_reason = WaitReason::none;
  task->blocker = nullptr;
  bool resume = true;
  if (task->pending && options_.observer) {
    notify(SimEvent::Kind::resumed, task, "", task->blocked_at);
  }
  if (PendingOp* op = std::exchange(task->pending, nullptr)) resume = op->attempt();
  if (resume) detail::resume_chain(task->resume_handle);
  current_ = nullptr;
  if (task->task.done()) finish(task);
}

void SimExecutor::finish(TaskRecord* task) {
  task->state = TaskState::finished;
  if (options_.observer) notify(SimEvent::Kind::finished, task);
  if (auto error = task->task.exception(); error && stop_ == Stop::none) {
    stop_ = Stop::panic;
    TaskInfo info = task->info(step_, now_);
    info.state = "panicked";
    info.panic = describe_exception(error);
    result_.message = info.panic;
    result_.tasks.push_back(std::move(info));
  }
  if (task == main_) {
    main_returned_ = !task->task.exception();  // returned, not died
    main_ = nullptr;
  }
  task->task.reset();
  --live_;
  tasks_[task->id - 1].reset();  // `task` is gone from here on
}

void SimExecutor::make_runnable(TaskRecord* task) { runnable_.insert_sorted(task); }

void SimExecutor::RunQueue::insert_sorted(TaskRecord* task) {
  // Woken tasks are usually the newest: appending is the common case.
  if (empty() || items_.back()->id < task->id) {
    items_.push_back(task);
    return;
  }
  auto first = items_.begin() + static_cast<std::ptrdiff_t>(head_);
  auto at =
      std::upper_bound(first, items_.end(), task,
                       [](const TaskRecord* a, const TaskRecord* b) { return a->id < b->id; });
  if (at == first && head_ > 0) {
    items_[--head_] = task;  // before every other one: reuse a taken slot
    return;
  }
  items_.insert(at, task);
}

TaskRecord* SimExecutor::RunQueue::take(std::size_t i) {
  TaskRecord* task = items_[head_ + i];
  if (i == 0) {
    if (++head_ == items_.size()) {
      clear();
    } else if (head_ >= 64 && head_ * 2 >= items_.size()) {
      // Compact now and then: amortised O(1) per task taken.
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  } else if (head_ + i + 1 == items_.size()) {
    items_.pop_back();
  } else {
    items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(head_ + i));
  }
  return task;
}

void SimExecutor::fail_assertion(std::string message, SourceLocation where) {
  if (stop_ != Stop::none) return;
  stop_ = Stop::assertion;
  result_.message = std::move(message);
  if (current_) {
    TaskInfo info = current_->info(step_, now_);
    info.state = "assertion failed";
    info.blocked_at = where;
    info.panic = result_.message;
    result_.tasks.push_back(std::move(info));
  }
}

// ---- scheduling ----

void SimExecutor::count_step() {
  if (++step_ > options_.max_steps && stop_ == Stop::none) stop_ = Stop::step_limit;
}

bool SimExecutor::schedule_point(const char* operation, SourceLocation where,
                                 const Blocker* subject) {
  TaskRecord* self = current_;
  if (!self) throw std::logic_error("chanfuzz: a blocking operation was awaited outside a task");
  self->blocked_at = where;
  count_step();
  if (options_.observer) notify(SimEvent::Kind::operation, self, operation, where, subject);
  if (stop_ != Stop::none) return false;
  if (!heap_.empty()) fire_due_timers();  // inline test: most operations have no timer armed
  for (;;) {
    bool clock = options_.clock_jumps && !heap_.empty();
    std::uint64_t options = runnable_.size() + 1 + (clock ? 1 : 0);
    if (options == 1) return true;
    std::uint64_t choice = decide(DecisionKind::task, options, self, clock);
    if (stop_ != Stop::none) return false;
    if (clock && choice == options - 1) {
      advance_clock();
      fire_due_timers();
      continue;
    }
    if (choice == runnable_.size()) return true;  // the current task goes on
    next_ = runnable_.take(choice);
    if (options_.observer) {
      notify(SimEvent::Kind::preempted, self, operation, where, nullptr, next_->id);
    }
    return false;
  }
}

void SimExecutor::poll_point(const char* operation, SourceLocation where) {
  poll_point_on(operation, where, 0);
}

void SimExecutor::poll_point_on(const char* operation, SourceLocation where, std::uint64_t object) {
  if (!current_) return;  // timer callbacks, teardown
  current_->blocked_at = where;
  count_step();
  if (options_.observer) {
    notify(SimEvent::Kind::operation, current_, operation, where, nullptr, 0, object);
  }
  if (stop_ != Stop::none) throw RunStopped{};
}

// Out of line: fire_due_timers() stays as lean as it was without observers.
void SimExecutor::note_timer() { notify(SimEvent::Kind::changed, current_, "timer"); }

void SimExecutor::note_change(const char* operation, std::uint64_t object) {
  if (options_.observer)
    notify(SimEvent::Kind::changed, current_, operation, {}, nullptr, 0, object);
}

void SimExecutor::note_checkpoint(std::uint64_t state, SourceLocation where) {
  if (options_.observer)
    notify(SimEvent::Kind::checkpoint, current_, "checkpoint", where, nullptr, 0, state);
}

void SimExecutor::preempt(std::coroutine_handle<> self, PendingOp* op) {
  TaskRecord* task = current_;
  task->resume_handle = self;
  task->pending = op;
  task->state = TaskState::runnable;
  make_runnable(task);
}

void SimExecutor::block(std::coroutine_handle<> self, WaitReason reason, SourceLocation where,
                        const Blocker* blocker) {
  TaskRecord* task = current_;
  task->resume_handle = self;
  task->state = TaskState::waiting;
  task->wait_reason = reason;
  task->blocked_at = where;
  task->blocker = blocker;
  task->blocked_step = step_;
  task->blocked_time = now_;
  // No subject: block() runs under the object's lock, and describing the
  // object would take it again. The operation event before names it.
  if (options_.observer) notify(SimEvent::Kind::blocked, task, wait_reason_name(reason), where);
}

void SimExecutor::wake(TaskRecord* task, PendingOp* retry) {
  if (task->state != TaskState::waiting) internal_error("wake of a task that is not waiting");
  task->state = TaskState::runnable;
  task->wait_reason = WaitReason::none;
  task->blocker = nullptr;
  task->pending = retry;
  if (tearing_down_) return;
  make_runnable(task);
  if (options_.observer) {
    notify(SimEvent::Kind::woken, task, "", {}, nullptr, current_ ? current_->id : 0);
  }
}

std::uint64_t SimExecutor::choose(DecisionKind kind, std::uint64_t n) {
  if (n < 2) return 0;
  return decide(kind, n, nullptr, false);
}

std::uint64_t SimExecutor::decide(DecisionKind kind, std::uint64_t options, TaskRecord* current,
                                  bool clock_option) {
  DecisionPoint point;
  point.kind = kind;
  point.options = options;
  if (kind == DecisionKind::task) {
    point.runnable = runnable_.view();
    point.current = current;
    point.clock_option = clock_option;
  }
  point.step = step_;
  std::uint64_t value = strategy_->choose(point);
  if (value >= options) {
    // The run goes on only to the next scheduling point; the answer is not recorded.
    if (stop_ == Stop::none) {
      stop_ = Stop::diverged;
      result_.message = strategy_->divergence();
      if (result_.message.empty()) {
        std::ostringstream message;
        message << "strategy " << strategy_->name() << " gave no answer at decision "
                << decisions_.size() << " (step " << step_ << "): a " << decision_kind_name(kind)
                << " decision with " << options << " options";
        result_.message = message.str();
      }
    }
    return 0;
  }
  decisions_.push_back(Decision{kind, options, value});
  return value;
}

TaskRecord* SimExecutor::pick_next() {
  for (;;) {
    if (stop_ != Stop::none) return nullptr;
    if (runnable_.empty()) {
      if (heap_.empty()) return nullptr;  // quiescent (or deadlocked)
      advance_clock();
      fire_due_timers();
      continue;
    }
    bool clock = options_.clock_jumps && !heap_.empty();
    std::uint64_t options = runnable_.size() + (clock ? 1 : 0);
    std::uint64_t choice = options == 1 ? 0 : decide(DecisionKind::task, options, nullptr, clock);
    if (stop_ != Stop::none) return nullptr;
    if (clock && choice == options - 1) {
      advance_clock();
      fire_due_timers();
      continue;
    }
    return runnable_.take(choice);
  }
}

// ---- time ----

void SimExecutor::advance_clock() {
  if (!heap_.empty() && heap_.front()->when > now_) {
    now_ = heap_.front()->when;
    if (options_.observer) notify(SimEvent::Kind::clock, nullptr);
  }
}

void SimExecutor::notify(SimEvent::Kind kind, const TaskRecord* task, const char* operation,
                         SourceLocation where, const Blocker* subject, std::uint64_t other,
                         std::uint64_t object) {
  SimEvent event;
  event.kind = kind;
  event.step = step_;
  if (task) {
    event.task = task->id;
    event.task_name = task->name;
  }
  event.operation = operation;
  event.where = where;
  event.subject = subject;
  event.other = other;
  event.object = object;
  event.now = now_;
  options_.observer(event);
}

std::string format_event(const SimEvent& event) {
  std::ostringstream out;
  out << "step " << event.step << "  ";
  if (event.task != 0) {
    out << "task " << event.task;
    if (!event.task_name.empty()) out << " \"" << event.task_name << "\"";
    out << "  ";
  }
  switch (event.kind) {
    case SimEvent::Kind::operation:
      out << event.operation;
      break;
    case SimEvent::Kind::blocked:
      out << "blocks [" << event.operation << "]";
      break;
    case SimEvent::Kind::preempted:
      out << "preempted before " << event.operation << ": task " << event.other << " runs";
      break;
    case SimEvent::Kind::woken:
      out << "woken";
      if (event.other != 0) {
        out << " by task " << event.other;
      } else {
        out << " by a timer";
      }
      break;
    case SimEvent::Kind::spawned:
      out << "spawned";
      break;
    case SimEvent::Kind::finished:
      out << "returned";
      break;
    case SimEvent::Kind::checkpoint:
      out << "checkpoint " << event.object;
      break;
    case SimEvent::Kind::resumed:
      out << "resumes";
      break;
    case SimEvent::Kind::changed:
      out << "changes";
      if (event.object != 0) out << " #" << event.object;
      out << " [" << event.operation << "]";
      break;
    case SimEvent::Kind::clock:
      out << "clock -> "
          << std::chrono::duration<double, std::milli>(event.now.time_since_epoch()).count()
          << "ms";
      break;
  }
  if (event.subject) {
    std::vector<WaitObject> objects;
    event.subject->describe(objects);
    for (const auto& object : objects) out << "  " << object.describe();
  }
  if (event.where.known()) out << "  at " << format_location(event.where);
  return out.str();
}

void SimExecutor::fire_due_timers() {
  while (stop_ == Stop::none && !heap_.empty() && heap_.front()->when <= now_) {
    // The due timers with the earliest deadline fire in an order the
    // strategy picks; later deadlines wait for the next round.
    TimePoint when = heap_.front()->when;
    while (!heap_.empty() && heap_.front()->when == when) {
      TimerNode* timer = heap_pop();
      timer->heap_index = kDueIndex;
      due_.push_back(timer);
    }
    while (!due_.empty()) {
      std::uint64_t pick =
          due_.size() == 1 ? 0 : decide(DecisionKind::timer, due_.size(), nullptr, false);
      TimerNode* timer = due_[pick];
      due_.erase(due_.begin() + static_cast<std::ptrdiff_t>(pick));
      timer->heap_index = TimerNode::npos;
      if (options_.observer) note_timer();
      timer->fire();  // may destroy the timer, arm new ones or cancel due ones
    }
  }
}

void SimExecutor::add_timer(TimerNode* timer) {
  if (timer->armed()) internal_error("timer armed twice");
  timer->sequence = timer_sequence_++;
  heap_push(timer);
  if (options_.observer) note_timer();
}

bool SimExecutor::cancel_timer(TimerNode* timer) {
  if (timer->heap_index == kDueIndex) {
    std::erase(due_, timer);
  } else if (timer->armed()) {
    heap_remove(timer);
  } else {
    return false;
  }
  timer->heap_index = TimerNode::npos;
  if (options_.observer) note_timer();
  return true;
}

void SimExecutor::heap_push(TimerNode* timer) {
  timer->heap_index = heap_.size();
  heap_.push_back(timer);
  heap_sift_up(timer->heap_index);
}

TimerNode* SimExecutor::heap_pop() {
  TimerNode* top = heap_.front();
  heap_remove(top);
  return top;
}

void SimExecutor::heap_remove(TimerNode* timer) {
  std::size_t i = timer->heap_index;
  TimerNode* last = heap_.back();
  heap_.pop_back();
  timer->heap_index = TimerNode::npos;
  if (last == timer) return;
  heap_[i] = last;
  last->heap_index = i;
  heap_sift_up(i);
  heap_sift_down(last->heap_index);
}

void SimExecutor::heap_sift_up(std::size_t i) {
  while (i > 0) {
    std::size_t parent = (i - 1) / 2;
    if (!timer_before(heap_[i], heap_[parent])) break;
    std::swap(heap_[i], heap_[parent]);
    heap_[i]->heap_index = i;
    heap_[parent]->heap_index = parent;
    i = parent;
  }
}

void SimExecutor::heap_sift_down(std::size_t i) {
  for (;;) {
    std::size_t smallest = i;
    for (std::size_t child : {2 * i + 1, 2 * i + 2}) {
      if (child < heap_.size() && timer_before(heap_[child], heap_[smallest])) smallest = child;
    }
    if (smallest == i) break;
    std::swap(heap_[i], heap_[smallest]);
    heap_[i]->heap_index = i;
    heap_[smallest]->heap_index = smallest;
    i = smallest;
  }
}

// ---- the end of a run ----

void SimExecutor::teardown() {
  tearing_down_ = true;
  CurrentExecutorScope scope(this);
  // Destroy every frame first (their awaiters unlink themselves, and user
  // destructors may still wake other tasks), then free the records.
  for (auto& task : tasks_) {
    if (task) detail::destroy_frames(task->task);
  }
  tasks_.clear();
  runnable_.clear();
  live_ = 0;
  due_.clear();
  while (!heap_.empty()) heap_pop()->discard();
}

}  // namespace chanfuzz
