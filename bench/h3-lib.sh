# Shared by bench/h3-vs-quicgo.sh and bench/h3-client-vs-quicgo.sh (sourced, not run): a work
# folder removed at exit with the server it started, quic-go 0.29's HTTP/3 helper built, and the
# medians of a results file. The caller sets ROOT and WORK before sourcing.
SERVER=""
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT

# build_quicgo_h3: tests/Mallard.Quic.AspNetCore.Tests/QuicGoHttp3 (client and -listen server) as $WORK/h3.
build_quicgo_h3() {
  export GO111MODULE=off GOPATH=/usr/share/gocode CGO_ENABLED=0 GOCACHE=/tmp/mallard-gocache
  (cd "$ROOT/tests/Mallard.Quic.AspNetCore.Tests/QuicGoHttp3" && go build -o "$WORK/h3" main.go)
}

# print_median_ratio RESULTS FIRST_LABEL SECOND_LABEL: each RESULTS line is "impl key=value ...";
# prints the median requests_per_s of impl "mallard" and of impl "quicgo" and their ratio.
print_median_ratio() {
  python3 - "$1" "$2" "$3" <<'PY'
import statistics, sys
rates = {}
for line in open(sys.argv[1]):
    impl, *pairs = line.split()
    values = dict(p.split("=") for p in pairs if "=" in p)
    rates.setdefault(impl, []).append(float(values["requests_per_s"]))
m, q = statistics.median(rates["mallard"]), statistics.median(rates["quicgo"])
print(f"median requests/s: {sys.argv[2]} {m:.0f}, {sys.argv[3]} {q:.0f}, ratio {m / q:.2f}x")
PY
}
