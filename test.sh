#!/usr/bin/env bash
# Runs every test of SignalRSecure: the .NET suite (unit and functional, against a real Kestrel server),
# then, once client-js exists, the JS client and browser tests. Installs what it needs on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")"

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

# The TLS tests use openssl's client as a TLS 1.0/1.1 peer; Debian's package if the machine lacks it.
if ! command -v openssl >/dev/null; then
  apt-get update -qq && apt-get install -y -qq openssl
fi

# NuGet packages are restored by dotnet itself; the versions are pinned in Directory.Packages.props.
# Building the server also bundles the chat page from client-js (npm ci, esbuild).
dotnet test SignalRSecure.sln --logger "trx;LogFileName=dotnet.trx" --results-directory "$results"

passed=$(grep -o 'passed="[0-9]*"' "$results/dotnet.trx" | head -1 | tr -dc '0-9')
failed=$(grep -o 'failed="[0-9]*"' "$results/dotnet.trx" | head -1 | tr -dc '0-9')

if [ -f client-js/package.json ]; then
  # npm ci installs the exact versions of package-lock.json; the browser tests install Debian's Chromium if missing.
  (cd client-js && npm ci --no-audit --no-fund && npm test)
fi

echo "dotnet: ${passed} passed, ${failed} failed"
