#!/usr/bin/env bash
# The one-run benchmark of docs/benchmarks.md, "Tessera against its limits and a peer": on this
# machine, in one run, over one corpus of generated Segment events,
#   1. the parse limit (simdjson alone) and Tessera's Segment parser,
#   2. the store limit (raw RocksDB synced WriteBatch appends of the same bytes),
#   3. the pipeline in process (parse, validate, dedup, log, resolve, profiles) and its ratios,
#   4. HTTP (100-event batches, keep-alive) and WebSocket ingestion by tessera-load,
#   4c. the purchase models (BG/NBD, Gamma-Gamma) fitted on 100,000 drawn customers (row P1),
#   4d. `tessera match` on 100,000 synthetic person rows with a ground truth (row M1,
#       tools/bench/match.sh; about half a minute): wall seconds against the 60 s goal, pairs
#       scored, blocking recall, pairwise quality at 0.9, peak RSS; --matching-only runs this row
#       alone and prints it without touching docs/benchmarks.md,
#   5. profile lookups with 1M+ profiles while ingesting at a set rate, then at full speed,
#   6. peak RSS of every step and store bytes per event,
#   6b. with --cluster, the cluster rows (tools/bench/cluster.sh): three nats-server processes and
#      Tessera's gateways, resolver and replica over the same corpus,
#   6c. with --encrypted, steps 3 and 4 (pipeline, HTTP) again with encryption at rest on (a key
#      file, every store file AES-256-GCM), each with its overhead against the plain row of this run,
#   6d. with --destinations, step 4 again with three webhook destinations receiving every event
#      (tessera-sink, a local receiver): ingestion with them, deliveries per second, every event
#      delivered to each; then with the three receivers down (every request answered 503); row 4, D1
#      and D2 are then run again, alternating, for --destination-rounds rounds in all (3 by
#      default), and the two destination goals are judged on the medians of each round's ratios:
#      on a 2-core machine one run of each moved a ratio by more than the 10% a goal allows,
#   7. the peer: PostgreSQL (Debian's server, started here on a temporary directory and port) loading
#      the same corpus and stitching identities by iterative SQL label propagation,
# and then checks that the identity graphs of the pipeline, the HTTP run, the WebSocket run and the
# peer are equal, and marks each goal of the engine issue (docs/benchmarks.md) met or not. It writes the table into docs/benchmarks.md only when every step succeeded and
# every check held; otherwise it names the failed steps and exits 1 without touching the file.
#
# Usage: tools/bench/run.sh [--events N] [--connections N] [--read-seconds S] [--ingest-rate R]
#                           [--read-events N] [--read-people N] [--min-profiles N] [--cluster] [--encrypted]
#                           [--destinations] [--destination-rounds N]
#                           [--keep] [--no-write] [--matching-only]
# A measurement, not a test: run it on purpose on an otherwise idle machine (it takes ~12 minutes
# with the defaults; --events 10000000 --read-events 18000000 --read-people 40000000
# --min-profiles 10000000 is the 10M run, for hours and ~60 GB of disk). Needs root or sudo once, to install PostgreSQL and wrk (scripts/install-deps.sh),
# and runs PostgreSQL as the `postgres` user when run as root.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"

EVENTS=1000000        # Corpus size.
CONNECTIONS=16        # tessera-load connections for HTTP and WebSocket.
READ_EVENTS=1800000   # The read-test store (tessera bench resolve): 1.8M events about 4M people
READ_PEOPLE=4000000   # make 1,009,165 live profiles.
MIN_PROFILES=1000000  # Fewer fails the run (smaller values are for trying the script out).
READ_SECONDS=20       # wrk run.
INGEST_RATE=10000     # Events/s ingested during the read test.
KEEP=0
WRITE=1
CLUSTER=0
ENCRYPTED=0
DESTINATIONS=0
DEST_ROUNDS=3         # With --destinations: rounds of row 4, D1 and D2, one after the other.
while [ $# -gt 0 ]; do
  case "$1" in
    --events) EVENTS="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --read-events) READ_EVENTS="$2"; shift 2 ;;
    --read-people) READ_PEOPLE="$2"; shift 2 ;;
    --min-profiles) MIN_PROFILES="$2"; shift 2 ;;
    --read-seconds) READ_SECONDS="$2"; shift 2 ;;
    --ingest-rate) INGEST_RATE="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --cluster) CLUSTER=1; shift ;;
    --encrypted) ENCRYPTED=1; shift ;;
    --destinations) DESTINATIONS=1; shift ;;
    --destination-rounds) DEST_ROUNDS="$2"; shift 2 ;;
    --no-write) WRITE=0; shift ;;
    --matching-only) exec "$ROOT/tools/bench/match.sh" ;;
    *) echo "run.sh: unknown argument $1" >&2; sed -n '2,22p' "$0" >&2; exit 2 ;;
  esac
done
COMMAND="tools/bench/run.sh --events $EVENTS --connections $CONNECTIONS --read-events $READ_EVENTS --read-people $READ_PEOPLE --read-seconds $READ_SECONDS --ingest-rate $INGEST_RATE"
if [ "$CLUSTER" = 1 ]; then COMMAND="$COMMAND --cluster"; fi
if [ "$ENCRYPTED" = 1 ]; then COMMAND="$COMMAND --encrypted"; fi
if [ "$DESTINATIONS" = 1 ]; then COMMAND="$COMMAND --destinations --destination-rounds $DEST_ROUNDS"; fi

scripts/install-deps.sh postgresql wrk curl bc
if [ "$CLUSTER" = 1 ]; then scripts/install-deps.sh nats-server; fi
cmake --preset release >/dev/null
cmake --build --preset release --target tessera tessera-load tessera-sink
BIN="$ROOT/build/tools"
PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"

