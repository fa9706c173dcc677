#!/usr/bin/env bash
# Runs Mallard's whole test suite on a fresh Debian machine with the .NET 10 SDK, installing
# what the tests need first. Prints one closing line: "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."

# Peers and tools the tests start for real come from Debian's packages: quic-go 0.29 (built by
# the balancer's interop tests with Debian's Go) and, for the network-namespace tests, iproute2,
# nftables and conntrack; tshark decrypts a captured SiDUCK exchange with the key log; systemd's
# systemd-analyze checks the example unit (whose ExecReload runs procps' kill); chromium shows the
# balancer's dashboard to Playwright (which never downloads a browser of its own); clang and
# libbpf-dev build the steering XDP program (the build of Mallard.Steering compiles it), which the
# tests load through Debian's libbpf1; clang and zlib1g-dev also link the Native AOT program that
# shows Mallard.Quic compiled ahead of time; ngtcp2-client and ngtcp2-server (gtlsclient and
# gtlsserver, ngtcp2 0.12 on GnuTLS) are the second HTTP/3 implementation beside quic-go: a client
# for Kestrel on Mallard.Quic and a server for Mallard.Http3's client.
APT_PACKAGES=(golang-go golang-github-lucas-clemente-quic-go-dev iproute2 nftables conntrack mount tshark systemd procps chromium clang llvm libbpf-dev libbpf1 zlib1g-dev ngtcp2-client ngtcp2-server)
if ((${#APT_PACKAGES[@]})); then
  missing=()
  for package in "${APT_PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if ((${#missing[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
log="$(mktemp)"
tools="$(mktemp -d)"
trap 'rm -rf "$log" "$tools"' EXIT

# The README promises that `mallard` packs and installs as a .NET tool: check exactly that.
dotnet pack src/Mallard.Cli -c Release -o "$tools/feed" --nologo -v quiet
dotnet tool install --tool-path "$tools/bin" --add-source "$tools/feed" mallard >/dev/null
if [[ "$("$tools/bin/mallard" cid encode --config-id 0 --sid-len 3 --nonce-len 4 --encode-length --server-id c4605e --nonce 4504cc4f)" != "07c4605e4504cc4f" ]]; then
  echo "the packed mallard tool did not encode the draft's U1 vector"
  exit 1
fi
echo "mallard packs and runs as a .NET tool"

# The example systemd unit, pointed at the tool just installed, passes systemd's own checks.
mkdir -p "$tools/unit"
sed "s|/usr/local/bin/mallard|$tools/bin/mallard|" deploy/mallard-lb.service >"$tools/unit/mallard-lb.service"
systemd-analyze verify "$tools/unit/mallard-lb.service"
echo "deploy/mallard-lb.service passes systemd-analyze verify"

status=0
dotnet test Mallard.slnx -c Release 2>&1 | tee "$log" || status=$?

# vstest prints one "Passed!/Failed!  - Failed: F, Passed: P, Skipped: S, ..." line per test
# assembly; add them up into the plain closing line.
read -r passed failed skipped assemblies < <(awk '
  /(Passed|Failed)! +- Failed:/ {
    gsub(/,/, ""); for (i = 1; i <= NF; i++) {
      if ($i == "Failed:") f += $(i + 1); if ($i == "Passed:") p += $(i + 1); if ($i == "Skipped:") s += $(i + 1)
    }
    n++
  }
  END { printf "%d %d %d %d\n", p, f, s, n }' "$log")

if ((assemblies == 0)); then
  echo "no test assembly reported a result"
  exit 1
fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if ((status != 0 && failed == 0)); then
  # No test failed, yet dotnet test did: a project did not build (its tests are missing from the
  # count above) or a test host crashed.
  echo "dotnet test exited with status ${status} although no test failed: look for a build error or a crashed test host above"
fi
if ((status != 0 || failed != 0)); then
  exit 1
fi
