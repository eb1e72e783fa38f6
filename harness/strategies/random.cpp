// The uniform random strategy: every option of a decision equally likely,
// except the clock option (see strategy.hpp).
#include <stdexcept>
#include <string>

#include "chanfuzz/strategy.hpp"

namespace chanfuzz {

std::uint64_t RandomStrategy::choose(const DecisionPoint& point) {
  if (point.kind == DecisionKind::task && point.clock_option) {
    if (rng_.chance(1, 8)) return point.options - 1;
    return rng_.below(point.options - 1);
  }
  return rng_.below(point.options);
}

std::unique_ptr<Strategy> make_strategy(std::string_view spec) {
  if (spec == "random") return std::make_unique<RandomStrategy>();
  throw std::invalid_argument("unknown strategy '" + std::string(spec) + "' (known: random)");
}

}  // namespace chanfuzz
