#!/usr/bin/env bash
# Makes sure Chromium is there for the browser tests. Playwright's own browser download does not work here, so
# playwright-core drives Debian's chromium package at /usr/bin/chromium (or CHROMIUM_PATH).
set -euo pipefail

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$chromium" ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $chromium is missing; install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH." >&2
  exit 1
fi

# Installs Debian's chromium (with the fonts it recommends, so that pages render text) without prompts.
echo "ensure-chromium: installing Debian's chromium package" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q chromium
