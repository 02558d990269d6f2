#!/usr/bin/env bash
# Runs every test of SignalRSecure: the .NET suite (unit and functional, against a real Kestrel server), then the JS
# client and browser tests. Installs what it needs on a fresh machine (Debian packages, as root). Results and logs go
# to test-output/; the last line is the total: `N passed, N failed`. Exits non-zero when anything failed.
set -euo pipefail
cd "$(dirname "$0")"

out=test-output
rm -rf "$out"
mkdir -p "$out"

step() { printf '\n==> %s\n' "$*"; }

# The TLS tests run openssl (to make certificates, and as a TLS 1.0/1.1 client); Debian's package if it is missing.
if ! command -v openssl >/dev/null; then
  step "installing openssl (apt-get)"
  apt-get update -qq && apt-get install -y -qq openssl
fi

# The scale-out tests start redis-server processes of their own on random loopback ports; Debian's package if missing.
# (Its package may start a system service where systemd runs; the tests never use it.)
if ! command -v redis-server >/dev/null; then
  step "installing redis-server (apt-get)"
  apt-get update -qq && apt-get install -y -qq redis-server
fi

# The reverse-proxy tests put nginx processes of their own (random loopback ports) in front of the nodes.
# nginx lives in /usr/sbin, which a non-root PATH may lack.
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  step "installing nginx (apt-get)"
  apt-get update -qq && apt-get install -y -qq nginx
fi

# NuGet packages are restored by dotnet itself (versions pinned in Directory.Packages.props). Building the server also
# bundles the chat page from client-js, running npm ci there first when node_modules is missing or older than
# package-lock.json: the only npm ci of the run.
step "building (dotnet build; log in $out/build.log)"
built=0
dotnet build SignalRSecure.sln -v q -nologo >"$out/build.log" 2>&1 || built=$?
tail -n 3 "$out/build.log"

dotnet_passed=0
dotnet_failed=0
if [ "$built" -ne 0 ]; then
  echo "the build failed: see $out/build.log"
  dotnet_failed=1
else
  dotnet_status=0
  step ".NET tests (one line per test; results in $out/dotnet.trx, output in $out/dotnet.log)"
  dotnet test SignalRSecure.sln --no-build --logger "console;verbosity=normal" --logger "trx;LogFileName=dotnet.trx" \
    --results-directory "$out" 2>&1 | tee "$out/dotnet.log" || dotnet_status=$?
  counters=$(grep -o '<Counters [^>]*>' "$out/dotnet.trx" 2>/dev/null || true)
  if [ -n "$counters" ]; then
    dotnet_passed=$(grep -o ' passed="[0-9]*"' <<<"$counters" | tr -dc '0-9')
    dotnet_failed=$(grep -o ' failed="[0-9]*"' <<<"$counters" | tr -dc '0-9')
    if [ "$dotnet_status" -ne 0 ] && [ "$dotnet_failed" -eq 0 ]; then
      # A test host that crashed or aborted leaves no failed test behind, only its exit code.
      echo "dotnet test exited with $dotnet_status: see $out/dotnet.log"
      dotnet_failed=1
    fi
  else
    echo "the .NET run wrote no results: see $out/dotnet.log"
    dotnet_failed=1
  fi
fi

js_passed=0
js_failed=0
if [ -f client-js/package.json ] && [ "$built" -eq 0 ]; then
  # The browser tests install Debian's chromium package (apt-get, as root) when /usr/bin/chromium is missing.
  step "JS client and browser tests (npm test; output in $out/js.log)"
  js_status=0
  (cd client-js && npm test) 2>&1 | tee "$out/js.log" || js_status=$?
  # node's test runner ends with its totals: `ℹ pass N` / `ℹ fail N` (spec reporter) or `# pass N` (TAP).
  pass_line=$(grep -E '^(ℹ|#) pass [0-9]+$' "$out/js.log" | tail -n 1 || true)
  fail_line=$(grep -E '^(ℹ|#) fail [0-9]+$' "$out/js.log" | tail -n 1 || true)
  if [ -n "$pass_line" ] && [ -n "$fail_line" ]; then
    js_passed=${pass_line##* }
    js_failed=${fail_line##* }
    if [ "$js_status" -ne 0 ] && [ "$js_failed" -eq 0 ]; then
      echo "npm test exited with $js_status: see $out/js.log"
      js_failed=1
    fi
  else
    echo "the JS tests did not run to their totals: see $out/js.log"
    js_failed=1
  fi
fi

passed=$((dotnet_passed + js_passed))
failed=$((dotnet_failed + js_failed))
echo
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
