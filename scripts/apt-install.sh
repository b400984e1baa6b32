#!/usr/bin/env bash
# Install Debian packages that are missing, the one way every prereq script does it:
#   bash scripts/apt-install.sh [--no-install-recommends] PACKAGE...
# Root or passwordless sudo; waits up to 10 minutes for another apt/dpkg to release its lock (several
# scripts and helpers may install at once); one `apt-get update` per call, and only when something is
# missing. Exit 0 when everything is installed, 1 with one line on stderr otherwise.
set -euo pipefail

fail() { echo "apt-install: $*" >&2; exit 1; }

options=()
if [ "${1:-}" = "--no-install-recommends" ]; then options+=(--no-install-recommends); shift; fi
[ $# -gt 0 ] || fail "usage: apt-install.sh [--no-install-recommends] PACKAGE..."

missing=()
for package in "$@"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

command -v apt-get >/dev/null 2>&1 || fail "cannot install ${missing[*]}: no apt-get here; install them yourself"
if [ "$(id -u)" = 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  fail "cannot install ${missing[*]}: needs root or passwordless sudo; install them yourself"
fi

lock=(-o DPkg::Lock::Timeout=600)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "apt-install: installing ${missing[*]}"
"${sudo[@]}" apt-get "${lock[@]}" update -qq >"$log" 2>&1 \
  || fail "apt-get update failed: $(tail -n 1 "$log")"
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get "${lock[@]}" install -y -qq "${options[@]}" "${missing[@]}" \
  >"$log" 2>&1 || fail "installing ${missing[*]} failed: $(tail -n 1 "$log")"
