#!/usr/bin/env bash
# Side-by-side UDP proxy benchmark on loopback, in one run: the same bounded request/response
# load (QUIC-shaped short-header datagrams with routable connection IDs) straight to an echo
# backend, through `mallard lb`, and through Debian's nginx stream proxy
# (`hash $remote_addr consistent`), with the same number of workers.
#
#   bench/lb-vs-nginx.sh [SECONDS=10] [FLOWS=8] [SIZE=1200] [WORKERS=2] [ROUNDS=2]
#
# Needs nginx and libnginx-mod-stream (apt-get install nginx libnginx-mod-stream).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}" flows="${2:-8}" size="${3:-1200}" workers="${4:-2}" rounds="${5:-2}"
backend_port=47001 mallard_port=47002 nginx_port=47003
work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

dotnet build -c Release bench/Mallard.UdpLoad -o "$work/udpload" --nologo -v quiet >/dev/null
dotnet build -c Release src/Mallard.Cli -o "$work/mallard" --nologo -v quiet >/dev/null

dotnet "$work/udpload/Mallard.UdpLoad.dll" echo "127.0.0.1:$backend_port" >/dev/null & pids+=($!)

cat >"$work/lb.json" <<JSON
{ "Mallard": { "Balancer": {
  "Listen": [ "127.0.0.1:$mallard_port" ], "Admin": "off", "Workers": $workers,
  "Configs": [ { "Id": 0, "ServerIdLength": 4, "NonceLength": 8 } ],
  "Backends": [ { "Address": "127.0.0.1:$backend_port", "ServerIds": { "0": "41414141" } } ],
  "Health": { "Enabled": false }
} } }
JSON
dotnet "$work/mallard/mallard.dll" lb --config "$work/lb.json" >"$work/mallard.log" 2>&1 & pids+=($!)
mallard_pid=$!

mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<CONF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes $workers;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 65536; }
stream {
  upstream backends { hash \$remote_addr consistent; server 127.0.0.1:$backend_port; }
  server { listen 127.0.0.1:$nginx_port udp reuseport; proxy_pass backends; proxy_timeout 30s; }
}
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' 2>/dev/null & pids+=($!)
nginx_pid=$!
sleep 3

# CPU time (user + system, clock ticks) of a process and its children threads/processes.
cpu_ticks() {
  local total=0 pid
  for pid in "$@" $(pgrep -P "$1" || true); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}

echo "# $(date -u +%FT%TZ) $(nproc) cores; $flows flows x 4 in flight, $size-octet datagrams, $seconds s per run, $workers workers"
declare -A rate p99 cost
for round in $(seq "$rounds"); do
  for target in direct:$backend_port mallard:$mallard_port nginx:$nginx_port; do
    name="${target%%:*}" port="${target##*:}"
    case "$name" in mallard) proxy=$mallard_pid ;; nginx) proxy=$nginx_pid ;; *) proxy="" ;; esac
    before=0; [[ -n "$proxy" ]] && before="$(cpu_ticks "$proxy")"
    line="$(dotnet "$work/udpload/Mallard.UdpLoad.dll" load "127.0.0.1:$port" "$flows" "$seconds" "$size")"
    cpu=""
    if [[ -n "$proxy" ]]; then
      ticks=$(( $(cpu_ticks "$proxy") - before ))
      responses="$(sed -E 's/.*responses=([0-9]+).*/\1/' <<<"$line")"
      per_request="$(echo "scale=2; $ticks * 1000000 / $(getconf CLK_TCK) / $responses" | bc)"
      cpu=" proxy_cpu_s=$(echo "scale=2; $ticks / $(getconf CLK_TCK)" | bc) proxy_cpu_us_per_request=$per_request"
      cost[$name]="${cost[$name]:-0} + $per_request"
    fi
    echo "round $round $name $line$cpu"
    rate[$name]="${rate[$name]:-0} + $(sed -E 's/.*rate=([0-9]+).*/\1/' <<<"$line")"
    p99[$name]="${p99[$name]:-0} + $(sed -E 's/.*p99_us=([0-9]+).*/\1/' <<<"$line")"
  done
done
mean() { echo "scale=0; ($1) / $rounds" | bc; }
mallard_rate="$(mean "${rate[mallard]}")" nginx_rate="$(mean "${rate[nginx]}")" direct_rate="$(mean "${rate[direct]}")"
mallard_p99="$(mean "${p99[mallard]}")" nginx_p99="$(mean "${p99[nginx]}")"
echo "mean rate: direct $direct_rate/s, mallard lb $mallard_rate/s, nginx $nginx_rate/s"
echo "mean p99: mallard lb ${mallard_p99} us, nginx ${nginx_p99} us"
echo "mean proxy CPU per request: mallard lb $(echo "scale=2; (${cost[mallard]}) / $rounds" | bc) us, nginx $(echo "scale=2; (${cost[nginx]}) / $rounds" | bc) us"
echo "mallard/nginx rate ratio: $(echo "scale=2; $mallard_rate / $nginx_rate" | bc)"
echo "nginx/mallard CPU-per-request ratio: $(echo "scale=2; (${cost[nginx]}) / (${cost[mallard]})" | bc)"
