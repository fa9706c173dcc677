#!/usr/bin/env bash
# What steering costs per packet, in one run (root: it makes network namespaces and removes them):
# a paced probe sends RATE QUIC-shaped datagrams per second (a short header whose plaintext
# QUIC-LB connection ID names server A) for SECONDS, and server A echoes each one straight back
# from the service address. Four ways to A, measured in alternating rounds:
#
#   direct  the client's route sends the service address to A itself (the baseline)
#   xdp     it sends them to server B, whose XDP program (mallard steer, generic mode on veth)
#           hands them to A on the segment
#   native  the same in native XDP: on veth that needs an XDP program on the peer too (the
#           bridge's port; mallard_steer with empty maps passes everything) and the client's
#           transmit checksum offload off (ethtool), since XDP_TX drops the offload's mark
#   user    the same through B's user-space path (mallard steer, Mode user: a packet socket)
#   lb      the client sends to mallard lb on B, which relays to A and back (sockets)
#
# All four share one L2 segment (a bridge namespace) and the same client and echo programs, so
# the difference between a way's CPU per packet and the direct one is what the detour costs.
# CPU is the whole machine's (user + system + soft interrupts, /proc/stat), which is where XDP's
# work is accounted; beside it, what can be pinned on the steering itself: the XDP program's own
# time per run as the kernel counts it (kernel.bpf_stats_enabled, on for that round only), and
# the CPU of the mallard steer (user) or mallard lb process per packet. The round-trip
# percentiles are the probe's.
#
#   bench/steer-cpu.sh [RATE=20000] [SECONDS=10] [ROUNDS=3] [SIZE=1200]
set -euo pipefail
cd "$(dirname "$0")/.."
rate="${1:-20000}" seconds="${2:-10}" rounds="${3:-3}" size="${4:-1200}"
[ "$(id -u)" = 0 ] || { echo "steer-cpu.sh needs root (network namespaces, XDP)" >&2; exit 2; }
id="$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
work="$(mktemp -d /tmp/mallard-steer-bench-XXXX)"
vip=10.81.9.1
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for ns in cl sw a b; do ip netns del "msb-$ns-$id" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
# Not for background processes: "in_ns ... &" forks a shell whose PID is not the program's.
in_ns() { local ns="$1"; shift; ip netns exec "msb-$ns-$id" "$@"; }

dotnet build -c Release bench/Mallard.UdpLoad -o "$work/udpload" --nologo -v quiet >/dev/null
dotnet build -c Release src/Mallard.Cli -o "$work/mallard" --nologo -v quiet >/dev/null

for ns in cl sw a b; do ip netns add "msb-$ns-$id"; in_ns "$ns" ip link set lo up; done
in_ns sw ip link add "br$id" type bridge
in_ns sw ip link set "br$id" up
port() { # namespace, address
  ip link add "$1$id" type veth peer name "s$1$id"
  ip link set "$1$id" netns "msb-$1-$id"
  ip link set "s$1$id" netns "msb-sw-$id"
  in_ns sw ip link set "s$1$id" master "br$id"
  in_ns sw ip link set "s$1$id" up
  in_ns "$1" ip addr add "$2/24" dev "$1$id"
  in_ns "$1" ip link set "$1$id" up
}
port cl 10.81.0.2
port a 10.81.0.11
port b 10.81.0.12
for ns in a b; do in_ns "$ns" ip addr add "$vip/32" dev lo; done
# B's own stack sees the user-space path's copies too; a silent drop stands in for its QUIC
# server (which drops packets for other servers' IDs), so no ICMP answers them.
in_ns b nft "add table ip mallard; add chain ip mallard in { type filter hook input priority filter; }; add rule ip mallard in udp dport 4433 drop"
mac_a=$(in_ns a cat "/sys/class/net/a$id/address")

ip netns exec "msb-a-$id" dotnet "$work/udpload/Mallard.UdpLoad.dll" echo "$vip:4433" >/dev/null 2>&1 & pids+=($!)
ip netns exec "msb-a-$id" dotnet "$work/udpload/Mallard.UdpLoad.dll" echo "10.81.0.11:4433" >/dev/null 2>&1 & pids+=($!)

