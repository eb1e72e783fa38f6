// Laws of one close and of one select, over generated channel states, each
// case run under kSchedulesPerCase schedules by check():
//
// - close wakes every receiver (plain or in a select) and every blocked
//   sender (which panics), and receivers see the buffer drained, in order,
//   before {T{}, false};
// - select fires exactly one case, a ready one, and default only when no
//   case is ready; a blocked select is completed by the first operation that
//   reaches it, and no later one reaches it.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "generators.hpp"
#include "support.hpp"

using namespace chanfuzz;
using namespace chanfuzz::properties;

namespace {

// ---- close ----

struct CloseCase {
  int waiting_receivers = 1;  // blocked on an empty channel when it is closed: 1-8
  int in_select = 0;          // of those, waiting in a select with a nil-channel case
  int capacity = 0;           // of the second channel: 0-4
  int buffered = 0;           // values in it when it is closed: 0..capacity
  int waiting_senders = 0;    // blocked on it (it is full) when it is closed: 0-3
  int late_receivers = 1;     // drain it after the close: 1-8
};

std::ostream& operator<<(std::ostream& out, const CloseCase& c) {
  return out << "close of an empty channel with " << c.waiting_receivers << " receivers waiting ("
             << c.in_select << " in a select with a nil case); close of a "
             << "cap-" << c.capacity << " channel holding " << c.buffered << " values with "
             << c.waiting_senders << " senders waiting, then " << c.late_receivers
             << " receivers drain it";
}
[[maybe_unused]] void showValue(const CloseCase& c, std::ostream& out) { out << c; }

rc::Gen<CloseCase> gen_close_case() {
  return rc::gen::map(rc::gen::tuple(uniform(1, 8), uniform(0, 8), uniform(0, 4), uniform(0, 4),
                                     uniform(0, 3), uniform(1, 8)),
                      [](const std::tuple<int, int, int, int, int, int>& p) {
                        CloseCase c;
                        c.waiting_receivers = std::get<0>(p);
                        c.in_select = std::min(std::get<1>(p), c.waiting_receivers);
                        c.capacity = std::get<2>(p);
                        c.buffered = std::min(std::get<3>(p), c.capacity);
                        // Senders block only on a full channel.
                        c.waiting_senders = c.buffered == c.capacity ? std::get<4>(p) : 0;
                        c.late_receivers = std::get<5>(p);
                        return c;
                      });
}

struct CloseLog {
  std::vector<Recv<int>> woken;      // what each waiting receiver got
  std::vector<std::string> senders;  // what each waiting sender's send threw
  struct Got {
    int receiver;
    std::uint64_t order;  // completion order among the late receivers
    Recv<int> result;
  };
  std::vector<Got> late;
  std::uint64_t next_order = 0;
};

Task<void> close_scenario(CloseCase c) {
  auto log = std::make_shared<CloseLog>();
  WaitGroup all;
  auto empty = make_chan<int>(static_cast<std::size_t>(c.capacity));
  for (int i = 0; i < c.waiting_receivers; ++i) {
    all.add(1);
    const bool in_select = i < c.in_select;
    go("waiting receiver", [empty, log, all, in_select]() -> Task<> {
      Recv<int> r;
      if (in_select) {
        Chan<int> nil;
        auto s = co_await select(nil.recv(), empty.recv());
        require(s.index() == 1, "a select woken by close took its nil-channel case");
        r = s.get<1>();
      } else {
        r = co_await empty.recv();
      }
      log->woken.push_back(r);
      all.done();
    });
  }
  co_await settle();
  require(num_tasks() == static_cast<std::size_t>(c.waiting_receivers) + 1,
          "a receiver of the empty channel did not block");

  auto full = make_chan<int>(static_cast<std::size_t>(c.capacity));
  for (int v = 0; v < c.buffered; ++v) require(full.try_send(v), "try_send into free buffer space");
  for (int i = 0; i < c.waiting_senders; ++i) {
    all.add(1);
    go("waiting sender", [full, log, all, i]() -> Task<> {
      try {
        co_await full.send(100 + i);
        log->senders.push_back("no panic");
      } catch (const Panic& e) {
        log->senders.push_back(e.what());
      }
      all.done();
    });
    co_await settle();  // one at a time: they queue in this order
  }
  require(full.len() == static_cast<std::size_t>(c.buffered), "len counts the buffered values");

  empty.close();
  full.close();

  for (int i = 0; i < c.late_receivers; ++i) {
    all.add(1);
    go("late receiver", [full, log, all, i]() -> Task<> {
      for (;;) {
        auto r = co_await full.recv();
        log->late.push_back({i, log->next_order++, r});
        if (!r.ok) break;
      }
      all.done();
    });
  }
  co_await all.wait();

  // Every waiting receiver woke with {0, false}; every waiting sender panicked.
  require(log->woken.size() == static_cast<std::size_t>(c.waiting_receivers),
          "close woke every waiting receiver");
  for (const Recv<int>& r : log->woken) {
    require(!r.ok && r.value == 0, "a receiver woken by close gets {T{}, false}");
  }
  for (const std::string& what : log->senders) {
    require(what == "send on closed channel", "a sender woken by close panics: " + what);
  }
  // The late receivers drained the buffered values, each once, in order,
  // before anyone saw {T{}, false}; each of them saw it once, last.
  std::vector<int> values;
  std::uint64_t last_value = 0;
  std::uint64_t first_closed = UINT64_MAX;
  std::vector<int> last_per_receiver(static_cast<std::size_t>(c.late_receivers), -1);
  for (const CloseLog::Got& got : log->late) {
    if (got.result.ok) {
      values.push_back(got.result.value);
      last_value = std::max(last_value, got.order + 1);
      auto& last = last_per_receiver[static_cast<std::size_t>(got.receiver)];
      require(got.result.value > last, "one receiver got the buffered values out of order");
      last = got.result.value;
    } else {
      require(got.result.value == 0, "{T{}, false} carries T{}");
      first_closed = std::min(first_closed, got.order);
    }
  }
  std::sort(values.begin(), values.end());
  std::vector<int> expected;
  for (int v = 0; v < c.buffered; ++v) expected.push_back(v);
  require(values == expected, "the buffered values are received exactly once after close");
  require(last_value <= first_closed, "a receiver saw {T{}, false} before the buffer was drained");
  require(full.len() == 0, "the closed channel is drained");
  auto after = full.try_recv();
  require(after.has_value() && !after->ok, "try_recv of a closed, drained channel: {T{}, false}");
}

}  // namespace