WORK="$(mktemp -d /tmp/tessera-bench.XXXXXX)"
chmod 755 "$WORK"
SERVER_PID=""
PG_DATA=""
PG_USER=()
if [ "$(id -u)" -eq 0 ]; then PG_USER=(runuser -u postgres --); fi
SAMPLER_PID=""
cleanup() {
  if [ -n "$SAMPLER_PID" ]; then kill "$SAMPLER_PID" 2>/dev/null || true; fi
  if [ -n "$SERVER_PID" ]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ -n "$PG_DATA" ]; then "${PG_USER[@]}" "$PGBIN/pg_ctl" -D "$PG_DATA" -m fast stop >/dev/null 2>&1 || true; fi
  if [ "$KEEP" = 1 ]; then echo "run.sh: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

FAILED=()
fail() { FAILED+=("$1"); echo "run.sh: FAILED: $1" >&2; }
# value KEY FILE: the value of KEY in the last RESULT line of FILE that has it.
value() { grep '^RESULT ' "$2" | tr ' ' '\n' | grep "^$1=" | tail -1 | cut -d= -f2; }
# step NAME LOG COMMAND...: runs the command, its output in LOG (shown too); records a failure.
step() {
  local name="$1" log="$2"; shift 2
  echo "== $name: $*"
  if ! "$@" > "$log" 2>&1; then tail -20 "$log" >&2; fail "$name (exit code, see above)"; return 1; fi
  grep -E '^RESULT|^events:|^ack latency|^Requests/sec|99%' "$log" || true
}
now() { date +%s.%N; }
peak_rss_kib() { awk '/^VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

write_config() {  # $1: config file, $2: data dir, $3: port, $4 (optional): a master key file (encryption on),
                  # $5 (optional): the port of a tessera-sink that three webhook destinations send everything to
  local encryption=""
  if [ -n "${4:-}" ]; then encryption=",\"encryption\":{\"key_file\":\"$4\"}"; fi
  if [ -n "${5:-}" ]; then
    local all='"events":{"types":["track","identify","page","screen","group","alias"]},"batch_events":500,"requests_per_second":10000,"retry":{"initial_ms":100,"max_ms":1000}'
    encryption="$encryption,\"destinations\":["
    for d in crm ads mail; do
      encryption="$encryption{\"name\":\"$d\",\"type\":\"webhook\",\"url\":\"http://127.0.0.1:$5/$d\",\"secret\":\"s-$d\",$all},"
    done
    encryption="${encryption%,}]"
  fi
  cat > "$1" <<JSON
{"listen":{"address":"127.0.0.1","port":$3},"data_dir":"$2",
 "sources":[{"name":"web","write_key":"wk-web","channel":"web"},{"name":"app","write_key":"wk-app","channel":"app"},
            {"name":"pos","write_key":"wk-pos","channel":"pos"},{"name":"email","write_key":"wk-email","channel":"email"}],
 "read_keys":["rk-bench"],"admin_keys":["ak-bench"]$encryption}
JSON
}
KEYS="web=wk-web,app=wk-app,pos=wk-pos,email=wk-email"
PORT=18470

start_server() {  # $1: config file, $2: log
  "$BIN/tessera" serve --config "$1" > "$2" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    if curl -sf "http://127.0.0.1:$PORT/readyz" > /dev/null 2>&1; then return 0; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
    sleep 0.1
  done
  tail -5 "$2" >&2
  return 1
}
# Stops the server and waits for its clean close (memtables flushed); its peak RSS (KiB) is then in
# STOPPED_RSS. Not to be called in a subshell: only this shell can wait for its child.
stop_server() {
  STOPPED_RSS="$(peak_rss_kib "$SERVER_PID")"
  kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true
  SERVER_PID=""
}
# Waits until the resolver has applied every accepted event; prints the time it happened.
wait_resolved() {
  for _ in $(seq 1 6000); do
    if curl -s "http://127.0.0.1:$PORT/metrics" | grep -q '^tessera_resolver_lag_events{space="default"} 0$'; then
      now; return 0
    fi
    sleep 0.1
  done
  return 1
}

# --- The machine -------------------------------------------------------------------------------
CPU_MODEL="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
CORES="$(nproc)"
MEMORY="$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
DATE="$(date -u +%Y-%m-%d)"
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo '+changes')"
PG_VERSION="$("$PGBIN/postgres" --version | awk '{print $3}')"
echo "== machine: $CORES cores, $CPU_MODEL, $MEMORY; $DATE; commit $COMMIT"
# The 1-minute load average every 5 s: other work on the machine shows in it, and the table says so.
LOAD_AT_START="$(cut -d' ' -f1 /proc/loadavg)"
( while true; do cut -d' ' -f1 /proc/loadavg; sleep 5; done ) > "$WORK/loadavg.txt" &
SAMPLER_PID=$!

# --- 0. The corpus -------------------------------------------------------------------------------
CORPUS="$WORK/corpus.tsv"
step corpus "$WORK/corpus.log" "$BIN/tessera" bench corpus --events "$EVENTS" --out "$CORPUS" || true
chmod 644 "$CORPUS" 2>/dev/null || true

# --- 1, 2. Limits --------------------------------------------------------------------------------
step parse "$WORK/parse.log" "$BIN/tessera" bench parse --corpus "$CORPUS" || true
step store-1000 "$WORK/store1000.log" "$BIN/tessera" bench store --corpus "$CORPUS" --dir "$WORK/store1000" --group 1000 || true
rm -rf "$WORK/store1000"
step store-100 "$WORK/store100.log" "$BIN/tessera" bench store --corpus "$CORPUS" --dir "$WORK/store100" --group 100 || true
rm -rf "$WORK/store100"

# --- 3. Pipeline in process ----------------------------------------------------------------------
write_config "$WORK/pipeline.json" "$WORK/pipeline" "$PORT"
if step pipeline "$WORK/pipeline.log" "$BIN/tessera" bench pipeline --corpus "$CORPUS" --config "$WORK/pipeline.json"; then
  step pipeline-graph "$WORK/pipeline-graph.log" "$BIN/tessera" bench graph --config "$WORK/pipeline.json" \
    --out "$WORK/graph-pipeline.tsv" || true
