// The `chanfuzz` command-line tool as a function, so that a project can build
// the same tool over its own scenarios:
//
//   // scenarios.cpp
//   CHANFUZZ_SCENARIO(pipeline_drains, "every stage exits once the source closes") { ... }
//
//   // main.cpp
//   #include <chanfuzz/cli.hpp>
//   int main(int argc, char** argv) { return chanfuzz::cli_main(argc, argv); }
//
// Link the target chanfuzz_cli, and the files that define scenarios as
// sources or an OBJECT library (a static archive drops registrations nobody
// references; see scenario.hpp).
//
// Commands (each has --help):
//
//   list [--json]                              the registered scenarios
//   run <scenario> [--runs N] [--seed S] [--strategy S] [--time SEC]
//                  [--max-steps N] [--skip-step-limit] [--json]
//   run --all [--runs N] [--time SEC] [--strategy S] ...   every scenario, a verdict table
//   replay <scenario> (--trace cf1:... | --seed S [--strategy S])
//                     [--verbose] [--json] [--max-steps N]
//   minimize                                   not implemented yet
//
// The CHANFUZZ_* environment variables of Config (check.hpp) apply on top of
// the flags of `run`, as they do for check() in a test.
//
// Exit status: 0 no failure; 1 a failure was found (`run`, `replay`: the run
// fails; `run --all`: a scenario did not behave as expected); 2 bad usage or
// input, with one line on stderr, "chanfuzz: ...", naming the bad argument
// (a trace that no longer fits the scenario, a `diverged` report, counts as
// bad input).
//
// cli_main() calls set_command_name(argv[0]) (kept as "chanfuzz" when the
// program's file is called chanfuzz), so the replay commands in reports name
// the program that printed them. It writes to std::cout and std::cerr, and
// never throws.
#pragma once

namespace chanfuzz {

int cli_main(int argc, char** argv);

}  // namespace chanfuzz