namespace {

// Tasks and values of a close case: its size for the controls.
int close_size(const CloseCase& c) {
  return c.waiting_receivers + c.waiting_senders + c.late_receivers + c.buffered;
}

void close_property() {
  const auto c = *gen_close_case();
  const auto schedules = *gen_schedules();
  RC_TAG(c.waiting_senders > 0 ? "senders waiting" : "no sender waiting");
  expect_every_schedule_passes([c]() { return close_scenario(c); }, schedules, close_size(c));
}

}  // namespace

RC_GTEST_PROP(Close, wakes_every_receiver_and_the_buffer_drains_first, ()) { close_property(); }

// ---- select ----

namespace {

// The state a channel is in when the select runs.
enum class ChanState : std::uint8_t {
  empty,              // nothing buffered, nobody waiting
  buffered,           // 1..capacity values (capacity > 0), nobody waiting
  senders_waiting,    // full (capacity values), 1-2 senders waiting
  receivers_waiting,  // empty, 1-2 receivers waiting
  closed,             // closed, 0..capacity values left in it
};

struct ChannelSpec {
  int capacity = 0;
  ChanState state = ChanState::empty;
  int count = 0;  // values buffered (buffered, closed) or tasks waiting
};

struct CaseSpec {
  bool send = false;
  int channel = 0;
};

constexpr int kMaxCases = 4;

struct SelectSpec {
  std::vector<ChannelSpec> channels;  // 1-4
  std::vector<CaseSpec> cases;        // 1-4; a channel may appear in several cases
  bool with_default = false;
  bool default_first = false;
  std::vector<int> offer_order;  // a blocked select: the order main offers its cases
};

const char* state_name(ChanState s) {
  switch (s) {
    case ChanState::empty:
      return "empty";
    case ChanState::buffered:
      return "buffered";
    case ChanState::senders_waiting:
      return "full, senders waiting";
    case ChanState::receivers_waiting:
      return "receivers waiting";
    case ChanState::closed:
      return "closed";
  }
  return "?";
}

std::ostream& operator<<(std::ostream& out, const SelectSpec& s) {
  out << "select(";
  if (s.with_default && s.default_first) out << "default, ";
  for (std::size_t i = 0; i < s.cases.size(); ++i) {
    if (i > 0) out << ", ";
    out << "c" << s.cases[i].channel << (s.cases[i].send ? ".send" : ".recv");
  }
  if (s.with_default && !s.default_first) out << ", default";
  out << ") where";
  for (std::size_t i = 0; i < s.channels.size(); ++i) {
    const ChannelSpec& c = s.channels[i];
    out << (i ? ";" : "") << " c" << i << ": cap " << c.capacity << ", " << state_name(c.state);
    if (c.state != ChanState::empty) out << " (" << c.count << ")";
  }
  if (!s.with_default && !s.offer_order.empty()) {
    out << "; if it blocks, main offers cases";
    for (int k : s.offer_order) out << " " << k;
  }
  return out;
}
[[maybe_unused]] void showValue(const SelectSpec& s, std::ostream& out) { out << s; }

rc::Gen<ChannelSpec> gen_channel_spec() {
  return rc::gen::map(rc::gen::tuple(uniform(0, 3), uniform(0, 4), uniform(1, 3)),
                      [](const std::tuple<int, int, int>& p) {
                        ChannelSpec c;
                        c.capacity = std::get<0>(p);
                        c.state = static_cast<ChanState>(std::get<1>(p));
                        switch (c.state) {
                          case ChanState::empty:
                            c.count = 0;
                            break;
                          case ChanState::buffered:
                            if (c.capacity == 0) c.state = ChanState::empty;
                            c.count = std::min(std::get<2>(p), c.capacity);
                            break;
                          case ChanState::senders_waiting:
                          case ChanState::receivers_waiting:
                            c.count = std::min(std::get<2>(p), 2);
                            break;
                          case ChanState::closed:
                            c.count = std::min(std::get<2>(p) - 1, c.capacity);
                            break;
                        }
                        return c;
                      });
}

rc::Gen<SelectSpec> gen_select_spec() {
  return rc::gen::map(
      rc::gen::tuple(
          gen_some(4, gen_channel_spec()),
          gen_some(kMaxCases, rc::gen::map(rc::gen::tuple(uniform(0, 1), uniform(0, 3)),
                                           [](const std::tuple<int, int>& p) {
                                             return CaseSpec{std::get<0>(p) == 1, std::get<1>(p)};
                                           })),
          uniform(0, 2), uniform(0, 23)),
      [](const std::tuple<std::vector<ChannelSpec>, std::vector<CaseSpec>, int, int>& p) {
        SelectSpec s;
        s.channels = std::get<0>(p);
        s.cases = std::get<1>(p);
        for (CaseSpec& c : s.cases) c.channel %= static_cast<int>(s.channels.size());
        s.with_default = std::get<2>(p) > 0;
        s.default_first = std::get<2>(p) == 2;
        // The permutation number std::get<3>(p) of the cases.
        std::vector<int> order;
        for (int i = 0; i < static_cast<int>(s.cases.size()); ++i) order.push_back(i);
        for (int k = 0; k < std::get<3>(p) % 24; ++k)
          std::next_permutation(order.begin(), order.end());
        s.offer_order = order;
        return s;
      });
}

// Whether case `k` is ready, from the state of its channel.
bool case_ready(const SelectSpec& spec, const CaseSpec& k) {
  const ChannelSpec& c = spec.channels[static_cast<std::size_t>(k.channel)];
  if (c.state == ChanState::closed) return true;
  if (!k.send) return c.state == ChanState::buffered || c.state == ChanState::senders_waiting;
  if (c.state == ChanState::receivers_waiting) return true;
  const int buffered = c.state == ChanState::buffered ? c.count : 0;
  return c.state != ChanState::senders_waiting && buffered < c.capacity;
}

int ready_cases(const SelectSpec& spec) {
  return static_cast<int>(std::count_if(spec.cases.begin(), spec.cases.end(),
                                        [&](const CaseSpec& k) { return case_ready(spec, k); }));
}

// The value a send case k sends.
int case_value(int k) { return 1000 + k; }
// The i-th value buffered in channel c, and the value of its i-th waiting sender.
int buffered_value(int c, int i) { return 100 * c + i; }
int sender_value(int c, int i) { return 100 * c + 50 + i; }

// What the select did.
struct Outcome {
  int chosen = -1;  // case index in SelectSpec::cases; kMaxCases: default
  std::optional<Recv<int>> received;
  bool panicked = false;
};

// A select over up to kMaxCases cases of any direction, as one fixed shape:
// a recv and a send slot per case, the unused ones on the nil channel (never
// ready, so they change nothing).
template <bool kDefault, bool kDefaultFirst>
Task<void> run_select(std::vector<Chan<int>> chans, std::vector<CaseSpec> cases,
                      std::shared_ptr<Outcome> out) {
  Chan<int> r[kMaxCases];
  Chan<int> s[kMaxCases];
  for (std::size_t k = 0; k < cases.size(); ++k) {
    Chan<int> ch = chans[static_cast<std::size_t>(cases[k].channel)];
    if (cases[k].send) {
      s[k] = ch;
    } else {
      r[k] = ch;
    }
  }
  const int shift = kDefault && kDefaultFirst ? 1 : 0;
  std::size_t index = 0;
  std::optional<Recv<int>> got;
  try {
    if constexpr (!kDefault) {
      auto x = co_await select(r[0].recv(), s[0].send(case_value(0)), r[1].recv(),
                               s[1].send(case_value(1)), r[2].recv(), s[2].send(case_value(2)),
                               r[3].recv(), s[3].send(case_value(3)));
      index = x.index();
      if (index == 0) got = x.template get<0>();
      if (index == 2) got = x.template get<2>();
      if (index == 4) got = x.template get<4>();
      if (index == 6) got = x.template get<6>();
    } else if constexpr (kDefaultFirst) {
      auto x = co_await select(default_case(), r[0].recv(), s[0].send(case_value(0)), r[1].recv(),
                               s[1].send(case_value(1)), r[2].recv(), s[2].send(case_value(2)),
                               r[3].recv(), s[3].send(case_value(3)));
      index = x.index();
      if (index == 1) got = x.template get<1>();
      if (index == 3) got = x.template get<3>();
      if (index == 5) got = x.template get<5>();
      if (index == 7) got = x.template get<7>();
    } else {
      auto x = co_await select(r[0].recv(), s[0].send(case_value(0)), r[1].recv(),
                               s[1].send(case_value(1)), r[2].recv(), s[2].send(case_value(2)),
                               r[3].recv(), s[3].send(case_value(3)), default_case());
      index = x.index();
      if (index == 0) got = x.template get<0>();
      if (index == 2) got = x.template get<2>();
      if (index == 4) got = x.template get<4>();
      if (index == 6) got = x.template get<6>();
    }
  } catch (const Panic&) {
    out->panicked = true;
    co_return;
  }
  if (kDefault && index == (kDefaultFirst ? 0u : 2u * kMaxCases)) {
    out->chosen = kMaxCases;
  } else {
    const int slot = static_cast<int>(index) - shift;
    out->chosen = slot / 2;
    const bool send_slot = slot % 2 == 1;
    require(send_slot == cases[static_cast<std::size_t>(out->chosen)].send,
            "select fired a slot on the nil channel");
  }
  out->received = got;
}

// A waiting partner: a sender or receiver blocked on a channel, and what it ended with.
struct Partner {
  int channel = 0;
  bool sender = false;
  bool finished = false;
  std::optional<Recv<int>> received;  // a receiver's result
};

Task<void> select_scenario(SelectSpec spec) {
  const std::size_t n = spec.channels.size();
  std::vector<Chan<int>> chans;
  auto partners = std::make_shared<std::vector<Partner>>();
  for (std::size_t c = 0; c < n; ++c) {
    const ChannelSpec& cs = spec.channels[c];
    auto ch = make_chan<int>(static_cast<std::size_t>(cs.capacity));
    chans.push_back(ch);
    const int buffered = cs.state == ChanState::buffered || cs.state == ChanState::closed ? cs.count
                         : cs.state == ChanState::senders_waiting ? cs.capacity
                                                                  : 0;
    for (int i = 0; i < buffered; ++i) {
      require(ch.try_send(buffered_value(static_cast<int>(c), i)), "filling the buffer");
    }
    const bool senders = cs.state == ChanState::senders_waiting;
    const bool receivers = cs.state == ChanState::receivers_waiting;
    for (int i = 0; (senders || receivers) && i < cs.count; ++i) {
      const std::size_t p = partners->size();
      Partner partner;
      partner.channel = static_cast<int>(c);
      partner.sender = senders;
      partners->push_back(partner);
      const bool sender = senders;
      const int value = sender_value(static_cast<int>(c), i);
      go(sender ? "waiting sender" : "waiting receiver",
         [ch, partners, p, sender, value]() -> Task<> {
           try {
             if (sender) {
               co_await ch.send(value);
             } else {
               auto r = co_await ch.recv();
               (*partners)[p].received = r;
             }
           } catch (const Panic&) {  // the clean-up close
           }
           (*partners)[p].finished = true;
         });
      co_await settle();  // one at a time: they queue in this order
    }
    if (cs.state == ChanState::closed) ch.close();
  }

  auto ready = [&](const CaseSpec& k) { return case_ready(spec, k); };
  const bool any_ready = ready_cases(spec) > 0;
  std::vector<std::size_t> lens_before;
  for (const auto& ch : chans) lens_before.push_back(ch.len());

  auto out = std::make_shared<Outcome>();
  const auto cases = spec.cases;
  if (!spec.with_default) {
    go("selector", run_select<false, false>(chans, cases, out));
  } else if (spec.default_first) {
    go("selector", run_select<true, true>(chans, cases, out));
  } else {
    go("selector", run_select<true, false>(chans, cases, out));
  }
  co_await settle();

  const bool blocked = out->chosen < 0 && !out->panicked;
  if (spec.with_default) {
    require(!blocked, "a select with default blocked");
    require((out->chosen == kMaxCases) == !any_ready,
            any_ready ? "select took default while a case was ready"
                      : "select took a case when none was ready");
  } else {
    require(blocked == !any_ready, any_ready ? "select blocked while a case was ready"
                                             : "select fired with no case ready");
  }

  if (out->panicked) {
    // A send case on a closed channel was chosen: it panics, nothing else happens.
    bool closed_send = false;
    for (const CaseSpec& k : spec.cases) {
      closed_send =
          closed_send ||
          (k.send && spec.channels[static_cast<std::size_t>(k.channel)].state == ChanState::closed);
    }
    require(closed_send, "select panicked without a send case on a closed channel");
    for (std::size_t c2 = 0; c2 < n; ++c2) {
      require(chans[c2].len() == lens_before[c2], "a panicking select changed a channel");
    }
    for (const Partner& p : *partners) require(!p.finished, "a panicking select woke a partner");
  } else if (!blocked && out->chosen != kMaxCases) {
    // Exactly the chosen case took effect.
    const CaseSpec& k = spec.cases[static_cast<std::size_t>(out->chosen)];
    require(ready(k), "select fired a case that was not ready");
    const ChannelSpec& c = spec.channels[static_cast<std::size_t>(k.channel)];
    int woken_expected = 0;
    if (k.send && c.state == ChanState::closed) {
      require(out->panicked, "a send case on a closed channel was chosen and did not panic");
    } else if (k.send) {
      require(!out->panicked, "a send case panicked on an open channel");
      if (c.state == ChanState::receivers_waiting) {
        woken_expected = 1;
        for (const Partner& p : *partners) {
          if (p.channel == k.channel) {  // the first receiver in the queue gets it
            require(p.finished && p.received && p.received->ok &&
                        p.received->value == case_value(out->chosen),
                    "the first waiting receiver did not get the select's value");
            break;
          }
        }
      }
    } else {
      const int c_index = k.channel;
      Recv<int> expected{};
      if (c.state == ChanState::buffered || (c.state == ChanState::closed && c.count > 0)) {
        expected = {buffered_value(c_index, 0), true};
      } else if (c.state == ChanState::senders_waiting) {
        expected = {c.capacity > 0 ? buffered_value(c_index, 0) : sender_value(c_index, 0), true};
        woken_expected = 1;
      }
      require(out->received.has_value() && *out->received == expected,
              "a receive case got the wrong value");
    }
    // Other channels: unchanged; their partners still waiting.
    int woken = 0;
    for (const Partner& p : *partners) woken += p.finished ? 1 : 0;
    require(woken == woken_expected, "a select's case woke more or fewer partners than one");
    for (std::size_t c2 = 0; c2 < n; ++c2) {
      std::size_t expected_len = lens_before[c2];
      if (static_cast<int>(c2) == k.channel && !out->panicked) {
        const ChannelSpec& cs = spec.channels[c2];
        if (k.send && cs.state != ChanState::receivers_waiting) ++expected_len;
        if (!k.send && cs.capacity > 0 && cs.state != ChanState::senders_waiting &&
            lens_before[c2] > 0) {
          --expected_len;
        }
      }
      require(chans[c2].len() == expected_len, "a channel's len changed by more than one case");
    }
  } else if (out->chosen == kMaxCases) {
    for (std::size_t c2 = 0; c2 < n; ++c2) {
      require(chans[c2].len() == lens_before[c2], "select took default but a channel changed");
    }
  }

  if (blocked) {
    // Main offers the cases in the generated order, one right after the
    // other: try_send and try_recv never suspend, so the selector has not
    // run yet when the later offers come, and its other waiters are still
    // linked (stale). The first offer completes the select; no later one
    // reaches it. Offers go only to channels with no waiting partners of
    // their own (those would take the offer first).
    int first = -1;
    std::optional<int> taken;  // what the first offer took from a select waiting to send
    for (int k : spec.offer_order) {
      const CaseSpec& kc = spec.cases[static_cast<std::size_t>(k)];
      const ChannelSpec& c = spec.channels[static_cast<std::size_t>(kc.channel)];
      Chan<int> ch = chans[static_cast<std::size_t>(kc.channel)];
      if (c.state == ChanState::senders_waiting || c.state == ChanState::receivers_waiting) {
        continue;
      }
      if (!kc.send) {
        const bool took = ch.try_send(2000 + k);
        if (first < 0) {
          require(took, "try_send did not reach a select waiting to receive");
        } else if (c.capacity == 0) {
          require(!took, "a second operation reached a select that had already fired");
        }
      } else {
        auto got = ch.try_recv();
        if (first < 0) {
          require(got.has_value() && got->ok, "try_recv did not reach a select waiting to send");
          if (c.capacity == 0) taken = got->value;
        } else if (c.capacity == 0) {
          require(!got.has_value(), "a second operation reached a select that had already fired");
        }
      }
      if (first < 0) first = k;
    }
    co_await settle();
    if (first >= 0) {
      const CaseSpec& offered = spec.cases[static_cast<std::size_t>(first)];
      require(out->chosen >= 0, "the select did not wake when a case became ready");
      const CaseSpec& fired = spec.cases[static_cast<std::size_t>(out->chosen)];
      require(fired.channel == offered.channel && fired.send == offered.send,
              "the select fired a case other than the one offered first");
      if (!offered.send) {
        require(out->received && out->received->ok && out->received->value == 2000 + first,
                "the select received another value than the one offered");
      }
      if (taken) {  // the case that fired is the one whose value was taken
        require(*taken == case_value(out->chosen),
                "try_recv got another value than the select sent");
      }
    }
  }

  // Clean up: close every open channel, so every partner and a still
  // blocked selector wake (senders panic and catch it).
  for (std::size_t c = 0; c < n; ++c) {
    if (spec.channels[c].state != ChanState::closed) chans[c].close();
  }
}

}  // namespace

