#!/usr/bin/env bash
# The cluster rows of tools/bench/run.sh (run.sh --cluster; docs/benchmarks.md): three nats-server
# processes with JetStream on loopback ports, then Tessera processes in their roles, over run.sh's
# corpus:
#   C1  events/s acknowledged through one gateway (each event stored by a quorum of three JetStream
#       servers, which sync their files to disk periodically, not per message), and JetStream's
#       bytes per event;
#   C2  the same through two gateways at once (half the corpus each), with a replica following:
#       its lag sampled every 100 ms (p99), and how long after the last acknowledgement it caught up
#       (its apply rate here is bounded by the ingest rate: C3 measures its capacity);
#   C3  a resolver started on the full stream with an empty store: its copy-and-apply rate;
#   C4  profile lookups on the replica (wrk) while a gateway ingests at --ingest-rate: lookups/s,
#       p50 and p99, and the replica's lag p99 meanwhile.
# Prints RESULT lines (key=value) that run.sh turns into rows. Called by run.sh with its variables
# in the environment: BIN, WORK, CORPUS, KEYS, CONNECTIONS, EVENTS, INGEST_RATE, READ_SECONDS.
set -euo pipefail
: "${BIN:?}" "${WORK:?}" "${CORPUS:?}" "${KEYS:?}" "${CONNECTIONS:?}" "${EVENTS:?}" "${INGEST_RATE:?}" "${READ_SECONDS:?}"
CW="$WORK/cluster"
mkdir -p "$CW"
NATS_BIN="$(command -v nats-server || echo /usr/sbin/nats-server)"
NATS_PORTS=(18480 18481 18482)
ROUTE_PORTS=(18483 18484 18485)
NATS_PIDS=()
declare -A MEMBER_PID MEMBER_PORT
now() { date +%s.%N; }

