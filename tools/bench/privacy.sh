#!/usr/bin/env bash
# A measurement, not a test (docs/benchmarks.md, "Privacy"): HTTP ingestion into a fresh store with
# an empty suppression list and with 1,000 suppressed identifiers (none of them in the load), twice
# each, then the erasure of the busiest person of the second store. Needs a Release build, curl, bc.
set -euo pipefail
B="$(cd "$(dirname "$0")/../.." && pwd)/build/tools"
start_server() {  # $1: dir
  cat > $1/config.json <<JSON
{"listen":{"address":"127.0.0.1","port":18190},"data_dir":"$1/data",
 "sources":[{"name":"web","write_key":"wk-bench","channel":"web"}],
 "read_keys":["rk-bench"],"admin_keys":["ak-bench"]}
JSON
  $B/tessera serve --config $1/config.json > $1/server.log 2>&1 &
  PID=$!
  for i in $(seq 1 100); do curl -s localhost:18190/readyz >/dev/null && break; sleep 0.2; done
}
stop_server() { kill -TERM $PID; wait $PID || true; }
for round in 1 2; do
  A=$(mktemp -d /tmp/pbench.XXXX); start_server $A
  echo "== round $round, empty suppression list"
  $B/tessera-load --port 18190 --write-key wk-bench --connections 16 --duration 20s --seed 1 2>&1 | grep -E "^events:|^ack latency"
  stop_server; rm -rf $A
  S=$(mktemp -d /tmp/pbench.XXXX); start_server $S
  for i in $(seq 1 1000); do
    curl -s -o /dev/null -X POST -H "Authorization: Bearer ak-bench" localhost:18190/v1/privacy/erase -d "{\"type\":\"email\",\"value\":\"nobody-$i@example.org\"}"
  done
  until curl -s localhost:18190/metrics | grep -q '^tessera_privacy_erasures_total{space="default"} 1000'; do sleep 0.2; done
  echo "== round $round, 1000 suppressed identifiers (none in the load)"
  $B/tessera-load --port 18190 --write-key wk-bench --connections 16 --duration 20s --seed 1 2>&1 | grep -E "^events:|^ack latency"
  if [ $round = 2 ]; then
    until curl -s localhost:18190/metrics | grep -q '^tessera_resolver_lag_events{space="default"} 0'; do sleep 0.5; done
    best=""; bestn=0
    for n in $(seq 0 40); do
      c=$(curl -s -H "Authorization: Bearer rk-bench" "localhost:18190/v1/profiles/user_id:user-$n?fields=eventCount" | sed -n 's/.*"eventCount":\([0-9]*\).*/\1/p')
      if [ -n "$c" ] && [ "$c" -gt "$bestn" ]; then best=user-$n; bestn=$c; fi
    done
    echo "== erase $best ($bestn events on the profile) in a store of $(du -sh $S/data/store | cut -f1)"
    t0=$(date +%s.%N)
    ID=$(curl -s -X POST -H "Authorization: Bearer ak-bench" localhost:18190/v1/privacy/erase -d "{\"type\":\"user_id\",\"value\":\"$best\"}" | sed 's/.*"id":"\([^"]*\)".*/\1/')
    until curl -s -H "Authorization: Bearer ak-bench" localhost:18190/v1/privacy/erase/$ID | grep -q completed; do sleep 0.02; done
    t1=$(date +%s.%N)
    curl -s -H "Authorization: Bearer ak-bench" localhost:18190/v1/privacy/erase/$ID; echo
    echo "request to completed: $(echo "$t1 - $t0" | bc) s"
  fi
  stop_server; rm -rf $S
done
