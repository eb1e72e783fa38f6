// The replay strategy: answers each decision from a recorded trace, and
// stops the run at the first decision that does not fit (see trace.hpp).
#include <string>

#include "chanfuzz/trace.hpp"

namespace chanfuzz {

std::uint64_t ReplayStrategy::choose(const DecisionPoint& point) {
  std::size_t index = next_++;
  if (index >= decisions_.size()) {
    divergence_ = "trace diverged at decision " + std::to_string(index) +
                  ": the trace ended, but the run asked for a " + decision_kind_name(point.kind) +
                  " decision with " + std::to_string(point.options) + " options";
    return point.options;
  }
  const Decision& d = decisions_[index];
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
