#!/usr/bin/env bash
# Restarts `mallard lb` RESTARTS times while QUIC transfers run through it, and reports what the
# clients lost. On loopback, no root needed. One quic-go 0.29 server (quicgo-lb, issuing QUIC-LB
# connection IDs) behind a balancer with a flow journal (Proxy:FlowJournal); two quic-go clients
# run one connection after another for the whole loop:
#   - a silent one: each connection downloads DOWNLOAD_MB and only acknowledges what arrives;
#   - a chatty one: each connection uploads UPLOAD_MB, which the server checks (SHA-256).
# Every transfer is checked octet by octet by its client. Every INTERVAL seconds the balancer is
# replaced, as MODE says:
#   term      SIGTERM, then a new balancer started at once (it reopens the journal's flows);
#   kill      SIGKILL (a crash), then a new balancer started at once;
#   handover  a new balancer started while the old one runs: it takes over the sockets and flows
#             through Proxy:HandOverSocket, and the old one exits (zero-loss restart);
#   signal    SIGUSR2 to the running balancer, which starts its own successor (same hand-over).
# With OTHER_COMMIT, the balancers alternate between that commit's build and the working tree's,
# so every restart is an upgrade or a downgrade (with handover/signal, both must have hand-over).
#
#   scripts/lb-restart-loop.sh [RESTARTS=100] [MODE=term|kill|handover|signal] [INTERVAL=1.0] [DOWNLOAD_MB=40] [UPLOAD_MB=8] [OTHER_COMMIT]
#
# Prints one line per restart and a summary: transfers completed and failed per client, and the
# balancer's "Restored N of M flows" lines. A failed transfer is a lost connection or lost octets.
set -euo pipefail
RESTARTS=${1:-100}
MODE=${2:-term}
INTERVAL=${3:-1.0}
DOWNLOAD_MB=${4:-40}
UPLOAD_MB=${5:-8}
OTHER=${6:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/mallard-restart-XXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -n "${LB:-}" ] && { kill "$LB" 2>/dev/null; wait "$LB" 2>/dev/null; } || true
  [ -n "$OTHER" ] && git -C "$ROOT" worktree remove --force "$WORK/other-src" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

export GO111MODULE=off GOPATH=/usr/share/gocode CGO_ENABLED=0 GOCACHE=/tmp/mallard-gocache
(cd "$ROOT/tests/Mallard.Balancer.Tests/Interop/quicgo-lb" && go build -o "$WORK/quicgo-lb" main.go)
dotnet build "$ROOT/src/Mallard.Cli" -c Release -o "$WORK/mallard" >/dev/null
BUILDS=("$WORK/mallard")
if [ -n "$OTHER" ]; then
  git -C "$ROOT" worktree add -f "$WORK/other-src" "$OTHER" >/dev/null 2>&1
  dotnet build "$WORK/other-src/src/Mallard.Cli" -c Release -o "$WORK/other" >/dev/null
  BUILDS+=("$WORK/other")
fi

free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
SERVER_PORT=$(free_port)
LB_PORT=$(free_port)
"$WORK/quicgo-lb" -mode server -name A -server-id 41414141 -listen "127.0.0.1:$SERVER_PORT" >"$WORK/server.log" 2>&1 &
PIDS+=($!)
cat >"$WORK/lb.json" <<EOF
{ "Mallard": { "Balancer": {
  "Listen": [ "127.0.0.1:$LB_PORT" ], "Admin": "off",
  "Configs": [ { "Id": 0, "ServerIdLength": 4, "NonceLength": 8 } ],
  "Backends": [ { "Address": "127.0.0.1:$SERVER_PORT", "ServerIds": { "0": "41414141" } } ],
  "Health": { "Enabled": false },
  "Proxy": { "FlowJournal": "$WORK/flows", "HandOverSocket": "$WORK/handover" }
} } }
EOF

start_lb() { # $1: which build, by index into BUILDS
  dotnet "${BUILDS[$1]}/mallard.dll" lb --config "$WORK/lb.json" >>"$WORK/lb.log" 2>&1 &
  LB=$!
  for _ in $(seq 1 200); do grep -q "Listening on" "$WORK/lb.log" 2>/dev/null && return; sleep 0.05; done
}
wait_gone() { for _ in $(seq 1 400); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.025; done; }
start_lb 0

