// Finding reports, SHA-1, base64url and FuzzBytesStrategy (fuzz_support.hpp).
#include "fuzz_support.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>

#include "interleaving_feedback.hpp"

namespace chanfuzz::fuzz {

namespace {

bool g_replay_mode = false;

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::uint32_t rotl(std::uint32_t x, int k) noexcept { return (x << k) | (x >> (32 - k)); }

}  // namespace

void set_replay_mode(bool on) noexcept { g_replay_mode = on; }
bool replay_mode() noexcept { return g_replay_mode; }

void report_finding(std::string_view text) {
  if (g_replay_mode) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    std::fflush(stderr);
    std::exit(1);
  }
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
  std::abort();  // libFuzzer: "deadly signal", and it writes crash-<sha1>
}

// FIPS 180-4 SHA-1 (only for naming files, as libFuzzer does).
std::string sha1_hex(std::span<const std::uint8_t> bytes) {
  std::array<std::uint32_t, 5> h = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u,
                                    0xC3D2E1F0u};
  std::vector<std::uint8_t> message(bytes.begin(), bytes.end());
  const std::uint64_t bit_length = static_cast<std::uint64_t>(bytes.size()) * 8;
  message.push_back(0x80);
  while (message.size() % 64 != 56) message.push_back(0);
  for (int i = 7; i >= 0; --i) message.push_back(static_cast<std::uint8_t>(bit_length >> (8 * i)));
  for (std::size_t block = 0; block < message.size(); block += 64) {
    std::array<std::uint32_t, 80> w{};
    for (int i = 0; i < 16; ++i) {
      const std::uint8_t* p = &message[block + 4 * static_cast<std::size_t>(i)];
      w[i] = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
             (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
    }
    for (int i = 16; i < 80; ++i) w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; ++i) {
      std::uint32_t f = 0;
      std::uint32_t k = 0;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5A827999u;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ED9EBA1u;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8F1BBCDCu;
      } else {
        f = b ^ c ^ d;
        k = 0xCA62C1D6u;
      }
      std::uint32_t t = rotl(a, 5) + f + e + k + w[i];
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
  }
  std::string out;
  char buffer[9];
  for (std::uint32_t word : h) {
    std::snprintf(buffer, sizeof buffer, "%08x", word);
    out += buffer;
  }
  return out;
}

std::string base64url_encode(std::span<const std::uint8_t> bytes) {
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t n = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) |
                      std::uint32_t{bytes[i + 2]};
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kAlphabet[(n >> shift) & 63]);
  }
  std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t n = std::uint32_t{bytes[i]} << 16;
    if (rest == 2) n |= std::uint32_t{bytes[i + 1]} << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    if (rest == 2) out.push_back(kAlphabet[(n >> 6) & 63]);
  }
  return out;
}

bool base64url_decode(std::string_view text, std::vector<std::uint8_t>& out) {
  out.clear();
  if (text.size() % 4 == 1) return false;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    if (c >= '0' && c <= '9') v = c - '0' + 52;
    if (c == '-') v = 62;
    if (c == '_') v = 63;
    if (v < 0) return false;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((buffer >> bits) & 0xff));
    }
  }
  return bits == 0 || (buffer & ((1u << bits) - 1)) == 0;
}

const char* mutant_name() noexcept {
#ifdef CHANFUZZ_MUTANT_NAME
  return CHANFUZZ_MUTANT_NAME;
#else
  return "";
#endif
}

std::string repro_lines(std::string_view target, std::span<const std::string> commands,
                        std::span<const std::uint8_t> input, std::string_view crash_environment) {
  std::string mutant = *mutant_name() ? std::string("CHANFUZZ_MUTANT=") + mutant_name() + " " : "";
  std::string out;
  const char* label = "repro:    ";
  for (const std::string& command : commands) {
    out += label + mutant + command + "\n";
    label = "          ";
  }
  out += label + mutant + std::string(crash_environment) + "scripts/repro " + std::string(target) +
         " crash-" + sha1_hex(input) + "   (the crash file libFuzzer wrote)\n";
  return out;
}

std::string repro_lines(std::string_view target, std::string_view first,
                        std::span<const std::uint8_t> input) {
  std::vector<std::string> commands;
  if (!first.empty()) commands.emplace_back(first);
  return repro_lines(target, commands, input);
}

std::uint64_t FuzzBytesStrategy::choose(const DecisionPoint& point) {
  std::uint64_t value = 0;
  if (at_ < bytes_.size()) {
    value = bytes_[at_++] % point.options;
  } else if (point.kind == DecisionKind::task) {
    value = round_robin(point);
  }
  if (point.kind == DecisionKind::task) {
    if (TaskRecord* task = point.task_at(value)) last_task_ = task->id;
  }
  if (feedback_) feedback_->on_decision(point, value);
  return value;
}

std::uint64_t FuzzBytesStrategy::round_robin(const DecisionPoint& point) const noexcept {
  const std::uint64_t after = point.current ? point.current->id : last_task_;
  const std::uint64_t tasks = point.options - (point.clock_option ? 1 : 0);
  std::uint64_t best = tasks;  // the smallest id above `after`
  std::uint64_t smallest = 0;  // the smallest id overall (wrap around)
  for (std::uint64_t i = 0; i < tasks; ++i) {
    const TaskRecord* task = point.task_at(i);
    if (!task) continue;
    if (task->id < point.task_at(smallest)->id) smallest = i;
    if (task->id > after && (best == tasks || task->id < point.task_at(best)->id)) best = i;
  }
  return best == tasks ? smallest : best;
}

}  // namespace chanfuzz::fuzz
