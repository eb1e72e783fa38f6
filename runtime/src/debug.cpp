// Task dumps in the shape of Go's goroutine dump.
#include "chanfuzz/debug.hpp"

#include <cxxabi.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <ostream>
#include <sstream>
#include <string>
#include <unordered_map>

namespace chanfuzz {

namespace {

std::string plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// Go-like durations: 1.5s, 250ms, 10us, 7ns.
std::string format_duration(Duration d) {
  auto ns = d.count();
  struct Unit {
    long long scale;
    const char* suffix;
  };
  static constexpr Unit units[] = {{1000000000LL, "s"}, {1000000LL, "ms"}, {1000LL, "us"}};
  for (const auto& unit : units) {
    if (ns >= unit.scale) {
      std::string out = std::to_string(ns / unit.scale);
      long long rest = ns % unit.scale;
      if (rest != 0) {
        std::string frac = std::to_string(rest + unit.scale).substr(1);  // zero-padded
        while (!frac.empty() && frac.back() == '0') frac.pop_back();
        if (frac.size() > 3) frac.resize(3);
        out += "." + frac;
      }
      return out + unit.suffix;
    }
  }
  return std::to_string(ns) + "ns";
}

std::string function_name(const SourceLocation& where) {
  if (!where.function || !*where.function) return "?";
  // Both compilers name a lambda's body "operator()".
  if (std::strcmp(where.function, "operator()") == 0) return "<lambda>()";
  // CHANFUZZ_SCENARIO(name) defines chanfuzz_scenario_<name>: show the name.
  constexpr std::string_view prefix = "chanfuzz_scenario_";
  std::string_view function(where.function);
  if (function.substr(0, prefix.size()) == prefix) function.remove_prefix(prefix.size());
  return std::string(function) + "()";
}

}  // namespace

std::string short_path(const char* path) {
  if (!path || !*path) return "?";
  std::string p(path);
  if (p.front() != '/') return p;
  static const std::string cwd = [] {
    char buffer[4096];
    const char* got = ::getcwd(buffer, sizeof buffer);
    return got ? std::string(got) + "/" : std::string();
  }();
  if (!cwd.empty() && cwd != "/" && p.compare(0, cwd.size(), cwd) == 0) {
    return p.substr(cwd.size());
  }
  return p;
}

std::string format_location(const SourceLocation& where) {
  if (!where.known()) return "?";
  return short_path(where.file) + ":" + std::to_string(where.line);
}

namespace {

std::string demangled_name(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> demangled(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  std::string name = status == 0 && demangled ? demangled.get() : mangled;
  // Spell the common library types the way people write them.
  static const std::pair<const char*, const char*> aliases[] = {
      {"std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >",
       "std::string"},
      {"std::__cxx11::", "std::"},
      {"chanfuzz::Unit", "Unit"},
      {"std::chrono::time_point<chanfuzz::Clock, std::chrono::duration<long, std::ratio<1l, "
       "1000000000l> > >",
       "TimePoint"},
  };
  for (const auto& [from, to] : aliases) {
    for (std::size_t at = name.find(from); at != std::string::npos; at = name.find(from, at)) {
      name.replace(at, std::strlen(from), to);
      at += std::strlen(to);
    }
  }
  return name;
}

}  // namespace

std::string type_name(const char* mangled) {
  // Demangling costs more than a whole channel operation, and describe()
  // asks for the same few names at every event the systematic search
  // watches: remember them, per thread (no lock). Keyed by the pointer
  // typeid().name() returns, stable for a type; the text is compared too,
  // in case a caller passes a buffer that is reused.
  struct Known {
    std::string mangled, name;
  };
  thread_local std::unordered_map<const char*, Known> known;
  Known& entry = known[mangled];
  if (entry.name.empty() || entry.mangled != mangled) {
    entry.mangled = mangled;
    entry.name = demangled_name(mangled);
  }
  return entry.name;
}

std::string WaitObject::describe() const {
  std::ostringstream out;
  switch (kind) {
    case Kind::channel:
      if (nil) {
        out << "nil " << type;
        return out.str();
      }
      out << type << " #" << id << " (cap " << capacity << ", len " << length;
      if (closed) out << ", closed";
      out << "; " << plural(senders, "sender", "senders") << ", "
          << plural(receivers, "receiver", "receivers") << " waiting)";
      break;
    case Kind::mutex:
      out << type << " #" << id << " (" << (closed ? "locked" : "unlocked") << "; "
          << plural(receivers, "task", "tasks") << " waiting)";
      break;
    case Kind::wait_group:
      out << type << " #" << id << " (counter " << length << "; "
          << plural(receivers, "task", "tasks") << " waiting)";
      break;
  }
  if (created_at.known()) out << ", made at " << format_location(created_at);
  return out.str();
}

void write_task(std::ostream& out, const TaskInfo& task) {
  out << "task " << task.id;
  if (!task.name.empty()) out << " \"" << task.name << "\"";
  out << " [" << task.state;
  if (task.steps_blocked > 0 || task.time_blocked.count() > 0) {
    out << ", " << plural(task.steps_blocked, "step", "steps");
  }
  if (task.time_blocked.count() > 0) out << ", " << format_duration(task.time_blocked);
  out << "]:\n";
  if (!task.panic.empty()) out << "  panic: " << task.panic << "\n";
  if (task.blocked_at.known()) {
    out << "  " << function_name(task.blocked_at) << " at " << format_location(task.blocked_at)
        << "\n";
  } else if (task.state == "runnable") {
    out << "  (not started)\n";
  }
  for (const auto& object : task.waiting_on) {
    out << "    ";
    // A select waits on several channels, some to send, some to receive:
    // say which (a plain send or receive says it in the state already).
    if (task.state == "select" && object.direction != WaitObject::Direction::none) {
      out << (object.direction == WaitObject::Direction::send ? "send on " : "receive from ");
    }
    out << object.describe() << "\n";
  }
  if (task.created_at.known()) {
    out << "created by " << function_name(task.created_at);
    if (task.parent_id != 0) out << " in task " << task.parent_id;
    out << " at " << format_location(task.created_at) << "\n";
  }
  out << "\n";
}

}  // namespace chanfuzz
