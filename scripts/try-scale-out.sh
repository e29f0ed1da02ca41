#!/usr/bin/env bash
# Starts a throwaway PostgreSQL and three `vantage server` replicas on one machine, for trying the scale-out
# setup of docs/scale-out.md. Ctrl-C stops everything and deletes the cluster.
#   scripts/try-scale-out.sh            # replicas on 127.0.0.1:18080, :18081, :18082 (worker ports 19080…,
#                                       # dashboards on https://127.0.0.1:18180…)
# Needs the PostgreSQL server binaries (Debian: apt-get install postgresql; PG_BIN overrides the directory)
# and a build (npm run build). As root, PostgreSQL runs as the `postgres` user.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
[ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL binaries not found (set PG_BIN)" >&2; exit 1; }
[ -f dist/cli/main.js ] || npm run build
DIR="$(mktemp -d /tmp/vantage-scale-out.XXXXXX)"
PGPORT="${PGPORT:-15432}"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres: "$DIR"
as_pg "$PG_BIN/initdb" -D "$DIR/data" -A trust -U postgres --no-sync >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/postgres.log" -w -o "-p $PGPORT -k $DIR -c listen_addresses=127.0.0.1" start >/dev/null
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT INT TERM
as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -qc 'CREATE DATABASE vantage' >/dev/null
DB="postgres://postgres@127.0.0.1:$PGPORT/vantage"
for i in 0 1 2; do
  node dist/cli/main.js server --host 127.0.0.1 --port $((18080 + i)) --worker-port $((19080 + i)) --web-port $((18180 + i)) --database "$DB" \
    >"$DIR/replica-$i.log" 2>&1 &
  PIDS+=($!)
done
echo "PostgreSQL: $DB"
for i in 0 1 2; do
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$((18080 + i))/health" >/dev/null && break; sleep 0.1; done
  echo "replica $i: http://127.0.0.1:$((18080 + i))  dashboard https://127.0.0.1:$((18180 + i))/  (log $DIR/replica-$i.log)"
done
echo "leader: $(grep -l 'acquired the leader lock' "$DIR"/replica-*.log | xargs -n1 basename 2>/dev/null || echo none yet)"
echo "Try: register on one replica, route on another:"
echo "  curl -s localhost:18080/register -d '{\"client_id\":\"b1\",\"hostname\":\"b1\",\"total_cpu\":4,\"total_memory_gb\":8,\"total_storage_gb\":50,\"endpoint_url\":\"http://127.0.0.1:9\"}'"
echo "  curl -s localhost:18080/stats -d '{\"client_id\":\"b1\",\"hostname\":\"b1\",\"timestamp\":\"$(date -u +%FT%TZ)\",\"cpu_cores\":4,\"cpu_usage_avg\":[5,5,5,5],\"memory_total_gb\":8,\"memory_used_gb\":1,\"memory_avail_gb\":7,\"disk_total_gb\":50,\"disk_used_gb\":5,\"disk_avail_gb\":45}'"
echo "  curl -s localhost:18081/route -d '{\"tier\":\"small\",\"client_ip\":\"203.0.113.9\"}'"
echo "Kill the leader (kill -9 <pid>) and watch another replica's log take over. Ctrl-C to stop."
wait
