#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script for chanfuzz's fuzz targets.
#
# The contract (https://google.github.io/oss-fuzz/getting-started/new-project-guide/):
# the builder sets $CC $CXX $CFLAGS $CXXFLAGS (sanitizer and coverage flags),
# $LIB_FUZZING_ENGINE (the fuzzing engine's main, e.g. -fsanitize=fuzzer),
# $SRC (sources) and $OUT (where the targets go); $WORK is scratch space.
# This script builds every target of harness/fuzz with exactly those flags
# (CHANFUZZ_FUZZ_EXTERNAL_FLAGS: chanfuzz adds none of its own) and puts in
# $OUT, for each target <t>: the binary <t>, <t>_seed_corpus.zip (from
# corpus/<t>/), <t>.dict and <t>.options when the target has them.
#
# Run outside a container, as the tests do (scripts/test, stage fuzz):
#   SRC=/tmp/src OUT=/tmp/out WORK=/tmp/work CC=clang-14 CXX=clang++-14 \
#   CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address \
#           -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link" \
#   CXXFLAGS="$CFLAGS" LIB_FUZZING_ENGINE=-fsanitize=fuzzer .clusterfuzzlite/build.sh
for var in CC CXX OUT LIB_FUZZING_ENGINE; do
  if [[ -z "${!var:-}" ]]; then
    echo "build.sh: \$$var is not set (OSS-Fuzz sets CC CXX CFLAGS CXXFLAGS LIB_FUZZING_ENGINE OUT SRC)" >&2
    exit 2
  fi
done
CFLAGS="${CFLAGS:-}"
CXXFLAGS="${CXXFLAGS:-}"

# chanfuzz is C++ only: $CC and $CFLAGS are not used.
# The sources: this script's repository (in the image: $SRC/chanfuzz).
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ ! -f "$root/harness/fuzz/CMakeLists.txt" && -n "${SRC:-}" ]]; then
  root="$SRC/chanfuzz"
fi
work="${WORK:-$(mktemp -d)}"
# Outside OSS-Fuzz (scripts/check-oss-fuzz-build): CHANFUZZ_FUZZ_BUILD_DIR
# names the build folder, CHANFUZZ_CMAKE_ARGS adds configure arguments.
build="${CHANFUZZ_FUZZ_BUILD_DIR:-$work/chanfuzz-fuzz-build}"
read -r -a extra_args <<<"${CHANFUZZ_CMAKE_ARGS:-}"
mkdir -p "$OUT"

cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_CXX_FLAGS="$CXXFLAGS" -DCMAKE_CXX_FLAGS_RELEASE="" \
  -DCHANFUZZ_FUZZ=ON -DCHANFUZZ_FUZZ_EXTERNAL_FLAGS=ON \
  -DCHANFUZZ_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" \
  -DCHANFUZZ_BUILD_TESTS=OFF -DCHANFUZZ_INSTALL=OFF "${extra_args[@]}"
cmake --build "$build" --target chanfuzz_fuzzers --parallel "${CHANFUZZ_JOBS:-$(nproc)}"

for target in trace_fuzzer schedule_fuzzer program_fuzzer; do
  cp "$build/harness/fuzz/$target" "$OUT/$target"
  for extra in dict options; do
    if [[ -f "$root/harness/fuzz/$target.$extra" ]]; then
      cp "$root/harness/fuzz/$target.$extra" "$OUT/$target.$extra"
    fi
  done
  rm -f "$OUT/${target}_seed_corpus.zip"
  # A flat zip of corpus/<target>/ (python3's zipfile: no zip package needed).
  (cd "$root/corpus/$target" && python3 -m zipfile -c "$OUT/${target}_seed_corpus.zip" ./*)
done
echo "build.sh: fuzz targets and seed corpora in $OUT"
