#!/usr/bin/env bash
# An idle DATAGRAM round trip as a user sees it: `mallard siduck quack` — the usual JIT build and
# the same command published with Native AOT — beside quic-go 0.29's SiDUCK client, all against
# quic-go's SiDUCK server (the test peer in tests/Mallard.Cli.Tests/Siduck/quicgo-siduck) on
# loopback, COUNT quacks INTERVAL ms apart per client, ROUNDS alternating rounds. Each client is a
# fresh process, as a user runs it. Prints p50/p90/p99/max per client over all rounds.
#
#   bench/siduck-idle.sh [ROUNDS=3] [COUNT=500] [INTERVAL_MS=10]
set -euo pipefail
ROUNDS=${1:-3}
COUNT=${2:-500}
INTERVAL=${3:-10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/mallard-siduck-idle-XXXX)
SERVER=""
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT

export GO111MODULE=off GOPATH=/usr/share/gocode CGO_ENABLED=0 GOCACHE=/tmp/mallard-gocache
(cd "$ROOT/tests/Mallard.Cli.Tests/Siduck/quicgo-siduck" && go build -o "$WORK/siduck" main.go)
dotnet build "$ROOT/src/Mallard.Cli" -c Release -o "$WORK/jit" >/dev/null
dotnet publish "$ROOT/src/Mallard.Cli" -c Release -r linux-x64 -p:PublishAot=true -o "$WORK/aot" >/dev/null

PORT=$((20000 + RANDOM % 20000))
"$WORK/siduck" -mode server -listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER=$!
sleep 0.5

for round in $(seq 1 "$ROUNDS"); do
  # Round trips in milliseconds, one per line, per client.
  dotnet "$WORK/jit/mallard.dll" siduck quack "127.0.0.1:$PORT" -k -c "$COUNT" -i "$INTERVAL" \
    | sed -nE 's/.*time=([0-9.]+) ms.*/\1/p' >>"$WORK/mallard-jit"
  "$WORK/aot/mallard" siduck quack "127.0.0.1:$PORT" -k -c "$COUNT" -i "$INTERVAL" \
    | sed -nE 's/.*time=([0-9.]+) ms.*/\1/p' >>"$WORK/mallard-aot"
  "$WORK/siduck" -mode client -server "127.0.0.1:$PORT" -count "$COUNT" -interval "$INTERVAL" 2>&1 \
    | python3 -c '
import re, sys
scale = {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}
for line in sys.stdin:
    m = re.search(r"quack-ack in ([0-9.]+)(ns|µs|us|ms|s)\b", line)
    if m:
        print(float(m.group(1)) * scale[m.group(2)])' >>"$WORK/quicgo"
  echo "round $round done"
done

python3 - "$WORK" <<'PY'
import statistics, sys
def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]
print(f"{'client':<26}{'quacks':>8}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}")
for name, label in (("mallard-jit", "mallard siduck quack (JIT)"), ("mallard-aot", "mallard siduck quack (AOT)"), ("quicgo", "quic-go 0.29 client")):
    values = [float(v) for v in open(f"{sys.argv[1]}/{name}") if v.strip()]
    print(f"{label:<26}{len(values):>8}{pct(values, 50):>9.3f}{pct(values, 90):>9.3f}{pct(values, 99):>9.3f}{max(values):>9.3f}")
PY
