// The trace format: round trip (a RapidCheck property), malformed input, and
// replay through ReplayStrategy, plain and with a default tail.
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
  const TraceEnd end = *rc::gen::element(TraceEnd::exact, TraceEnd::default_tail);
  const std::string trace = encode_trace(decisions, end);
  RC_ASSERT(trace.rfind("cf1:", 0) == 0);
  RC_ASSERT(trace.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 4) ==
            std::string::npos);
  RC_ASSERT(read_trace(trace) == (Trace{decisions, end}));
  RC_ASSERT(decode_trace(trace) == decisions);
  // The end is part of the trace: the two spellings differ.
  const TraceEnd other = end == TraceEnd::exact ? TraceEnd::default_tail : TraceEnd::exact;
  RC_ASSERT(encode_trace(decisions, other) != trace);
}

RC_GTEST_PROP(Trace, decoding_arbitrary_text_never_crashes, (const std::string& text)) {
  // Either a list of valid decisions or a TraceError; nothing else.
  for (const std::string& candidate : {text, "cf1:" + text, detail::frame_trace_payload(text)}) {
    try {
      for (const Decision& d : read_trace(candidate).decisions) {
        RC_ASSERT(d.options >= 2);
        RC_ASSERT(d.value < d.options);
      }
    } catch (const TraceError& e) {
      RC_ASSERT(std::string(e.what()).rfind("malformed trace: ", 0) == 0);
    }
  }
}

