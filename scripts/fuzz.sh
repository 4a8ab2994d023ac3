#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (cmake --preset fuzz) and runs each for a short
# session on the seed corpus the unit tests write. Usage: scripts/fuzz.sh [SECONDS per target]
# Needs: clang, libclang-rt-14-dev (installed here if missing, as root), and a normal build in
# build/ (scripts/setup.sh) for the seed-writing test binary.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}

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
mkdir -p "$corpus"
VRAMPLAN_GGUF_CORPUS_DIR="$corpus/gguf" VRAMPLAN_FUZZ_CORPUS_DIR="$corpus" \
  build/bin/vramplan_tests --gtest_filter='GgufCorpus*:FuzzCorpus*' >/dev/null

status=0
for fuzzer in build-fuzz/bin/vramplan_fuzz_*; do
  name=${fuzzer##*/vramplan_fuzz_}
  mkdir -p "$corpus/$name" "$corpus/$name-work"
  echo "fuzz: $name for ${seconds}s"
  if ! "$fuzzer" -max_total_time="$seconds" -rss_limit_mb=512 -print_final_stats=1 \
      "$corpus/$name-work" "$corpus/$name" 2>"build-fuzz/$name.log"; then
    echo "fuzz: $name FAILED; see build-fuzz/$name.log" >&2
    tail -30 "build-fuzz/$name.log" >&2
    status=1
  else
    grep -E 'stat::number_of_executed_units' "build-fuzz/$name.log" || true
  fi
done
exit $status
