// InterleavingFeedback (interleaving_feedback.hpp).
#include "interleaving_feedback.hpp"

#include <cstdlib>
#include <cstring>

namespace chanfuzz::fuzz {

namespace {

constexpr std::size_t kCounters = 1 << 14;

// libFuzzer (clang 14, Linux) reads every byte of this section between the
// linker's __start_/__stop_ symbols as an 8-bit counter, and clears it before
// each input. In builds without libFuzzer it is an ordinary array.
__attribute__((used, section("__libfuzzer_extra_counters"))) std::uint8_t g_counters[kCounters];

std::uint64_t mix(std::uint64_t x) noexcept {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

}  // namespace

bool InterleavingFeedback::enabled() {
  static const bool on = [] {
    const char* value = std::getenv("CHANFUZZ_FUZZ_FEEDBACK");
    return !(value && std::strcmp(value, "0") == 0);
  }();
  return on;
}

std::uint64_t InterleavingFeedback::site(const SourceLocation& where) noexcept {
  return mix(reinterpret_cast<std::uintptr_t>(where.file) * 31 + where.line);
}

void InterleavingFeedback::add(Feature kind, std::uint64_t a, std::uint64_t b,
                               std::uint64_t c) noexcept {
  std::uint64_t h = mix(static_cast<std::uint64_t>(kind) ^ mix(a ^ mix(b ^ mix(c))));
  std::uint8_t& counter = g_counters[h & (kCounters - 1)];
  if (counter != 255) ++counter;
}

std::uint64_t feedback_counters_set() noexcept {
  std::uint64_t n = 0;
  for (std::uint8_t c : g_counters) n += c != 0;
  return n;
}

void InterleavingFeedback::begin_run() {
  tasks_.clear();
  closer_ = 0;
  close_wakes_ = 0;
}

InterleavingFeedback::TaskSlot& InterleavingFeedback::slot(std::uint64_t task) {
  if (task >= tasks_.size()) tasks_.resize(task + 1);
  return tasks_[task];
}

InterleavingFeedback::Op InterleavingFeedback::classify(const char* operation) noexcept {
  if (std::strcmp(operation, "chan send") == 0) return Op::send;
  if (std::strcmp(operation, "chan receive") == 0) return Op::recv;
  if (std::strcmp(operation, "select") == 0) return Op::select;
  if (std::strcmp(operation, "chan close") == 0) return Op::close;
  if (std::strcmp(operation, "sleep") == 0) return Op::sleep;
  return Op::other;
}

void InterleavingFeedback::flush_close() noexcept {
  if (closer_ != 0 && close_wakes_ > 0) {
    add(Feature::close_wakes, close_site_, close_wakes_ < 4 ? close_wakes_ : 4);
  }
  closer_ = 0;
  close_wakes_ = 0;
}

void InterleavingFeedback::on_event(const SimEvent& event) {
  switch (event.kind) {
    case SimEvent::Kind::operation: {
      TaskSlot& task = slot(event.task);
      if (task.select_pending) add(Feature::select_wait, task.site, 0);  // completed at once
      flush_close();
      task.site = site(event.where);
      task.op = classify(event.operation);
      task.select_pending = task.op == Op::select;
      if (task.op == Op::close) {
        closer_ = event.task;
        close_site_ = task.site;
      }
      break;
    }
    case SimEvent::Kind::blocked: {
      TaskSlot& task = slot(event.task);
      if (task.select_pending) add(Feature::select_wait, task.site, 1);
      task.select_pending = false;
      break;
    }
    case SimEvent::Kind::woken: {
      TaskSlot& woken = slot(event.task);
      if (woken.op == Op::sleep) {
        add(Feature::timer_wake, woken.site);
      } else if (event.other != 0) {
        const TaskSlot& waker = slot(event.other);
        add(Feature::meet, waker.site, woken.site);
        if (event.other == closer_) ++close_wakes_;
      }
      break;
    }
    case SimEvent::Kind::preempted:
      add(Feature::preempt, slot(event.task).site, slot(event.other).site);
      break;
    case SimEvent::Kind::spawned:
      slot(event.task) = TaskSlot{};
      break;
    case SimEvent::Kind::finished:
    case SimEvent::Kind::clock:
    case SimEvent::Kind::changed:
    case SimEvent::Kind::checkpoint:
    case SimEvent::Kind::resumed:
      break;
  }
}

void InterleavingFeedback::on_decision(const DecisionPoint& point, std::uint64_t value) {
  switch (point.kind) {
    case DecisionKind::select_case: {
      Executor* executor = current_executor();
      TaskRecord* task = executor ? executor->current_task() : nullptr;
      std::uint64_t at = task ? site(task->blocked_at) : 0;
      add(Feature::select_choice, at, value, point.options);
      break;
    }
    case DecisionKind::task:
      if (point.is_clock_option(value)) {
        // A timer fires before the tasks that could run: which operations
        // did it overtake?
        for (std::uint64_t i = 0; i + 1 < point.options; ++i) {
          if (const TaskRecord* task = point.task_at(i)) {
            const TaskSlot& s = slot(task->id);
            add(Feature::timer_before, s.site, static_cast<std::uint64_t>(s.op));
          }
        }
      }
      break;
    case DecisionKind::timer:
    case DecisionKind::random:
      break;
  }
}

}  // namespace chanfuzz::fuzz
