#!/usr/bin/env bash
# Runs the whole benchmark comparison (A plain hub, B stock auth, C raw WebSockets, G this server, N Node ws; G as two
# nodes on Redis; MessagePack) and writes bench/results/latest.md and its plots; `--quick` runs every scenario once,
# small, into bench/results/quick/. Extra arguments go to the driver (e.g. `--only G,A`, `--scenarios cluster,msgpack`).
# Servers (and Redis) run on core 0, the load generator on core 1.
set -euo pipefail
cd "$(dirname "$0")"
bench=$(pwd)
artifacts=${BENCH_ARTIFACTS:-/tmp/signalrsecure-bench-artifacts}

results="$bench/results"
if [[ " $* " == *" --quick "* ]]; then
  results="$bench/results/quick"
fi

# gnuplot draws the PNG plots; Debian's package without X11.
if ! command -v gnuplot >/dev/null; then
  apt-get update -qq && apt-get install -y -qq gnuplot-nox >/dev/null
fi

# The scale-out scenarios start redis-server processes of their own on free loopback ports; Debian's package if missing.
if ! command -v redis-server >/dev/null; then
  apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
fi

# The Node peer's exact dependencies from package-lock.json.
(cd node && npm ci --no-audit --no-fund --silent)

# Release builds into an artifacts folder outside the tree; the chat page bundle is not needed to benchmark.
for project in ../server/SignalRSecure.Server SignalRSecure.Bench.Servers SignalRSecure.Bench.Probe SignalRSecure.Bench; do
  dotnet build "$project" -c Release --artifacts-path "$artifacts" -p:SkipChatBundle=true -nologo -v quiet -clp:ErrorsOnly
done

# 20,000 idle connections need as many descriptors in the server and in the load generator.
ulimit -n "$(ulimit -Hn)"

mkdir -p "$results"
# Inline socket completions keep the single-core load generator from handing every receive to another thread.
DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 DOTNET_PROCESSOR_COUNT=1 \
  taskset -c 1 dotnet "$artifacts/bin/SignalRSecure.Bench/release/SignalRSecure.Bench.dll" run "$@" \
  --results "$results" \
  --server-dll "$artifacts/bin/SignalRSecure.Server/release/SignalRSecure.Server.dll" \
  --bench-servers-dll "$artifacts/bin/SignalRSecure.Bench.Servers/release/SignalRSecure.Bench.Servers.dll" \
  --probe-dll "$artifacts/bin/SignalRSecure.Bench.Probe/release/SignalRSecure.Bench.Probe.dll" \
  --node-server "$bench/node/server.mjs"
