// The uniform random strategy: every option of a decision equally likely,
// except the clock option (see strategy.hpp).
#include "chanfuzz/strategy.hpp"

namespace chanfuzz {

std::uint64_t RandomStrategy::choose(const DecisionPoint& point) {
  if (point.kind == DecisionKind::task && point.clock_option) {
    if (rng_.chance(1, 8)) return point.options - 1;
    return rng_.below(point.options - 1);
  }
  return rng_.below(point.options);
}

}  // namespace chanfuzz
