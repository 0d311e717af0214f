#!/usr/bin/env bash
# README command 2: install what is missing, build everything (Release), and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release
cmake --build --preset release
ctest --preset release
