// make_strategy: strategies by name.
#include <charconv>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "chanfuzz/strategy.hpp"

namespace chanfuzz {

namespace {

// A whole number in [low, high], or nullopt.
std::optional<std::uint64_t> whole_in(std::string_view digits, std::uint64_t low,
                                      std::uint64_t high) {
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
      value < low || value > high) {
    return std::nullopt;
  }
  return value;
}

// "dfs:<P>[:full][:values=<K>]".
std::unique_ptr<Strategy> make_dfs_from(std::string_view spec) {
  auto bad = [&](const std::string& why) {
    return std::invalid_argument("bad strategy '" + std::string(spec) + "': " + why);
  };
  // The fields between the colons; an empty one (dfs:, dfs:2:, dfs:2::full) is an error.
  std::vector<std::string_view> fields;
  for (std::string_view rest = spec.substr(4);;) {
    std::size_t colon = rest.find(':');
    fields.push_back(rest.substr(0, colon));
    if (colon == std::string_view::npos) break;
    rest = rest.substr(colon + 1);
  }
  DfsOptions options;
  auto preemptions = whole_in(fields.front(), 0, 1000);
  if (!preemptions) throw bad("dfs needs a preemption bound from 0 to 1000, e.g. dfs:2");
  options.preemption_bound = *preemptions;
  for (std::size_t i = 1; i < fields.size(); ++i) {
    std::string_view option = fields[i];
    if (option == "full") {
      options.reduce = false;
    } else if (option == "nocache") {
      options.cache = false;
    } else if (option == "nomodel") {
      options.model = false;
    } else if (option == "nosym") {
      options.symmetry = false;
    } else if (option == "nocheckpoint") {
      options.checkpoints = false;
    } else if (option.substr(0, 4) == "mem=") {
      auto mib = whole_in(option.substr(4), 1, 1048576);
      if (!mib) throw bad("mem=<MiB> needs a size in MiB from 1 to 1048576, e.g. dfs:2:mem=4096");
      options.state_memory_mib = *mib;
    } else if (option.substr(0, 7) == "values=") {
      auto values = whole_in(option.substr(7), 1, 1000000);
      if (!values) throw bad("values=<K> needs K from 1 to 1000000, e.g. dfs:2:values=4");
      options.random_values = *values;
    } else {
      throw bad("unknown dfs option '" + std::string(option) +
                "' (known: full, nocache, nomodel, nosym, nocheckpoint, mem=<MiB>, values=<K>)");
    }
  }
  return make_dfs_strategy(options);
}

}  // namespace

std::unique_ptr<Strategy> make_strategy(std::string_view spec) {
  constexpr std::string_view kSwarm = "+swarm";
  if (spec.size() > kSwarm.size() && spec.substr(spec.size() - kSwarm.size()) == kSwarm) {
    std::string_view inner = spec.substr(0, spec.size() - kSwarm.size());
    if (inner.substr(0, 4) == "dfs:" || inner == "replay") {
      throw std::invalid_argument("bad strategy '" + std::string(spec) +
                                  "': swarm varies sampled runs; it does not combine with " +
                                  std::string(inner.substr(0, inner.find(':'))));
    }
    return make_swarm_strategy(make_strategy(inner));
  }
  if (spec == "random") return std::make_unique<RandomStrategy>();
  if (spec.substr(0, 4) == "dfs:") return make_dfs_from(spec);
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
                              "' (known: random, pct:<depth>, dfs:<preemptions>, replay; "
                              "+swarm after random or pct)");
}

}  // namespace chanfuzz
