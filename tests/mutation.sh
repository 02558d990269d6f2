#!/usr/bin/env bash
# Mutation testing of the gate: Stryker.NET changes the library's Gate, Tickets, Protection and Accounts code (and
# GroupNames) one small change at a time and runs tests against each change. Prints the score per file and overall;
# the reports go to test-output/mutation/. Not part of ./test.sh (too slow for every run).
#   tests/mutation.sh          fast profile (tests/stryker-config.json): the whole scope with the unit tests only, which
#                              drive the HTTP edge too (the middlewares, the auth endpoints' handlers, the session cookie
#                              and the throttle on DefaultHttpContext and fakes); about 40 minutes on a quiet 2-core machine.
#   tests/mutation.sh --full   full profile (tests/stryker-config.full.json): the whole scope, with the functional tests
#                              of the reader, the gate and the auth endpoints too; well over an hour on 2 cores.
# Both leave out log, options and metadata classes (nothing to mutate that a gate test could notice; see README).
# Extra arguments go to Stryker, e.g. one file while iterating: tests/mutation.sh --mutate "**/Gate/GateReader.cs"
set -euo pipefail
cd "$(dirname "$0")"

config=stryker-config.json
if [ "${1:-}" = "--full" ]; then
  config=stryker-config.full.json
  shift
fi

out="$(cd .. && pwd)/test-output/mutation"
rm -rf "$out"
mkdir -p "$out"

# dotnet-stryker 5.1.0, pinned in tests/dotnet-tools.json, installed from NuGet on first use.
dotnet tool restore >/dev/null

# --concurrency 2: two test sessions at a time; more starves the functional tests' deadlines on a small machine.
status=0
dotnet tool run dotnet-stryker --config-file "$config" --output "$out" --skip-version-check \
  "$@" 2>&1 | tee "$out/stryker.log" || status=$?

report=$(find "$out" -name mutation-report.json -print -quit)
if [ -z "$report" ]; then
  echo "Stryker wrote no report (exit $status): see $out/stryker.log"
  exit 1
fi

# Score = detected (killed or timed out) / (detected + survived + not covered), as Stryker counts it. The survivors,
# one per line, go to survivors.txt.
node - "$report" "$out/survivors.txt" <<'EOF'
const fs = require('fs');
const [report, survivorsFile] = process.argv.slice(2);
const files = JSON.parse(fs.readFileSync(report, 'utf8')).files;
const rows = [];
const survivors = [];
let detected = 0, total = 0, timeouts = 0, ignored = 0;
for (const [path, file] of Object.entries(files)) {
  const counted = file.mutants.filter(m => ['Killed', 'Timeout', 'Survived', 'NoCoverage'].includes(m.status));
  const hits = counted.filter(m => m.status === 'Killed' || m.status === 'Timeout').length;
  ignored += file.mutants.filter(m => m.status === 'Ignored' && /Stryker disable|equivalent|unreachable/i.test(m.statusReason ?? '')).length;
  if (counted.length === 0) continue;
  detected += hits;
  timeouts += counted.filter(m => m.status === 'Timeout').length;
  total += counted.length;
  const name = path.replace(/^.*SignalRSecure\.AspNetCore\//, '');
  rows.push([name, hits, counted.length]);
  for (const m of file.mutants.filter(m => m.status === 'Survived' || m.status === 'NoCoverage')) {
    survivors.push(`${name}:${m.location.start.line} ${m.status} ${m.mutatorName}: ${(m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 120)}`);
  }
}
rows.sort((a, b) => a[1] / a[2] - b[1] / b[2]);
for (const [name, hits, count] of rows) {
  console.log(`${(100 * hits / count).toFixed(1).padStart(6)}%  ${String(hits).padStart(4)}/${String(count).padEnd(4)} ${name}`);
}
console.log(`${(100 * detected / total).toFixed(1).padStart(6)}%  ${String(detected).padStart(4)}/${String(total).padEnd(4)} overall`);
// Stryker counts a timeout as detected; on a loaded machine some come from the load, not from the mutant.
console.log(`${timeouts} of the detected are timeouts: ${(100 * (detected - timeouts) / total).toFixed(1)}% counting kills only`);
console.log(`${ignored} mutants marked equivalent in the source (// Stryker disable once ... : reason), not counted`);
fs.writeFileSync(survivorsFile, survivors.join('\n') + '\n');
EOF
echo "survivors: $out/survivors.txt; report: $(dirname "$report")/mutation-report.html"
exit "$status"
