#!/usr/bin/env bash
# HTTP/3 requests per second for small responses: an ASP.NET Core app on Kestrel with its HTTP/3
# on Mallard.Quic (examples/http3-app) beside quic-go 0.29's http3 server, each fetched by the same
# clients in turn — quic-go 0.29's HTTP/3 client (tests/Mallard.Quic.AspNetCore.Tests/QuicGoHttp3)
# and Mallard.Http3's (bench/Mallard.Http3Bench, Native AOT) — over one connection with PARALLEL
# requests at a time, on loopback, alternating rounds. Each server first answers WARMUP uncounted
# requests: Kestrel is a large body of code that the JIT is still recompiling after 20,000
# requests (a third of the server's CPU in perf record) and settles after about 60,000; quic-go is
# compiled ahead of time. Two clients because quic-go's saturates a core near 20,000 requests/s on
# this machine whichever server answers, which hides the servers' difference; the faster client
# shows it. Neither side logs requests. No root needed.
#
#   bench/h3-vs-quicgo.sh [ROUNDS=3] [REQUESTS=30000] [PARALLEL=16] [WARMUP=80000]
set -euo pipefail
ROUNDS=${1:-3}
REQUESTS=${2:-30000}
PARALLEL=${3:-16}
WARMUP=${4:-80000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/mallard-h3bench-XXXX)
# shellcheck source=bench/h3-lib.sh
source "$ROOT/bench/h3-lib.sh"
build_quicgo_h3
dotnet build "$ROOT/examples/http3-app" -c Release --artifacts-path "$WORK/artifacts" >/dev/null
dotnet publish "$ROOT/bench/Mallard.Http3Bench" -c Release -r linux-x64 -p:PublishAot=true -o "$WORK/mallard-client" >/dev/null
APP="$WORK/artifacts/bin/Http3App/release"

start() { # $1 = mallard|quicgo, $2 = port
  if [ "$1" = mallard ]; then
    dotnet "$APP/Http3App.dll" --Port "$2" --contentRoot "$APP" >"$WORK/server.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 100); do grep -q "Application started" "$WORK/server.log" && break; sleep 0.1; done
  else
    "$WORK/h3" -listen "127.0.0.1:$2" >"$WORK/server.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 100); do grep -q listening "$WORK/server.log" && break; sleep 0.1; done
  fi
}

for round in $(seq 1 "$ROUNDS"); do
  for impl in mallard quicgo; do
    port=$((20000 + RANDOM % 20000))
    start "$impl" "$port"
    url="https://127.0.0.1:$port/"
    "$WORK/h3" -url "$url" -count "$WARMUP" -parallel "$PARALLEL" -quiet >/dev/null
    line=$("$WORK/h3" -url "$url" -count "$REQUESTS" -parallel "$PARALLEL" -quiet)
    echo "round $round $impl (quic-go client) $line"
    echo "$impl $line" >>"$WORK/results-quicgo-client"
    line=$("$WORK/mallard-client/Mallard.Http3Bench" "$url" "$REQUESTS" "$PARALLEL" 10000)
    echo "round $round $impl (Mallard client) $line"
    echo "$impl $line" >>"$WORK/results-mallard-client"
    kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
  done
done

echo "quic-go client:"
print_median_ratio "$WORK/results-quicgo-client" "Kestrel on Mallard.Quic" "quic-go http3"
echo "Mallard.Http3 client:"
print_median_ratio "$WORK/results-mallard-client" "Kestrel on Mallard.Quic" "quic-go http3"
