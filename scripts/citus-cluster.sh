#!/usr/bin/env bash
# A throwaway three-node Citus cluster on this machine, for the tests and benchmarks on Citus:
# a coordinator and two workers, three PostgreSQL 15 instances on 127.0.0.1 with
# shared_preload_libraries = 'citus', each one a scripts/throwaway-postgres.sh server.
#   scripts/citus-cluster.sh start [--durable]   starts it; the last line printed is the coordinator's
#       DATABASE_URL, then the two workers' URLs, separated by spaces. Ports: $CITUS_PORT (default
#       9700) for the coordinator, the next two for the workers.
#   scripts/citus-cluster.sh stop [LIST]         stops the three servers and removes their folders (LIST:
#       the file naming them, by default the one of the cluster started last).
# Citus must be installed in PostgreSQL 15: it is built once from shared/vendor/citus
# (scripts/build-citus.sh) when it is not. An operator installs Citus's own packages (docs/SCALING.md).
# Without --durable, fsync and synchronous commit are off (tests).
set -euo pipefail
cmd=${1:-start}
here=$(cd "$(dirname "$0")" && pwd)
base=${CITUS_PORT:-9700}
last=/tmp/rempart-citus.last
export PGBIN=/usr/lib/postgresql/15/bin

case "$cmd" in
start)
  if [ ! -f "$(pg_config --pkglibdir 2>/dev/null)/citus.so" ]; then
    echo "building citus (scripts/build-citus.sh)" >&2
    "$here/build-citus.sh" >&2
  fi
  list=$(mktemp /tmp/rempart-citus.XXXXXX)
  urls=()
  for i in 0 1 2; do
    port=$((base + i))
    PGPORT=$port PG_EXTRA_SETTINGS="-c shared_preload_libraries=citus -c max_connections=300 \
      -c max_prepared_transactions=200 -c citus.propagate_set_commands=local" \
      "$here/throwaway-postgres.sh" start ${2:-} >>"$list"
    url="postgres://postgres@127.0.0.1:$port/postgres"
    psql -X -q -v ON_ERROR_STOP=1 "$url" -c "CREATE EXTENSION citus" >/dev/null
    urls+=("$url")
  done
  psql -X -q -v ON_ERROR_STOP=1 "${urls[0]}" -c "SELECT citus_set_coordinator_host('127.0.0.1', $base)" \
    -c "SELECT citus_add_node('127.0.0.1', $((base + 1)))" -c "SELECT citus_add_node('127.0.0.1', $((base + 2)))" >/dev/null
  echo "$list" >"$last"
  echo "cluster folders listed in $list" >&2
  echo "${urls[*]}"
  ;;
stop)
  list=${2:-$(cat "$last" 2>/dev/null || true)}
  [ -n "$list" ] && [ -f "$list" ] || { echo "no cluster to stop" >&2; exit 0; }
  while read -r dir; do "$here/throwaway-postgres.sh" stop "$dir"; done <"$list"
  rm -f "$list"
  [ "$(cat "$last" 2>/dev/null || true)" = "$list" ] && rm -f "$last"
  ;;
*)
  echo "usage: $0 start [--durable] | stop [LIST]" >&2
  exit 2
  ;;
esac
