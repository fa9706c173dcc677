#!/usr/bin/env bash
# DATAGRAM (RFC 9221) performance of Mallard.Quic beside quic-go 0.29, in the same run, on
# loopback: Mallard client against Mallard server — once as the usual JIT-compiled build, once
# published with Native AOT, compiled ahead of time as quic-go is — and quic-go client against
# quic-go server, in interleaved rounds. Both sides speak the protocol of bench/Mallard.DatagramBench (echo every
# datagram; answer a stream with N octets). Per round and pair:
#   - sequential round trips of 64-octet datagrams (p50, p99 of PINGS),
#   - echoed 1000-octet datagrams per second with 64 in flight (SECONDS),
#   - a MEGABYTES stream download with 200-octet datagrams every 1 ms beside it
#     (stream Mbit/s and the datagrams' round trip while it runs);
#   - handshakes per second: 200 connections one after another, then 200 with 16 at a time,
#     each echoing one datagram before it closes.
#
#   bench/datagram-vs-quicgo.sh [ROUNDS=3] [PINGS=1000] [SECONDS=5] [MEGABYTES=50]
set -euo pipefail
ROUNDS=${1:-3}
PINGS=${2:-1000}
SECONDS_RATE=${3:-5}
MEGABYTES=${4:-50}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/mallard-dgbench-XXXX)
. "$ROOT/bench/datagram-lib.sh"
trap cleanup_datagram_bench EXIT
build_mallard_bench "$ROOT" "$WORK/mallard"
build_mallard_aot "$ROOT" "$WORK/mallard-aot"
build_quicgo_bench

run_pair() { # $1 = mallard|mallard-aot|quicgo; prints the client's key=value line
  local port=$((20000 + RANDOM % 20000))
  start_echo_server "$1" "$port"
  if [ "$1" != quicgo ]; then
    local bench
    bench=$(mallard_bench_command "$1")
    # shellcheck disable=SC2086 # the command is a program and its arguments
    echo "$($bench client "127.0.0.1:$port" "$PINGS" "$SECONDS_RATE" 64 "$MEGABYTES") $($bench handshakes "127.0.0.1:$port" 200 16)"
  else
    echo "$("$WORK/quicgo" -mode client -server "127.0.0.1:$port" -pings "$PINGS" -seconds "$SECONDS_RATE" -window 64 -megabytes "$MEGABYTES") $("$WORK/quicgo" -mode handshakes -server "127.0.0.1:$port" -count 200 -parallel 16)"
  fi
  stop_echo_server
}

for round in $(seq 1 "$ROUNDS"); do
  for impl in mallard mallard-aot quicgo; do
    line=$(run_pair "$impl")
    echo "round $round $impl $line"
    echo "$impl $line" >>"$WORK/results"
  done
done

# Medians per implementation, and each Mallard build's ratio to quic-go (for times, quic-go / Mallard, so > 1 is better).
python3 - "$WORK/results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    impl, *pairs = line.split()
    for key, value in (p.split("=") for p in pairs):
        rows.setdefault((impl, key), []).append(float(value))
keys = ["rtt_p50_ms", "rtt_p99_ms", "rate_dps", "mixed_stream_mbps", "mixed_dg_p50_ms", "mixed_dg_p99_ms", "hs_seq_per_s", "hs_par_per_s"]
def ratio(m, q, key):
    return (q / m if key.endswith("_ms") else m / q) if m and q else float("nan")
print(f"{'median':<20}{'Mallard':>12}{'Mallard AOT':>12}{'quic-go':>12}{'ratio':>10}{'AOT ratio':>10}")
for key in keys:
    m, a, q = (statistics.median(rows[(impl, key)]) for impl in ("mallard", "mallard-aot", "quicgo"))
    print(f"{key:<20}{m:>12.3f}{a:>12.3f}{q:>12.3f}{ratio(m, q, key):>9.2f}x{ratio(a, q, key):>9.2f}x")
PY
