#!/usr/bin/env bash
# Many connections on one server: the quic-go 0.29 client of bench/datagram-go opens CONNECTIONS
# connections over one UDP socket (64 handshakes at a time) to a Mallard.Quic echo server
# (bench/Mallard.DatagramBench, as the usual JIT build and published with Native AOT) and to a
# quic-go echo server (bench/datagram-go), in turn; then
# each connection sends a 100-octet datagram every INTERVAL_MS for SECONDS, and every echo is
# timed. Reports, per server: setup time, echoed share, round trip p50/p99, the server's CPU per
# echoed datagram during the echo phase (user + system, from /proc), and its resident memory per
# connection (after setup, less the idle server's); and the client's own CPU per datagram
# (getrusage), since on a small machine the one client process can be what limits the run.
# CLIENT=mallard-aot runs the same load from Mallard.Quic instead (Mallard.DatagramBench scale,
# Native AOT: one endpoint and socket for all the connections), a cheaper load generator, so
# that the servers rather than the client reach their limit first. No root needed.
#
#   bench/scale.sh [CONNECTIONS=1000] [INTERVAL_MS=100] [SECONDS=10] [ROUNDS=1] [CLIENT=quicgo|mallard-aot]
set -euo pipefail
CONNECTIONS=${1:-1000}
INTERVAL_MS=${2:-100}
SECONDS_ECHO=${3:-10}
ROUNDS=${4:-1}
CLIENT=${5:-quicgo}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/mallard-scale-XXXX)
. "$ROOT/bench/datagram-lib.sh"
trap cleanup_datagram_bench EXIT
build_mallard_bench "$ROOT" "$WORK/mallard"
build_mallard_aot "$ROOT" "$WORK/mallard-aot"
build_quicgo_bench
TICKS=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

run() { # $1 = mallard|mallard-aot|quicgo
  local port=$((20000 + RANDOM % 20000)) mark="$WORK/mark-$1"
  rm -rf "$mark"; mkdir -p "$mark"
  start_echo_server "$1" "$port"
  sleep 1
  local idle_rss; idle_rss=$(rss_kb "$SERVER")
  if [ "$CLIENT" = mallard-aot ]; then
    "$WORK/mallard-aot/Mallard.DatagramBench" scale "127.0.0.1:$port" "$CONNECTIONS" "$INTERVAL_MS" "$SECONDS_ECHO" "$mark" >"$WORK/client.out" &
  else
    "$WORK/quicgo" -mode scale -server "127.0.0.1:$port" -connections "$CONNECTIONS" -interval-ms "$INTERVAL_MS" -seconds "$SECONDS_ECHO" -mark "$mark" >"$WORK/client.out" &
  fi
  local client=$!
  while [ ! -e "$mark/steady" ] && kill -0 "$client" 2>/dev/null; do sleep 0.05; done
  local cpu0 rss; cpu0=$(cpu_ticks "$SERVER"); rss=$(rss_kb "$SERVER")
  while [ ! -e "$mark/done" ] && kill -0 "$client" 2>/dev/null; do sleep 0.05; done
  local cpu1; cpu1=$(cpu_ticks "$SERVER")
  wait "$client"
  local line echoed; line=$(cat "$WORK/client.out")
  echoed=$(echo "$line" | tr ' ' '\n' | awk -F= '$1=="echoed" {print $2}')
  stop_echo_server
  echo "$line server_cpu_us_per_datagram=$(echo "($cpu1 - $cpu0) * 1000000 / $TICKS / ($echoed + 1)" | bc -l | xargs printf '%.1f') server_kb_per_connection=$(echo "($rss - $idle_rss) / $CONNECTIONS" | bc -l | xargs printf '%.1f')"
}

for round in $(seq 1 "$ROUNDS"); do
  for impl in mallard mallard-aot quicgo; do
    echo "round $round $impl (client $CLIENT) $(run "$impl")"
  done
done
