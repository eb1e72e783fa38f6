// minimize(): delta debugging over the decisions of a failing trace (see
// minimize.hpp for what is kept and what counts as smaller).
#include "chanfuzz/minimize.hpp"

#include <algorithm>
#include <chrono>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "chanfuzz/sim_executor.hpp"
#include "chanfuzz/strategy.hpp"
#include "chanfuzz/trace.hpp"

namespace chanfuzz {

namespace {

// One decision of a candidate schedule.
struct Directive {
  DecisionKind kind = DecisionKind::task;
  bool use_default = false;  // take the default choice here
  bool by_task = false;      // a task decision names its task (else `value` is the option)
  std::uint64_t value = 0;   // the option taken
  std::uint64_t task = 0;    // by_task: the task to run (0: the clock option)
};

// The candidate's shape, smaller first: the decisions its trace must spell
// out (up to the last one that differs from default_choice(); a default
// tail takes the rest), then all decisions of its run, its preemptions, and
// its choices that differ from the default.
struct Size {
  std::size_t spelled = 0;
  std::size_t decisions = 0;
  std::size_t preemptions = 0;
  std::size_t deviations = 0;
  friend auto operator<=>(const Size&, const Size&) = default;
};

// Runs a candidate: each decision follows its directive when the directive
// fits (same kind, a task that can run, a value below the options), else
// takes default_choice() (trace.hpp: the current task goes on, else the
// runnable task with the lowest id; option 0 of the other kinds; never the
// clock option), and so does every decision past the directives: what a
// default tail replays. It records what it did, by task, so that a kept
// candidate's directives still name the same tasks when earlier decisions
// change, and where its last choice other than the default was: the trace
// spells out the decisions up to there.
class GuidedStrategy final : public Strategy {
 public:
  explicit GuidedStrategy(const std::vector<Directive>& directives) : directives_(directives) {}

  std::string name() const override { return "minimize"; }
  void begin_run(std::uint64_t) override {
    next_ = 0;
    recorded_.clear();
    size_ = Size{};
  }

  std::uint64_t choose(const DecisionPoint& point) override {
    const std::uint64_t fallback = default_choice(point);
    std::uint64_t value = fallback;
    if (next_ < directives_.size()) value = follow(directives_[next_], point, fallback);
    ++next_;
    Directive done{point.kind, false, point.kind == DecisionKind::task, value, 0};
    if (point.kind == DecisionKind::task) {
      const TaskRecord* task = point.task_at(value);
      done.task = task ? task->id : 0;
      if (!task || (point.current && task != point.current)) ++size_.preemptions;
    }
    if (value != fallback) {
      ++size_.deviations;
      size_.spelled = next_;  // this decision and all before it
    }
    recorded_.push_back(done);
    ++size_.decisions;
    return value;
  }

  const std::vector<Directive>& recorded() const { return recorded_; }
  Size size() const { return size_; }

 private:
  static std::uint64_t follow(const Directive& d, const DecisionPoint& point,
                              std::uint64_t fallback) {
    if (d.use_default || d.kind != point.kind) return fallback;
    if (point.kind != DecisionKind::task || !d.by_task) {
      return d.value < point.options ? d.value : fallback;
    }
    if (d.task == 0) return point.clock_option ? point.options - 1 : fallback;
    for (std::uint64_t i = 0; i < point.options; ++i) {
      const TaskRecord* task = point.task_at(i);
      if (task && task->id == d.task) return i;
    }
    return fallback;
  }

  const std::vector<Directive>& directives_;
  std::size_t next_ = 0;
  std::vector<Directive> recorded_;
  Size size_;
};

// What must stay the same: the category, the sites the reported tasks are
// blocked at (as a set), and the message of a panic or a failed assertion.
struct Signature {
  FailureKind kind = FailureKind::none;
  std::set<std::pair<std::string, unsigned>> sites;
  std::string message;
  friend bool operator==(const Signature&, const Signature&) = default;
};

Signature signature_of(FailureKind kind, const std::vector<TaskInfo>& tasks) {
  Signature out;
  out.kind = kind;
  for (const TaskInfo& task : tasks) {
    out.sites.emplace(task.blocked_at.file ? short_path(task.blocked_at.file) : "?",
                      task.blocked_at.line);
    if ((kind == FailureKind::panic || kind == FailureKind::assertion) && out.message.empty()) {
      out.message = task.panic;
    }
  }
  return out;
}

class Minimizer {
 public:
  Minimizer(const Scenario& scenario, const MinimizeOptions& options, std::uint64_t max_steps)
      : scenario_(scenario), options_(options), max_steps_(max_steps) {}

