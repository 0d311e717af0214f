#!/usr/bin/env bash
# README command 2: install what is missing, build everything (Release), and run every test.
# The console's browser test needs Debian's chromium (driven by playwright-core; no browser download).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh chromium
cmake --preset release
cmake --build --preset release
ctest --preset release
