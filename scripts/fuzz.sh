#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (cmake --preset fuzz) and runs each of them on its
# seed corpus (written by the unit tests, plus tests/fuzz/corpus/<target> where committed).
# docs/reliability.md "Fuzzing".
#
#   scripts/fuzz.sh [SECONDS]             each target for SECONDS (default 30)
#   scripts/fuzz.sh --runs N [TARGET...]  each target (or the ones named) for N executions
#   scripts/fuzz.sh SECONDS TARGET...     only the targets named (gguf, manifest, cli, ...)
#
# Every input runs under -timeout=1 (seconds) and -malloc_limit_mb=64 (one allocation), the
# whole process under -rss_limit_mb=2048 (ASan's quarantine included): a slow input, a large
# allocation, a crash or a sanitizer report is a finding, and the script fails. Per target it
# prints executions, executions per second, coverage and peak RSS. The targets run in
# parallel, FUZZ_JOBS at a time (default: the number of cores).
#
# Needs: clang, libclang-rt-14-dev (installed here if missing, as root), and a normal build in
# build/ (scripts/setup.sh) for the seed-writing test binary.
set -euo pipefail
cd "$(dirname "$0")/.."

budget=(-max_total_time=30)
if [[ ${1:-} == --runs ]]; then
  budget=(-runs="${2:?--runs needs a number}")
  shift 2
elif [[ ${1:-} =~ ^[0-9]+$ ]]; then
  budget=(-max_total_time="$1")
  shift
fi
targets=("$@")
limits=(-timeout=1 -malloc_limit_mb=64 -rss_limit_mb=2048)

missing=()
for p in clang libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  as_root=()
  [[ $(id -u) -eq 0 ]] || as_root=(sudo)
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

cmake --preset fuzz >/dev/null
cmake --build build-fuzz --target vramplan_fuzzers

corpus=build-fuzz/corpus
mkdir -p "$corpus" build-fuzz/artifacts
VRAMPLAN_GGUF_CORPUS_DIR="$corpus/gguf" VRAMPLAN_FUZZ_CORPUS_DIR="$corpus" \
  build/bin/vramplan_tests --gtest_filter='GgufCorpus*:FuzzCorpus*' >/dev/null

if ((${#targets[@]} == 0)); then
  for fuzzer in build-fuzz/bin/vramplan_fuzz_*; do targets+=("${fuzzer##*/vramplan_fuzz_}"); done
fi

# The targets run side by side, one per core (FUZZ_JOBS overrides): each gets its full time
# budget either way, and the table is printed in the order of the targets.
jobs=${FUZZ_JOBS:-$(nproc)}
run_one() {
  local name=$1 fuzzer=build-fuzz/bin/vramplan_fuzz_$1
  local seeds=("$corpus/$name")
  [[ -d tests/fuzz/corpus/$name ]] && seeds+=("tests/fuzz/corpus/$name")
  mkdir -p "$corpus/$name" "$corpus/$name-work"
  local rc=0
  "$fuzzer" "${budget[@]}" "${limits[@]}" -print_final_stats=1 \
    -artifact_prefix="build-fuzz/artifacts/$name-" "$corpus/$name-work" "${seeds[@]}" \
    >"build-fuzz/$name.log" 2>&1 || rc=$?
  echo "$rc" >"build-fuzz/$name.rc"
}
status=0
running=0
for name in "${targets[@]}"; do
  if [[ ! -x build-fuzz/bin/vramplan_fuzz_$name ]]; then
    echo "fuzz: no target '$name'" >&2
    status=1
    continue
  fi
  rm -f "build-fuzz/$name.rc"
  run_one "$name" &
  if ((++running >= jobs)); then
    wait -n || true
    ((running--))
  fi
done
wait

printf '%-12s %12s %10s %8s %8s  %s\n' target executions exec/s cov rss_mb result
for name in "${targets[@]}"; do
  [[ -x build-fuzz/bin/vramplan_fuzz_$name ]] || continue
  log=build-fuzz/$name.log
  result=ok
  if [[ $(cat "build-fuzz/$name.rc" 2>/dev/null) != 0 ]]; then
    result="FAILED (see $log)"
    status=1
  fi
  stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
  # A target that fails on its seeds prints no coverage line.
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2 || true)
  printf '%-12s %12s %10s %8s %8s  %s\n' "$name" "$(stat number_of_executed_units)" \
    "$(stat average_exec_per_sec)" "${cov:-?}" "$(stat peak_rss_mb)" "$result"
  [[ $result == ok ]] || tail -30 "$log" >&2
done
exit $status
