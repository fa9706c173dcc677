#!/usr/bin/env bash
# Same-run A/B of two Mallard.Quic builds on the DATAGRAM benchmark (bench/Mallard.DatagramBench),
# on loopback, in alternating rounds. Each round runs, for build A then build B:
#   - that build's server with that build's client, and
#   - that build's server with the quic-go 0.29 client (bench/datagram-go), so the server side is
#     measured against a fixed peer.
# Prints one key=value line per run and the medians.
#
#   bench/datagram-ab.sh OLD_COMMIT [NEW_COMMIT=working tree] [ROUNDS=3] [MEGABYTES=50]
set -euo pipefail
OLD=${1:?usage: bench/datagram-ab.sh OLD_COMMIT [NEW_COMMIT] [ROUNDS] [MEGABYTES]}
NEW=${2:-}
ROUNDS=${3:-3}
MEGABYTES=${4:-50}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/mallard-dgab-XXXX)
. "$ROOT/bench/datagram-lib.sh"
trap cleanup_ab_bench EXIT
build_revision a "$OLD" build_mallard_bench
build_revision b "$NEW" build_mallard_bench
build_quicgo_bench

run() { # $1 = build, $2 = mallard|quicgo client
  local port=$((20000 + RANDOM % 20000))
  start_echo_server mallard "$port" "$WORK/$1"
  if [ "$2" = mallard ]; then
    dotnet "$WORK/$1/Mallard.DatagramBench.dll" client "127.0.0.1:$port" 500 3 64 "$MEGABYTES"
  else
    "$WORK/quicgo" -mode client -server "127.0.0.1:$port" -pings 500 -seconds 3 -window 64 -megabytes "$MEGABYTES"
  fi
  stop_echo_server
}

for round in $(seq 1 "$ROUNDS"); do
  # Which build goes first alternates by round: the second pair measured in a round came out
  # 2-2.5x worse in the mixed phase whichever build it was (three runs on 2026-11-27).
  order="a b"; [ $((round % 2)) -eq 0 ] && order="b a"
  for build in $order; do
    for client in mallard quicgo; do
      line=$(run "$build" "$client")
      echo "round $round build=$build client=$client $line"
      echo "$build-$client $line" >>"$WORK/results"
    done
  done
done

python3 - "$WORK/results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    pair, *fields = line.split()
    for key, value in (f.split("=") for f in fields):
        rows.setdefault((pair, key), []).append(float(value))
keys = ["rtt_p50_ms", "rtt_p99_ms", "rate_dps", "mixed_stream_mbps", "mixed_dg_p50_ms", "mixed_dg_p99_ms"]
pairs = ["a-mallard", "b-mallard", "a-quicgo", "b-quicgo"]
print(f"{'median':<20}" + "".join(f"{p:>12}" for p in pairs))
for key in keys:
    print(f"{key:<20}" + "".join(f"{statistics.median(rows[(p, key)]):>12.3f}" for p in pairs))
PY
