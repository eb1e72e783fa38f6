// An outside project's scenarios, registered as ctest tests with
// chanfuzz_add_scenarios (tests/consumer/CMakeLists.txt): one correct, one
// with a leak it declares, and one that leaks although it is declared correct
// (its test must fail, with the report).
#include <chanfuzz/chanfuzz.hpp>

using namespace chanfuzz;

CHANFUZZ_SCENARIO(consumer_handoff, "one value handed over an unbuffered channel") {
  auto ch = make_chan<int>();
  go("sender", [ch]() -> Task<> { co_await ch.send(1); });
  auto r = co_await ch.recv();
  require(r.ok && r.value == 1, "the value arrives");
}

CHANFUZZ_SCENARIO_FAILS(consumer_known_leak, leak, "a sender nobody receives from") {
  auto ch = make_chan<int>();
  go("orphan", [ch]() -> Task<> { co_await ch.send(1); });
  co_return;
}

CHANFUZZ_SCENARIO(consumer_unexpected_leak, "declared correct, but main stops reading early") {
  auto ch = make_chan<int>();
  go("producer", [ch]() -> Task<> {
    for (int i = 0; i < 3; ++i) co_await ch.send(i);
  });
  co_await ch.recv();
}
