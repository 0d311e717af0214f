#!/usr/bin/env bash
# Row M1 of tools/bench/run.sh (docs/benchmarks.md, issue 25): `tessera match` end to end on a
# synthetic person file with a known ground truth.
#   1. `tessera bench match --generate` writes RECORDS people rows (seeded; names incl. Korean ones in
#      Hangul and romanized, dates of birth, e-mails, cities, postcodes; copies of a person with
#      typos, transpositions, swapped day/month, missing values; matching/synthetic_people.h),
#   2. the real `tessera match` binary reads it and writes pairs.csv and clusters.csv (timed: wall
#      seconds against the 60 s goal, CPU seconds, peak RSS from its own last line),
#   3. `tessera bench match --evaluate` reads the two outputs back and compares them with the truth:
#      pairs scored, blocking recall (true pairs among the candidates), pairwise precision, recall
#      and F1 at the default threshold 0.9, and the same for the pairs the clusters imply.
# Prints RESULT lines (key=value) and, last, the table row "| M1 | ... |" that run.sh copies.
#
# Usage: tools/bench/match.sh [--records N] [--threads N] [--seed N] [--keep]
# Alone it builds `tessera` (release preset) and works in a temporary directory; run.sh calls it
# with BIN and WORK in the environment.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
RECORDS=100000
THREADS=0   # tessera match's default: every hardware thread
SEED=25
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --records) RECORDS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) echo "match.sh: unknown argument $1" >&2; sed -n '2,16p' "$0" >&2; exit 2 ;;
  esac
done
if [ -z "${BIN:-}" ]; then
  (cd "$ROOT" && cmake --preset release >/dev/null && cmake --build --preset release --target tessera) >&2
  BIN="$ROOT/build/tools"
fi
OWN_WORK=0
if [ -z "${WORK:-}" ]; then WORK="$(mktemp -d /tmp/tessera-match.XXXXXX)"; OWN_WORK=1; fi
MW="$WORK/match"
mkdir -p "$MW"
if [ "$OWN_WORK" = 1 ] && [ "$KEEP" = 0 ]; then trap 'rm -rf "$WORK"' EXIT; fi
value() { grep '^RESULT ' "$2" | tr ' ' '\n' | grep "^$1=" | tail -1 | cut -d= -f2; }
fmt() { printf "%.0f" "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }

"$BIN/tessera" bench match --generate "$RECORDS" --seed "$SEED" --out "$MW/people.csv" > "$MW/generate.log"
cat "$MW/generate.log"

TIMEFORMAT='%R %U %S'
{ time "$BIN/tessera" match "$MW/people.csv" --id id --threads "$THREADS" --pairs "$MW/pairs.csv" \
    --clusters "$MW/clusters.csv" > "$MW/model.txt" 2> "$MW/match.log" ; } 2> "$MW/time.txt"
tr '\r' '\n' < "$MW/match.log" | grep -v 'scoring [0-9]*/' || true
read -r WALL USER_S SYS_S < "$MW/time.txt"
CPU="$(echo "$USER_S + $SYS_S" | bc -l)"
LAST="$(tail -1 "$MW/match.log")"
RSS_MIB="$(echo "$LAST" | sed -n 's/.*peak RSS \([0-9]*\) MiB.*/\1/p')"
USED_THREADS="$(echo "$LAST" | sed -n 's/.*; \([0-9]*\) threads,.*/\1/p')"

"$BIN/tessera" bench match --evaluate "$MW/people.csv" --pairs "$MW/pairs.csv" --clusters "$MW/clusters.csv" \
  > "$MW/evaluate.log"
cat "$MW/evaluate.log"
G="$MW/generate.log"; E="$MW/evaluate.log"
echo "RESULT m1_records=$RECORDS m1_seconds=$WALL m1_cpu_seconds=$CPU m1_threads=$USED_THREADS m1_rss_mib=$RSS_MIB"

goal_pct="$(printf %.1f%% "$(echo "100 * $WALL / 60" | bc -l)")"
cores_busy="$(printf %.2f "$(echo "$CPU / $WALL" | bc -l)")"
echo "| M1 | Matching: \`tessera match\` on $(fmt "$RECORDS") synthetic people rows ($(fmt "$(value people "$G")") people, $(fmt "$(value true_pairs "$G")") true pairs; seed $SEED), CSV in, pairs and clusters out, $USED_THREADS threads | | $(printf %.1f "$WALL") s wall, $(printf %.1f "$CPU") s CPU; $(fmt "$(value pairs_scored "$E")") pairs scored; blocking recall $(value blocking_recall "$E"); at 0.9: precision $(value precision "$E"), recall $(value recall "$E"), F1 $(value f1 "$E") (clusters: $(value cluster_precision "$E"), $(value cluster_recall "$E"), $(value cluster_f1 "$E")) | $goal_pct of the 60 s goal; $cores_busy cores busy of $(nproc) | $RSS_MIB MiB | |"
