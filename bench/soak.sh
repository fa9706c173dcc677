#!/usr/bin/env bash
# The hardening soak (issue "Hardening", goal "a 10-minute soak"): a Mallard.Quic server
# (Mallard.DatagramBench's echo-and-download server) behind `mallard lb`, two legitimate
# connections through the balancer (a datagram echo every 10 ms and back-to-back 4 MB downloads),
# first alone, then while FLOOD hostile datagrams of every kind the review found go to the
# balancer and straight to the server from 64 sockets on 127.0.0.2-9 (see HostileFlood). Samples
# the resident memory of the server and the balancer every second, and reads the balancer's
# counters at the end.
#
#   bench/soak.sh [SECONDS=600] [FLOOD=1000000]
set -euo pipefail
SECONDS_TOTAL=${1:-600}
FLOOD=${2:-1000000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/mallard-soak-XXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

dotnet build "$ROOT/bench/Mallard.DatagramBench" -c Release -o "$WORK/bench" >/dev/null
dotnet build "$ROOT/src/Mallard.Cli" -c Release -o "$WORK/mallard" >/dev/null
SERVER_PORT=$((20000 + RANDOM % 10000))
LB_PORT=$((SERVER_PORT + 10000))
ADMIN_PORT=$((LB_PORT + 1))
cat >"$WORK/lb.json" <<JSON
{ "Mallard": { "Balancer": {
  "Listen": [ "127.0.0.1:$LB_PORT" ], "Admin": "127.0.0.1:$ADMIN_PORT",
  "Configs": [ { "Id": 0, "ServerIdLength": 4, "NonceLength": 8 } ],
  "Backends": [ { "Address": "127.0.0.1:$SERVER_PORT", "ServerIds": { "0": "41414141" } } ] } } }
JSON

dotnet "$WORK/bench/Mallard.DatagramBench.dll" server "127.0.0.1:$SERVER_PORT" >"$WORK/server.log" 2>&1 & PIDS+=($!); SERVER=$!
dotnet "$WORK/mallard/mallard.dll" lb --config "$WORK/lb.json" >"$WORK/lb.log" 2>&1 & PIDS+=($!); LB=$!
for _ in $(seq 1 100); do grep -q listening "$WORK/server.log" && grep -q "Listening on" "$WORK/lb.log" && break; sleep 0.1; done

rss() { awk '/VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
(while true; do echo "$(date +%s) $(rss $SERVER) $(rss $LB)" >>"$WORK/rss.txt"; sleep 1; done) & PIDS+=($!)

START=$(date +%s)
RESULT=$(dotnet "$WORK/bench/Mallard.DatagramBench.dll" soak "127.0.0.1:$LB_PORT" "127.0.0.1:$SERVER_PORT" "$SECONDS_TOTAL" "$FLOOD")
QUIET_END=$((START + $(echo "$RESULT" | sed -E 's/.*quiet_s=([0-9]+).*/\1/')))
echo "$RESULT"
awk -v q="$QUIET_END" '{ if ($1 < q) { if ($2 > qs) qs = $2; if ($3 > ql) ql = $3 } else { if ($2 > fs) fs = $2; if ($3 > fl) fl = $3 } }
  END { printf "rss_max_kib server_quiet=%d server_flood=%d lb_quiet=%d lb_flood=%d\n", qs, fs, ql, fl }' "$WORK/rss.txt"
kill -0 "$SERVER" && kill -0 "$LB" && echo "server and balancer still running"
curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" | grep -E '^mallard_(routed_total|unroutable_total|proxy_events_total|malformed)' | grep -v ' 0$' || true
