#!/usr/bin/env bash
# scripts/setup.sh - install what building, testing and running imr needs, from Debian's
# packages, when it is missing. Safe to run again: it installs nothing already there.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config clang
  libjansson-dev libcmocka-dev
  libpoppler-glib-dev poppler-utils
  libcairo2-dev libpango1.0-dev fonts-dejavu-core
  libsqlite3-dev libpq-dev postgresql libmicrohttpd-dev libargon2-dev
  python3 time hyperfine wrk
  chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all build and test packages are installed"
fi

# The browser test drives Debian's chromium with playwright-core (npm; never a downloaded
# browser). Node comes with this machine kind; Debian's nodejs/npm are the fallback.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup: installing nodejs npm"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi
here=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -d "$here/tests/browser/node_modules/playwright-core" ] || [ ! -d "$here/tests/browser/node_modules/axe-core" ]; then
  echo "setup: installing the browser test's npm packages (tests/browser)"
  (cd "$here/tests/browser" && npm ci --no-audit --no-fund --loglevel=error) ||
    echo "setup: npm ci failed; the browser test will be skipped" >&2
fi
