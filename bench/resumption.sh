#!/usr/bin/env bash
# Full TLS handshakes against resumed ones (a session ticket from an earlier connection, RFC 8446
# section 2.2: no certificate, no signature to make or check, still a fresh key exchange). The
# Mallard client, published with Native AOT, connects COUNT times one after another and COUNT
# times PARALLEL at a time, alternating full and resumed in ROUNDS rounds, against the Mallard
# server (AOT) and against quic-go 0.29's server (bench/datagram-go), each answering one DATAGRAM
# per connection. Prints handshakes per second and the resumed/full ratio per server.
#
#   bench/resumption.sh [COUNT=300] [PARALLEL=16] [ROUNDS=3]
set -euo pipefail
COUNT=${1:-300}
PARALLEL=${2:-16}
ROUNDS=${3:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/mallard-resumption-XXXX)
# shellcheck source=bench/datagram-lib.sh
source "$ROOT/bench/datagram-lib.sh"
trap cleanup_datagram_bench EXIT

build_mallard_aot "$ROOT" "$WORK/mallard-aot"
build_quicgo_bench
PORT=$((20000 + RANDOM % 20000))
for server in mallard-aot quicgo; do
  start_echo_server "$server" "$PORT"
  # shellcheck disable=SC2046 # the command is a program and its arguments
  echo "server=$server $($(mallard_bench_command mallard-aot) resumption "127.0.0.1:$PORT" "$COUNT" "$PARALLEL" "$ROUNDS")"
  stop_echo_server
  PORT=$((PORT + 1))
done
