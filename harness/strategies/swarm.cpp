// Swarm testing: "<strategy>+swarm".
//
// Groce, Zhang, Eide, Chen & Regehr, "Swarm Testing", ISSTA 2012: instead
// of one configuration that allows everything, each test switches off a
// random subset of features, so that behaviours the features would crowd
// out get more weight. Here each run, from its seed alone, switches off
// some sources of variety and lets the inner strategy (random, pct:<d>)
// decide the rest:
//
// - preemption at some kinds of operation (chan send, chan receive, select,
//   sync.Mutex.Lock, sync.WaitGroup.Wait, sleep, yield): at such a
//   scheduling point the current task goes on;
// - the clock option (timers fire early while tasks run);
// - select randomization: a select takes its first ready case;
// - timer order: due timers fire in arming order.
//
// Each is off with probability 1/2, independently, and the draw uses its own
// generator, derived from the seed, so the inner strategy's own choices stay
// a function of the seed too: `--seed S --strategy random+swarm` replays
// run S. The trace of a run records the decisions as taken, so it replays
// with any strategy.
#include <array>
#include <cstring>
#include <string>

#include "chanfuzz/sim_executor.hpp"
#include "chanfuzz/strategy.hpp"

namespace chanfuzz {

namespace {

constexpr std::array<const char*, 7> kOperations = {
    "chan send",           "chan receive", "select", "sync.Mutex.Lock",
    "sync.WaitGroup.Wait", "sleep",        "yield"};

class SwarmStrategy final : public Strategy {
 public:
  explicit SwarmStrategy(std::unique_ptr<Strategy> inner) : inner_(std::move(inner)) {}

  std::string name() const override { return inner_->name() + "+swarm"; }

  void begin_run(std::uint64_t seed) override {
    Rng draw(seed ^ 0x5357'4152'4d21'0000ULL);  // "SWARM!": apart from the inner generator
    for (bool& off : preemption_off_) off = draw.chance(1, 2);
    clock_off_ = draw.chance(1, 2);
    select_off_ = draw.chance(1, 2);
    timer_order_off_ = draw.chance(1, 2);
    operation_ = "";
    inner_->begin_run(seed);
  }

  std::uint64_t choose(const DecisionPoint& point) override {
    switch (point.kind) {
      case DecisionKind::select_case:
        if (select_off_) return 0;
        break;
      case DecisionKind::timer:
        if (timer_order_off_) return 0;
        break;
      case DecisionKind::random:
        break;
      case DecisionKind::task: {
        if (point.current && preemption_off()) return point.runnable.size();
        if (point.clock_option && clock_off_) {
          if (point.options == 2) return 0;  // one task left: nothing to choose
          DecisionPoint without_clock = point;
          without_clock.options -= 1;
          without_clock.clock_option = false;
          return inner_->choose(without_clock);
        }
        break;
      }
    }
    return inner_->choose(point);
  }

  void end_run() override { inner_->end_run(); }
  bool wants_step_estimate() const override { return inner_->wants_step_estimate(); }
  void set_step_estimate(std::uint64_t steps) override { inner_->set_step_estimate(steps); }
  std::string divergence() const override { return inner_->divergence(); }
  bool wants_events() const override { return true; }
  void on_event(const SimEvent& event) override {
    // The operation a task decision is about: the last scheduling point.
    if (event.kind == SimEvent::Kind::operation) operation_ = event.operation;
    if (inner_->wants_events()) inner_->on_event(event);
  }

 private:
  bool preemption_off() const {
    for (std::size_t i = 0; i < kOperations.size(); ++i) {
      if (std::strcmp(operation_, kOperations[i]) == 0) return preemption_off_[i];
    }
    return false;
  }

  std::unique_ptr<Strategy> inner_;
  std::array<bool, kOperations.size()> preemption_off_{};
  bool clock_off_ = false;
  bool select_off_ = false;
  bool timer_order_off_ = false;
  const char* operation_ = "";
};

}  // namespace

std::unique_ptr<Strategy> make_swarm_strategy(std::unique_ptr<Strategy> inner) {
  return std::make_unique<SwarmStrategy>(std::move(inner));
}

}  // namespace chanfuzz
