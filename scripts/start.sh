#!/usr/bin/env bash
# README command 1: install what is missing, build Tessera in Release, and serve on 127.0.0.1:8080
# with the embedded store under ./data (development keys are generated there once and printed).
# Extra arguments go to `tessera serve`, e.g. `scripts/start.sh --config tessera.json`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target tessera
exec build/tools/tessera serve "$@"
