// PCT: probabilistic concurrency testing.
//
// Burckhardt, Kothari, Musuvathi, Nagarakatte, "A Randomized Scheduler with
// Probabilistic Guarantees of Finding Bugs", ASPLOS 2010. With n tasks, k
// steps and a bug of depth d, one run finds it with probability at least
// 1 / (n * k^(d-1)). The algorithm: give the tasks distinct random priorities
// above d; pick d-1 change points uniformly among the k steps; always run the
// highest-priority enabled task; at the i-th change point, drop the running
// task's priority to i (below every initial one).
//
// Where ours differs (shuttle makes the same choices):
// - Tasks appear while the run goes on. A new task gets a priority at a
//   uniformly random rank among the existing ones (the paper knows n up
//   front).
// - k is not known up front. check() measures it in one calibration run
//   (the random strategy with seed 0) and hands it over through
//   set_step_estimate(); we draw the change points from [1, k]. Without a
//   calibration k is 50. shuttle instead carries the largest step count seen
//   from run to run, which makes run i depend on runs 0..i-1; ours depends on
//   its seed alone, so a seed replays on its own.
// - Choices that are not about tasks (select cases, due timers, random(n))
//   are uniform, from the same seeded generator, as is the clock option
//   (probability 1/8, as in the random strategy): PCT says nothing of them.
#include <algorithm>
#include <map>
#include <vector>

#include "chanfuzz/strategy.hpp"

namespace chanfuzz {

namespace {

class PctStrategy final : public Strategy {
 public:
  explicit PctStrategy(std::uint64_t depth) : depth_(depth) {}

  std::string name() const override { return "pct:" + std::to_string(depth_); }

  void begin_run(std::uint64_t seed) override {
    rng_.reseed(seed);
    priority_.clear();
    order_.clear();
    change_points_.clear();
    for (std::uint64_t i = 1; i < depth_; ++i)
      change_points_.push_back(1 + rng_.below(step_estimate_));
    std::sort(change_points_.begin(), change_points_.end());
    next_change_ = 0;
  }

  bool wants_step_estimate() const override { return true; }
  void set_step_estimate(std::uint64_t steps) override {
    step_estimate_ = std::max<std::uint64_t>(steps, 1);
  }

  std::uint64_t choose(const DecisionPoint& point) override {
    if (point.kind != DecisionKind::task) return rng_.below(point.options);
    if (point.clock_option && rng_.chance(1, 8)) return point.options - 1;
    std::uint64_t tasks = point.options - (point.clock_option ? 1 : 0);
    for (std::uint64_t i = 0; i < tasks; ++i) see(point.task_at(i)->id);
    std::uint64_t best = highest(point, tasks);
    // Change points at or before this step lower the task about to run.
    while (next_change_ < change_points_.size() && change_points_[next_change_] <= point.step) {
      ++next_change_;
      priority_[point.task_at(best)->id] = next_change_;  // 1 .. d-1, below every initial one
      best = highest(point, tasks);
    }
    return best;
  }

 private:
  // Gives a task seen for the first time a random rank among the others.
  void see(std::uint64_t id) {
    if (priority_.count(id)) return;
    std::size_t rank = static_cast<std::size_t>(rng_.below(order_.size() + 1));
    order_.insert(order_.begin() + static_cast<std::ptrdiff_t>(rank), id);
    // Initial priorities are depth_ + position: above every change-point value.
    for (std::size_t i = 0; i < order_.size(); ++i) {
      auto& p = priority_[order_[i]];
      if (p == 0 || p >= depth_) p = depth_ + i;
    }
  }

  std::uint64_t highest(const DecisionPoint& point, std::uint64_t tasks) {
    std::uint64_t best = 0;
    for (std::uint64_t i = 1; i < tasks; ++i) {
      if (priority_[point.task_at(i)->id] > priority_[point.task_at(best)->id]) best = i;
    }
    return best;
  }

  std::uint64_t depth_;
  Rng rng_;
  std::map<std::uint64_t, std::uint64_t> priority_;  // task id -> priority
  std::vector<std::uint64_t> order_;                 // ids by initial priority, lowest first
  std::vector<std::uint64_t> change_points_;
  std::size_t next_change_ = 0;
  std::uint64_t step_estimate_ = 50;
};

}  // namespace

std::unique_ptr<Strategy> make_pct_strategy(std::uint64_t depth) {
  return std::make_unique<PctStrategy>(depth);
}

}  // namespace chanfuzz