TEST(Trace, plain_traces_keep_their_spelling_and_a_default_tail_is_explicit) {
  // The same two decisions (task: 1 of 2; timer: 1 of 3), plain (version
  // byte 1, as every trace before version 2) and with a default tail
  // (version byte 2). The strings are those of the payloads 01 08 01 0e 01
  // and 02 08 01 0e 01 with their FNV-1a checksums.
  const std::vector<Decision> two = {{DecisionKind::task, 2, 1}, {DecisionKind::timer, 3, 1}};
  EXPECT_EQ(encode_trace(two), "cf1:AQgBDgFONvPT");
  EXPECT_EQ(encode_trace(two, TraceEnd::default_tail), "cf1:AggBDgF_bvNe");
  EXPECT_EQ(read_trace("cf1:AQgBDgFONvPT"), (Trace{two, TraceEnd::exact}));
  EXPECT_EQ(read_trace("cf1:AggBDgF_bvNe"), (Trace{two, TraceEnd::default_tail}));
  EXPECT_EQ(read_trace(detail::frame_trace_payload("\x02")), (Trace{{}, TraceEnd::default_tail}));
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
  EXPECT_NE(expect_malformed(detail::frame_trace_payload("\x03")).find("version byte is 3"),
            std::string::npos);
  EXPECT_NE(expect_malformed(detail::frame_trace_payload(std::string("\0", 1)))
                .find("expected 1 (plain) or 2 (with a default tail)"),
            std::string::npos);
  // A default tail does not make a damaged decision acceptable.
  EXPECT_NE(
      expect_malformed(detail::frame_trace_payload("\x02\x08\x02")).find("takes option 2 of 2"),
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

// ---- the default tail ---------------------------------------------------------

namespace {

std::vector<std::string> g_order;  // what ran, in order (one run at a time)

// Two tasks that each yield once, spawned by main, which yields once too.
Task<void> three_yielders() {
  for (const char* name : {"a", "b"}) {
    go([name]() -> Task<> {
      g_order.push_back(std::string(name) + "1");
      co_await yield();
      g_order.push_back(std::string(name) + "2");
    });
  }
  g_order.push_back("main1");
  co_await yield();
  g_order.push_back("main2");
}

// main sleeps; meanwhile a task yields three times, each time with the
// clock option on offer (a timer is pending while a task can run).
Task<void> yields_while_main_sleeps() {
  go([]() -> Task<> {
    for (int i = 0; i < 3; ++i) {
      co_await yield();
      g_order.push_back("y");
    }
  });
  co_await sleep_for(Duration(1000));
  g_order.push_back("main");
}

// One run of `scenario` replaying `trace`: its result, and g_order.
RunResult replay_run(Task<void> (*scenario)(), Trace trace) {
  g_order.clear();
  ReplayStrategy strategy(std::move(trace));
  SimExecutor sim(SimOptions{.seed = 0, .strategy = &strategy});
  return sim.run(scenario());
}

}  // namespace

TEST(DefaultTail, takes_the_default_choice_at_every_decision) {
  // The current task goes on; when it cannot, the lowest id runs.
  RunResult run = replay_run(three_yielders, Trace{{}, TraceEnd::default_tail});
  EXPECT_EQ(run.outcome, RunOutcome::ok) << run.message;
  EXPECT_EQ(g_order, (std::vector<std::string>{"main1", "main2", "a1", "a2", "b1", "b2"}));
  ASSERT_FALSE(run.decisions.empty());
  // Never the clock option, though it is on offer at each of the task's yields.
  run = replay_run(yields_while_main_sleeps, Trace{{}, TraceEnd::default_tail});
  EXPECT_EQ(run.outcome, RunOutcome::ok) << run.message;
  EXPECT_EQ(g_order, (std::vector<std::string>{"y", "y", "y", "main"}));
}

TEST(DefaultTail, follows_the_trace_then_the_default) {
  const std::vector<Decision> all =
      replay_run(three_yielders, Trace{{}, TraceEnd::default_tail}).decisions;
  const std::vector<std::string> order = g_order;
  ASSERT_GE(all.size(), 2u);
  // Any prefix of the default run's decisions, with a default tail: the same run.
  for (std::size_t k = 0; k <= all.size(); ++k) {
    std::vector<Decision> prefix(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k));
    RunResult run = replay_run(three_yielders, Trace{prefix, TraceEnd::default_tail});
    EXPECT_EQ(run.decisions, all) << "prefix of " << k;
    EXPECT_EQ(g_order, order) << "prefix of " << k;
  }
  // Another first choice, then the default: the run follows the trace first.
  std::vector<Decision> other = {all[0]};
  other[0].value = (other[0].value + 1) % other[0].options;
  RunResult run = replay_run(three_yielders, Trace{other, TraceEnd::default_tail});
  EXPECT_EQ(run.outcome, RunOutcome::ok) << run.message;
  ASSERT_FALSE(run.decisions.empty());
  EXPECT_EQ(run.decisions[0], other[0]);
  EXPECT_NE(g_order, order);
  // The same through replay(): the report keeps the short trace and counts
  // the decisions the tail took.
  const std::string tail = encode_trace(other, TraceEnd::default_tail);
  Report report = replay(three_yielders, tail);
  EXPECT_TRUE(report.ok()) << report.text();
  EXPECT_EQ(report.trace, tail);
  EXPECT_EQ(report.default_tail_decisions, run.decisions.size() - 1);
}

TEST(DefaultTail, a_plain_trace_that_runs_out_still_diverges) {
  const std::vector<Decision> all =
      replay_run(three_yielders, Trace{{}, TraceEnd::default_tail}).decisions;
  ASSERT_GE(all.size(), 2u);
  const std::vector<Decision> cut(all.begin(), all.end() - 1);
  Report plain = replay(three_yielders, encode_trace(cut));
  EXPECT_EQ(plain.kind, FailureKind::diverged) << plain.text();
  EXPECT_NE(plain.summary.find("the trace ended"), std::string::npos) << plain.summary;
  Report tail = replay(three_yielders, encode_trace(cut, TraceEnd::default_tail));
  EXPECT_TRUE(tail.ok()) << tail.text();
  EXPECT_EQ(tail.default_tail_decisions, 1u);
}

TEST(DefaultTail, a_trace_that_no_longer_fits_still_diverges) {
  const std::vector<Decision> all =
      replay_run(three_yielders, Trace{{}, TraceEnd::default_tail}).decisions;
  ASSERT_FALSE(all.empty());
  // A recorded decision that differs from the run's (the scenario changed).
  std::vector<Decision> changed = all;
  changed[0].options += 1;
  Report report = replay(three_yielders, encode_trace(changed, TraceEnd::default_tail));
  EXPECT_EQ(report.kind, FailureKind::diverged) << report.text();
  EXPECT_NE(report.summary.find("trace diverged at decision 0"), std::string::npos)
      << report.summary;
  EXPECT_EQ(report.default_tail_decisions, 0u);
  // More recorded decisions than the run makes: the tail does not hide them.
  std::vector<Decision> longer = all;
  longer.push_back({DecisionKind::random, 5, 4});
  report = replay(three_yielders, encode_trace(longer, TraceEnd::default_tail));
  EXPECT_EQ(report.kind, FailureKind::diverged) << report.text();
  EXPECT_NE(report.summary.find("the trace has"), std::string::npos) << report.summary;
}
