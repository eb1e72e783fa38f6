#!/usr/bin/env bash
# Tests of the fuzz targets' findings, one ctest per case_<name>() below:
#
#   fuzz_test.sh <case> <libfuzzer|replay> <fuzz-binary-folder> <chanfuzz-tool>
#
# Run from the source root (reports print paths relative to the working
# folder). A finding must replay with the identical report from its crash file
# (the target's replay) and from the trace it prints (chanfuzz replay, or
# program_fuzzer --program/--trace): what scripts/repro runs.
set -euo pipefail

case_name="$1"
mode="$2"
bin="$3"
tool="$4"
testdata="harness/fuzz/testdata"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Runs a fuzz target on one input file and prints what it reported: under
# libFuzzer the finding is on stderr between libFuzzer's own lines, and the
# process dies of abort(); the replay build prints it on stdout and exits 1.
# libFuzzer writes a crash file only for an input of a corpus folder (a file
# given by itself runs without one), so the input goes into a folder of its
# own, replayed with -runs=0: as in a fuzzing session's first pass.
finding_of() {
  local target="$1" input="$2" status=0
  if [[ "$mode" == libfuzzer ]]; then
    rm -rf "$scratch/input"
    mkdir "$scratch/input"
    cp "$input" "$scratch/input/"
    "$bin/$target" -runs=0 -artifact_prefix="$scratch/" "$scratch/input" \
      >"$scratch/out" 2>"$scratch/err" || status=$?
    ((status != 0)) || fail "$target did not report a finding for $input"
    # The report: from its "chanfuzz: " line to the crash-file line.
    sed -n '/^chanfuzz: /,/(the crash file libFuzzer wrote)$/p' "$scratch/err"
  else
    "$bin/$target" "$input" >"$scratch/out" 2>"$scratch/err" || status=$?
    ((status == 1)) || { cat "$scratch/err" >&2; fail "$target exited $status (expected 1) for $input"; }
    cat "$scratch/out"
  fi
}

# The report part of a finding: up to its replay: line (what chanfuzz replay prints).
report_part() { sed -n '1,/^replay:   /p'; }

expect_same() {
  local what="$1" expected="$2" actual="$3"
  if [[ "$expected" != "$actual" ]]; then
    diff <(printf '%s\n' "$expected") <(printf '%s\n' "$actual") >&2 || true
    fail "$what differs (diff above: expected, actual)"
  fi
}

