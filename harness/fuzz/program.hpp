// The channel programs of program_fuzzer: what they are, how a fuzz input
// decodes into one, and how one prints.
//
// A program has 1-4 channels of int (capacity 0-3, or nil), two contexts
// (x0 = with_cancel(background()), x1 = with_cancel(x0)) and 1-6 bodies of
// at most 8 operations. Body 0 is main; `spawn b` starts a task running body
// b, while fewer than 6 tasks were started in all (then it does nothing).
// Operations:
//
//   send c, recv c, try_send c, try_recv c, close c       on a channel
//   select {case...} [default]   2-4 cases: send c or recv c; the last case
//                                may be recv x<k>.done() instead
//   wait x<k>                    recv on x<k>.done()
//   cancel x<k>                  call x<k>'s CancelFunc
//   sleep <ms>                   0-3 ms of virtual time
//   spawn b                      go body b
//
// Each send offers a value of its own: (task id << 8) | n, the n-th value
// the task offered (so a value names its sender and its place).
//
// Input bytes (the canonical encoding is the same with every byte reduced):
//
//   channels  byte: n = 1 + b % 4, then n bytes: capacity = b % 4,
//                   nil when (b / 4) % 8 == 7
//   bodies    byte: m = 1 + b % 6, then per body: length = b % 9, then the ops
//   op        byte: kind = b % 10 (OpKind order), then its operands:
//               send/recv/try_send/try_recv/close  channel = b % n
//               select   b: cases = 2 + b % 3, default = (b / 3) % 2;
//                        per case b: bit 1 on the last case: a context case
//                        (recv x<(b >> 2) % 2>.done()); else bit 0 send,
//                        channel (b >> 2) % n
//               wait/cancel  context = b % 2
//               sleep        ms = b % 4
//               spawn        body = b % m
//   schedule  everything after the program: one byte per decision
//
// In reports, operation i (from 1) of body b is at "body<b>:<i>".
//
// A program prints (and replays) as "cfp1:" + base64url of its canonical
// bytes: scripts/repro program_fuzzer cfp1:... cf1:...
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.hpp"

namespace chanfuzz::fuzz::program {

inline constexpr std::size_t kMaxChannels = 4;
inline constexpr std::size_t kContexts = 2;
inline constexpr std::size_t kMaxBodies = 6;
inline constexpr std::size_t kMaxOps = 8;
inline constexpr std::size_t kMaxTasks = 6;
inline constexpr std::size_t kMaxCases = 4;

enum class OpKind : std::uint8_t {
  send,
  recv,
  try_send,
  try_recv,
  select,
  close,
  cancel,
  sleep,
  spawn,
  wait,
};
inline constexpr std::size_t kOpKinds = 10;

struct Case {
  bool send = false;
  bool context = false;  // recv on x<channel>.done() (never a send)
  std::uint8_t channel = 0;
  friend bool operator==(const Case&, const Case&) = default;
};

struct Op {
  OpKind kind = OpKind::send;
  std::uint8_t arg = 0;  // channel, context, milliseconds or body
  std::uint8_t cases = 0;
  bool has_default = false;
  std::array<Case, kMaxCases> select{};
  friend bool operator==(const Op&, const Op&) = default;
};

struct ChannelSpec {
  bool nil = false;
  std::uint8_t capacity = 0;
  friend bool operator==(const ChannelSpec&, const ChannelSpec&) = default;
};

struct Program {
  std::vector<ChannelSpec> channels;
  std::vector<std::vector<Op>> bodies;
  friend bool operator==(const Program&, const Program&) = default;
};

// Reads a program from the front of `in`; the rest is the schedule. Any
// bytes make a program (missing ones read as 0).
Program decode(FuzzInput& in);
// The canonical bytes: decode(encode(p)) == p.
std::vector<std::uint8_t> encode(const Program& program);

// "cfp1:" + base64url(encode(program)).
std::string to_text(const Program& program);
// The program of a "cfp1:..." string, or nullopt when it is not one (or
// has bytes after the program).
std::optional<Program> from_text(std::string_view text);

// "send c1", "select {recv c0, send c2, recv x1.done()} default", ...
std::string describe(const Op& op);
// The listing: channels, contexts, one line per body.
std::string describe(const Program& program);

}  // namespace chanfuzz::fuzz::program