SAMPLER=""
LOADS=()
# On any way out (set -e included): the samplers and load generators, the members, then NATS,
# each waited for by its own pid (a bare `wait` would wait for NATS and the endless sampler).
cleanup_cluster() {
  local pids=()
  if [ -n "$SAMPLER" ]; then pids+=("$SAMPLER"); fi
  pids+=("${LOADS[@]}")
  for name in "${!MEMBER_PID[@]}"; do pids+=("${MEMBER_PID[$name]}"); done
  pids+=("${NATS_PIDS[@]}")
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup_cluster EXIT

nats_up() {  # A fresh three-server cluster with empty stores.
  rm -rf "$CW/nats"; mkdir -p "$CW/nats"
  NATS_PIDS=()
  for i in 0 1 2; do
    local routes=()
    for j in 0 1 2; do [ "$j" != "$i" ] && routes+=("nats-route://127.0.0.1:${ROUTE_PORTS[$j]}"); done
    mkdir -p "$CW/nats/n$i"
    cat > "$CW/nats/n$i.conf" <<CONF
server_name: n$i
listen: 127.0.0.1:${NATS_PORTS[$i]}
jetstream { store_dir: "$CW/nats/n$i", max_memory_store: 256MB, max_file_store: 64GB }
cluster { name: tessera-bench, listen: 127.0.0.1:${ROUTE_PORTS[$i]}, routes: [ ${routes[0]}, ${routes[1]} ] }
CONF
    "$NATS_BIN" -c "$CW/nats/n$i.conf" > "$CW/nats/n$i.log" 2>&1 &
    NATS_PIDS+=($!)
  done
  member_config init gateway 0
  for _ in $(seq 1 60); do
    if "$BIN/tessera" cluster init --config "$CW/init.json" --timeout-ms 2000 > "$CW/init.log" 2>&1; then return 0; fi
    sleep 0.5
  done
  cat "$CW/init.log" >&2
  return 1
}
nats_down() {
  for pid in "${NATS_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  NATS_PIDS=()
  rm -rf "$CW/nats"
}

member_config() {  # NAME ROLE PORT
  cat > "$CW/$1.json" <<JSON
{"listen":{"address":"127.0.0.1","port":$3},"data_dir":"$CW/$1",
 "sources":[{"name":"web","write_key":"wk-web","channel":"web"},{"name":"app","write_key":"wk-app","channel":"app"},
            {"name":"pos","write_key":"wk-pos","channel":"pos"},{"name":"email","write_key":"wk-email","channel":"email"}],
 "read_keys":["rk-bench"],"admin_keys":["ak-bench"],
 "cluster":{"nats_urls":["nats://127.0.0.1:${NATS_PORTS[0]}","nats://127.0.0.1:${NATS_PORTS[1]}","nats://127.0.0.1:${NATS_PORTS[2]}"],
            "role":"$2","name":"$1","stream_replicas":3}}
JSON
}
start_member() {  # NAME ROLE PORT
  member_config "$1" "$2" "$3"
  "$BIN/tessera" serve --config "$CW/$1.json" > "$CW/$1.log" 2>&1 &
  MEMBER_PID[$1]=$!
  MEMBER_PORT[$1]=$3
  for _ in $(seq 1 300); do
    if curl -sf "http://127.0.0.1:$3/readyz" > /dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  tail -5 "$CW/$1.log" >&2
  return 1
}
stop_member() {
  kill -TERM "${MEMBER_PID[$1]}" 2>/dev/null || true; wait "${MEMBER_PID[$1]}" || true
  unset "MEMBER_PID[$1]"
}
gauge() {  # NAME METRIC: the member's value of METRIC{space="default"}
  curl -s "http://127.0.0.1:${MEMBER_PORT[$1]}/metrics" | sed -n "s/^$2{space=\"default\"} \([0-9]*\)$/\1/p"
}
stream_last() { "$BIN/tessera" cluster status --config "$CW/init.json" | awk '$1 == "default" {print $4; exit}'; }
# Samples the replica's lag every 100 ms into FILE until killed; a failed read is skipped, not a 0.
sample_lag() {
  set +e
  while true; do
    local lag
    lag="$(gauge "$1" tessera_cluster_apply_lag_messages)"
    if [ -n "$lag" ]; then echo "$lag" >> "$2"; fi
    sleep 0.1
  done
}
p99() { sort -n "$1" | awk '{v[NR]=$1} END {if (NR == 0) print 0; else {i=int(NR*0.99); if (i < 1) i=1; print v[i]}}'; }
ack_p99() { sed -n 's/^ack latency: p50 [0-9.]* ms  p90 [0-9.]* ms  p99 \([0-9.]*\) ms.*/\1/p' "$1"; }
accepted_of() { sed -n 's/^events: *\([0-9]*\) accepted.*/\1/p' "$1"; }

# --- C1: one gateway ----------------------------------------------------------------------------
nats_up
start_member gateway-1 gateway 18490
t0="$(now)"
"$BIN/tessera-load" --port 18490 --corpus "$CORPUS" --keys "$KEYS" --connections "$CONNECTIONS" > "$CW/c1.log" 2>&1
t1="$(now)"
grep -E '^events:|^ack latency' "$CW/c1.log"
[ "$(accepted_of "$CW/c1.log")" = "$EVENTS" ] || { echo "C1: not every event was accepted" >&2; exit 1; }
read -r messages bytes < <("$BIN/tessera" cluster status --config "$CW/init.json" | awk '$1 == "default" {print $3, $5; exit}')
echo "RESULT c1_events_per_s=$(echo "$EVENTS / ($t1 - $t0)" | bc -l) c1_ack_p99_ms=$(ack_p99 "$CW/c1.log") jetstream_bytes_per_event=$((bytes / messages)) c1_rss_kib=$(awk '/^VmHWM/ {print $2}' "/proc/${MEMBER_PID[gateway-1]}/status")"
stop_member gateway-1
nats_down

# --- C2: two gateways, a replica following ------------------------------------------------------
nats_up
rm -rf "$CW/replica-1" "$CW/gateway-1" "$CW/gateway-2"
start_member replica-1 replica 18492
start_member gateway-1 gateway 18490
start_member gateway-2 gateway 18491
split -n l/2 -d "$CORPUS" "$CW/half."
: > "$CW/lag-full.txt"
sample_lag replica-1 "$CW/lag-full.txt" &
SAMPLER=$!
t0="$(now)"
"$BIN/tessera-load" --port 18490 --corpus "$CW/half.00" --keys "$KEYS" --connections $((CONNECTIONS / 2)) > "$CW/c2a.log" 2>&1 &
A=$!
"$BIN/tessera-load" --port 18491 --corpus "$CW/half.01" --keys "$KEYS" --connections $((CONNECTIONS / 2)) > "$CW/c2b.log" 2>&1 &
B=$!
LOADS=("$A" "$B")
status_a=0; status_b=0
wait "$A" || status_a=$?
wait "$B" || status_b=$?
LOADS=()
[ "$status_a" = 0 ] && [ "$status_b" = 0 ] || { echo "C2: a load generator failed" >&2; exit 1; }
t1="$(now)"
grep -E '^events:|^ack latency' "$CW/c2a.log" "$CW/c2b.log"
total=$(( $(accepted_of "$CW/c2a.log") + $(accepted_of "$CW/c2b.log") ))
[ "$total" = "$EVENTS" ] || { echo "C2: $total of $EVENTS events accepted" >&2; exit 1; }
last="$(stream_last)"
for _ in $(seq 1 6000); do
  [ "$(gauge replica-1 tessera_cluster_applied_position)" = "$last" ] && break
  sleep 0.1
done
t2="$(now)"
kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true; SAMPLER=""
[ "$(gauge replica-1 tessera_cluster_applied_position)" = "$last" ] || { echo "C2: the replica did not catch up" >&2; exit 1; }
p99a="$(ack_p99 "$CW/c2a.log")"; p99b="$(ack_p99 "$CW/c2b.log")"
echo "RESULT c2_events_per_s=$(echo "$EVENTS / ($t1 - $t0)" | bc -l) c2_ack_p99_ms=$(echo "if ($p99a > $p99b) $p99a else $p99b" | bc -l) c2_replica_lag_p99=$(p99 "$CW/lag-full.txt") c2_replica_caught_up_s=$(echo "$t2 - $t1" | bc -l) replica_apply_events_per_s=$(echo "$EVENTS / ($t2 - $t0)" | bc -l)"

# --- C3: a resolver from an empty store on the full stream --------------------------------------
rm -rf "$CW/resolver-1"
t0="$(now)"
start_member resolver-1 resolver 18493
for _ in $(seq 1 12000); do
  [ "$(gauge resolver-1 tessera_cluster_applied_position)" = "$last" ] && break
  sleep 0.05
done
t1="$(now)"
[ "$(gauge resolver-1 tessera_cluster_applied_position)" = "$last" ] || { echo "C3: the resolver did not catch up" >&2; exit 1; }
c3_rss="$(awk '/^VmHWM/ {print $2}' "/proc/${MEMBER_PID[resolver-1]}/status")"
stop_member resolver-1  # A clean stop flushes the memtables, as the embedded rows' stores are measured.
echo "RESULT c3_events_per_s=$(echo "$last / ($t1 - $t0)" | bc -l) c3_rss_kib=$c3_rss c3_store_bytes_per_event=$(( $(du -sb "$CW/resolver-1/store" | cut -f1) / last ))"

# --- C4: reads on the replica while ingesting ---------------------------------------------------
"$BIN/tessera" bench graph --config "$CW/resolver-1.json" --out "$CW/graph.tsv" > "$CW/graph.log" 2>&1
grep '^user_id:' "$CW/graph.tsv" | cut -f1 | shuf -n 100000 --random-source=<(yes) > "$CW/ids.txt"
cat > "$CW/lookup.lua" <<LUA
local ids = {}
for line in io.lines("$CW/ids.txt") do ids[#ids + 1] = line end
math.randomseed(42)
request = function()
  return wrk.format("GET", "/v1/profiles/" .. ids[math.random(#ids)], {["Authorization"] = "Bearer rk-bench"})
end
LUA
: > "$CW/lag-reads.txt"
"$BIN/tessera-load" --port 18490 --write-key wk-web --connections 4 --rate "$INGEST_RATE" \
  --duration "$((READ_SECONDS + 4))s" > "$CW/c4-ingest.log" 2>&1 &
LOAD=$!
LOADS=("$LOAD")
sleep 2
sample_lag replica-1 "$CW/lag-reads.txt" &
SAMPLER=$!
wrk -t2 -c16 -d"${READ_SECONDS}s" --latency -s "$CW/lookup.lua" "http://127.0.0.1:18492" > "$CW/c4.log" 2>&1
kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true; SAMPLER=""
wait "$LOAD"
LOADS=()
cat "$CW/c4.log" | grep -E 'Requests/sec|50%|99%|Non-2xx' || true
if grep -q 'Non-2xx' "$CW/c4.log"; then echo "C4: some lookups did not answer 200" >&2; exit 1; fi
wrk_ms() { awk -v p="$1" '$1 == p {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); print v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v} else {sub(/s$/,"",v); print v*1000}}' "$CW/c4.log"; }
echo "RESULT c4_lookups_per_s=$(sed -n 's/^Requests\/sec: *\([0-9.]*\)/\1/p' "$CW/c4.log") c4_p50_ms=$(wrk_ms 50%) c4_p99_ms=$(wrk_ms 99%) c4_ingest_events_per_s=$(sed -n 's/^events: *[0-9]* accepted (\([0-9]*\)\/s).*/\1/p' "$CW/c4-ingest.log") c4_replica_lag_p99=$(p99 "$CW/lag-reads.txt")"
for name in gateway-1 gateway-2 replica-1; do stop_member "$name"; done
nats_down
