#!/usr/bin/env bash
# Installs the Debian 12 packages Tessera needs to build, test and run. Only what is missing is installed,
# so a machine that has everything pays nothing. The list is the one place our system dependencies live.
# Usage: scripts/install-deps.sh [EXTRA_PACKAGE ...]
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  librocksdb-dev        # the embedded store
  libboost-dev          # Boost.Asio + Boost.Beast (1.74, header-only)
  libsimdjson-dev       # JSON parsing
  libabsl-dev           # Status/StatusOr, flat_hash_map, strings
  libxxhash-dev         # XXH3 for dedup keys and generated message ids
  libphonenumber-dev    # phone normalization (identity)
  libicu-dev            # Unicode case folding (identity), transliteration (matching)
  libssl-dev            # HMAC / ECDSA for connectors, TLS
  zlib1g-dev            # gzip and deflate request bodies
  libnats-dev           # cluster mode: the NATS JetStream C client (nats.c)
  libnlopt-dev          # purchase prediction: the maximum-likelihood optimizer (NLopt)
  nats-server           # cluster mode: the servers the cluster tests start on loopback ports
  libgtest-dev libgmock-dev libbenchmark-dev
)
# The web console is built with node and npm (console/, `npm ci` + Vite). A machine that already
# has node (e.g. a newer one from elsewhere) keeps it; otherwise Debian's.
if ! command -v node >/dev/null 2>&1; then packages+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then packages+=(npm); fi

# Tools that need more (scripts/fuzz.sh: clang) name their extra packages as arguments.
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
