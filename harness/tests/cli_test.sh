#!/usr/bin/env bash
# Tests of the chanfuzz command-line tool, driving the built binary.
#
#   cli_test.sh <path/to/chanfuzz> <source dir> <case>
#
# Each case is a function below (cli.cmake registers one ctest per case);
# it runs the tool, then checks the exit status and what was printed.
set -euo pipefail

(($# == 3)) || { echo "usage: cli_test.sh <chanfuzz> <source-dir> <case>" >&2; exit 2; }
tool="$1"
source_dir="$2"
case_name="$3"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Where the tool runs: outside the source tree, with no CHANFUZZ_* variable
# from whoever runs the tests.
cd "$work"
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^CHANFUZZ_' || true)

fail() {
  echo "FAILED: $case_name: $*" >&2
  echo "--- exit status: ${status:-?}" >&2
  echo "--- stdout:" >&2
  cat "$work/out" >&2 2>/dev/null || true
  echo "--- stderr:" >&2
  cat "$work/err" >&2 2>/dev/null || true
  exit 1
}

# Runs the tool; leaves the status in $status, output in $work/out and $work/err.
chanfuzz() {
  status=0
  "$tool" "$@" >"$work/out" 2>"$work/err" || status=$?
  echo "+ chanfuzz $* -> $status"
}

expect_status() { [[ "$status" == "$1" ]] || fail "exit status $status, expected $1"; }
# expect_out TEXT / expect_err TEXT: a fixed substring of stdout / stderr.
expect_out() { grep -qF -- "$1" "$work/out" || fail "stdout lacks '$1'"; }
expect_err() { grep -qF -- "$1" "$work/err" || fail "stderr lacks '$1'"; }
expect_out_line() { grep -qE -- "$1" "$work/out" || fail "no stdout line matches /$1/"; }
expect_no_err() { [[ ! -s "$work/err" ]] || fail "stderr is not empty"; }
first_line() { head -n 1 "$work/out"; }
# The value after "trace:" / "seed:" in a text report.
report_field() { sed -n "s/^$1: *\([^ ]*\).*/\1/p" "$work/out" | head -n 1; }

# A usage error: exit 2, nothing on stdout, one line "chanfuzz: ..." on stderr
# containing each of the given texts.
expect_usage_error() {
  expect_status 2
  [[ ! -s "$work/out" ]] || fail "stdout is not empty"
  [[ "$(wc -l <"$work/err")" == 1 ]] || fail "stderr is not exactly one line"
  grep -q '^chanfuzz: ' "$work/err" || fail "stderr does not start with 'chanfuzz: '"
  local text
  for text in "$@"; do expect_err "$text"; done
}

expect_json() {
  python3 - "$work/out" "$@" <<'PY' || fail "stdout is not the JSON expected"
import json, sys
path, *checks = sys.argv[1:]
with open(path) as f:
    data = json.load(f)
for check in checks:             # key=value, on the top-level object
    key, value = check.split("=", 1)
    if str(data.get(key)).lower() != value.lower():
        sys.exit(f"{key} is {data.get(key)!r}, expected {value}")
PY
}

# ---- help and version ----

case_help() {
  chanfuzz --help
  expect_status 0
  for word in list run replay minimize --version "Exit status"; do expect_out "$word"; done
}

case_help_list() {
  chanfuzz list --help
  expect_status 0
  expect_out "--json"
}

case_help_run() {
  chanfuzz run --help
  expect_status 0
  for flag in --runs --seed --strategy --time --max-steps --skip-step-limit --json --all \
    CHANFUZZ_RUNS; do
    expect_out "$flag"
  done
}

case_help_replay() {
  chanfuzz replay --help
  expect_status 0
  for flag in --trace --seed --strategy --verbose --json --max-steps; do expect_out "$flag"; done
}

case_help_minimize() {
  chanfuzz minimize --help
  expect_status 0
  for flag in --trace --runs --time --max-steps --json; do expect_out "$flag"; done
}

case_version() {
  chanfuzz --version
  expect_status 0
  expect_out_line '^chanfuzz [0-9]+\.[0-9]+\.[0-9]+$'
}

# ---- list ----

case_list() {
  chanfuzz list
  expect_status 0
  expect_out_line '^scenario +expected +description$'
  expect_out_line '^rand_stream_leak +leak +a producer loops sending random ints'
  expect_out_line '^rand_stream_done +pass +'
}

case_list_json() {
  chanfuzz list --json
  expect_status 0
  python3 - "$work/out" <<'PY' || fail "list --json lacks rand_stream_leak"
import json, sys
entries = {e["name"]: e for e in json.load(open(sys.argv[1]))}
e = entries["rand_stream_leak"]
assert e["expected"] == "leak" and "producer" in e["description"], e
PY
}

# ---- run ----

case_run_leak() {
  chanfuzz run rand_stream_leak
  expect_status 1
  [[ "$(first_line)" == "chanfuzz: leak:"* ]] || fail "first line is not 'chanfuzz: leak: ...'"
  expect_out "chan send"
  expect_out_line '^replay: +chanfuzz replay rand_stream_leak --trace cf1:[A-Za-z0-9_-]+$'
  expect_no_err  # no progress line: stderr is not a terminal
}

case_run_ok() {
  chanfuzz run rand_stream_done --runs 200
  expect_status 0
  [[ "$(first_line)" == "chanfuzz: ok"* ]] || fail "first line is not 'chanfuzz: ok...'"
  expect_out "200 runs"
  expect_no_err
}

case_run_json() {
  chanfuzz run rand_stream_leak --json
  expect_status 1
  expect_json category=leak ok=false scenario=rand_stream_leak
}

case_run_flags() {
  chanfuzz run rand_stream_done --runs 30 --seed 100 --strategy pct:2 --time 60 --max-steps 5000
  expect_status 0
  expect_out "30 runs"
  expect_out "strategy pct:2"
  expect_out "seeds 100..129"
}

case_run_environment_applies() {
  status=0
  CHANFUZZ_RUNS=7 "$tool" run rand_stream_done --runs 100 >"$work/out" 2>"$work/err" || status=$?
  expect_status 0
  expect_out "7 runs"
}

case_run_all() {
  chanfuzz run --all --runs 300
  expect_status 0
  expect_out_line '^scenario +expected +result +runs +time +verdict$'
  expect_out_line '^rand_stream_leak +leak +leak +1 +[0-9.]+s +as expected$'
  expect_out_line '^rand_stream_done +pass +ok +300 +[0-9.]+s +as expected$'
  expect_out_line '^[0-9]+ scenarios?, all as expected \([0-9.]+s\)$'
  if grep -q UNEXPECTED "$work/out"; then fail "a scenario is UNEXPECTED"; fi
}

case_run_all_json() {
  chanfuzz run --all --runs 50 --json
  expect_status 0
  expect_json all_as_expected=true
}

# ---- replay ----

# Runs the failing scenario; leaves its first line, trace and seed in globals.
failing_run() {
  chanfuzz run rand_stream_leak --seed 20
  expect_status 1
  failing_first_line="$(first_line)"
  failing_trace="$(report_field trace)"
  failing_seed="$(report_field seed)"
  [[ "$failing_trace" == cf1:* ]] || fail "no trace in the report"
  [[ "$failing_seed" =~ ^[0-9]+$ ]] || fail "no seed in the report"
}

case_replay_trace() {
  failing_run
  chanfuzz replay rand_stream_leak --trace "$failing_trace"
  expect_status 1
  [[ "$(first_line)" == "$failing_first_line" ]] || fail "first line differs from the run's"
  [[ "$(report_field trace)" == "$failing_trace" ]] || fail "trace differs"
  expect_out "seed:     (replayed from the trace)"
}

case_replay_verbose() {
  failing_run
  chanfuzz replay rand_stream_leak --trace "$failing_trace" --verbose
  expect_status 1
  expect_out_line '^step [0-9]+  task 1 "main"  spawned'
  expect_out_line '^step [0-9]+  task 2 "rand_stream"  chan send  chan int #1 .* at .*tutorial\.cpp:[0-9]+$'
  expect_out_line '^step [0-9]+  task 2 "rand_stream"  blocks \[chan send\]'
  expect_out "$failing_first_line"
  expect_no_err  # the step-by-step run and the report's run agree
}

case_replay_seed() {
  failing_run
  chanfuzz replay rand_stream_leak --seed "$failing_seed"
  expect_status 1
  [[ "$(first_line)" == "$failing_first_line" ]] || fail "first line differs from the run's"
  [[ "$(report_field trace)" == "$failing_trace" ]] || fail "trace differs from the run's"
  chanfuzz replay rand_stream_leak --seed "$failing_seed" --strategy random --verbose
  expect_status 1
  expect_out_line '^step [0-9]+  task 1 "main"'
  expect_no_err
}

case_replay_seed_passes() {
  chanfuzz replay rand_stream_done --seed 5 --max-steps 100000
  expect_status 0
  expect_out "chanfuzz: ok: 1 run"
}

case_replay_json() {
  failing_run
  chanfuzz replay rand_stream_leak --trace "$failing_trace" --json
  expect_status 1
  expect_json category=leak strategy=replay trace="$failing_trace"
}

case_replay_diverged() {
  failing_run  # its trace does not fit rand_stream_done
  chanfuzz replay rand_stream_done --trace "$failing_trace"
  expect_status 2
  expect_out "chanfuzz: diverged:"
  expect_err "--trace: does not fit scenario rand_stream_done"
  [[ "$(wc -l <"$work/err")" == 1 ]] || fail "stderr is not one line"
}

# ---- bad usage and input: exit 2, one line naming the argument ----

case_error_unknown_command() { chanfuzz frobnicate; expect_usage_error "unknown command 'frobnicate'"; }
case_error_no_command() { chanfuzz; expect_usage_error "command"; }
case_error_unknown_scenario() {
  chanfuzz run no_such_scenario
  expect_usage_error "unknown scenario 'no_such_scenario'" "list"
  chanfuzz replay no_such_scenario --seed 1
  expect_usage_error "unknown scenario 'no_such_scenario'"
}
case_error_scenario_suggestion() {
  chanfuzz run rand_stream_lek
  expect_usage_error "unknown scenario 'rand_stream_lek'" "did you mean 'rand_stream_leak'"
}
case_error_runs_abc() { chanfuzz run rand_stream_leak --runs abc; expect_usage_error "--runs: 'abc' is not a whole number"; }
case_error_runs_negative() { chanfuzz run rand_stream_leak --runs -1; expect_usage_error "--runs: '-1'"; }
case_error_runs_zero_without_time() { chanfuzz run rand_stream_leak --runs 0; expect_usage_error "--runs" "--time"; }
case_error_seed_x() { chanfuzz run rand_stream_leak --seed x; expect_usage_error "--seed: 'x'"; }
case_error_strategy_bogus() { chanfuzz run rand_stream_leak --strategy bogus; expect_usage_error "--strategy" "bogus"; }
case_error_strategy_pct0() { chanfuzz run rand_stream_leak --strategy pct:0; expect_usage_error "--strategy" "pct:0"; }
case_error_strategy_replay() { chanfuzz run rand_stream_leak --strategy replay; expect_usage_error "--strategy" "trace"; }
case_error_time_negative() { chanfuzz run rand_stream_leak --time -5; expect_usage_error "--time: '-5'"; }
case_error_max_steps_zero() { chanfuzz run rand_stream_leak --max-steps 0; expect_usage_error "--max-steps"; }
case_error_trace_garbage() { chanfuzz replay rand_stream_leak --trace garbage; expect_usage_error "--trace: malformed trace"; }
case_error_trace_bad_characters() { chanfuzz replay rand_stream_leak --trace 'cf1:!!!'; expect_usage_error "--trace: malformed trace" "'!'"; }
case_error_replay_without_trace_or_seed() { chanfuzz replay rand_stream_leak; expect_usage_error "--trace" "--seed"; }
case_error_replay_trace_and_seed() {
  chanfuzz replay rand_stream_leak --trace cf1:AQ --seed 3
  expect_usage_error "--trace and --seed"
}
case_error_replay_strategy_with_trace() {
  chanfuzz replay rand_stream_leak --trace cf1:AQ --strategy pct:3
  expect_usage_error "--strategy"
}
case_error_extra_positional() { chanfuzz run rand_stream_leak extra; expect_usage_error "'extra'"; }
case_error_unknown_flag() { chanfuzz run rand_stream_leak --bogus; expect_usage_error "--bogus"; }
case_error_missing_value() { chanfuzz run rand_stream_leak --runs; expect_usage_error "--runs"; }
case_error_scenario_and_all() { chanfuzz run rand_stream_leak --all; expect_usage_error "--all"; }
case_error_environment() {
  status=0
  CHANFUZZ_RUNS=abc "$tool" run rand_stream_leak >"$work/out" 2>"$work/err" || status=$?
  expect_usage_error "CHANFUZZ_RUNS='abc'"
}
case_minimize_malformed_trace() {
  chanfuzz minimize rand_stream_leak --trace cf1:AQ
  expect_usage_error "--trace" "malformed trace"
}

# ---- systematic exploration: run --strategy dfs:<P>, minimize, --swarm ----

# The trace of a text report on stdout.
report_trace() { sed -n 's/^trace: *\(cf1:[^ ]*\).*/\1/p' "$work/out" | head -n 1; }

case_run_dfs_proves_a_correct_scenario() {
  chanfuzz run do_work_done --strategy dfs:2
  expect_status 0
  expect_out_line "^chanfuzz: ok: explored all [0-9,]+ schedules with at most 2 preemptions: no failure \(do_work_done; strategy dfs:2"
  chanfuzz run do_work_done --strategy dfs:1:full --json
  expect_status 0
  python3 - "$work/out" <<'PY' || fail "the JSON search block is not as expected"
import json, sys
search = json.load(open(sys.argv[1]))["search"]
assert search["complete"] is True and search["preemption_bound"] == 1, search
assert search["schedules"] > 0 and search["redundant_runs"] == 0, search
PY
}
case_run_dfs_state_cache_prunes_and_nocache_switches_it_off() {
  chanfuzz run bridge --strategy dfs:2 --json
  expect_status 0
  cp "$work/out" "$work/cached.json"
  chanfuzz run bridge --strategy dfs:2:nocache --json
  expect_status 0
  python3 - "$work/cached.json" "$work/out" <<'PY' || fail "the state cache's counts are not as expected"
import json, sys
cached = json.load(open(sys.argv[1]))["search"]
plain = json.load(open(sys.argv[2]))["search"]
assert cached["complete"] and plain["complete"], (cached, plain)
assert cached["revisited_runs"] > 0 and cached["states"] > 0, cached
assert plain["revisited_runs"] == 0 and plain["states"] == 0, plain
assert cached["schedules"] < plain["schedules"], (cached, plain)
PY
  chanfuzz run bridge --strategy dfs:2
  expect_out_line "cut short as redundant \([0-9]+ at one of [0-9]+ states explored before\)"
}
case_run_dfs_symmetry_merges_interchangeable_workers() {
  # fan_out's three workers come from one closure. With symmetry dfs:0
  # finishes in 674 schedules; without it, 4,495 (docs/exploration.md):
  # given two seconds, :nosym either does not finish or runs more than twice as many.
  chanfuzz run fan_out --strategy dfs:0 --json
  expect_status 0
  cp "$work/out" "$work/merged.json"
  chanfuzz run fan_out --strategy dfs:0:nosym --time 2 --json
  expect_status 0
  python3 - "$work/merged.json" "$work/out" <<'PY' || fail "symmetry's counts are not as expected"
import json, sys
merged = json.load(open(sys.argv[1]))
apart = json.load(open(sys.argv[2]))
assert merged["strategy"] == "dfs:0" and apart["strategy"] == "dfs:0:nosym", (merged, apart)
merged, apart = merged["search"], apart["search"]
assert merged["complete"] and merged["schedules"] < 2000, merged
assert not apart["complete"] or apart["schedules"] > 2 * merged["schedules"], (merged, apart)
PY
}
case_run_dfs_finds_a_leak_and_replays_it() {
  chanfuzz run pipeline_leak --strategy dfs:2
  expect_status 1
  expect_out "chanfuzz: leak:"
  expect_out "schedule: 1 of the search (strategy dfs:2"
  expect_out "replay:   "
  local trace
  trace="$(report_trace)"
  [[ -n "$trace" ]] || fail "no trace"
  chanfuzz replay pipeline_leak --trace "$trace"
  expect_status 1
  expect_out "chanfuzz: leak:"
}
case_run_dfs_time_budget_reports_an_incomplete_search() {
  chanfuzz run pipeline --strategy dfs:2 --time 0.2
  expect_status 0
  expect_out_line "^chanfuzz: ok: search incomplete: [0-9,]+ schedules with at most 2 preemptions explored, no failure"
}
case_run_dfs_bad_specs() {
  local spec
  for spec in dfs: dfs:x dfs:-1 dfs:1001 dfs:2: dfs:2:bogus dfs:2:values=0 dfs:2:mem=0; do
    chanfuzz run pipeline --strategy "$spec"
    expect_usage_error "--strategy" "'$spec'"
  done
  status=0
  CHANFUZZ_STRATEGY=dfs:x "$tool" run pipeline >"$work/out" 2>"$work/err" || status=$?
  expect_usage_error "CHANFUZZ_STRATEGY='dfs:x'"
}
case_minimize_shortens_a_failing_trace() {
  chanfuzz run pipeline_leak
  expect_status 1
  local original minimized
  original="$(report_trace)"
  chanfuzz minimize pipeline_leak --trace "$original"
  expect_status 1
  expect_out "chanfuzz: leak:"
  expect_out_line "^minimized: [0-9]+ decisions?( \+ [0-9]+ by default)?, [0-9]+ preemptions? \(from [0-9]+ decisions?, [0-9]+ preemptions?: $original\)"
  minimized="$(report_trace)"
  [[ -n "$minimized" && "$minimized" != "$original" ]] || fail "no shorter trace"
  # The printed trace (here with a default tail) replays to the same report,
  # less the minimized: line; --verbose shows the same run.
  grep -v '^minimized: ' "$work/out" >"$work/minimized-report"
  chanfuzz replay pipeline_leak --trace "$minimized"
  expect_status 1
  expect_out "chanfuzz: leak:"
  expect_out "seed:     (replayed from the trace, then "
  diff "$work/minimized-report" "$work/out" >&2 || fail "the replay's report differs"
  chanfuzz replay pipeline_leak --trace "$minimized" --verbose
  expect_status 1
  [[ ! -s "$work/err" ]] || fail "replay --verbose complained: $(cat "$work/err")"
  chanfuzz minimize pipeline_leak --trace "$original" --json
  expect_status 1
  python3 - "$work/out" <<'PY' || fail "the JSON minimized block is not as expected"
import json, sys
report = json.load(open(sys.argv[1]))
m = report["minimized"]
assert report["category"] == "leak", report["category"]
assert m["decisions"] <= m["from_decisions"] and m["preemptions"] <= m["from_preemptions"], m
assert m["decisions"] + m["default_tail_decisions"] <= m["from_decisions"], m
PY
}
case_minimize_bad_usage() {
  chanfuzz minimize pipeline_leak
  expect_usage_error "minimize" "--trace"
  chanfuzz minimize
  expect_usage_error "minimize: give a scenario"
  chanfuzz minimize no_such_scenario --trace cf1:AQ
  expect_usage_error "no_such_scenario"
  chanfuzz minimize pipeline_leak --trace garbage
  expect_usage_error "--trace" "malformed trace"
  chanfuzz run pipeline_leak
  local trace
  trace="$(report_trace)"
  chanfuzz minimize pipeline --trace "$trace"  # another scenario's trace
  expect_usage_error "--trace" "does not fit the scenario"
  chanfuzz minimize pipeline_leak --trace "$trace" --runs x
  expect_usage_error "--runs"
  chanfuzz minimize pipeline_leak --trace "$trace" --max-steps 0
  expect_usage_error "--max-steps"
}
case_run_swarm_is_deterministic_per_seed() {
  chanfuzz run pipeline_leak --swarm --seed 5
  expect_status 1
  expect_out "strategy random+swarm"
  local first
  first="$(report_trace)"
  chanfuzz run pipeline_leak --swarm --seed 5
  expect_status 1
  [[ "$(report_trace)" == "$first" ]] || fail "two runs with seed 5 differ"
  chanfuzz run pipeline --swarm --strategy pct:3 --runs 50
  expect_status 0
  expect_out "strategy pct:3+swarm"
}
case_run_swarm_bad_usage() {
  chanfuzz run pipeline --swarm --strategy dfs:2
  expect_usage_error "--swarm"
  status=0
  CHANFUZZ_SWARM=2 "$tool" run pipeline >"$work/out" 2>"$work/err" || status=$?
  expect_usage_error "CHANFUZZ_SWARM='2'"
}

# ---- at scale: --junit, --shard, --resume, -j ----

# The JUnit file's structure, as CI dashboards read it: testsuites >
# testsuite (name, tests, failures) > testcase (classname, name, time), a
# failed case with one <failure message=...> holding the report.
expect_junit() {  # FILE TESTS FAILURES [FAILING-CASE]
  python3 - "$@" <<'PY' || fail "the JUnit file is not as expected"
import sys, xml.etree.ElementTree as ET
path, tests, failures, *failing = sys.argv[1:]
root = ET.parse(path).getroot()
assert root.tag == "testsuites", root.tag
suites = root.findall("testsuite")
assert len(suites) == 1, suites
suite = suites[0]
for attr in ("name", "tests", "failures", "errors", "time"):
    assert attr in suite.attrib, attr
cases = suite.findall("testcase")
assert suite.get("tests") == tests == str(len(cases)), (suite.get("tests"), len(cases))
failed = [c for c in cases if c.find("failure") is not None]
assert suite.get("failures") == failures == str(len(failed)), (suite.get("failures"), len(failed))
for c in cases:
    assert c.get("classname") and c.get("name") and float(c.get("time")) >= 0, c.attrib
for c in failed:
    f = c.find("failure")
    assert f.get("message") and "chanfuzz" in (f.text or ""), f.attrib
if failing:
    names = [c.get("name") for c in failed]
    assert failing[0] in names, names
    text = [c for c in failed if c.get("name") == failing[0]][0].find("failure").text
    assert "replay:" in text, text
PY
}

case_run_junit_one_scenario() {
  chanfuzz run tee_leak --junit "$work/junit.xml"
  expect_status 1
  expect_junit "$work/junit.xml" 1 1 tee_leak
  chanfuzz run pipeline --runs 20 --junit "$work/pass.xml"
  expect_status 0
  expect_junit "$work/pass.xml" 1 0
}
case_run_all_junit() {
  chanfuzz run --all --runs 50 --junit "$work/all.xml"
  expect_status 0
  local n
  n="$("$tool" list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
  expect_junit "$work/all.xml" "$n" 0
}
case_run_junit_from_environment() {
  status=0
  CHANFUZZ_JUNIT="$work/env.xml" "$tool" run tee_leak >"$work/out" 2>"$work/err" || status=$?
  expect_status 1
  expect_junit "$work/env.xml" 1 1 tee_leak
}
case_run_junit_unwritable() {
  chanfuzz run pipeline --runs 5 --junit /nonexistent/dir/x.xml
  expect_usage_error "--junit" "/nonexistent/dir/x.xml"
}
case_run_shard() {
  chanfuzz run pipeline --runs 30 --shard 2/3
  expect_status 0
  expect_out "10 runs, no failure in pipeline (strategy random, shard 2/3: seeds 2..29 step 3"
}
case_run_shard_bad() {
  chanfuzz run pipeline --shard 4/3
  expect_usage_error "--shard" "4/3"
  chanfuzz run pipeline --shard x
  expect_usage_error "--shard"
  chanfuzz run pipeline --shard 1/2 --strategy dfs:1
  expect_usage_error "--shard"
  status=0
  CHANFUZZ_SHARD=0/2 "$tool" run pipeline >"$work/out" 2>"$work/err" || status=$?
  expect_usage_error "CHANFUZZ_SHARD='0/2'"
}
case_run_resume() {
  chanfuzz run pipeline --runs 0 --time 0.1
  expect_status 0
  expect_out "resume:   stopped by the time budget"
  local next
  next="$(sed -n 's/.*(--resume \([0-9]*\)).*/\1/p' "$work/out")"
  [[ -n "$next" ]] || fail "no --resume seed"
  chanfuzz run pipeline --runs 0 --time 0.05 --resume "$next"
  expect_status 0
  expect_out "seeds $next.."
}
case_run_jobs_same_failure() {
  chanfuzz run worker_pool_leak --runs 3000 --strategy pct:3 -j 1 --json
  local one two
  one="$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["seed"], r["runs"], r["trace"])' "$work/out")"
  chanfuzz run worker_pool_leak --runs 3000 --strategy pct:3 -j 2 --json
  two="$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["seed"], r["runs"], r["trace"])' "$work/out")"
  [[ "$one" == "$two" ]] || fail "-j 1: $one; -j 2: $two"
  chanfuzz run pipeline -j 0
  expect_usage_error "-j"
}

# ---- stress: real threads (ThreadExecutor) ----

case_help_stress() {
  chanfuzz stress --help
  expect_status 0
  for flag in --all --runs --seed --time --threads --leak-wait --soak --json; do expect_out "$flag"; done
}
case_stress_correct_scenario_passes() {
  chanfuzz stress pipeline --runs 50 --threads 2
  expect_status 0
  expect_out "chanfuzz: ok"
}
case_stress_finds_an_always_leaking_scenario() {
  chanfuzz stress rand_stream_leak --runs 50 --threads 2 --leak-wait 0.2
  expect_status 1
  expect_out "leak"
  expect_out "rand_stream"  # where the leaked task blocks
  expect_out "chanfuzz stress rand_stream_leak --threads 2 --seed"
}
case_stress_json() {
  chanfuzz stress rand_stream_leak --runs 5 --leak-wait 0.2 --json
  expect_status 1
  expect_json category=leak scenario=rand_stream_leak ok=false
}
case_stress_all_leaves_out_endless_scenarios() {
  chanfuzz stress --all --runs 3 --leak-wait 0.2
  expect_status 0
  expect_out "no unexpected failure"
  expect_out "left out (may loop for ever"
  expect_out_line "^rand_stream_leak +leak +leak"
}
case_stress_bad_usage() {
  chanfuzz stress pipeline --threads 0
  expect_usage_error "--threads"
  chanfuzz stress
  expect_usage_error "stress: give one of"
  chanfuzz stress pipeline --all
  expect_usage_error "stress: give one of"
  chanfuzz stress no_such_scenario
  expect_usage_error "no_such_scenario"
  chanfuzz stress --soak 0
  expect_usage_error "--soak"
}

# ---- scripts/repro (usage only: a Release build is too slow for ctest) ----

repro() {
  status=0
  bash "$source_dir/scripts/repro" "$@" >"$work/out" 2>"$work/err" || status=$?
  echo "+ scripts/repro $* -> $status"
}

case_repro_help() {
  repro --help
  expect_status 0
  expect_out "usage: scripts/repro <scenario>"
  expect_out "--verbose"
}

case_repro_bad_usage() {
  local args
  for args in "" "rand_stream_leak" "rand_stream_leak abc" "rand_stream_leak cf1:AQ pct:3" \
    "rand_stream_leak 1 random extra" "--bogus rand_stream_leak 1"; do
    # shellcheck disable=SC2086 # split on purpose
    repro $args
    expect_status 2
    [[ ! -s "$work/out" ]] || fail "stdout is not empty"
    [[ "$(wc -l <"$work/err")" == 1 ]] || fail "stderr is not one line"
    grep -q '^repro: ' "$work/err" || fail "stderr does not start with 'repro: '"
  done
}

if ! declare -F "case_$case_name" >/dev/null; then
  echo "cli_test.sh: no case '$case_name'" >&2
  exit 2
fi
"case_$case_name"
echo "ok: $case_name"
