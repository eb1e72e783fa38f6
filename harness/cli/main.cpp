// The chanfuzz command over the built-in scenario catalogue
// (harness/scenarios/). A project builds the same tool over its own
// scenarios with this one line and the target chanfuzz_cli (cli.hpp).
#include <chanfuzz/cli.hpp>

int main(int argc, char** argv) { return chanfuzz::cli_main(argc, argv); }