  // Runs a candidate; keeps it when it fails the same way, is smaller, and
  // its run takes no more decisions than the first candidate's (the trace
  // given): a shorter trace is not bought with a longer run.
  bool attempt(const std::vector<Directive>& candidate) {
    ++runs_;
    GuidedStrategy strategy(candidate);
    SimOptions sim_options;
    sim_options.seed = 0;
    sim_options.max_steps = max_steps_;
    sim_options.strategy = &strategy;
    RunResult result;
    {
      SimExecutor sim(sim_options);
      result = sim.run(scenario_());
    }
    if (signature_of(failure_kind(result.outcome), result.tasks) != target_) return false;
    if (have_best_ && !(strategy.size() < best_size_)) return false;
    if (have_best_ && strategy.size().decisions > max_decisions_) return false;
    best_ = strategy.recorded();
    best_size_ = strategy.size();
    if (!have_best_) max_decisions_ = best_size_.decisions;
    best_decisions_ = std::move(result.decisions);
    have_best_ = true;
    return true;
  }

  bool spent() const {
    if (options_.max_runs && runs_ >= options_.max_runs) return true;
    if (options_.time_budget_s <= 0) return false;
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    return elapsed >= options_.time_budget_s;
  }

  // Rounds, while anything shrinks: the shortest prefix of the directives
  // that fails the same way with the default after it (a trace cut into a
  // default tail); ddmin-style passes that remove chunks of directives, then
  // set chunks to the default, halving the chunk size; and, when those find
  // nothing, each other option of each decision (a local search the chunks
  // cannot do).
  void shrink() {
    bool progress = true;
    while (progress && !spent()) {
      progress = truncate();
      for (std::size_t chunk = std::max<std::size_t>(best_.size() / 2, 1); chunk >= 1 && !spent();
           chunk /= 2) {
        progress = pass(chunk, /*remove=*/true) || progress;
        progress = pass(chunk, /*remove=*/false) || progress;
        if (chunk == 1) break;
      }
      if (!progress) progress = alternatives();
    }
  }

  void set_target(Signature target) { target_ = std::move(target); }
  const std::vector<Decision>& decisions() const { return best_decisions_; }
  Size size() const { return best_size_; }
  bool found() const { return have_best_; }
  std::uint64_t runs() const { return runs_; }

 private:
  // The directives cut after k decisions, k = 0, 1, ... below the decisions
  // the best run spells out: the first k that still fails the same way.
  bool truncate() {
    for (std::size_t k = 0; k < best_size_.spelled && k < best_.size() && !spent(); ++k) {
      std::vector<Directive> candidate(best_.begin(),
                                       best_.begin() + static_cast<std::ptrdiff_t>(k));
      if (attempt(candidate)) return true;
    }
    return false;
  }

  // Each decision in turn, each other option (up to 8 of them).
  bool alternatives() {
    bool progress = false;
    for (std::size_t i = best_.size(); i-- > 0 && !spent();) {
      const std::uint64_t options = i < best_decisions_.size() ? best_decisions_[i].options : 0;
      for (std::uint64_t value = 0; value < std::min<std::uint64_t>(options, 8) && !spent();
           ++value) {
        if (i >= best_.size() || i >= best_decisions_.size()) break;
        if (value == best_decisions_[i].value) continue;
        std::vector<Directive> candidate = best_;
        candidate[i] = Directive{best_decisions_[i].kind, false, false, value, 0};
        candidate.resize(i + 1);  // what follows: the default
        if (attempt(candidate)) {
          progress = true;
          break;
        }
        candidate = best_;
        candidate[i] = Directive{best_decisions_[i].kind, false, false, value, 0};
        if (attempt(candidate)) {
          progress = true;
          break;
        }
      }
    }
    return progress;
  }

