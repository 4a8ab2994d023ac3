#!/usr/bin/env bash
# Builds the .deb from a full build (default build/), installs it with dpkg, and checks it as
# a user would meet it: `vramplan --version` and a `fit` from /tmp, the man page renders, the
# completions are in place. Then removes the package. Needs root (or sudo) on a throwaway
# machine: .ci/run calls it; docs/cli.md "Installing" describes the package.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
as_root=()
[[ $(id -u) -eq 0 ]] || as_root=(sudo)

if dpkg-query -W -f='${Status}' vramplan 2>/dev/null | grep -q "install ok installed"; then
  echo "check-deb: a vramplan package is already installed; not touching it" >&2
  exit 1
fi

cmake --build "$build" >/dev/null  # the man page and completions are part of `all`
rm -rf "$build/deb"
cpack -G DEB -B "$build/deb" --config "$build/CPackConfig.cmake" >/dev/null
deb=$(ls "$build"/deb/vramplan_*.deb)
echo "check-deb: $(basename "$deb")"
dpkg-deb --info "$deb" | sed -n 's/^ \(Package\|Version\|Architecture\|Depends\):/  \1:/p'

cleanup() { "${as_root[@]}" dpkg -r vramplan >/dev/null 2>&1 || true; }
trap cleanup EXIT
"${as_root[@]}" dpkg -i "$deb" >/dev/null

fail() { echo "check-deb: $*" >&2; exit 1; }
[[ $(command -v vramplan) == /usr/bin/vramplan ]] || fail "vramplan is not /usr/bin/vramplan"
version=$(cd /tmp && vramplan --version)
[[ $version == "vramplan $(sed -n 's/^project(vramplan VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)" ]] \
  || fail "unexpected --version: $version"
(cd /tmp && vramplan fit --vram 16G --model llama3.1:8b-q8) | grep -q '^fits: *yes' \
  || fail "fit from /tmp did not fit"
for f in /usr/share/man/man1/vramplan.1 /usr/share/bash-completion/completions/vramplan \
         /usr/share/zsh/vendor-completions/_vramplan \
         /usr/share/fish/vendor_completions.d/vramplan.fish /usr/share/doc/vramplan/copyright; do
  [[ -s $f ]] || fail "missing $f"
done
if command -v man >/dev/null; then
  page=$(MANWIDTH=80 man -l /usr/share/man/man1/vramplan.1 2>&1)
elif command -v nroff >/dev/null; then  # an image without man-db: groff-base's nroff
  page=$(nroff -man /usr/share/man/man1/vramplan.1 2>&1)
else
  page="vramplan fit"
  echo "check-deb: neither man nor nroff installed; man page rendering not checked"
fi
grep -q 'vramplan fit' <<<"$page" || fail "the man page does not render"
if grep -qi 'warning' <<<"$page"; then fail "the man page renders with warnings: $page"; fi
echo "check-deb: ok (installed, ran from /tmp, man page renders, removed)"
