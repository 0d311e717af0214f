#!/usr/bin/env bash
# Compares the in-process pipeline (`tessera bench pipeline`: parse, dedup, synced log, resolve) of
# two builds on one machine, in one run, on one corpus, alternating A, B, A, B, ... so that drift in
# the machine's speed hits both alike.
# Usage: tools/bench/compare_pipeline.sh A_TOOLS_DIR B_TOOLS_DIR [EVENTS] [ROUNDS]
#   e.g. tools/bench/compare_pipeline.sh /work/old/build/tools build/tools 200000 3
set -euo pipefail
A="$1"; B="$2"; EVENTS="${3:-200000}"; ROUNDS="${4:-3}"
WORK="$(mktemp -d /tmp/tessera-compare.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
"$B/tessera" bench corpus --events "$EVENTS" --out "$WORK/corpus.tsv" > "$WORK/corpus.log"
cat > "$WORK/config.json" <<JSON
{"listen":{"address":"127.0.0.1","port":0},"data_dir":"$WORK/data",
 "sources":[{"name":"web","write_key":"wk-web","channel":"web"},{"name":"app","write_key":"wk-app","channel":"app"},
            {"name":"pos","write_key":"wk-pos","channel":"pos"},{"name":"email","write_key":"wk-email","channel":"email"}],
 "read_keys":["rk-bench"],"admin_keys":["ak-bench"]}
JSON
for round in $(seq 1 "$ROUNDS"); do
  for which in A B; do
    bin="$A"; [ "$which" = B ] && bin="$B"
    rm -rf "$WORK/data"
    result="$("$bin/tessera" bench pipeline --corpus "$WORK/corpus.tsv" --config "$WORK/config.json" | grep '^RESULT')"
    echo "$which round $round: $(tr ' ' '\n' <<<"$result" | grep -E '^(events_per_s|accept_events_per_s|peak_rss_kib|store_bytes_per_event)=' | tr '\n' ' ')"
  done
done
