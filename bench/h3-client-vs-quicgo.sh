#!/usr/bin/env bash
# HTTP/3 requests per second as a client makes them: Mallard.Http3 (bench/Mallard.Http3Bench,
# published with Native AOT like the Go peer) beside quic-go 0.29's http3 client
# (tests/Mallard.Quic.AspNetCore.Tests/QuicGoHttp3), both against the same quic-go 0.29 http3
# server answering GET / with a short text, on loopback, one connection, PARALLEL requests at a
# time, WARMUP uncounted then REQUESTS counted, alternating ROUNDS. Neither side logs requests.
#
#   bench/h3-client-vs-quicgo.sh [ROUNDS=3] [REQUESTS=30000] [PARALLEL=16] [WARMUP=20000]
set -euo pipefail
ROUNDS=${1:-3}
REQUESTS=${2:-30000}
PARALLEL=${3:-16}
WARMUP=${4:-20000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/mallard-h3client-XXXX)
# shellcheck source=bench/h3-lib.sh
source "$ROOT/bench/h3-lib.sh"
build_quicgo_h3
dotnet publish "$ROOT/bench/Mallard.Http3Bench" -c Release -r linux-x64 -p:PublishAot=true -o "$WORK/mallard" >/dev/null

PORT=$((20000 + RANDOM % 20000))
"$WORK/h3" -listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do grep -q listening "$WORK/server.log" && break; sleep 0.1; done
URL="https://127.0.0.1:$PORT/"

for round in $(seq 1 "$ROUNDS"); do
  line=$("$WORK/mallard/Mallard.Http3Bench" "$URL" "$REQUESTS" "$PARALLEL" "$WARMUP")
  echo "round $round mallard $line"; echo "mallard $line" >>"$WORK/results"
  "$WORK/h3" -url "$URL" -count "$WARMUP" -parallel "$PARALLEL" -quiet >/dev/null
  line=$("$WORK/h3" -url "$URL" -count "$REQUESTS" -parallel "$PARALLEL" -quiet)
  echo "round $round quicgo $line"; echo "quicgo $line" >>"$WORK/results"
done

print_median_ratio "$WORK/results" "Mallard.Http3 client" "quic-go http3 client"
