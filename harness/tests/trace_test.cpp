// The trace format: round trip (a RapidCheck property), malformed input, and
// replay through ReplayStrategy.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <chanfuzz/chanfuzz.hpp>

#include <string>
#include <vector>

using namespace chanfuzz;

namespace {

rc::Gen<Decision> arbitrary_decision() {
  return rc::gen::mapcat(rc::gen::inRange<std::uint64_t>(2, 1ull << 40), [](std::uint64_t options) {
    return rc::gen::map(
        rc::gen::tuple(rc::gen::inRange(0, 4), rc::gen::inRange<std::uint64_t>(0, options)),
        [options](const std::tuple<int, std::uint64_t>& t) {
          return Decision{static_cast<DecisionKind>(std::get<0>(t)), options, std::get<1>(t)};
        });
  });
}

std::string expect_malformed(const std::string& trace) {
  try {
    decode_trace(trace);
  } catch (const TraceError& e) {
    return e.what();
  }
  ADD_FAILURE() << "decode_trace accepted " << trace;
  return {};
}

}  // namespace

RC_GTEST_PROP(Trace, encode_then_decode_gives_the_same_decisions, ()) {
  const auto decisions = *rc::gen::container<std::vector<Decision>>(arbitrary_decision());
  const std::string trace = encode_trace(decisions);
  RC_ASSERT(trace.rfind("cf1:", 0) == 0);
  RC_ASSERT(trace.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 4) ==
            std::string::npos);
  RC_ASSERT(decode_trace(trace) == decisions);
}

RC_GTEST_PROP(Trace, decoding_arbitrary_text_never_crashes, (const std::string& text)) {
  // Either a list of valid decisions or a TraceError; nothing else.
  for (const std::string& candidate : {text, "cf1:" + text}) {
    try {
      for (const Decision& d : decode_trace(candidate)) {
        RC_ASSERT(d.options >= 2);
        RC_ASSERT(d.value < d.options);
      }
    } catch (const TraceError& e) {
      RC_ASSERT(std::string(e.what()).rfind("malformed trace: ", 0) == 0);
    }
  }
}

TEST(Trace, empty_run_encodes_to_the_version_byte_and_checksum) {
  const std::string empty = encode_trace({});
  EXPECT_EQ(empty.size(), 4u + 7u);  // "cf1:" + base64url of 5 bytes
  EXPECT_TRUE(decode_trace(empty).empty());
}

TEST(Trace, a_changed_or_lost_character_is_caught_by_the_checksum) {
  const std::string trace =
      encode_trace({{DecisionKind::task, 3, 1}, {DecisionKind::random, 9, 4}});
  for (std::size_t i = 4; i < trace.size(); ++i) {
    std::string changed = trace;
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    expect_malformed(changed);
    expect_malformed(trace.substr(0, i));
  }
}

TEST(Trace, malformed_traces_name_the_problem) {
  EXPECT_NE(expect_malformed("").find("does not start with \"cf1:\""), std::string::npos);
  EXPECT_NE(expect_malformed("cf2:AQ").find("version 'cf2' is not supported"), std::string::npos);
  EXPECT_NE(expect_malformed("cf1:").find("empty"), std::string::npos);
  EXPECT_NE(expect_malformed("cf1:A!Q").find("character 6 ('!')"), std::string::npos);
  EXPECT_NE(expect_malformed("cf1:AQ\n").find("character 7 (0x0a)"), std::string::npos);
  EXPECT_NE(expect_malformed(detail::frame_trace_payload("\x02")).find("version byte is 2"),
            std::string::npos);
  EXPECT_NE(expect_malformed("cf1:AQ").find("too short"), std::string::npos);
  EXPECT_NE(expect_malformed(encode_trace({}) + "AA").find("length"), std::string::npos);
  // A header without its value: options 3, task (header 12).
  EXPECT_NE(expect_malformed(detail::frame_trace_payload("\x01\x0c")).find("decision 0 ends"),
            std::string::npos);
  // A value out of range: options 2, value 2.
  EXPECT_NE(
      expect_malformed(detail::frame_trace_payload("\x01\x08\x02")).find("takes option 2 of 2"),
      std::string::npos);
  // A decision with one option is never recorded.
  EXPECT_NE(expect_malformed(detail::frame_trace_payload(std::string("\x01\x04\x00", 3)))
                .find("has 1 options"),
            std::string::npos);
  // A varint with a redundant zero group.
  EXPECT_NE(expect_malformed(detail::frame_trace_payload(std::string("\x01\x88\x00\x00", 4)))
                .find("redundant"),
            std::string::npos);
  for (const std::string& message :
       {expect_malformed(std::string("cf1:A\0Q", 7)), expect_malformed("cf1:AQ\n")}) {
    EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
  }
}

namespace {
Task<void> two_racers() {
  auto ch = make_chan<int>(0);
  go([ch]() -> Task<> { co_await ch.send(1); });
  go([ch]() -> Task<> { co_await ch.send(2); });
  auto first = co_await ch.recv();
  auto second = co_await ch.recv();
  require(first.value + second.value == 3, "both values arrive");
  require(first.value == 1, "the first sender wins");  // false on some schedules
}
}  // namespace

TEST(Trace, replay_reproduces_a_failing_run_exactly) {
  Report found = check(two_racers, Config{.runs = 1000});
  ASSERT_EQ(found.kind, FailureKind::assertion) << found.text();
  Report again = replay(two_racers, found.trace);
  EXPECT_EQ(again.kind, found.kind);
  EXPECT_EQ(again.summary, found.summary);
  EXPECT_EQ(again.trace, found.trace);
  EXPECT_EQ(again.steps, found.steps);
}

TEST(Trace, a_trace_that_no_longer_fits_diverges_at_the_first_difference) {
  Report found = check(two_racers, Config{.runs = 1000});
  ASSERT_FALSE(found.ok());
  auto decisions = decode_trace(found.trace);
  ASSERT_FALSE(decisions.empty());
  decisions[0].options += 1;  // as if the scenario now had one more runnable task
  decisions[0].value = 0;
  Report diverged = replay(two_racers, encode_trace(decisions));
  EXPECT_EQ(diverged.kind, FailureKind::diverged);
  EXPECT_NE(diverged.summary.find("trace diverged at decision 0"), std::string::npos)
      << diverged.summary;

  // Extra decisions at the end: the run ends before the trace does.
  decisions = decode_trace(found.trace);
  decisions.push_back({DecisionKind::random, 5, 4});
  Report longer = replay(two_racers, encode_trace(decisions));
  EXPECT_EQ(longer.kind, FailureKind::diverged);
  EXPECT_NE(longer.summary.find("the trace has"), std::string::npos) << longer.summary;
}
