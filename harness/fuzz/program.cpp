// Decoding, encoding and printing of channel programs (program.hpp).
#include "program.hpp"

#include "fuzz_support.hpp"

namespace chanfuzz::fuzz::program {

namespace {

constexpr std::string_view kTextPrefix = "cfp1:";

const char* kind_name(OpKind kind) {
  switch (kind) {
    case OpKind::send:
      return "send";
    case OpKind::recv:
      return "recv";
    case OpKind::try_send:
      return "try_send";
    case OpKind::try_recv:
      return "try_recv";
    case OpKind::select:
      return "select";
    case OpKind::close:
      return "close";
    case OpKind::cancel:
      return "cancel";
    case OpKind::sleep:
      return "sleep";
    case OpKind::spawn:
      return "spawn";
    case OpKind::wait:
      return "wait";
  }
  return "?";
}

}  // namespace

Program decode(FuzzInput& in) {
  Program program;
  const std::size_t channels = 1 + in.below(kMaxChannels);
  for (std::size_t i = 0; i < channels; ++i) {
    const std::uint8_t b = in.byte();
    program.channels.push_back(ChannelSpec{(b / 4) % 8 == 7, static_cast<std::uint8_t>(b % 4)});
  }
  const std::size_t bodies = 1 + in.below(kMaxBodies);
  program.bodies.resize(bodies);
  for (auto& body : program.bodies) {
    const std::size_t length = in.below(kMaxOps + 1);
    for (std::size_t i = 0; i < length; ++i) {
      Op op;
      op.kind = static_cast<OpKind>(in.below(kOpKinds));
      switch (op.kind) {
        case OpKind::send:
        case OpKind::recv:
        case OpKind::try_send:
        case OpKind::try_recv:
        case OpKind::close:
          op.arg = static_cast<std::uint8_t>(in.below(channels));
          break;
        case OpKind::select: {
          const std::uint8_t shape = in.byte();
          op.cases = static_cast<std::uint8_t>(2 + shape % 3);
          op.has_default = (shape / 3) % 2 == 1;
          for (std::size_t c = 0; c < op.cases; ++c) {
            const std::uint8_t b = in.byte();
            Case& one = op.select[c];
            one.context = (b & 2) != 0 && c + 1 == op.cases;  // only the last case
            one.send = !one.context && (b & 1) != 0;
            one.channel =
                static_cast<std::uint8_t>(one.context ? (b >> 2) % kContexts : (b >> 2) % channels);
          }
          break;
        }
        case OpKind::cancel:
        case OpKind::wait:
          op.arg = static_cast<std::uint8_t>(in.below(kContexts));
          break;
        case OpKind::sleep:
          op.arg = static_cast<std::uint8_t>(in.below(4));
          break;
        case OpKind::spawn:
          op.arg = static_cast<std::uint8_t>(in.below(bodies));
          break;
      }
      body.push_back(op);
    }
  }
  return program;
}

std::vector<std::uint8_t> encode(const Program& program) {
  std::vector<std::uint8_t> out;
  auto put = [&out](std::size_t b) { out.push_back(static_cast<std::uint8_t>(b)); };
  put(program.channels.size() - 1);
  for (const ChannelSpec& channel : program.channels)
    put(channel.capacity + (channel.nil ? 28 : 0));
  put(program.bodies.size() - 1);
  for (const auto& body : program.bodies) {
    put(body.size());
    for (const Op& op : body) {
      put(static_cast<std::size_t>(op.kind));
      if (op.kind == OpKind::select) {
        put((op.cases - 2) + (op.has_default ? 3 : 0));
        for (std::size_t c = 0; c < op.cases; ++c) {
          const Case& one = op.select[c];
          put(one.context ? 2 + (one.channel << 2) : (one.send ? 1 : 0) + (one.channel << 2));
        }
      } else {
        put(op.arg);
      }
    }
  }
  return out;
}

std::string to_text(const Program& program) {
  return std::string(kTextPrefix) + base64url_encode(encode(program));
}

std::optional<Program> from_text(std::string_view text) {
  if (text.substr(0, kTextPrefix.size()) != kTextPrefix) return std::nullopt;
  std::vector<std::uint8_t> bytes;
  if (!base64url_decode(text.substr(kTextPrefix.size()), bytes) || bytes.empty()) {
    return std::nullopt;
  }
  FuzzInput in(bytes.data(), bytes.size());
  Program program = decode(in);
  if (!in.empty() || encode(program) != bytes) return std::nullopt;
  return program;
}

std::string describe(const Op& op) {
  std::string out = kind_name(op.kind);
  switch (op.kind) {
    case OpKind::send:
    case OpKind::recv:
    case OpKind::try_send:
    case OpKind::try_recv:
    case OpKind::close:
      out += " c" + std::to_string(op.arg);
      break;
    case OpKind::select:
      out += " {";
      for (std::size_t c = 0; c < op.cases; ++c) {
        const Case& one = op.select[c];
        if (c > 0) out += ", ";
        if (one.context) {
          out += "recv x" + std::to_string(one.channel) + ".done()";
        } else {
          out += std::string(one.send ? "send c" : "recv c") + std::to_string(one.channel);
        }
      }
      out += op.has_default ? ", default}" : "}";
      break;
    case OpKind::cancel:
    case OpKind::wait:
      out += " x" + std::to_string(op.arg);
      break;
    case OpKind::sleep:
      out += " " + std::to_string(op.arg) + "ms";
      break;
    case OpKind::spawn:
      out += " body " + std::to_string(op.arg);
      break;
  }
  return out;
}

std::string describe(const Program& program) {
  std::string out = "  channels ";
  for (std::size_t i = 0; i < program.channels.size(); ++i) {
    const ChannelSpec& c = program.channels[i];
    out += (i ? ", c" : "c") + std::to_string(i) +
           (c.nil ? std::string(" nil") : " cap " + std::to_string(c.capacity));
  }
  out += "\n  contexts x0 = with_cancel(background()), x1 = with_cancel(x0)\n";
  for (std::size_t b = 0; b < program.bodies.size(); ++b) {
    out += "  body " + std::to_string(b) + (b == 0 ? " (main):" : ":");
    if (program.bodies[b].empty()) out += " (nothing)";
    for (std::size_t i = 0; i < program.bodies[b].size(); ++i) {
      out += (i ? "; " : " ") + std::to_string(i + 1) + ": " + describe(program.bodies[b][i]);
    }
    out += "\n";
  }
  return out;
}

}  // namespace chanfuzz::fuzz::program
