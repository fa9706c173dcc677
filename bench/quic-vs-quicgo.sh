#!/usr/bin/env bash
# Mallard.Quic beside quic-go 0.29, in the same run, on the loopback of a network namespace made
# for the run (root): a 100 MB single-stream transfer and sequential handshakes (one connection per
# tiny file), each through the same quic-interop-runner style programs: `mallard interop` and
# quic-go's own interop client and server. Mallard against Mallard, quic-go against quic-go, and
# the quic-go client against the Mallard server (the same client for both servers: the .NET
# client's process start-up, about 0.2 s, is not in that row).
# quic-go's interop programs stop without QLOGDIR, so both sides write qlog (an equal handicap).
#
#   bench/quic-vs-quicgo.sh [MEGABYTES=100] [HANDSHAKES=200] [ROUNDS=3]
set -euo pipefail
MEGABYTES=${1:-100}
HANDSHAKES=${2:-200}
ROUNDS=${3:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/mallard-quicbench-XXXX)
NS=mqb-$$
# quic-go's programs use fixed paths (/www, /downloads, /logs, /certs): bind mounts inside the
# namespace's own mount namespace; the empty mount points are removed again at the end.
cleanup() {
  ip netns pids "$NS" 2>/dev/null | xargs -r kill 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$WORK"
  rmdir /www /downloads /logs /certs 2>/dev/null || true
}
trap cleanup EXIT

dotnet build "$ROOT/src/Mallard.Cli" -c Release -o "$WORK/mallard" >/dev/null
export GO111MODULE=off GOPATH=/usr/share/gocode CGO_ENABLED=0 GOCACHE=/tmp/mallard-gocache
go build -o "$WORK/qgo-client" github.com/lucas-clemente/quic-go/interop/client
go build -o "$WORK/qgo-server" github.com/lucas-clemente/quic-go/interop/server

mkdir -p "$WORK"/{www,downloads,logs,certs} /www /downloads /logs /certs
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$WORK/certs/priv.key" -out "$WORK/certs/cert.pem" -days 2 -nodes -subj /CN=server 2>/dev/null
head -c $((MEGABYTES * 1000000)) /dev/urandom > "$WORK/www/big"
HS_URLS=""
for i in $(seq 1 "$HANDSHAKES"); do echo x > "$WORK/www/h$i"; HS_URLS="$HS_URLS https://127.0.0.1:443/h$i"; done
ip netns add "$NS"
ip -n "$NS" link set lo up

start_server() { # $1 = mallard|quicgo
  if [ "$1" = mallard ]; then
    ip netns exec "$NS" env TESTCASE=transfer QLOGDIR="$WORK/logs/qlog" dotnet "$WORK/mallard/mallard.dll" interop server --root "$WORK/www" --listen 127.0.0.1:443 \
      --cert "$WORK/certs/cert.pem" --key "$WORK/certs/priv.key" >"$WORK/server.log" 2>&1 &
  else
    ip netns exec "$NS" sh -c "mount --bind $WORK/www /www && mount --bind $WORK/logs /logs && mount --bind $WORK/certs /certs && exec env TESTCASE=transfer QLOGDIR=/logs/qlog $WORK/qgo-server" >"$WORK/server.log" 2>&1 &
  fi
  SERVER=$!
  for _ in $(seq 1 100); do ip netns exec "$NS" ss -Hnul | grep -q ':443' && return; sleep 0.1; done
  echo "server $1 did not start" >&2; cat "$WORK/server.log" >&2; exit 1
}
stop_server() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; for _ in $(seq 1 50); do ip netns exec "$NS" ss -Hnul | grep -q ':443' || return 0; sleep 0.1; done; }