# A planted finding: rand_stream_leak (it leaks on every schedule), made
# eligible with CHANFUZZ_FUZZ_SCENARIOS. The report must be the one
# `chanfuzz replay rand_stream_leak --trace <its trace>` prints, and end with
# the scripts/repro commands for the trace and for the crash file.
case_schedule_finding_replays_identically() {
  export CHANFUZZ_FUZZ_SCENARIOS=rand_stream_leak
  local input="$testdata/schedule_rand_stream_leak"
  local text
  text="$(finding_of schedule_fuzzer "$input")"
  [[ -n "$text" ]] || fail "no report found in the output"
  [[ "$text" == "chanfuzz: leak: "* ]] || fail "the report does not start with 'chanfuzz: leak: ': $text"
  local trace
  trace="$(sed -n 's/^trace:    //p' <<<"$text")"
  [[ "$trace" == cf1:* ]] || fail "no trace: line in the report"
  local sha
  sha="$(sha1sum "$input" | cut -d' ' -f1)"
  grep -qxF "          scripts/repro rand_stream_leak $trace" <<<"$text" ||
    fail "no 'scripts/repro rand_stream_leak <trace>' line"
  # The minimized trace (issue 9): a `minimized:` line after the report, the
  # first repro command, and a trace that fails the same way.
  local small
  small="$(sed -n 's/^minimized: .*: \(cf1:[A-Za-z0-9_-]*\)$/\1/p' <<<"$text")"
  [[ "$small" == cf1:* ]] || fail "no 'minimized: ...: cf1:...' line"
  if [[ "$small" != "$trace" ]]; then  # an already minimal trace has no command of its own
    grep -qxF "repro:    scripts/repro rand_stream_leak $small   (minimized)" <<<"$text" ||
      fail "no 'repro:    scripts/repro rand_stream_leak <minimized trace>   (minimized)' line"
  fi
  local min_report min_status=0
  min_report="$("$tool" replay rand_stream_leak --trace "$small")" || min_status=$?
  ((min_status == 1)) || fail "the minimized trace: chanfuzz replay exited $min_status (expected 1)"
  [[ "$min_report" == "chanfuzz: leak: "* ]] || fail "the minimized trace does not leak: $min_report"
  local counts
  counts="$(sed -n 's/^minimized: \([0-9]*\) decisions\{0,1\}\( + [0-9]* by default\)\{0,1\}, .*(from \([0-9]*\) decision.*$/\1 \3/p' <<<"$text")"
  [[ -n "$counts" ]] || fail "the minimized: line does not give both decision counts"
  read -r small_count original_count <<<"$counts"
  ((small_count <= original_count)) ||
    fail "the minimized trace has more decisions ($small_count) than the original ($original_count)"
  # The crash file replays only with the scenario list it was found with.
  grep -qF "CHANFUZZ_FUZZ_SCENARIOS=rand_stream_leak scripts/repro schedule_fuzzer crash-$sha" \
    <<<"$text" || fail "no 'CHANFUZZ_FUZZ_SCENARIOS=rand_stream_leak scripts/repro schedule_fuzzer crash-$sha' line"

  # From the trace: chanfuzz replay prints the same report.
  local replayed status=0
  replayed="$("$tool" replay rand_stream_leak --trace "$trace")" || status=$?
  ((status == 1)) || fail "chanfuzz replay exited $status (expected 1: it reproduces)"
  expect_same "the report replayed from the trace" "$(report_part <<<"$text")" "$replayed"

  # From the crash file: the same text again (under libFuzzer, the crash
  # file it wrote, named by the input's SHA-1).
  local crash="$input"
  if [[ "$mode" == libfuzzer ]]; then
    crash="$scratch/crash-$sha"
    [[ -f "$crash" ]] || fail "libFuzzer did not write $crash"
    cmp -s "$crash" "$input" || fail "the crash file differs from the input"
  fi
  # Only with the environment the printed command gives.
  unset CHANFUZZ_FUZZ_SCENARIOS
  local again
  again="$(CHANFUZZ_FUZZ_SCENARIOS=rand_stream_leak finding_of schedule_fuzzer "$crash")"
  expect_same "the report replayed from the crash file" "$text" "$again"
}

# The program fuzzer's reporting path, with the model's self-test (a close
# that wakes a waiting task is a "finding"): the report replays identically
# from the crash file and from its program: and trace: lines.
case_program_finding_replays_identically() {
  export CHANFUZZ_PROGRAM_SELFTEST=1
  local input="$testdata/program_close_wakes"
  local text
  text="$(finding_of program_fuzzer "$input")"
  [[ "$text" == "chanfuzz: assertion: "*"self-test"* ]] || fail "not the self-test finding: $text"
  local program trace sha
  program="$(sed -n 's/^program:  //p' <<<"$text")"
  trace="$(sed -n 's/^trace:    //p' <<<"$text")"
  sha="$(sha1sum "$input" | cut -d' ' -f1)"
  [[ "$program" == cfp1:* && "$trace" == cf1:* ]] || fail "no program: or trace: line"
  grep -qxF "repro:    scripts/repro program_fuzzer $program $trace" <<<"$text" ||
    fail "no 'repro:    scripts/repro program_fuzzer <program> <trace>' line"
  grep -qF "scripts/repro program_fuzzer crash-$sha" <<<"$text" ||
    fail "no 'scripts/repro program_fuzzer crash-$sha' line"

  # From the program and the trace.
  local replayed status=0
  replayed="$("$bin/program_fuzzer" --program "$program" --trace "$trace")" || status=$?
  ((status == 1)) || fail "program_fuzzer --program/--trace exited $status (expected 1)"
  expect_same "the report replayed from the program and trace" \
    "$(sed -n '1,/^trace:    /p' <<<"$text")" "$(sed -n '1,/^trace:    /p' <<<"$replayed")"

  # From the crash file.
  local crash="$input"
  if [[ "$mode" == libfuzzer ]]; then
    crash="$scratch/crash-$sha"
    [[ -f "$crash" ]] || fail "libFuzzer did not write $crash"
  fi
  local again
  again="$(finding_of program_fuzzer "$crash")"
  expect_same "the report replayed from the crash file" "$text" "$again"

  # Without the self-test the same run agrees with the model.
  unset CHANFUZZ_PROGRAM_SELFTEST
  "$bin/program_fuzzer" --program "$program" --trace "$trace" >/dev/null ||
    fail "the run disagrees with the model without the self-test"
}

