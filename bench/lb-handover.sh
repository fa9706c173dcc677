#!/usr/bin/env bash
# What a zero-loss hand-over costs the traffic, in one run on loopback: a paced echo probe
# (RATE numbered datagrams per second, open loop, so a stall shows as the latency of what was
# sent during it) through `mallard lb`, first for SECONDS with the balancer left alone (steady
# state), then for SECONDS while a new balancer process takes over every INTERVAL seconds
# (started by command with the same Proxy:HandOverSocket, as an upgrade would be).
#
#   bench/lb-handover.sh [RATE=2000] [SECONDS=30] [INTERVAL=2] [SIZE=1200] [ROUNDS=2]
#
# Prints per round: sent, echoed, lost, round-trip percentiles and maximum, for both phases, and
# how long each hand-over paused forwarding, as the old balancer logs it (from stopping its
# threads to the successor's word that it forwards: an upper bound).
set -euo pipefail
cd "$(dirname "$0")/.."
rate="${1:-2000}" seconds="${2:-30}" interval="${3:-2}" size="${4:-1200}" rounds="${5:-2}"
work="$(mktemp -d /tmp/mallard-handover-bench-XXXX)"
pids=()
lb=""
cleanup() {
  for pid in "${pids[@]}" $lb; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] && cp "$work"/lb.*.log /tmp/x/ ; rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
backend_port=$(free_port) lb_port=$(free_port)
dotnet build -c Release bench/Mallard.UdpLoad -o "$work/udpload" --nologo -v quiet >/dev/null
dotnet build -c Release src/Mallard.Cli -o "$work/mallard" --nologo -v quiet >/dev/null
dotnet "$work/udpload/Mallard.UdpLoad.dll" echo "127.0.0.1:$backend_port" >/dev/null & pids+=($!)

cat >"$work/lb.json" <<JSON
{ "Mallard": { "Balancer": {
  "Listen": [ "127.0.0.1:$lb_port" ], "Admin": "off",
  "Configs": [ { "Id": 0, "ServerIdLength": 4, "NonceLength": 8 } ],
  "Backends": [ { "Address": "127.0.0.1:$backend_port", "ServerIds": { "0": "41414141" } } ],
  "Health": { "Enabled": false },
  "Proxy": { "HandOverSocket": "$work/handover", "FlowJournal": "$work/flows" }
} } }
JSON

start_lb() {
  local log="$work/lb.$1.log"
  dotnet "$work/mallard/mallard.dll" lb --config "$work/lb.json" >"$log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 400); do grep -q "Waiting for a successor" "$log" 2>/dev/null && break; sleep 0.025; done
  echo "$pid"
}

probe() { dotnet "$work/udpload/Mallard.UdpLoad.dll" pace "127.0.0.1:$lb_port" "$rate" "$seconds" "$size"; }

echo "# $(date -u +%FT%TZ) $(nproc) cores; $rate datagrams/s of $size octets for $seconds s per phase; a hand-over every $interval s"
n=0
lb=$(start_lb $n)
sleep 1
for round in $(seq 1 "$rounds"); do
  echo "round $round steady:    $(probe)"
  probe >"$work/probe.out" &
  probe_pid=$!
  handovers=0
  while kill -0 "$probe_pid" 2>/dev/null; do
    sleep "$interval"
    kill -0 "$probe_pid" 2>/dev/null || break
    n=$((n + 1))
    old=$lb
    lb=$(start_lb $n)
    for _ in $(seq 1 400); do kill -0 "$old" 2>/dev/null || break; sleep 0.025; done
    handovers=$((handovers + 1))
  done
  wait "$probe_pid"
  echo "round $round hand-overs: $(cat "$work/probe.out") handovers=$handovers"
done
echo "forwarding paused per hand-over (ms, the old balancer's figure): $(cat "$work"/lb.*.log | grep -o 'forwarding paused [0-9.]* ms' | awk '{print $3}' | sort -n | tr '\n' ' ')"
