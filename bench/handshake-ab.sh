#!/usr/bin/env bash
# Same-run A/B of two Mallard.Quic builds on handshakes (bench/Mallard.DatagramBench's
# `handshakes` mode: COUNT connections one after another, then COUNT with 16 at a time, each
# echoing one datagram), both published with Native AOT. One server (build A's) serves every
# round, so the figures differ only by the client; each client's CPU (user+system, from
# bash's time, warm-up included) and the server's CPU over the run are printed beside the rates.
# Rounds alternate which build goes first.
#
#   bench/handshake-ab.sh OLD_COMMIT [NEW_COMMIT=working tree] [ROUNDS=3] [COUNT=1000]
set -euo pipefail
OLD=${1:?usage: bench/handshake-ab.sh OLD_COMMIT [NEW_COMMIT] [ROUNDS] [COUNT]}
NEW=${2:-}
ROUNDS=${3:-3}
COUNT=${4:-1000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/mallard-hsab-XXXX)
. "$ROOT/bench/datagram-lib.sh"
trap cleanup_ab_bench EXIT
build_revision a "$OLD" build_mallard_aot
build_revision b "$NEW" build_mallard_aot

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
TIMEFORMAT="client_user_s=%U client_sys_s=%S" # bash's time: the client's CPU
for round in $(seq 1 "$ROUNDS"); do
  order="a b"; [ $((round % 2)) -eq 0 ] && order="b a"
  for client in $order; do
    port=$((20000 + RANDOM % 20000))
    start_echo_server mallard-aot "$port" "$WORK/a"
    before=$(ticks "$SERVER")
    line=$( { time "$WORK/$client/Mallard.DatagramBench" handshakes "127.0.0.1:$port" "$COUNT" 16; } 2>&1 | tr '\n' ' ')
    server_cpu=$(awk -v t="$(($(ticks "$SERVER") - before))" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }')
    stop_echo_server
    echo "round $round client=$client $line server_cpu_s=$server_cpu"
    echo "$client $line server_cpu_s=$server_cpu" >>"$WORK/results"
  done
done

python3 - "$WORK/results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    build, *fields = line.split()
    for key, value in (f.split("=") for f in fields):
        rows.setdefault((build, key), []).append(float(value))
for build in ("a", "b"):
    rows[(build, "client_cpu_s")] = [u + s for u, s in zip(rows[(build, "client_user_s")], rows[(build, "client_sys_s")])]
print(f"{'median':<16}{'A (old)':>10}{'B (new)':>10}{'B / A':>8}")
for key in ("hs_seq_per_s", "hs_par_per_s", "client_cpu_s", "server_cpu_s"):
    a, b = (statistics.median(rows[(build, key)]) for build in ("a", "b"))
    print(f"{key:<16}{a:>10.2f}{b:>10.2f}{b / a:>7.2f}x")
PY
