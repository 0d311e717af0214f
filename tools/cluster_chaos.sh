#!/usr/bin/env bash
# A longer chaos campaign for cluster mode than the one in the test suite: the end-to-end chaos test
# (tests/e2e/cluster_chaos_e2e_test.cc) with more kills of each kind, for several rounds, each with
# a fresh random seed (printed, with the batches acknowledged, by every round).
#
#   tools/cluster_chaos.sh [KILLS_OF_EACH_KIND (default 100)] [ROUNDS (default 3)] [BUILD_DIR (default build)]
#
# Needs a build with the tests (scripts/test.sh makes one) and nats-server (scripts/install-deps.sh).
set -euo pipefail
kills="${1:-100}"
rounds="${2:-3}"
build="${3:-build}"
cd "$(dirname "$0")/.."
binary="$build/tests/e2e/cluster_chaos_test"
if [[ ! -x "$binary" ]]; then
  echo "cluster_chaos.sh: $binary not found; build the tests first (scripts/test.sh)" >&2
  exit 2
fi
failed=0
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for ((round = 1; round <= rounds; round++)); do
  echo "round $round of $rounds: $kills kills of each kind"
  status=0
  TESSERA_CHAOS_KILLS="$kills" "$binary" --gtest_filter='ClusterChaosE2eTest.*' >"$log" 2>&1 || status=$?
  grep -E '^chaos:|OK \]|FAILED|Failure' "$log" || true
  # A filter that matched nothing (a stale build) exits 0 too: the one test must have passed.
  if [[ "$status" != 0 ]] || ! grep -q '^\[  PASSED  \] 1 test' "$log"; then
    failed=1
    tail -50 "$log"
  fi
done
if [[ "$failed" != 0 ]]; then
  echo "cluster_chaos.sh: a round failed (its seed is printed above)" >&2
  exit 1
fi
echo "cluster_chaos.sh: $rounds rounds of $kills kills of each kind passed"
