#!/usr/bin/env bash
# Fails when a C++ file tracked by git is not formatted as .clang-format says (clang-format 14,
# Debian 12's). Installs clang-format-14 when it is missing (as root, or with sudo).
#   bash scripts/check-format.sh          check (CI)
#   bash scripts/check-format.sh --fix    rewrite the files in place
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v clang-format-14 >/dev/null; then
  as_root=()
  [[ $(id -u) -eq 0 ]] || as_root=(sudo)
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends \
    clang-format-14 >/dev/null
fi

mapfile -t files < <(git ls-files '*.cpp' '*.hpp')
if [[ ${1:-} == --fix ]]; then
  clang-format-14 -i "${files[@]}"
  exit 0
fi
if ! clang-format-14 --dry-run --Werror "${files[@]}"; then
  echo "format: the files above differ from .clang-format; run: bash scripts/check-format.sh --fix" >&2
  exit 1
fi
echo "format: ${#files[@]} files formatted"
