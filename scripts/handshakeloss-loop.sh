#!/usr/bin/env bash
# Repeats the interop runner's handshakeloss case (20 % of datagrams dropped each way, six files,
# one connection each) with Mallard's client against quic-go 0.29's interop server, RUNS times,
# optionally with two busy loops competing for the CPU (LOAD=1), and prints one line per run and
# the failures. A run that fails or takes over 10 s keeps its folder (qlog of both sides, key log)
# for study. Needs root (a network namespace) and the quic-go source package (scripts/test.sh
# installs it); builds Mallard in Release first.
#
#   scripts/handshakeloss-loop.sh [RUNS=40] [LOAD=1]
set -euo pipefail
RUNS=${1:-40}
LOAD=${2:-1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/mallard-hsloss-XXXX)
NS="mallard-hsl-$$"
export GO111MODULE=off GOPATH=/usr/share/gocode CGO_ENABLED=0 GOCACHE=/tmp/mallard-gocache
dotnet build "$ROOT/src/Mallard.Cli" -c Release -o "$WORK/mallard" >/dev/null
go build -o "$WORK/server" github.com/lucas-clemente/quic-go/interop/server

# quic-go's interop server reads fixed paths; they are bind-mounted inside the namespace's own
# mount namespace, but the empty mount points must exist: create the missing ones, remove them after.
CREATED=()
for dir in /www /certs /logs; do
  [ -d "$dir" ] || { mkdir "$dir"; CREATED+=("$dir"); }
done
HOGS=()
cleanup() {
  for pid in "${HOGS[@]}"; do kill "$pid" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true
  for dir in "${CREATED[@]}"; do rmdir "$dir" 2>/dev/null || true; done
  rm -rf "$WORK/mallard" "$WORK/server"
  rmdir "$WORK" 2>/dev/null || true # kept only when a run kept its folder
}
trap cleanup EXIT
if [ "$LOAD" = 1 ]; then
  for _ in 1 2; do (while :; do :; done) & HOGS+=($!); done
fi

failures=0
for run in $(seq 1 "$RUNS"); do
  dir="$WORK/run$run"
  mkdir -p "$dir"/{www,certs,logs,downloads,qlog}
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/certs/priv.key" \
    -out "$dir/certs/cert.pem" -subj /CN=server -days 1 2>/dev/null
  for f in 0 1 2 3 4 5; do head -c 1000 /dev/urandom >"$dir/www/file$f"; done
  ip netns add "$NS"
  ip -n "$NS" link set lo up
  ip netns exec "$NS" nft add table inet loss
  ip netns exec "$NS" nft add chain inet loss in '{ type filter hook input priority 0 ; }'
  ip netns exec "$NS" nft add rule inet loss in udp dport 443 numgen random mod 100 '<' 20 drop
  ip netns exec "$NS" nft add rule inet loss in udp sport 443 numgen random mod 100 '<' 20 drop
  ip netns exec "$NS" sh -c "mount --bind $dir/www /www && mount --bind $dir/logs /logs && mount --bind $dir/certs /certs && exec env TESTCASE=transfer QLOGDIR=/logs/qlog $WORK/server" >"$dir/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do ip netns exec "$NS" ss -Hnul | grep -q ':443' && break; sleep 0.1; done
  start=$(date +%s.%N)
  rc=0
  ip netns exec "$NS" env TESTCASE=handshakeloss QLOGDIR="$dir/qlog" SSLKEYLOGFILE="$dir/keys.log" timeout 120 \
    dotnet "$WORK/mallard/mallard.dll" interop client -k --downloads "$dir/downloads" \
    $(for f in 0 1 2 3 4 5; do echo "https://127.0.0.1:443/file$f"; done) >"$dir/client.log" 2>&1 || rc=$?
  seconds=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { printf "%.2f", a - b }')
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  ip netns del "$NS"
  if [ "$rc" -ne 0 ]; then
    failures=$((failures + 1))
    echo "run $run FAILED (exit $rc) in $seconds s; kept $dir"
  elif awk -v s="$seconds" 'BEGIN { exit !(s > 10) }'; then
    echo "run $run ok in $seconds s (slow); kept $dir"
  else
    echo "run $run ok in $seconds s"
    rm -rf "$dir"
  fi
done
echo "$failures of $RUNS runs failed"