fi
rm -rf "$WORK/pipeline"
# 6c. With --encrypted, the same again with encryption at rest on, right after the plain run (on a
# shared machine, minutes between two runs can move a figure by more than the cost measured).
if [ "$ENCRYPTED" = 1 ]; then
  "$BIN/tessera" keys generate "$WORK/master.key" > /dev/null
  write_config "$WORK/pipeline-enc.json" "$WORK/pipeline-enc" "$PORT" "$WORK/master.key"
  if step pipeline-enc "$WORK/pipeline-enc.log" "$BIN/tessera" bench pipeline --corpus "$CORPUS" \
      --config "$WORK/pipeline-enc.json"; then
    step pipeline-enc-graph "$WORK/pipeline-enc-graph.log" "$BIN/tessera" bench graph \
      --config "$WORK/pipeline-enc.json" --out "$WORK/graph-pipeline-enc.tsv" || true
  fi
  rm -rf "$WORK/pipeline-enc"
fi

# --- 4. HTTP and WebSocket -----------------------------------------------------------------------
declare -A T_STITCHED T_AFTER_ACK RSS_SERVER BYTES_PER_EVENT
MODES=(http websocket)
if [ "$ENCRYPTED" = 1 ]; then MODES=(http http-enc websocket); fi  # http-enc right after http (6c)
# 6d: right after http too, for the same reason.
# Later rounds are named mode@round; only the first round's store is compared with the others'.
if [ "$DESTINATIONS" = 1 ]; then
  ROUNDS=(http-dest http-dest-down)
  for round in $(seq 2 "$DEST_ROUNDS"); do ROUNDS+=("http@$round" "http-dest@$round" "http-dest-down@$round"); done
  MODES=("${MODES[0]}" "${ROUNDS[@]}" "${MODES[@]:1}")
fi
SINK_PORT=18471
declare -A SINK_PID DELIVERED_EPS DELIVERED_LAST_S OUTBOX_LAG
for mode in "${MODES[@]}"; do
  base="${mode%@*}"
  if [ "$mode" = http-enc ]; then
    write_config "$WORK/$mode.json" "$WORK/$mode" "$PORT" "$WORK/master.key"
  elif [ "$base" = http-dest ] || [ "$base" = http-dest-down ]; then
    status=200; if [ "$base" = http-dest-down ]; then status=503; fi
    "$BIN/tessera-sink" --port "$SINK_PORT" --report "$WORK/$mode-sink.txt" --status "$status" &
    SINK_PID[$mode]=$!
    write_config "$WORK/$mode.json" "$WORK/$mode" "$PORT" "" "$SINK_PORT"
  else
    write_config "$WORK/$mode.json" "$WORK/$mode" "$PORT"
  fi
  if ! start_server "$WORK/$mode.json" "$WORK/$mode-server.log"; then fail "$mode: the server did not start"; continue; fi
  extra=()
  if [ "$mode" = websocket ]; then extra=(--websocket); fi
  t0="$(now)"
  if step "$mode" "$WORK/$mode.log" "$BIN/tessera-load" --port "$PORT" --corpus "$CORPUS" --keys "$KEYS" \
      --connections "$CONNECTIONS" "${extra[@]}"; then
    t_last_ack="$(now)"  # tessera-load exits on the last acknowledgement.
    accepted="$(sed -n 's/^events: *\([0-9]*\) accepted.*/\1/p' "$WORK/$mode.log")"
    if [ "$accepted" != "$(value events "$WORK/corpus.log")" ]; then
      fail "$mode: $accepted events accepted, the corpus has $(value events "$WORK/corpus.log")"
    fi
    if t1="$(wait_resolved)"; then
      T_STITCHED[$mode]="$(echo "$t1 - $t0" | bc)"
      T_AFTER_ACK[$mode]="$(echo "$t1 - $t_last_ack" | bc)"
    else
      fail "$mode: the resolver did not catch up"
    fi
    if [ "$base" = http-dest ]; then
      # Every event to each of the three destinations (at least once).
      sink_value() { tr ' ' '\n' < "$WORK/$mode-sink.txt" | sed -n "s/^$1=//p"; }
      for _ in $(seq 1 3000); do
        if [ "$(sink_value events)" -ge $((3 * EVENTS)) ] 2>/dev/null; then break; fi
        sleep 0.1
      done
      sleep 0.2
      if [ "$(sink_value events)" -ge $((3 * EVENTS)) ]; then
        DELIVERED_EPS[$mode]="$(echo "$(sink_value events) * 1000 / ($(sink_value last_ms) - $(sink_value first_ms))" | bc -l)"
        DELIVERED_LAST_S[$mode]="$(echo "$(sink_value last_ms) / 1000 - $t_last_ack" | bc -l)"
      else
        fail "$mode: $(sink_value events) of $((3 * EVENTS)) deliveries arrived"
      fi
    fi
    if [ "$base" = http-dest-down ]; then
      OUTBOX_LAG[$mode]="$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^tessera_destination_lag/ {s += $2} END {print s + 0}')"
    fi
  fi
  if [ -n "${SINK_PID[$mode]:-}" ]; then kill "${SINK_PID[$mode]}" 2>/dev/null; wait "${SINK_PID[$mode]}" 2>/dev/null || true; fi
  stop_server
  RSS_SERVER[$mode]="$STOPPED_RSS"
  BYTES_PER_EVENT[$mode]="$(( $(du -sb "$WORK/$mode/store" 2>/dev/null | cut -f1 || echo 0) / EVENTS ))"
  if [ "$mode" = http-enc ] && grep -rqa 'example' "$WORK/$mode/store"; then
    fail "http-enc: plaintext in the encrypted store"
  fi
  if [ "$mode" = "$base" ]; then
    step "$mode-graph" "$WORK/$mode-graph.log" "$BIN/tessera" bench graph --config "$WORK/$mode.json" \
      --out "$WORK/graph-$mode.tsv" || true
  fi
  rm -rf "$WORK/$mode"