client() { # $1 = mallard|quicgo, $2 = testcase, rest = urls; prints elapsed seconds
  rm -f "$WORK"/downloads/*
  local case=$2; shift 2
  local start end
  start=$(date +%s.%N)
  if [ "$IMPL" = mallard ]; then
    ip netns exec "$NS" env TESTCASE="$case" QLOGDIR="$WORK/logs/qlog" dotnet "$WORK/mallard/mallard.dll" interop client -k --downloads "$WORK/downloads" "$@" >/dev/null
  else
    [ "$case" = handshakeloss ] && case=multiconnect
    ip netns exec "$NS" sh -c "mount --bind $WORK/downloads /downloads && mount --bind $WORK/logs /logs && exec env TESTCASE=$case QLOGDIR=/logs/qlog $WORK/qgo-client $*" >/dev/null
  fi
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}

declare -A TRANSFER HANDSHAKE
for round in $(seq 1 "$ROUNDS"); do
  for IMPL in mallard quicgo; do
    start_server "$IMPL"
    t=$(client "$IMPL" transfer https://127.0.0.1:443/big)
    cmp -s "$WORK/www/big" "$WORK/downloads/big" || { echo "$IMPL: transfer corrupted" >&2; exit 1; }
    if [ "$IMPL" = mallard ]; then
      # The same quic-go client against each server: no .NET start-up in the client's time.
      c=$(IMPL=quicgo client quicgo transfer https://127.0.0.1:443/big)
      cmp -s "$WORK/www/big" "$WORK/downloads/big" || { echo "quic-go client from the Mallard server: transfer corrupted" >&2; exit 1; }
      CROSS="${CROSS:-} $c"
      printf 'round %d %-8s transfer %6.2f s (%7.1f Mbit/s)  (quic-go client, Mallard server)\n' "$round" "quicgo" "$c" "$(echo "$MEGABYTES * 8 / $c" | bc -l)"
    fi
    # shellcheck disable=SC2086
    h=$(client "$IMPL" handshakeloss $HS_URLS)
    stop_server
    TRANSFER[$IMPL]="${TRANSFER[$IMPL]:-} $t"
    HANDSHAKE[$IMPL]="${HANDSHAKE[$IMPL]:-} $h"
    printf 'round %d %-8s transfer %6.2f s (%7.1f Mbit/s)  %d handshakes %6.2f s (%6.1f /s)\n' "$round" "$IMPL" "$t" "$(echo "$MEGABYTES * 8 / $t" | bc -l)" "$HANDSHAKES" "$h" "$(echo "$HANDSHAKES / $h" | bc -l)"
  done
done

mean() { echo "$1" | tr ' ' '\n' | grep -v '^$' | awk '{s+=$1} END {printf "%.3f", s/NR}'; }
mt=$(mean "${TRANSFER[mallard]}"); qt=$(mean "${TRANSFER[quicgo]}")
mh=$(mean "${HANDSHAKE[mallard]}"); qh=$(mean "${HANDSHAKE[quicgo]}")
echo
printf '%-28s %14s %14s %8s\n' "mean of $ROUNDS rounds" "Mallard" "quic-go 0.29" "ratio"
printf '%-28s %14.1f %14.1f %8.2f\n' "$MEGABYTES MB transfer, Mbit/s" "$(echo "$MEGABYTES*8/$mt" | bc -l)" "$(echo "$MEGABYTES*8/$qt" | bc -l)" "$(echo "$qt/$mt" | bc -l)"
ct=$(mean "$CROSS")
printf '%-28s %14.1f %14.1f %8.2f\n' "same quic-go client, Mbit/s" "$(echo "$MEGABYTES*8/$ct" | bc -l)" "$(echo "$MEGABYTES*8/$qt" | bc -l)" "$(echo "$qt/$ct" | bc -l)"
printf '%-28s %14.1f %14.1f %8.2f\n' "handshakes per second" "$(echo "$HANDSHAKES/$mh" | bc -l)" "$(echo "$HANDSHAKES/$qh" | bc -l)" "$(echo "$qh/$mh" | bc -l)"
