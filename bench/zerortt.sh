#!/usr/bin/env bash
# What 0-RTT saves (RFC 9001 section 4.6): the time from dialling to the first answer — a
# 64-octet reply to a request on a new stream — for full handshakes, resumed ones (a session
# ticket; the request after the handshake) and 0-RTT (the request in the first flight), COUNT of
# each, interleaved. The path gets a round-trip time of 2×DELAY ms from a user-space relay
# (Mallard.UdpLoad delay; netem does not work on these machines). Both clients — Mallard's,
# published with Native AOT, and quic-go 0.29's (bench/datagram-go, DialAddrEarly) — against both
# servers — Mallard's (EarlyData on) and quic-go's (ListenAddrEarly) — in the same run.
#
#   bench/zerortt.sh [COUNT=100] [DELAY_MS=10]
set -euo pipefail
COUNT=${1:-100}
DELAY=${2:-10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/mallard-zerortt-XXXX)
RELAY=""
# shellcheck source=bench/datagram-lib.sh
source "$ROOT/bench/datagram-lib.sh"
cleanup() { [ -n "$RELAY" ] && kill "$RELAY" 2>/dev/null; cleanup_datagram_bench; }
trap cleanup EXIT

build_mallard_aot "$ROOT" "$WORK/mallard-aot"
build_quicgo_bench
dotnet build "$ROOT/bench/Mallard.UdpLoad" -c Release -o "$WORK/udpload" >/dev/null
PORT=$((20000 + RANDOM % 20000))
echo "round-trip time $((2 * DELAY)) ms; medians of $COUNT connections each"
for server in mallard-aot quicgo; do
  if [ "$server" = quicgo ]; then
    "$WORK/quicgo" -mode server -early -listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 100); do grep -q listening "$WORK/server.log" && break; sleep 0.1; done
  else
    start_echo_server "$server" "$PORT"
  fi
  dotnet "$WORK/udpload/Mallard.UdpLoad.dll" delay "127.0.0.1:$((PORT + 1))" "127.0.0.1:$PORT" "$DELAY" >"$WORK/relay.log" 2>&1 &
  RELAY=$!
  for _ in $(seq 1 100); do grep -q relay "$WORK/relay.log" && break; sleep 0.1; done
  # shellcheck disable=SC2046 # the command is a program and its arguments
  echo "server=$server client=mallard-aot $($(mallard_bench_command mallard-aot) firstanswer "127.0.0.1:$((PORT + 1))" "$COUNT")"
  echo "server=$server client=quicgo $("$WORK/quicgo" -mode firstanswer -server "127.0.0.1:$((PORT + 1))" -count "$COUNT")"
  kill "$RELAY" 2>/dev/null; wait "$RELAY" 2>/dev/null || true; RELAY=""
  stop_echo_server
  PORT=$((PORT + 2))
done