done

# --- 4c. The purchase models fitted on 100,000 customers (issue 24) -----------------------------
step purchase-fit "$WORK/purchase-fit.log" "$BIN/tessera" bench purchase-fit --customers 100000 || true

# --- 4d. Matching: tessera match on 100,000 synthetic people (issue 25) ------------------------
BIN="$BIN" WORK="$WORK" step match "$WORK/match.log" "$ROOT/tools/bench/match.sh" || true

# --- 5. Reads with 1M+ profiles while ingesting --------------------------------------------------
READS="$WORK/reads"
mkdir -p "$READS/data"
if step reads-store "$WORK/reads-store.log" "$BIN/tessera" bench resolve --events "$READ_EVENTS" \
    --people "$READ_PEOPLE" --cache-ratio 0 --dir "$READS/build"; then
  mv "$READS/build/resolve-cache-ratio-0" "$READS/data/store"
  PROFILES="$(sed -n 's/^ *live profiles *\([0-9,]*\).*/\1/p' "$WORK/reads-store.log" | tr -d ,)"
  echo "live profiles: $PROFILES"
  if [ -z "$PROFILES" ] || [ "$PROFILES" -lt "$MIN_PROFILES" ]; then
    fail "reads: only ${PROFILES:-?} profiles ($MIN_PROFILES wanted)"
  fi
  write_config "$READS/config.json" "$READS/data" "$PORT"
  step reads-ids "$WORK/reads-ids.log" "$BIN/tessera" bench graph --config "$READS/config.json" \
    --out "$READS/graph.tsv" || true
  grep '^user_id:' "$READS/graph.tsv" | cut -f1 | shuf -n 200000 --random-source=<(yes) > "$READS/ids.txt" || true
  cat > "$READS/lookup.lua" <<LUA
