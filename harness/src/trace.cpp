// The trace format, versions 1 and 2.
//
// Grammar (ABNF, RFC 5234):
//
//   trace     = "cf1:" payload-b64       ; the payload in base64url (RFC 4648 §5),
//                                        ; alphabet A-Z a-z 0-9 - _, no padding
//   payload   = version *decision checksum
//   version   = %x01                     ; plain: the decisions are the whole run
//             / %x02                     ; default tail: after the last decision,
//                                        ; the run takes default_choice() at every
//                                        ; decision (trace.hpp)
//   checksum  = 4OCTET                   ; FNV-1a (32 bits, little endian) of
//                                        ; version and decisions: a pasted
//                                        ; trace that lost or changed a
//                                        ; character is rejected, not replayed
//                                        ; as some other schedule
//   decision  = header value
//   header    = varint                   ; options * 4 + kind
//   value     = varint                   ; the option taken, < options
//   kind      = 0 (task) / 1 (select case) / 2 (timer) / 3 (random)
//   varint    = unsigned LEB128, at most 10 bytes, no redundant trailing
//               zero groups
//
// The decisions appear in the order the run made them. options >= 2 (a
// choice with one option is not a decision and is not recorded).
//
// Version 2 came with minimize()'s shorter traces; version 1 traces keep
// their meaning exactly (a replay that runs past them diverges), and what a
// run records is always version 1. The text prefix stays "cf1:": it names
// the framing (base64url, checksum), the version byte names the payload.
#include "chanfuzz/trace.hpp"

#include <array>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <utility>

namespace chanfuzz {

namespace {

constexpr std::string_view kPrefix = "cf1:";
constexpr std::uint8_t kPlain = 1;        // version byte: TraceEnd::exact
constexpr std::uint8_t kDefaultTail = 2;  // version byte: TraceEnd::default_tail
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

std::string base64url(const std::string& bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t n = (static_cast<std::uint8_t>(bytes[i]) << 16) |
                      (static_cast<std::uint8_t>(bytes[i + 1]) << 8) |
                      static_cast<std::uint8_t>(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kAlphabet[(n >> shift) & 63]);
  }
  std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t n = static_cast<std::uint8_t>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<std::uint8_t>(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    if (rest == 2) out.push_back(kAlphabet[(n >> 6) & 63]);
  }
  return out;
}

[[noreturn]] void fail(const std::string& what) { throw TraceError("malformed trace: " + what); }

std::uint32_t fnv1a(std::string_view bytes) {
  std::uint32_t hash = 2166136261u;
  for (char c : bytes) {
    hash ^= static_cast<std::uint8_t>(c);
    hash *= 16777619u;
  }
  return hash;
}

// A character as it may be shown in a one-line message.
std::string printable(char c) {
  auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x20 && byte < 0x7f) return std::string("'") + c + "'";
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "0x%02x", byte);
  return buffer;
}

std::string unbase64url(std::string_view text) {
  static const std::array<int, 256> value = [] {
    std::array<int, 256> table{};
    table.fill(-1);
    for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(kAlphabet[i])] = i;
    return table;
  }();
  if (text.size() % 4 == 1) fail("its length is not that of base64url text");
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    int v = value[static_cast<unsigned char>(text[i])];
    if (v < 0) {
      std::ostringstream message;
      message << "character " << (i + kPrefix.size() + 1) << " (" << printable(text[i])
              << ") is not base64url (A-Z a-z 0-9 - _)";
      fail(message.str());
    }
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  if (bits > 0 && (buffer & ((1u << bits) - 1)) != 0) fail("its last character has stray bits");
  return out;
}

class Reader {
 public:
  // `bytes` without the checksum.
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  bool done() const { return at_ == bytes_.size(); }
  std::uint64_t varint(const char* what, std::size_t decision) {
    std::uint64_t v = 0;
    for (int i = 0; i < 10; ++i) {
      if (at_ == bytes_.size()) fail(where(decision) + "ends in the middle of its " + what);
      auto byte = static_cast<std::uint8_t>(bytes_[at_++]);
      if (i == 9 && byte > 1) fail(where(decision) + "has a " + what + " beyond 64 bits");
      v |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * i);
      if (!(byte & 0x80)) {
        if (i > 0 && byte == 0) fail(where(decision) + "has a " + what + " with a redundant zero");
        return v;
      }
    }
    fail(where(decision) + "has a " + what + " longer than 10 bytes");
  }

 private:
  static std::string where(std::size_t decision) {
    return "decision " + std::to_string(decision) + " ";
  }
  std::string_view bytes_;
  std::size_t at_ = 1;  // after the version byte
};

}  // namespace

std::string detail::frame_trace_payload(std::string_view payload) {
  std::string bytes(payload);
  std::uint32_t checksum = fnv1a(bytes);
  for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>((checksum >> (8 * i)) & 0xff));
  return std::string(kPrefix) + base64url(bytes);
}

std::string encode_trace(const std::vector<Decision>& decisions, TraceEnd end) {
  std::string bytes;
  bytes.reserve(1 + decisions.size() * 2);
  bytes.push_back(static_cast<char>(end == TraceEnd::default_tail ? kDefaultTail : kPlain));
  for (const Decision& d : decisions) {
    put_varint(bytes, d.options * 4 + static_cast<std::uint64_t>(d.kind));
    put_varint(bytes, d.value);
  }
  return detail::frame_trace_payload(bytes);
}

Trace read_trace(std::string_view trace) {
  if (trace.substr(0, kPrefix.size()) != kPrefix) {
    if (trace.size() > 2 && trace.substr(0, 2) == "cf" &&
        trace.find(':') != std::string_view::npos) {
      fail("version '" + std::string(trace.substr(0, trace.find(':'))) +
           "' is not supported (this chanfuzz reads cf1:)");
    }
    fail("it does not start with \"cf1:\"");
  }
  std::string bytes = unbase64url(trace.substr(kPrefix.size()));
  if (bytes.empty()) fail("it is empty after \"cf1:\"");
  const auto version = static_cast<std::uint8_t>(bytes[0]);
  if (version != kPlain && version != kDefaultTail) {
    fail("its version byte is " + std::to_string(version) +
         ", expected 1 (plain) or 2 (with a default tail)");
  }
  if (bytes.size() < 5) fail("it is too short to hold a version and a checksum");
  std::string_view body(bytes.data(), bytes.size() - 4);
  std::uint32_t stored = 0;
  for (int i = 0; i < 4; ++i) {
    stored |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[body.size() + i]))
              << (8 * i);
  }
  if (stored != fnv1a(body)) fail("its checksum does not match (a character was lost or changed)");
  Trace out;
  out.end = version == kDefaultTail ? TraceEnd::default_tail : TraceEnd::exact;
  Reader reader(body);
  while (!reader.done()) {
    std::size_t index = out.decisions.size();
    std::uint64_t header = reader.varint("header", index);
    std::uint64_t value = reader.varint("value", index);
    Decision d;
    d.kind = static_cast<DecisionKind>(header & 3);
    d.options = header >> 2;
    d.value = value;
    if (d.options < 2) {
      fail("decision " + std::to_string(index) + " has " + std::to_string(d.options) +
           " options (at least 2)");
    }
    if (d.value >= d.options) {
      fail("decision " + std::to_string(index) + " takes option " + std::to_string(d.value) +
           " of " + std::to_string(d.options));
    }
    out.decisions.push_back(d);
  }
  return out;
}

std::vector<Decision> decode_trace(std::string_view trace) {
  return std::move(read_trace(trace).decisions);
}

}  // namespace chanfuzz