# Inputs the schedule fuzzer must take without a finding: every eligible
# scenario with no decision bytes (its default schedule) passes.
case_schedule_default_schedules_pass() {
  [[ "$mode" == replay ]] || return 0  # the corpus ctest covers the libFuzzer build
  local list
  list="$("$tool" list | awk '{print $1}')"
  local name count=0
  for name in $list; do
    printf '%s\n' "$name" >"$scratch/$name"
    count=$((count + 1))
  done
  ((count > 0)) || fail "chanfuzz list printed no scenario"
  "$bin/schedule_fuzzer" "$scratch" >"$scratch/out" ||
    { cat "$scratch/out"; fail "a default schedule failed (report above)"; }
}

# Runs a fuzz target on an input file, or a folder of them, that must pass
# (no finding).
passes() {
  local target="$1" input="$2" status=0
  if [[ "$mode" == libfuzzer ]]; then
    if [[ ! -d "$input" ]]; then
      rm -rf "$scratch/input"
      mkdir "$scratch/input"
      cp "$input" "$scratch/input/"
      input="$scratch/input"
    fi
    "$bin/$target" -runs=0 "$input" >"$scratch/out" 2>&1 || status=$?
  else
    "$bin/$target" "$input" >"$scratch/out" 2>&1 || status=$?
  fi
  ((status == 0)) || { cat "$scratch/out" >&2; fail "$target: $input did not pass (exit $status)"; }
}

# The planted bugs of the feedback benchmark (planted_scenarios.cpp): each
# passes on its default schedule (no decision bytes), and
# planted_ping_starvation fails, with its own assertion, on the schedule of
# testdata/planted_ping_starvation (the parts win all ten stages: three
# decisions per stage), but passes without the last decision of it (stage
# 10's select falls back to the default, the ping) and with any one of its 30
# decisions changed: the bug needs the whole sequence.
case_planted_scenarios() {
  export CHANFUZZ_FUZZ_SCENARIOS=planted_ping_starvation,planted_streak
  local name
  for name in planted_ping_starvation planted_streak; do
    printf '%s\n' "$name" >"$scratch/default-$name"
    passes schedule_fuzzer_planted "$scratch/default-$name"
  done
  local input="$testdata/planted_ping_starvation" text
  text="$(finding_of schedule_fuzzer_planted "$input")"
  [[ "$text" == "chanfuzz: assertion: the worker answered no ping during the whole job"* ]] ||
    fail "not planted_ping_starvation's assertion: $text"
  grep -q "^found by: schedule_fuzzer, scenario planted_ping_starvation, 30 decision bytes" \
    <<<"$text" || fail "no 'found by: ... planted_ping_starvation, 30 decision bytes' line"
  head -c -1 "$input" >"$scratch/one-decision-short"
  passes schedule_fuzzer_planted "$scratch/one-decision-short"
  # Each decision has two options: byte xor 1 takes the other one.
  local bytes i j
  read -r -a bytes <<<"$(tail -c 30 "$input" | od -An -v -tu1 | tr -s ' \n' ' ')"
  ((${#bytes[@]} == 30)) || fail "testdata/planted_ping_starvation: not 30 decision bytes"
  mkdir "$scratch/one-decision-changed"
  for ((i = 0; i < 30; i++)); do
    {
      printf 'planted_ping_starvation\n'
      for ((j = 0; j < 30; j++)); do
        printf "\\x$(printf '%02x' $((j == i ? bytes[j] ^ 1 : bytes[j])))"
      done
    } >"$scratch/one-decision-changed/flip$i"
  done
  passes schedule_fuzzer_planted "$scratch/one-decision-changed"
}

# The replay build's command line: one-line errors, exit 2.
case_replay_main_usage() {
  [[ "$mode" == replay ]] || return 0
  local status=0
  "$bin/trace_fuzzer" --bogus 2>"$scratch/err" || status=$?
  ((status == 2)) || fail "--bogus: exit $status (expected 2)"
  [[ "$(wc -l <"$scratch/err")" == 1 ]] || fail "--bogus: not one line: $(cat "$scratch/err")"
  status=0
  "$bin/trace_fuzzer" "$scratch/missing" 2>"$scratch/err" || status=$?
  ((status == 2)) || fail "a missing file: exit $status (expected 2)"
  "$bin/trace_fuzzer" --help >/dev/null || fail "--help failed"
}

"case_$case_name"
echo "ok: $case_name ($mode)"
