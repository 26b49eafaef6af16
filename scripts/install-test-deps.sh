#!/usr/bin/env bash
# Install the Debian packages that flowgate's tests and fixture generation need.
#
# Idempotent: packages that are already installed are left alone, and `apt-get update`
# only runs when something is missing. Works on a fresh Debian 12 machine, as root or
# as a user with sudo. Never prompts (DEBIAN_FRONTEND=noninteractive; the
# wireshark-common debconf question about non-root capture is pre-answered "no").
#
#   bash scripts/install-test-deps.sh
#
# What needs what:
#   tshark            test oracle (test/support/tshark.ts), fixture validation
#   softflowd, pmacct real NetFlow v5/v9/IPFIX and sFlow exporters (npm run fixtures)
#   tcpdump           captures the exporters' datagrams on loopback (npm run fixtures), and
#                     the netflow9 output's packets (test/converters/netflow9-converter.test.ts)
#   python3-scapy     writes the input traffic pcap (scripts/fixtures/make-traffic.py)
#   gcc, libc6-dev    build the tiny LD_PRELOAD seed shim that makes pmacctd's random
#                     packet sampling reproducible (npm run fixtures)
#   nfdump            second, independent NetFlow/IPFIX decoder for cross-checks; nfcapd is
#                     the legacy collector the netflow9 output is tested against
#   protobuf-compiler protoc, for the canonical .proto schemas
#   librdkafka-dev, kcat  Kafka client library / CLI for the Kafka sink tests
#   openssl           makes the throw-away CA and certificates of the TLS tests (test/support/test-pki.ts)
set -euo pipefail

PACKAGES=(
  tshark
  softflowd
  pmacct
  nfdump
  protobuf-compiler
  tcpdump
  python3-scapy
  librdkafka-dev
  kcat
  gcc
  libc6-dev
  openssl
)
# A fresh Debian machine may not have Node.js yet: the tests need node and npm too.
if ! command -v node >/dev/null 2>&1; then PACKAGES+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then PACKAGES+=(npm); fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "install-test-deps: not root and sudo is not available; run this script as root" >&2
  exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  if [ "$status" != "installed" ]; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-test-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

echo "install-test-deps: installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark pulls in wireshark-common, whose postinst asks whether non-superusers may
# capture packets. Pre-seed the answer so the install never blocks on a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" \
  | "${SUDO[@]}" debconf-set-selections

"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${missing[@]}"

for pkg in "${missing[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  if [ "$status" != "installed" ]; then
    echo "install-test-deps: $pkg failed to install" >&2
    exit 1
  fi
done
echo "install-test-deps: done"