  // One sweep over the directives, from the end (late decisions matter least
  // for how a failure comes about, and removing them first shortens the rest).
  bool pass(std::size_t chunk, bool remove) {
    bool progress = false;
    std::size_t end = best_.size();
    while (end > 0 && !spent()) {
      std::size_t begin = end > chunk ? end - chunk : 0;
      std::vector<Directive> candidate = best_;
      if (remove) {
        candidate.erase(candidate.begin() + static_cast<std::ptrdiff_t>(begin),
                        candidate.begin() + static_cast<std::ptrdiff_t>(end));
      } else {
        bool any = false;
        for (std::size_t i = begin; i < end; ++i) {
          any = any || !candidate[i].use_default;
          candidate[i].use_default = true;
        }
        if (!any) {
          end = begin;
          continue;
        }
      }
      if (attempt(candidate)) {
        progress = true;
        end = std::min(begin, best_.size());  // best_ changed: go on below the chunk
      } else {
        end = begin;
      }
    }
    return progress;
  }

  const Scenario& scenario_;
  MinimizeOptions options_;
  std::uint64_t max_steps_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  Signature target_;
  std::vector<Directive> best_;
  Size best_size_;
  std::vector<Decision> best_decisions_;
  bool have_best_ = false;
  std::size_t max_decisions_ = 0;  // the first run's decisions: no kept run is longer
  std::uint64_t runs_ = 0;
};

}  // namespace

Report minimize(const Scenario& scenario, std::string_view trace, MinimizeOptions options) {
  if (!scenario) throw std::invalid_argument("minimize: the scenario is empty");
  // TraceError when malformed. A trace with a default tail (minimize()'s own
  // output) is fine: its run is the first candidate's, whose directives
  // end where the trace's decisions do and which takes the default after.
  std::vector<Decision> decisions = decode_trace(trace);
  Report original = replay(scenario, trace, options.name);
  if (original.kind == FailureKind::diverged) {
    throw std::invalid_argument("the trace does not fit the scenario: " + original.summary);
  }
  if (original.ok()) {
    throw std::invalid_argument("the trace does not fail: its run passes (nothing to minimize)");
  }
  // The step limit replay() uses, so that the report's run is the kept one.
  std::uint64_t max_steps = apply_environment(Config{}).max_steps;

  Minimizer minimizer(scenario, options, max_steps);
  minimizer.set_target(signature_of(original.kind, original.tasks));
  // The trace itself, as directives (by option), then as the recorded run
  // (by task): the starting point.
  std::vector<Directive> start;
  for (const Decision& d : decisions) start.push_back({d.kind, false, false, d.value, 0});
  if (!minimizer.attempt(start)) {
    throw std::invalid_argument(
        "the trace does not fail the same way when run again (does the scenario depend on "
        "something outside the simulator?)");
  }
  const Size original_size = minimizer.size();
  minimizer.shrink();

  // The decisions up to the last one that differs from default_choice(),
  // and a default tail when the run goes on past them (else a plain trace).
  const Size size = minimizer.size();
  std::vector<Decision> spelled(
      minimizer.decisions().begin(),
      minimizer.decisions().begin() + static_cast<std::ptrdiff_t>(size.spelled));
  std::string minimized = encode_trace(
      spelled, size.spelled < size.decisions ? TraceEnd::default_tail : TraceEnd::exact);
  Report report = replay(scenario, minimized, options.name);
  if (signature_of(report.kind, report.tasks) != signature_of(original.kind, original.tasks)) {
    throw std::invalid_argument(
        "the minimized trace does not fail the same way when replayed (does the scenario depend "
        "on something outside the simulator?): " +
        std::string(failure_kind_name(report.kind)) + ": " + report.summary);
  }
  report.runs = minimizer.runs();
  report.minimized_from = std::string(trace);
  report.minimized_from_decisions = decisions.size();
  report.minimized_from_preemptions = original_size.preemptions;
  report.decisions = size.spelled;
  report.preemptions = size.preemptions;
  return report;
}

}  // namespace chanfuzz
