#!/usr/bin/env bash
# An idle DATAGRAM round trip as a user sees it: `mallard siduck quack` — the usual JIT build and
# the same command published with Native AOT — beside quic-go 0.29's SiDUCK client, all against
# quic-go's SiDUCK server (the test peer in tests/Mallard.Cli.Tests/Siduck/quicgo-siduck) on
# loopback, COUNT quacks INTERVAL ms apart per client, ROUNDS alternating rounds. Each client is a
# fresh process, as a user runs it. Prints p50/p90/p99/max per client over all rounds.
#
# Run as root with dumpcap installed, each client's run is also captured on lo and every round
# trip split in two: the server's share (from the quack on the wire to the server's last packet
# before the next quack — the same server for every client) and the client's own share (the rest:
# from the application's send to the wire and from the wire back to the application).
#
#   bench/siduck-idle.sh [ROUNDS=3] [COUNT=500] [INTERVAL_MS=10]
#
# SERVER_CPUS and CLIENT_CPUS (taskset lists, e.g. 1 and 0) pin the server and every client.
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
${SERVER_CPUS:+taskset -c "$SERVER_CPUS"} "$WORK/siduck" -mode server -listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER=$!
sleep 0.5

CAPTURE=""
if [ "$(id -u)" = 0 ] && command -v dumpcap >/dev/null && command -v tshark >/dev/null; then
  CAPTURE=1
fi

# run NAME COMMAND...: the client's round trips (ms, one per line) into $WORK/NAME, its packets into $WORK/NAME.wire
run() {
  local name=$1 dumper=""
  shift
  if [ -n "$CAPTURE" ]; then
    dumpcap -q -i lo -f "udp port $PORT" -w "$WORK/capture.pcapng" >/dev/null 2>&1 &
    dumper=$!
    sleep 1
  fi
  ${CLIENT_CPUS:+taskset -c "$CLIENT_CPUS"} "$@" 2>&1 | python3 -c '
import re, sys
scale = {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}
for line in sys.stdin:
    m = re.search(r"time=([0-9.]+) ms", line) or re.search(r"quack-ack in ([0-9.]+)(ns|µs|us|ms|s)\b", line)
    if m:
        print(float(m.group(1)) * scale[m.group(2) if m.lastindex == 2 else "ms"])' >>"$WORK/$name"
  if [ -n "$dumper" ]; then
    sleep 0.5
    kill "$dumper"
    wait "$dumper" 2>/dev/null || true
    tshark -r "$WORK/capture.pcapng" -T fields -e frame.time_epoch -e udp.dstport 2>/dev/null >>"$WORK/$name.wire"
    echo "-" >>"$WORK/$name.wire" # runs are not joined across their boundary
  fi
}

for round in $(seq 1 "$ROUNDS"); do
  run mallard-jit dotnet "$WORK/jit/mallard.dll" siduck quack "127.0.0.1:$PORT" -k -c "$COUNT" -i "$INTERVAL"
  run mallard-aot "$WORK/aot/mallard" siduck quack "127.0.0.1:$PORT" -k -c "$COUNT" -i "$INTERVAL"
  run quicgo "$WORK/siduck" -mode client -server "127.0.0.1:$PORT" -count "$COUNT" -interval "$INTERVAL"
  echo "round $round done"
done

python3 - "$WORK" "$PORT" <<'PY'
import os, sys
work, port = sys.argv[1], int(sys.argv[2])
def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")
def server_shares(path):
    """Per quack: from the client's packet to the server's last packet before the client's next one (within 5 ms)."""
    shares, run = [], []
    for line in list(open(path)) + ["-"]:
        if line.strip() != "-":
            time, destination = line.split()
            run.append((float(time), int(destination) == port))
            continue
        for i, (sent, to_server) in enumerate(run):
            if not to_server:
                continue
            last = None
            for time, towards in run[i + 1:]:
                if towards or time - sent > 0.005:
                    break
                last = time
            if last is not None:
                shares.append((last - sent) * 1000)
        run = []
    return shares
print(f"{'client':<26}{'quacks':>8}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}{'server p50':>12}{'client p50':>12}")
for name, label in (("mallard-jit", "mallard siduck quack (JIT)"), ("mallard-aot", "mallard siduck quack (AOT)"), ("quicgo", "quic-go 0.29 client")):
    values = [float(v) for v in open(f"{work}/{name}") if v.strip()]
    split = ""
    if os.path.exists(f"{work}/{name}.wire"):
        server = pct(server_shares(f"{work}/{name}.wire"), 50)
        split = f"{server:>12.3f}{pct(values, 50) - server:>12.3f}"
    print(f"{label:<26}{len(values):>8}{pct(values, 50):>9.3f}{pct(values, 90):>9.3f}{pct(values, 99):>9.3f}{max(values):>9.3f}{split}")
PY
