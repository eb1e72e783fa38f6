// InterleavingFeedback: what a schedule did, as extra coverage for libFuzzer.
//
// Code coverage sees which lines ran, not in which order tasks met. These
// counters (libFuzzer's __libfuzzer_extra_counters section) add features of
// the interleaving, derived from SimExecutor's events and from the
// decisions the fuzz strategy answers:
//
//   meet            site of the waker x site of the task it woke: a send
//                   site met a receive site (either side may have waited)
//   select_choice   select site x chosen ready case x how many were ready
//   select_wait     a select at this site blocked / completed at once
//   close_wakes     close site x how many waiters it woke (1, 2, 3, 4+)
//   timer_before    the clock jumped (a timer fired) while a task at this
//                   site, about to do this operation (a send...), could run
//   timer_wake      a timer woke the task sleeping at this site
//   preempt         the task at this site was preempted for the one at that site
//
// A site is a SourceLocation (file, line): the program fuzzer gives each
// operation of its programs a location of its own, so sites are program
// operations there. Counters are hashed into a fixed array and saturate;
// libFuzzer buckets their values (1, 2, 3, 4-7, ...), so "met 5 times" is a
// feature of its own.
//
// CHANFUZZ_FUZZ_FEEDBACK=0 turns the counters off (the benchmark's "code
// coverage alone"); they never change what a run does.
#pragma once

#include <cstdint>
#include <vector>

#include "chanfuzz/sim_executor.hpp"
#include "chanfuzz/strategy.hpp"

namespace chanfuzz::fuzz {

enum class Feature : std::uint8_t {
  meet = 1,
  select_choice,
  select_wait,
  close_wakes,
  timer_before,
  timer_wake,
  preempt,
  model_meet,           // program fuzzer: the send op whose value a receive op got
  model_select,         // program fuzzer: select op x case taken x ready cases x default
  model_close_waiters,  // program fuzzer: close op x waiting receivers x waiting senders
  model_timer_ready,    // program fuzzer: a sleeper woke while a send could complete
};

class InterleavingFeedback {
 public:
  // CHANFUZZ_FUZZ_FEEDBACK, read once: unset or "1" on, "0" off.
  static bool enabled();

  void begin_run();
  void on_event(const SimEvent& event);
  void on_decision(const DecisionPoint& point, std::uint64_t value);
  void add(Feature kind, std::uint64_t a, std::uint64_t b = 0, std::uint64_t c = 0) noexcept;

  static std::uint64_t site(const SourceLocation& where) noexcept;

 private:
  enum class Op : std::uint8_t { other, send, recv, select, close, sleep };
  struct TaskSlot {
    std::uint64_t site = 0;
    Op op = Op::other;
    bool select_pending = false;  // its select has not blocked (yet)
  };
  TaskSlot& slot(std::uint64_t task);
  static Op classify(const char* operation) noexcept;
  void flush_close() noexcept;

  std::vector<TaskSlot> tasks_;
  std::uint64_t closer_ = 0;  // the task whose close is waking waiters
  std::uint64_t close_site_ = 0;
  std::uint64_t close_wakes_ = 0;
};

// Total counters set in this process (for tests).
std::uint64_t feedback_counters_set() noexcept;

}  // namespace chanfuzz::fuzz
