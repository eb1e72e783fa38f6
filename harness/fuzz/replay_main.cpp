// main() of a fuzz target in every build that is not the libFuzzer build
// (g++, clang without CHANFUZZ_FUZZ): replays inputs through the target's
// LLVMFuzzerTestOneInput, so corpus/<target>/ replays as a ctest and
// scripts/repro replays a crash file with the report the fuzzer printed.
//
//   schedule_fuzzer corpus/schedule_fuzzer        every file of the folder
//   schedule_fuzzer crash-3f2a...                 one input
//   program_fuzzer --program cfp1:... --trace cf1:...   a target's own replay
//
// Exit status: 0 no finding, 1 a finding (its report on stdout), 2 bad usage
// (one line on stderr).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace chanfuzz::fuzz {
// A target's own replay arguments (program_fuzzer: --program ... --trace ...).
// Returns -1 when it has none; the default has none.
__attribute__((weak)) int target_command(std::span<char* const> /*args*/) { return -1; }
}  // namespace chanfuzz::fuzz

namespace {

namespace fs = std::filesystem;

const char* g_program = "fuzz target";

[[noreturn]] void bad_usage(const std::string& message) {
  std::fprintf(stderr, "%s: %s (%s --help)\n", g_program, message.c_str(), g_program);
  std::exit(2);
}

void usage() {
  std::printf(
      "usage: %s FILE|FOLDER...\n"
      "\n"
      "Replays fuzz inputs (a folder: each file in it, by name) through this target, as\n"
      "libFuzzer would run them, without libFuzzer: the corpus tests and scripts/repro.\n"
      "A finding prints the fuzzer's report on stdout and exits 1; otherwise 0.\n",
      g_program);
}

std::vector<std::uint8_t> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) bad_usage("cannot read '" + path.string() + "'");
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in),
                                   std::istreambuf_iterator<char>());
}

}  // namespace

int main(int argc, char** argv) {
  g_program = argc > 0 ? argv[0] : g_program;
  if (const char* slash = std::strrchr(g_program, '/')) g_program = slash + 1;
  chanfuzz::fuzz::set_replay_mode(true);
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);

  std::vector<std::string> operands;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      usage();
      return 0;
    }
    if (arg == "--") {
      for (++i; i < argc; ++i) operands.emplace_back(argv[i]);
      break;
    }
    if (arg.rfind("--", 0) == 0) {
      int status = chanfuzz::fuzz::target_command(std::span<char* const>(argv + 1, argc - 1));
      if (status >= 0) return status;
      bad_usage("unknown option '" + arg + "'");
    }
    if (arg.rfind("-", 0) == 0 && arg.size() > 1) {
      // libFuzzer flags (-runs=0 ...) mean nothing here; say so rather than
      // read them as file names.
      bad_usage("'" + arg + "' is a libFuzzer flag; this build replays files only");
    }
    operands.push_back(arg);
  }
  if (operands.empty()) bad_usage("give the input files or folders to replay");

  std::vector<fs::path> inputs;
  for (const std::string& operand : operands) {
    fs::path path(operand);
    std::error_code error;
    if (fs::is_directory(path, error)) {
      std::vector<fs::path> files;
      for (const auto& entry : fs::directory_iterator(path)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
      inputs.insert(inputs.end(), files.begin(), files.end());
    } else if (fs::is_regular_file(path, error)) {
      inputs.push_back(path);
    } else {
      bad_usage("no such file or folder '" + operand + "'");
    }
  }
  for (const fs::path& input : inputs) {
    std::vector<std::uint8_t> bytes = read_file(input);
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());  // a finding exits 1 from inside
  }
  std::printf("%s: ok: %zu input%s replayed, no finding\n", g_program, inputs.size(),
              inputs.size() == 1 ? "" : "s");
  return 0;
}
