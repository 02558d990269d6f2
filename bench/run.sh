#!/usr/bin/env bash
# Runs the whole benchmark comparison (A plain hub, B stock auth, C raw WebSockets, G this server, N Node ws; G as two
# nodes on Redis; MessagePack) and writes bench/results/latest.md and its plots; `--quick` runs every scenario once,
# small, into bench/results/quick/. Extra arguments go to the driver (e.g. `--only G,A`, `--scenarios cluster,msgpack`,
# `--host inline,no-concurrent-gc`, `--rounds 7`); `--ready-to-run` publishes the .NET servers ReadyToRun first.
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

# --ready-to-run is this script's own: the .NET servers are published ReadyToRun (their own assemblies precompiled,
# as the server project publishes them for linux-x64) instead of built. Every other argument goes to the driver.
ready_to_run=false
driver_args=()
for argument in "$@"; do
  if [[ "$argument" == "--ready-to-run" ]]; then ready_to_run=true; else driver_args+=("$argument"); fi
done

# Release builds into an artifacts folder outside the tree; the chat page bundle is not needed to benchmark.
for project in ../server/SignalRSecure.Server SignalRSecure.Bench.Servers SignalRSecure.Bench.Probe SignalRSecure.Bench; do
  dotnet build "$project" -c Release --artifacts-path "$artifacts" -p:SkipChatBundle=true -nologo -v quiet -clp:ErrorsOnly
done

server_dll="$artifacts/bin/SignalRSecure.Server/release/SignalRSecure.Server.dll"
bench_servers_dll="$artifacts/bin/SignalRSecure.Bench.Servers/release/SignalRSecure.Bench.Servers.dll"
if [[ "$ready_to_run" == true ]]; then
  # Both G and A, B, C, so that the comparison stays on equal settings; crossgen2 comes from NuGet with the SDK's version.
  for project in ../server/SignalRSecure.Server SignalRSecure.Bench.Servers; do
    dotnet publish "$project" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
      --artifacts-path "$artifacts" -p:SkipChatBundle=true -nologo -v quiet -clp:ErrorsOnly
  done
  server_dll="$artifacts/publish/SignalRSecure.Server/release_linux-x64/SignalRSecure.Server.dll"
  bench_servers_dll="$artifacts/publish/SignalRSecure.Bench.Servers/release_linux-x64/SignalRSecure.Bench.Servers.dll"
  driver_args+=(--server-env "BENCH_READY_TO_RUN=1")
fi

# 20,000 idle connections need as many descriptors in the server and in the load generator.
ulimit -n "$(ulimit -Hn)"

mkdir -p "$results"
# Inline socket completions keep the single-core load generator from handing every receive to another thread.
DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 DOTNET_PROCESSOR_COUNT=1 \
  taskset -c 1 dotnet "$artifacts/bin/SignalRSecure.Bench/release/SignalRSecure.Bench.dll" run ${driver_args[@]+"${driver_args[@]}"} \
  --results "$results" \
  --server-dll "$server_dll" \
  --bench-servers-dll "$bench_servers_dll" \
  --probe-dll "$artifacts/bin/SignalRSecure.Bench.Probe/release/SignalRSecure.Bench.Probe.dll" \
  --node-server "$bench/node/server.mjs"