steer_config() {
  cat >"$work/steer-$1.json" <<JSON
{ "Mallard": {
  "Balancer": { "Configs": [ { "Id": 0, "ServerIdLength": 4, "NonceLength": 8 } ] },
  "Steering": { "Interface": "b$id", "ServicePort": 4433, "Mode": "$1", "Admin": "off",
    "ServerIds": { "0": "42424242" }, "Peers": [ { "Mac": "$mac_a", "ServerIds": { "0": "41414141" } } ] } } }
JSON
}
steer_config generic
steer_config user
steer_config native
cat >"$work/lb.json" <<JSON
{ "Mallard": { "Balancer": {
  "Listen": [ "10.81.0.12:4444" ], "Admin": "off",
  "Configs": [ { "Id": 0, "ServerIdLength": 4, "NonceLength": 8 } ],
  "Backends": [ { "Address": "10.81.0.11:4433", "ServerIds": { "0": "41414141" } } ],
  "Health": { "Enabled": false } } } }
JSON

cpu_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
process_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }  # utime + stime
started() { for _ in $(seq 1 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; cat "$1" >&2; return 1; }

measure() { # way
  local way="$1" target="$vip:4433" helper=""
  case "$way" in
    direct) in_ns cl ip route replace "$vip/32" via 10.81.0.11 ;;
    xdp|user|native)
      in_ns cl ip route replace "$vip/32" via 10.81.0.12
      local mode=generic; [ "$way" = user ] && mode=user
      if [ "$way" = native ]; then
        mode=native
        in_ns sw ip link set dev "sb$id" xdpdrv obj "$work/mallard/mallard_steer.bpf.o" sec xdp
        in_ns cl ethtool -K "cl$id" tx off >/dev/null
      fi
      ip netns exec "msb-b-$id" dotnet "$work/mallard/mallard.dll" steer --config "$work/steer-$mode.json" >"$work/steer.log" 2>&1 & helper=$!
      started "$work/steer.log" "steering on" ;;
    lb)
      target=10.81.0.12:4444
      ip netns exec "msb-b-$id" dotnet "$work/mallard/mallard.dll" lb --config "$work/lb.json" >"$work/lb.log" 2>&1 & helper=$!
      started "$work/lb.log" "Running" ;;
  esac
  sleep 1
  local before after hz helper_before=0 helper_after=0
  case "$way" in xdp|native) sysctl -qw kernel.bpf_stats_enabled=1 ;; esac
  [ -n "$helper" ] && helper_before=$(process_ticks "$helper")
  before=$(cpu_ticks)
  result=$(in_ns cl dotnet "$work/udpload/Mallard.UdpLoad.dll" pace "$target" "$rate" "$seconds" "$size")
  after=$(cpu_ticks)
  [ -n "$helper" ] && helper_after=$(process_ticks "$helper")
  hz=$(getconf CLK_TCK)
  if [ -n "$helper" ]; then kill "$helper"; wait "$helper" 2>/dev/null || true; fi
  sysctl -qw kernel.bpf_stats_enabled=0
  if [ "$way" = native ]; then
    in_ns sw ip link set dev "sb$id" xdpdrv off
    in_ns cl ethtool -K "cl$id" tx on >/dev/null
  fi
  local sent extra=""
  sent=$(echo "$result" | sed -n 's/.*sent=\([0-9]*\).*/\1/p')
  case "$way" in
    xdp|native) extra=$(sed -n 's/.*program_runs=\([0-9]*\) program_ns=\([0-9]*\).*/\1 \2/p' "$work/steer.log" | awk '{ printf " program_ns_per_run=%.0f", $2 / $1 }') ;;
    user) extra=$(awk -v t=$((helper_after - helper_before)) -v hz="$hz" -v n="$sent" 'BEGIN { printf " steer_process_us_per_packet=%.2f", t / hz * 1e6 / n }') ;;
    lb) extra=$(awk -v t=$((helper_after - helper_before)) -v hz="$hz" -v n="$sent" 'BEGIN { printf " lb_process_us_per_echo=%.2f", t / hz * 1e6 / n }') ;;
  esac
  # The probe drains echoes for 2 s after its last send: that idle time is in the window too.
  awk -v w="$way" -v r="$result" -v t=$((after - before)) -v hz="$hz" -v n="$sent" -v x="$extra" \
    'BEGIN { printf "%-6s %s cpu_us_per_packet=%.2f%s\n", w, r, t / hz * 1e6 / n, x }'
}

native=""; command -v ethtool >/dev/null && native=native || echo "# no ethtool: the native round is left out (apt-get install ethtool)"
echo "# $(date -u +%FT%TZ) $(nproc) cores, kernel $(uname -r); $rate datagrams/s of $size octets for $seconds s per way"
for round in $(seq 1 "$rounds"); do
  for way in direct xdp user lb $native; do
    echo "round $round $(measure "$way")"
  done
done
