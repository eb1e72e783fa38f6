// The replay strategy: answers each decision from a recorded trace, and
// stops the run at the first decision that does not fit (see trace.hpp).
// Past the trace's last decision, a trace with a default tail answers with
// default_choice(); a plain one diverges.
#include <string>

#include "chanfuzz/trace.hpp"

namespace chanfuzz {

std::uint64_t default_choice(const DecisionPoint& point) noexcept {
  // Task options: the runnable tasks by increasing id, then the current task
  // (when it is at a scheduling point), then the clock option. So the
  // current task is option runnable.size(), the lowest id option 0, and the
  // clock option (the last one) is never the answer.
  if (point.kind == DecisionKind::task && point.current) return point.runnable.size();
  return 0;
}

std::uint64_t ReplayStrategy::choose(const DecisionPoint& point) {
  std::size_t index = next_++;
  if (index >= trace_.decisions.size()) {
    if (trace_.end == TraceEnd::default_tail) {
      ++defaults_;
      return default_choice(point);
    }
    divergence_ = "trace diverged at decision " + std::to_string(index) +
                  ": the trace ended, but the run asked for a " + decision_kind_name(point.kind) +
                  " decision with " + std::to_string(point.options) + " options";
    return point.options;
  }
  const Decision& d = trace_.decisions[index];
  if (d.kind != point.kind || d.options != point.options) {
    divergence_ = "trace diverged at decision " + std::to_string(index) + ": the trace has a " +
                  decision_kind_name(d.kind) + " decision with " + std::to_string(d.options) +
                  " options, the run asked for a " + decision_kind_name(point.kind) +
                  " decision with " + std::to_string(point.options);
    return point.options;
  }
  return d.value;
}

}  // namespace chanfuzz
