// Shared by the dfs tests (exploration_test.cpp, dfs_reduction_test.cpp):
// every failure of a bounded search, not only the first.
#pragma once

#include <chanfuzz/chanfuzz.hpp>
#include <chanfuzz/sim_executor.hpp>
#include <chanfuzz/strategy.hpp>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>

namespace chanfuzz::test_support {

// Where a failing run's tasks block: (file, line) of each.
using Sites = std::set<std::pair<std::string, std::uint32_t>>;

struct AllFailures {
  std::set<std::pair<RunOutcome, Sites>> found;  // (category, blocked sites) of each failure
  std::uint64_t schedules = 0;                   // complete schedules of the final search
  std::uint64_t runs = 0;         // every run, cut short or discarded by a restart too
  std::uint64_t trace_keyed = 0;  // state lookups the model could not key (SearchStatus)
  bool complete = false;          // the search was exhausted within `cap` runs
};

// The whole search of strategy `spec` over `program`, going on past failing
// runs; stops after `cap` runs (then `complete` is false).
inline AllFailures all_failures(Task<void> (*program)(), const std::string& spec,
                                std::uint64_t cap) {
  std::unique_ptr<Strategy> strategy = make_strategy(spec);
  AllFailures out;
  while (out.runs < cap) {
    SimOptions options;
    options.seed = 0;
    options.strategy = strategy.get();
    if (strategy->wants_events()) {
      options.observer = [&strategy](const SimEvent& event) { strategy->on_event(event); };
    }
    RunResult result;
    {
      SimExecutor sim(options);
      result = sim.run(program());
    }
    ++out.runs;
    if (!strategy->run_redundant() && result.outcome != RunOutcome::ok) {
      Sites sites;
      for (const TaskInfo& task : result.tasks) {
        sites.emplace(task.blocked_at.file ? task.blocked_at.file : "", task.blocked_at.line);
      }
      out.found.emplace(result.outcome, std::move(sites));
    }
    if (strategy->search_status()->exhausted) {
      out.complete = true;
      break;
    }
  }
  out.schedules = strategy->search_status()->schedules;
  out.trace_keyed = strategy->search_status()->trace_keyed;
  return out;
}

}  // namespace chanfuzz::test_support
