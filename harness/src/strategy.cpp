// make_strategy: strategies by name.
#include <charconv>
#include <stdexcept>
#include <string>

#include "chanfuzz/strategy.hpp"

namespace chanfuzz {

std::unique_ptr<Strategy> make_strategy(std::string_view spec) {
  if (spec == "random") return std::make_unique<RandomStrategy>();
  if (spec.substr(0, 4) == "pct:") {
    std::string_view digits = spec.substr(4);
    std::uint64_t depth = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), depth);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
        depth < 1 || depth > 100) {
      throw std::invalid_argument("bad strategy '" + std::string(spec) +
                                  "': pct needs a depth from 1 to 100, e.g. pct:3");
    }
    return make_pct_strategy(depth);
  }
  if (spec == "replay") {
    throw std::invalid_argument("strategy 'replay' needs a trace (CHANFUZZ_TRACE or --trace)");
  }
  throw std::invalid_argument("unknown strategy '" + std::string(spec) +
                              "' (known: random, pct:<depth>, replay)");
}

}  // namespace chanfuzz