namespace {

// Channels, cases and waiting partners of a select case: its size for the controls.
int select_size(const SelectSpec& spec) {
  int size = static_cast<int>(spec.channels.size() + spec.cases.size());
  for (const ChannelSpec& c : spec.channels) {
    if (c.state == ChanState::senders_waiting || c.state == ChanState::receivers_waiting) {
      size += c.count;
    }
  }
  return size;
}

void select_property() {
  const auto spec = *gen_select_spec();
  const auto schedules = *gen_schedules();
  const int ready = ready_cases(spec);
  RC_TAG(ready == 0 ? (spec.with_default ? "no case ready: default" : "no case ready: blocks")
                    : (ready == 1 ? "one case ready" : "several cases ready"));
  expect_every_schedule_passes([spec]() { return select_scenario(spec); }, schedules,
                               select_size(spec));
}

}  // namespace

RC_GTEST_PROP(Select, fires_exactly_one_ready_case_and_default_only_when_none_is_ready, ()) {
  select_property();
}

// ---- mutant controls (a CHANFUZZ_MUTANT build) ----

namespace {

[[maybe_unused]] void expect_mutant_caught(const char* property, const ControlResult& control,
                                           int max_size) {
  ASSERT_TRUE(control.failed) << property << " did not catch mutant " << mutant_name();
  EXPECT_GT(control.shrinks, 0u);
  EXPECT_LE(control.shrunk.size, max_size) << control.counterexample;
  std::cout << "mutant " << mutant_name() << ": " << property << " failed after " << control.cases
            << " cases; " << control.shrinks << " shrinks; shrunk to size " << control.shrunk.size
            << ":\n"
            << control.counterexample << control.shrunk.report;
}

}  // namespace

#ifdef CHANFUZZ_MUTANT_NAME
// The select law catches every planted bug (properties/mutant-controls
// --survey): default_while_ready, a select with default takes it while one
// case is ready; lost_wakeup_select, a select waiting to receive on its
// second or later case is handed a value but never woken;
// close_no_wake_senders, the closing clean-up leaves a waiting sender asleep
// (a leak); drop_oldest_when_full, a select's send case on a full channel
// completes.
TEST(MutantControl, select_property_catches_the_mutant) {
  expect_mutant_caught("select", run_control("MutantControl/select", select_property), 6);
}
#endif

#if defined(CHANFUZZ_MUTANT_CLOSE_NO_WAKE_SENDERS) || defined(CHANFUZZ_MUTANT_DROP_OLDEST_WHEN_FULL)
// close_no_wake_senders: close leaves blocked senders asleep.
// drop_oldest_when_full: a send on a full buffered channel drops the oldest
// value instead of blocking.
TEST(MutantControl, close_property_catches_the_mutant) {
  expect_mutant_caught("close", run_control("MutantControl/close", close_property), 4);
}
#endif
