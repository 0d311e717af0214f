#!/usr/bin/env bash
# Compares HTTP ingestion of two builds on one machine, in one run: the same corpus goes through
# tessera-load (16 keep-alive connections, 100-event batches) against each build's server in turn,
# alternating A, B, A, B, ... so that drift in the machine's speed hits both alike.
# Usage: tools/bench/compare_http.sh A_TOOLS_DIR B_TOOLS_DIR [EVENTS] [ROUNDS]
#   e.g. tools/bench/compare_http.sh /work/old/build/tools build/tools 400000 3
# A build of an older commit: git worktree add ../old COMMIT && (cd ../old && cmake --preset release
#   -DTESSERA_CONSOLE=OFF && cmake --build --preset release --target tessera tessera-load)
set -euo pipefail
A="$1"; B="$2"; EVENTS="${3:-400000}"; ROUNDS="${4:-3}"
WORK="$(mktemp -d /tmp/tessera-compare.XXXXXX)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
PORT=18471
"$B/tessera" bench corpus --events "$EVENTS" --out "$WORK/corpus.ndjson" > "$WORK/corpus.log"
for round in $(seq 1 "$ROUNDS"); do
  for which in A B; do
    bin="$A"; [ "$which" = B ] && bin="$B"
    dir="$WORK/$which-$round"; mkdir -p "$dir"
    cat > "$dir/config.json" <<JSON
{"listen":{"address":"127.0.0.1","port":$PORT},"data_dir":"$dir/data",
 "sources":[{"name":"web","write_key":"wk-web","channel":"web"},{"name":"app","write_key":"wk-app","channel":"app"},
            {"name":"pos","write_key":"wk-pos","channel":"pos"},{"name":"email","write_key":"wk-email","channel":"email"}],
 "read_keys":["rk-bench"],"admin_keys":["ak-bench"]}
JSON
    "$bin/tessera" serve --config "$dir/config.json" > "$dir/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/readyz" > /dev/null 2>&1 && break; sleep 0.1; done
    "$bin/tessera-load" --port "$PORT" --corpus "$WORK/corpus.ndjson" \
      --keys web=wk-web,app=wk-app,pos=wk-pos,email=wk-email --connections 16 > "$dir/load.log" 2>&1
    acked="$(date +%s.%N)"
    # The graph is complete when the resolver's lag is 0.
    for _ in $(seq 1 6000); do
      curl -s "http://127.0.0.1:$PORT/metrics" | grep -q '^tessera_resolver_lag_events{space="default"} 0$' && break
      sleep 0.05
    done
    complete="$(echo "$(date +%s.%N) - $acked" | bc)"
    echo "$which round $round: $(grep -E '^events:|^ack latency' "$dir/load.log" | tr -s ' ' | tr '\n' ' ') graph complete $(printf %.2f "$complete") s after the last ack"
    kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true
    SERVER_PID=""
  done
done
