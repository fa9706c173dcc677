# Shared by bench/datagram-vs-quicgo.sh, bench/datagram-ab.sh and bench/scale.sh (sourced, not run):
# a work folder removed at exit, the two benchmark programs built, and an echo server started and
# stopped. The caller sets ROOT and WORK before sourcing.
SERVER=""
cleanup_datagram_bench() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"; }

# build_mallard_bench SOURCE_ROOT OUTPUT_DIR: Mallard.DatagramBench from a checkout.
build_mallard_bench() { dotnet build "$1/bench/Mallard.DatagramBench" -c Release -o "$2" >/dev/null; }

# build_mallard_aot SOURCE_ROOT OUTPUT_DIR: the same program published with Native AOT (compiled
# ahead of time like the Go peer: no JIT, no tiered recompilation while it runs).
build_mallard_aot() { dotnet publish "$1/bench/Mallard.DatagramBench" -c Release -r linux-x64 -p:PublishAot=true -o "$2" >/dev/null; }

# mallard_bench_command mallard|mallard-aot [BUILD_DIR]: how to start that build of the program.
mallard_bench_command() {
  if [ "$1" = mallard-aot ]; then echo "${2:-$WORK/mallard-aot}/Mallard.DatagramBench"
  else echo "dotnet ${2:-$WORK/mallard}/Mallard.DatagramBench.dll"; fi
}

# build_quicgo_bench: bench/datagram-go (quic-go 0.29 from Debian's package source) as $WORK/quicgo.
build_quicgo_bench() {
  export GO111MODULE=off GOPATH=/usr/share/gocode CGO_ENABLED=0 GOCACHE=/tmp/mallard-gocache
  (cd "$ROOT/bench/datagram-go" && go build -o "$WORK/quicgo" main.go)
}

# start_echo_server mallard|mallard-aot|quicgo PORT [MALLARD_BUILD_DIR]: sets SERVER, waits until it listens.
start_echo_server() {
  if [ "$1" != quicgo ]; then
    # shellcheck disable=SC2046 # the command is a program and its arguments
    $(mallard_bench_command "$1" "${3:-}") server "127.0.0.1:$2" >"$WORK/server.log" 2>&1 &
  else
    "$WORK/quicgo" -mode server -listen "127.0.0.1:$2" >"$WORK/server.log" 2>&1 &
  fi
  SERVER=$!
  for _ in $(seq 1 100); do grep -q listening "$WORK/server.log" && break; sleep 0.1; done
}

stop_echo_server() { kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true; SERVER=""; }

# For same-run A/Bs of two builds (bench/datagram-ab.sh, bench/handshake-ab.sh): build_revision
# LABEL COMMIT BUILDER builds COMMIT (the working tree when empty) with BUILDER (build_mallard_bench
# or build_mallard_aot) into $WORK/LABEL, from a worktree that cleanup_ab_bench removes.
build_revision() {
  local source="$ROOT"
  if [ -n "$2" ]; then
    git -C "$ROOT" worktree add -f "$WORK/$1-src" "$2" >/dev/null 2>&1
    source="$WORK/$1-src"
  fi
  "$3" "$source" "$WORK/$1"
}
cleanup_ab_bench() {
  git -C "$ROOT" worktree remove --force "$WORK/a-src" 2>/dev/null || true
  git -C "$ROOT" worktree remove --force "$WORK/b-src" 2>/dev/null || true
  cleanup_datagram_bench
}