# Clients: enough connections one after another to outlast the loop; stopped at the end.
"$WORK/quicgo-lb" -mode client -connect "127.0.0.1:$LB_PORT" -connections 100000 -download $((DOWNLOAD_MB * 1000000)) -idle 15s >"$WORK/silent.log" 2>&1 &
SILENT=$!
PIDS+=($SILENT)
"$WORK/quicgo-lb" -mode client -connect "127.0.0.1:$LB_PORT" -connections 100000 -bytes $((UPLOAD_MB * 1000000)) -idle 15s >"$WORK/chatty.log" 2>&1 &
CHATTY=$!
PIDS+=($CHATTY)

for restart in $(seq 1 "$RESTARTS"); do
  sleep "$INTERVAL"
  before=$(date +%s.%N)
  case "$MODE" in
    kill|term)
      if [ "$MODE" = kill ]; then kill -9 "$LB"; else kill -TERM "$LB"; fi
      wait "$LB" 2>/dev/null || true
      cat "$WORK/lb.log" >>"$WORK/lb.all.log"; : >"$WORK/lb.log"
      start_lb $((restart % ${#BUILDS[@]})) ;;
    handover)
      old=$LB
      cat "$WORK/lb.log" >>"$WORK/lb.all.log"; : >"$WORK/lb.log"
      start_lb $((restart % ${#BUILDS[@]}))
      wait_gone "$old" ;;
    signal)
      old=$LB
      kill -USR2 "$old"
      for _ in $(seq 1 400); do grep -q "SIGUSR2: started process" "$WORK/lb.log" && break; sleep 0.025; done
      LB=$(grep -o "SIGUSR2: started process [0-9]*" "$WORK/lb.log" | tail -1 | awk '{print $4}')
      wait_gone "$old"
      for _ in $(seq 1 400); do grep -q "Took over from process $old" "$WORK/lb.log" && break; sleep 0.025; done
      cat "$WORK/lb.log" >>"$WORK/lb.all.log"; : >"$WORK/lb.log" ;;
  esac
  gap=$(echo "$(date +%s.%N) - $before" | bc)
  printf 'restart %d (%s%s): new balancer listening after %.2f s; silent ok %d failed %d, chatty ok %d failed %d\n' "$restart" "$MODE" "$([ ${#BUILDS[@]} -gt 1 ] && echo ", build $((restart % ${#BUILDS[@]}))")" "$gap" \
    "$(grep -c ' ok ' "$WORK/silent.log" || true)" "$(grep -c 'failed' "$WORK/silent.log" || true)" \
    "$(grep -c ' ok ' "$WORK/chatty.log" || true)" "$(grep -c 'failed' "$WORK/chatty.log" || true)"
done

sleep 3 # let the transfers in flight at the last restart finish
kill "$SILENT" "$CHATTY" 2>/dev/null || true
cat "$WORK/lb.log" >>"$WORK/lb.all.log"
echo
echo "silent downloads ($DOWNLOAD_MB MB): $(grep -c ' ok ' "$WORK/silent.log" || true) completed, $(grep -c 'failed' "$WORK/silent.log" || true) failed"
echo "chatty uploads ($UPLOAD_MB MB): $(grep -c ' ok ' "$WORK/chatty.log" || true) completed, $(grep -c 'failed' "$WORK/chatty.log" || true) failed"
echo "flows restored at restarts: $(grep -o 'Restored [0-9]* of [0-9]* flows' "$WORK/lb.all.log" | awk '{r+=$2; m+=$4} END {printf "%d of %d recorded", r, m}')"
echo "hand-overs: $(grep -c 'Took over from process' "$WORK/lb.all.log" || true); flows taken over: $(grep -o 'listening sockets and [0-9]* flows ([0-9]* dropped)' "$WORK/lb.all.log" | awk '{f+=$4; d+=substr($6,2)} END {printf "%d (%d dropped)", f, d}'); forwarding paused (ms): $(grep -o 'forwarding paused [0-9.]* ms' "$WORK/lb.all.log" | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {if (NR) printf "median %s, max %s", a[int((NR+1)/2)], a[NR]}')"
grep -h 'failed' "$WORK/silent.log" "$WORK/chatty.log" | head -5 || true