-- A random existing profile per request, by user id, with the read key.
local ids = {}
for line in io.lines("$READS/ids.txt") do ids[#ids + 1] = line end
math.randomseed(42)
request = function()
  return wrk.format("GET", "/v1/profiles/" .. ids[math.random(#ids)], {["Authorization"] = "Bearer rk-bench"})
end
LUA
  if start_server "$READS/config.json" "$WORK/reads-server.log"; then
    "$BIN/tessera-load" --port "$PORT" --write-key wk-web --connections 4 --rate "$INGEST_RATE" \
      --duration "$((READ_SECONDS + 4))s" > "$WORK/reads-ingest.log" 2>&1 &
    LOAD_PID=$!
    sleep 2
    step reads "$WORK/reads.log" wrk -t2 -c16 -d"${READ_SECONDS}s" --latency -s "$READS/lookup.lua" \
      "http://127.0.0.1:$PORT" || true
    if ! wait "$LOAD_PID"; then fail "reads: the ingestion during the reads failed"; fi
    grep -E '^events:' "$WORK/reads-ingest.log" || true
    if grep -q 'Non-2xx' "$WORK/reads.log"; then fail "reads: some lookups did not answer 200"; fi
    # The same lookups while ingestion runs as fast as the server takes it (no --rate).
    "$BIN/tessera-load" --port "$PORT" --write-key wk-web --connections 4 \
      --duration "$((READ_SECONDS + 4))s" > "$WORK/reads-full-ingest.log" 2>&1 &
    LOAD_PID=$!
    sleep 2
    step reads-full "$WORK/reads-full.log" wrk -t2 -c16 -d"${READ_SECONDS}s" --latency -s "$READS/lookup.lua" \
      "http://127.0.0.1:$PORT" || true
    if ! wait "$LOAD_PID"; then fail "reads: the full-speed ingestion during the reads failed"; fi
    grep -E '^events:' "$WORK/reads-full-ingest.log" || true
    if grep -q 'Non-2xx' "$WORK/reads-full.log"; then fail "reads at full speed: some lookups did not answer 200"; fi
    stop_server
    RSS_SERVER[reads]="$STOPPED_RSS"
  else
    fail "reads: the server did not start"
  fi
fi
rm -rf "$READS"

# --- 6b. The cluster -------------------------------------------------------------------------------
if [ "$CLUSTER" = 1 ]; then
  BIN="$BIN" WORK="$WORK" CORPUS="$CORPUS" KEYS="$KEYS" CONNECTIONS="$CONNECTIONS" EVENTS="$EVENTS" \
    INGEST_RATE="$INGEST_RATE" READ_SECONDS="$READ_SECONDS" \
    step cluster "$WORK/cluster.log" "$ROOT/tools/bench/cluster.sh" || true
fi

# --- 7. The peer: PostgreSQL ---------------------------------------------------------------------
PG_DATA="$WORK/pg/data"
mkdir -p "$WORK/pg"
if [ "$(id -u)" -eq 0 ]; then chown postgres "$WORK/pg"; fi
PG_PORT=18471
if "${PG_USER[@]}" "$PGBIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --locale=C > "$WORK/pg-init.log" 2>&1 &&
   "${PG_USER[@]}" "$PGBIN/pg_ctl" -D "$PG_DATA" -l "$WORK/pg/server.log" -w start -o \
     "-p $PG_PORT -k $WORK/pg -c listen_addresses='' -c shared_buffers=1GB -c work_mem=256MB -c maintenance_work_mem=1GB -c max_wal_size=8GB" \
     > /dev/null; then
  step peer "$WORK/peer.log" "${PG_USER[@]}" psql -h "$WORK/pg" -p "$PG_PORT" -U postgres -X -q \
    -v corpus="$CORPUS" -v graph_out="$WORK/pg/graph.tsv" -f "$ROOT/tools/bench/peer.sql" || true
  cp "$WORK/pg/graph.tsv" "$WORK/graph-peer.tsv" 2>/dev/null || fail "peer: no graph"
else
  cat "$WORK/pg-init.log" >&2
  fail "peer: PostgreSQL did not start"
fi

# --- Graph equality ------------------------------------------------------------------------------
OTHERS=(http websocket peer)
if [ "$ENCRYPTED" = 1 ]; then OTHERS+=(pipeline-enc http-enc); fi
if [ "$DESTINATIONS" = 1 ]; then OTHERS+=(http-dest http-dest-down); fi
for other in "${OTHERS[@]}"; do
  if [ -s "$WORK/graph-pipeline.tsv" ] && cmp -s "$WORK/graph-pipeline.tsv" "$WORK/graph-$other.tsv"; then
    echo "== graph of the pipeline = graph of $other ($(wc -l < "$WORK/graph-$other.tsv") identifiers)"
  else
    fail "graph of $other differs from the pipeline's (or is missing)"
    diff "$WORK/graph-pipeline.tsv" "$WORK/graph-$other.tsv" 2>/dev/null | head -10 >&2 || true
  fi
done

if [ ${#FAILED[@]} -gt 0 ]; then
  echo "run.sh: ${#FAILED[@]} step(s) failed; the table is not written:" >&2
  printf '  - %s\n' "${FAILED[@]}" >&2
  KEEP=1
  exit 1
fi

# --- The table -----------------------------------------------------------------------------------
# fmt N: 1234567 -> 1,234,567 (integers), rounding first.
fmt() { printf "%.0f" "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
mib() { echo "$(( $1 / 1024 )) MiB"; }
ratio() { printf "%.2f" "$(echo "$1 / $2" | bc -l)"; }
pct() { printf "%.1f%%" "$(echo "100 * $1 / $2" | bc -l)"; }
ms() { sed -E 's/^([0-9.]+)ms$/\1 ms/; s/^([0-9.]+)us$/\1 µs/; s/^([0-9.]+)s$/\1 s/'; }
C="$WORK/corpus.log"; P="$WORK/parse.log"; S1="$WORK/store1000.log"; S2="$WORK/store100.log"
PL="$WORK/pipeline.log"; PE="$WORK/peer.log"
pipe_eps="$(value events_per_s "$PL")"
pipe_accept_eps="$(value accept_events_per_s "$PL")"
parse_eps="$(value simdjson_events_per_s "$P")"
store_eps="$(value events_per_s "$S1")"
lat() { sed -n "s/^ack latency: p50 \([0-9.]*\) ms  p90 [0-9.]* ms  p99 \([0-9.]*\) ms.*/\\$2/p" "$WORK/$1.log"; }
eps_of() { sed -n 's/^events: *[0-9]* accepted (\([0-9]*\)\/s).*/\1/p' "$WORK/$1.log"; }
wrk_rps_of() { sed -n 's/^Requests\/sec: *\([0-9.]*\)/\1/p' "$WORK/$1.log"; }
wrk_pct_of() { awk -v p="$2" '$1 == p {print $2}' "$WORK/$1.log" | ms; }
# wrk's latency in ms, as a number ("1.23ms" -> 1.23, "2.1s" -> 2100, "850us" -> 0.85).
wrk_ms_of() { awk -v p="$2" '$1 == p {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); print v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v} else {sub(/s$/,"",v); print v*1000}}' "$WORK/$1.log"; }
wrk_rps="$(wrk_rps_of reads)"
wrk_p50="$(wrk_pct_of reads 50%)"
wrk_p99="$(wrk_pct_of reads 99%)"
ingest_eps="$(sed -n 's/^events: *[0-9]* accepted (\([0-9]*\)\/s).*/\1/p' "$WORK/reads-ingest.log")"
full_ingest_eps="$(sed -n 's/^events: *[0-9]* accepted (\([0-9]*\)\/s).*/\1/p' "$WORK/reads-full-ingest.log")"
peer_total="$(value total_seconds "$PE")"
pipe_total="$(value seconds "$PL")"

# The destination rounds (6d): each round's D1, D2, D1's cost against that round's row 4 and D2
# against that round's D1, in percent.
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
fmt_list() { local out="" v; for v in "$@"; do out="$out, $(fmt "$v")"; done; echo "${out#, }"; }
pct_list() { local out="" v; for v in "$@"; do out="$out, $(printf %.1f%% "$v")"; done; echo "${out#, }"; }
D1_EPS=(); D2_EPS=(); D1_COST=(); D2_OF_D1=()
if [ "$DESTINATIONS" = 1 ]; then
  for round in $(seq 1 "$DEST_ROUNDS"); do
    at=""; if [ "$round" -gt 1 ]; then at="@$round"; fi
    r_http="$(eps_of "http$at")"; r_d1="$(eps_of "http-dest$at")"; r_d2="$(eps_of "http-dest-down$at")"
    D1_EPS+=("$r_d1"); D2_EPS+=("$r_d2")
    D1_COST+=("$(echo "100 * ($r_http - $r_d1) / $r_http" | bc -l)")
    D2_OF_D1+=("$(echo "100 * $r_d2 / $r_d1" | bc -l)")
  done
fi

LOAD_MAX="$(sort -g "$WORK/loadavg.txt" | tail -1)"
TABLE="$WORK/table.md"
{
  echo "Machine: $CORES cores, $CPU_MODEL, $MEMORY RAM; $DATE; commit $COMMIT; Release build; PostgreSQL $PG_VERSION."
  echo "Command: \`$COMMAND\`. 1-minute load average: $LOAD_AT_START at the start, at most $LOAD_MAX during the run (the run itself keeps it near the core count)."
  echo "Corpus: $(fmt "$(value events "$C")") events of $(value event_bytes "$C") bytes on average" \
       "($(value track_pct "$C")% track, $(value page_pct "$C")% page + $(value screen_pct "$C")% screen, $(value identify_pct "$C")% identify, $(value alias_pct "$C")% alias;" \
       "web $(value web_pct "$C")%, app $(value app_pct "$C")%, pos $(value pos_pct "$C")%, email $(value email_pct "$C")%)" \
       "about $(fmt "$(value people "$C")") people, $(value multi_channel_people_pct "$C")% of them on two or more channels;" \
       "in $(fmt "$(value batches "$C")") batches of up to 100 events of one channel."
  echo
  echo "| # | Step | Events/s | Other figures | vs. limits | Peak RSS | Store bytes/event |"
  echo "|---|---|---:|---|---|---:|---:|"
  echo "| 1 | Parse limit: simdjson DOM parse of each batch | $(fmt "$parse_eps") | $(fmt "$(value simdjson_mb_per_s "$P")") MB/s | | $(mib "$(value peak_rss_kib "$P")") | |"
  echo "| 1b | Tessera's Segment parser (parse + validate into canonical events) | $(fmt "$(value segment_events_per_s "$P")") | $(fmt "$(value segment_mb_per_s "$P")") MB/s | $(pct "$(value segment_events_per_s "$P")" "$parse_eps") of the parse limit | (same process) | |"
  echo "| 2 | Store limit: raw RocksDB, one synced WriteBatch per 1,000 events | $(fmt "$store_eps") | $(fmt "$(value mb_per_s "$S1")") MB/s, $(fmt "$(value synced_writes "$S1")") fsyncs | | $(mib "$(value peak_rss_kib "$S1")") (events held in memory) | |"
  echo "| 2b | Store limit, one synced WriteBatch per 100 events | $(fmt "$(value events_per_s "$S2")") | $(fmt "$(value mb_per_s "$S2")") MB/s, $(fmt "$(value synced_writes "$S2")") fsyncs | | $(mib "$(value peak_rss_kib "$S2")") | |"
  echo "| 3 | Pipeline in process: parse, validate, dedup, synced log, resolve, profiles (2 parsing threads) | $(fmt "$pipe_eps") applied | accepted (durable) at $(fmt "$pipe_accept_eps")/s; the last event applied $(value seconds "$PL") s after the first was read | accepted: $(pct "$pipe_accept_eps" "$store_eps") of the store limit; applied: $(pct "$pipe_eps" "$store_eps") of the store limit, $(pct "$pipe_eps" "$parse_eps") of the parse limit | $(mib "$(value peak_rss_kib "$PL")") | $(fmt "$(value store_bytes_per_event "$PL")") |"
  echo "| 4 | HTTP: POST /v1/batch of 100 events, $CONNECTIONS keep-alive connections (tessera-load) | $(fmt "$(eps_of http)") acknowledged | ack p50 $(lat http 1) ms, p99 $(lat http 2) ms; graph complete $(printf %.1f "${T_STITCHED[http]}") s after the first request | $(pct "$(eps_of http)" "$store_eps") of the store limit, $(pct "$(eps_of http)" "$pipe_accept_eps") of the pipeline's acceptance | $(mib "${RSS_SERVER[http]}") (server) | $(fmt "${BYTES_PER_EVENT[http]}") |"
  echo "| 4b | WebSocket: 100-event frames, $CONNECTIONS connections, 8 unacknowledged frames each | $(fmt "$(eps_of websocket)") acknowledged | ack p50 $(lat websocket 1) ms, p99 $(lat websocket 2) ms; graph complete $(printf %.1f "${T_STITCHED[websocket]}") s after the first frame | $(pct "$(eps_of websocket)" "$store_eps") of the store limit, $(pct "$(eps_of websocket)" "$pipe_accept_eps") of the pipeline's acceptance | $(mib "${RSS_SERVER[websocket]}") (server) | $(fmt "${BYTES_PER_EVENT[websocket]}") |"
  echo "| 5 | Reads: GET /v1/profiles/user_id:… (random, wrk 2 threads × 16 connections, ${READ_SECONDS} s) with $(fmt "$PROFILES") profiles, while ingesting $(fmt "$ingest_eps") events/s | $(fmt "$wrk_rps") lookups/s | p50 $wrk_p50, p99 $wrk_p99 | | $(mib "${RSS_SERVER[reads]}") (server) | |"
  echo "| 5b | Reads as in 5, while ingesting at full speed (tessera-load, 4 connections, no rate limit) | $(fmt "$(wrk_rps_of reads-full)") lookups/s | p50 $(wrk_pct_of reads-full 50%), p99 $(wrk_pct_of reads-full 99%); ingest $(fmt "$full_ingest_eps") events/s | | (same server) | |"
  PF="$WORK/purchase-fit.log"
  echo "| P1 | Purchase models: BG/NBD and Gamma-Gamma fitted on $(fmt "$(value customers "$PF")") customers drawn from CDNOW's published parameters ($(fmt "$(value repeat_customers "$PF")") with repeat purchases) | | fit $(value fit_seconds "$PF") s on the summaries; $(value scan_fit_seconds "$PF") s reading the profiles, summarizing and fitting; r, α, a, b = $(value r "$PF"), $(value alpha "$PF"), $(value a "$PF"), $(value b "$PF") (drawn from 0.243, 4.414, 0.793, 2.426); p, q, γ = $(value p "$PF"), $(value q "$PF"), $(value gamma "$PF") (6.25, 3.74, 15.44) | | $(mib "$(value peak_rss_kib "$PF")") | |"
  grep '^| M1 ' "$WORK/match.log"
  if [ "$CLUSTER" = 1 ]; then
    CL="$WORK/cluster.log"
    c1_eps="$(value c1_events_per_s "$CL")"; c2_eps="$(value c2_events_per_s "$CL")"
    echo "| C1 | Cluster: one gateway, HTTP as in 4, each event stored by a quorum of 3 JetStream servers (file storage, synced periodically) before 200 | $(fmt "$c1_eps") acknowledged | ack p99 $(value c1_ack_p99_ms "$CL") ms; $(value jetstream_bytes_per_event "$CL") bytes per event in JetStream (per copy) | $(pct "$c1_eps" "$(eps_of http)") of one embedded server over HTTP (row 4) | $(mib "$(value c1_rss_kib "$CL")") (gateway) | |"
    echo "| C2 | Cluster: two gateways at once (half the corpus each), a replica following | $(fmt "$c2_eps") acknowledged | ack p99 $(printf %.2f "$(value c2_ack_p99_ms "$CL")") ms; replica lag p99 $(fmt "$(value c2_replica_lag_p99 "$CL")") events (sampled every 100 ms), caught up $(printf %.1f "$(value c2_replica_caught_up_s "$CL")") s after the last ack | $(ratio "$c2_eps" "$c1_eps")× one gateway | | |"
    echo "| C3 | Cluster: a resolver started with an empty store on the full stream: copy into its log and apply | $(fmt "$(value c3_events_per_s "$CL")") applied | the replica in C2 applied $(fmt "$(value replica_apply_events_per_s "$CL")")/s while following (bounded by C2's ingestion) | $(pct "$(value c3_events_per_s "$CL")" "$pipe_eps") of the pipeline in process (row 3) | $(mib "$(value c3_rss_kib "$CL")") (resolver) | $(fmt "$(value c3_store_bytes_per_event "$CL")") |"
    echo "| C4 | Cluster: lookups on the replica as in 5 (its own profiles), while a gateway ingests $(fmt "$(value c4_ingest_events_per_s "$CL")") events/s | $(fmt "$(value c4_lookups_per_s "$CL")") lookups/s | p50 $(value c4_p50_ms "$CL") ms, p99 $(value c4_p99_ms "$CL") ms; replica lag p99 $(fmt "$(value c4_replica_lag_p99 "$CL")") events | | | |"
  fi
  if [ "$DESTINATIONS" = 1 ]; then
    echo "| D1 | HTTP as in 4, three webhook destinations receiving every event (tessera-sink, batches of 500) | $(fmt "$(median "${D1_EPS[@]}")") acknowledged (median of $DEST_ROUNDS rounds: $(fmt_list "${D1_EPS[@]}")) | round 1: $(fmt "${DELIVERED_EPS[http-dest]:-0}") deliveries/s to the three (every event to each, at least once), the last $(printf %.1f "${DELIVERED_LAST_S[http-dest]:-0}") s after the last ack; ack p99 $(lat http-dest 2) ms | cost against row 4 of the same round: $(pct_list "${D1_COST[@]}") | $(mib "${RSS_SERVER[http-dest]}") (server) | $(fmt "${BYTES_PER_EVENT[http-dest]}") |"
    echo "| D2 | HTTP as in D1, the three destinations down (every request answered 503, retried) | $(fmt "$(median "${D2_EPS[@]}")") acknowledged (median of $DEST_ROUNDS rounds: $(fmt_list "${D2_EPS[@]}")) | round 1: $(fmt "${OUTBOX_LAG[http-dest-down]:-0}") rows waiting in the outboxes at the end; ack p99 $(lat http-dest-down 2) ms | against D1 of the same round: $(pct_list "${D2_OF_D1[@]}") | $(mib "${RSS_SERVER[http-dest-down]}") (server) | $(fmt "${BYTES_PER_EVENT[http-dest-down]}") |"
  fi
  if [ "$ENCRYPTED" = 1 ]; then
    PLE="$WORK/pipeline-enc.log"
    enc_pipe_eps="$(value events_per_s "$PLE")"
    echo "| E3 | Pipeline as in 3, encryption at rest on (AES-256-GCM per 4 KiB slot, every store file) | $(fmt "$enc_pipe_eps") applied | accepted at $(fmt "$(value accept_events_per_s "$PLE")")/s | $(pct "$enc_pipe_eps" "$pipe_eps") of row 3 | $(mib "$(value peak_rss_kib "$PLE")") | $(fmt "$(value store_bytes_per_event "$PLE")") |"
    echo "| E4 | HTTP as in 4, encryption at rest on | $(fmt "$(eps_of http-enc)") acknowledged | ack p50 $(lat http-enc 1) ms, p99 $(lat http-enc 2) ms; graph complete $(printf %.1f "${T_STITCHED[http-enc]}") s after the first request | $(pct "$(eps_of http-enc)" "$(eps_of http)") of row 4 | $(mib "${RSS_SERVER[http-enc]}") (server) | $(fmt "${BYTES_PER_EVENT[http-enc]}") |"
  fi
  echo "| 7 | Peer: PostgreSQL $PG_VERSION, COPY + one row per event deduplicated on messageId (jsonb), durable | $(fmt "$(echo "$(value events "$PE") / $(value load_seconds "$PE")" | bc -l)") loaded | load $(value load_seconds "$PE") s | $(pct "$(echo "$(value events "$PE") / $(value load_seconds "$PE")" | bc -l)" "$pipe_eps") of Tessera's pipeline (which also resolves) | $(mib "$(value peak_rss_kib "$PE")") (backend) | $(fmt "$(echo "$(value events_table_bytes "$PE") / $(value events "$PE")" | bc -l)") (events table) |"
  echo "| 7b | Peer: identity stitching by SQL label propagation ($(value rounds "$PE") rounds) | | stitch $(value stitch_seconds "$PE") s; stitched graph $peer_total s after the load began, Tessera's pipeline ${pipe_total} s (PostgreSQL takes $(ratio "$peer_total" "$pipe_total")× as long) | | | $(fmt "$(echo "$(value database_bytes "$PE") / $(value events "$PE")" | bc -l)") (whole database) |"
  echo
  echo "Identity graphs: $(fmt "$(value identifiers "$PE")") identifiers in $(fmt "$(value components "$PE")") people (connected sets);" \
       "the graphs of the pipeline, the HTTP run, the WebSocket run and PostgreSQL are equal line for line" \
       "(\`tessera bench graph\` against the peer's export: \"type:value, smallest identifier of its set\")."
  echo
  # The engine issue's goals, each computed from this run's figures.
  met() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo "**met**"; else echo "not met"; fi; }
  http_eps="$(eps_of http)"; ws_eps="$(eps_of websocket)"
  http_p99="$(lat http 2)"; ws_p99="$(lat websocket 2)"
  reads_p99_ms="$(wrk_ms_of reads 99%)"; reads_full_p99_ms="$(wrk_ms_of reads-full 99%)"
  peer_ratio="$(ratio "$peer_total" "$pipe_total")"
  pipe_bpe="$(value store_bytes_per_event "$PL")"
  echo "| Goal (engine issue) | This run | |"
  echo "|---|---|---|"
  echo "| pipeline applied ≥ 50% of the store limit | $(pct "$pipe_eps" "$store_eps") | $(met "$pipe_eps >= 0.5 * $store_eps") |"
  echo "| HTTP ≥ 100k events/s acknowledged | $(fmt "$http_eps")/s | $(met "$http_eps >= 100000") |"
  echo "| HTTP ack p99 ≤ 50 ms | $http_p99 ms | $(met "$http_p99 <= 50") |"
  echo "| HTTP graph complete ≤ 2 s after the last ack | $(printf %.1f "${T_AFTER_ACK[http]}") s | $(met "${T_AFTER_ACK[http]} <= 2") |"
  echo "| WebSocket ≥ 150k events/s and ≥ HTTP | $(fmt "$ws_eps")/s (ack p99 $ws_p99 ms) | $(met "$ws_eps >= 150000 && $ws_eps >= $http_eps") |"
  echo "| reads ≥ 20k lookups/s while ingesting $(fmt "$ingest_eps")/s | $(fmt "$wrk_rps")/s | $(met "$wrk_rps >= 20000") |"
  echo "| reads p99 ≤ 5 ms while ingesting $(fmt "$ingest_eps")/s | $wrk_p99 | $(met "$reads_p99_ms <= 5") |"
  echo "| reads p99 while ingesting at full speed (reported) | $(wrk_pct_of reads-full 99%) at $(fmt "$full_ingest_eps") events/s | reported |"
  echo "| PostgreSQL takes ≥ 10× as long to a stitched graph, graphs equal | ${peer_ratio}×, equal | $(met "$peer_ratio >= 10") |"
  echo "| store bytes per event ≤ 400 (pipeline; HTTP; WebSocket) | $(fmt "$pipe_bpe"); $(fmt "${BYTES_PER_EVENT[http]}"); $(fmt "${BYTES_PER_EVENT[websocket]}") | $(met "$pipe_bpe <= 400 && ${BYTES_PER_EVENT[http]} <= 400 && ${BYTES_PER_EVENT[websocket]} <= 400") |"
  echo "| fitting 100,000 customers' summaries takes < 10 s (P1) | $(value fit_seconds "$PF") s (with the store read: $(value scan_fit_seconds "$PF") s) | $(met "$(value fit_seconds "$PF") < 10") |"
  echo "| \`tessera match\` on 100,000 rows < 60 s on $CORES cores (M1) | $(printf %.1f "$(value m1_seconds "$WORK/match.log")") s | $(met "$(value m1_seconds "$WORK/match.log") < 60") |"
  if [ "$ENCRYPTED" = 1 ]; then
    enc_http_eps="$(eps_of http-enc)"
    echo "| encryption at rest costs ≤ 10% of pipeline throughput (E3 vs 3) | $(pct "$(echo "$pipe_eps - $enc_pipe_eps" | bc -l)" "$pipe_eps") | $(met "$enc_pipe_eps >= 0.9 * $pipe_eps") |"
    echo "| encryption at rest costs ≤ 10% of HTTP throughput (E4 vs 4) | $(pct "$(echo "$http_eps - $enc_http_eps" | bc -l)" "$http_eps") | $(met "$enc_http_eps >= 0.9 * $http_eps") |"
  fi
  if [ "$DESTINATIONS" = 1 ]; then
    cost="$(median "${D1_COST[@]}")"; down="$(median "${D2_OF_D1[@]}")"
    echo "| three destinations cost ≤ 20% of HTTP throughput (D1 vs 4 of the same round, median of $DEST_ROUNDS) | $(printf %.1f%% "$cost") (rounds: $(pct_list "${D1_COST[@]}")) | $(met "$cost <= 20") |"
    echo "| destinations that are down do not slow ingestion: D2 ≥ 90% of D1 (same round, median of $DEST_ROUNDS) | $(printf %.1f%% "$down") (rounds: $(pct_list "${D2_OF_D1[@]}")) | $(met "$down >= 90") |"
  fi
  if [ "$EVENTS" -ge 10000000 ]; then
    echo "| 10M events: per-event cost within 20% of the 1M run | $(printf '%.2f' "$(echo "1000000 / $pipe_eps" | bc -l)") µs per applied event; compare with the 1M table | compare |"
  else
    echo "| 10M events: per-event cost within 20% of the 1M run | not part of this run (--events $EVENTS) | not measured |"
  fi
} > "$TABLE"
cat "$TABLE"

if [ "$WRITE" = 1 ]; then
  DOC="$ROOT/docs/benchmarks.md"
  BEGIN='<!-- run.sh table: begin -->'
  END='<!-- run.sh table: end -->'
  if ! grep -q "$BEGIN" "$DOC"; then
    printf '\n## Tessera against its limits and a peer (tools/bench/run.sh)\n\n%s\n%s\n' "$BEGIN" "$END" >> "$DOC"
  fi
  awk -v begin="$BEGIN" -v end="$END" -v table="$TABLE" '
    $0 == begin { print; while ((getline line < table) > 0) print line; skip = 1; next }
    $0 == end { skip = 0 }
    !skip { print }' "$DOC" > "$DOC.tmp" && mv "$DOC.tmp" "$DOC"
  echo "run.sh: the table is in docs/benchmarks.md"
fi
