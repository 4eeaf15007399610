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
  python3 time hyperfine
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
