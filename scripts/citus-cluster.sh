#!/usr/bin/env bash
# A throwaway three-node Citus cluster on this machine, for the tests and benchmarks on Citus:
# a coordinator and two workers, three PostgreSQL 15 instances on 127.0.0.1 with
# shared_preload_libraries = 'citus'.
#   scripts/citus-cluster.sh start [--durable]   starts it (folder in /tmp); the last line printed is the
#       coordinator's DATABASE_URL, then the two workers' URLs, separated by spaces. Ports: $CITUS_PORT
#       (default 9700) for the coordinator, the next two for the workers.
#   scripts/citus-cluster.sh stop [DIR]          stops the three servers and removes their folders (DIR
#       defaults to the cluster started last).
# Citus must be installed in PostgreSQL 15: it is built once from shared/vendor/citus
# (scripts/build-citus.sh) when it is not. An operator installs Citus's own packages (docs/SCALING.md).
# As root, the servers run as the unprivileged user "postgres". Without --durable, fsync and
# synchronous commit are off (tests).
set -euo pipefail
cmd=${1:-start}
here=$(cd "$(dirname "$0")" && pwd)
base=${CITUS_PORT:-9700}
last=/tmp/rempart-citus.last
PGBIN=/usr/lib/postgresql/15/bin

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
  if [ ! -f "$(pg_config --pkglibdir 2>/dev/null)/citus.so" ]; then
    echo "building citus (scripts/build-citus.sh)" >&2
    "$here/build-citus.sh" >&2
  fi
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  fi
  settings="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${2:-}" = "--durable" ] && settings=""
  dir=$(mktemp -d /tmp/rempart-citus.XXXXXX)
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  urls=()
  for i in 0 1 2; do
    port=$((base + i))
    node="$dir/node$i"
    as_pg "$PGBIN/initdb" -D "$node" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb$i.log" 2>&1 \
      || { cat "$dir/initdb$i.log" >&2; exit 1; }
    as_pg "$PGBIN/pg_ctl" -D "$node" -l "$dir/server$i.log" -w -t 30 \
      -o "-k $dir -c listen_addresses=127.0.0.1 -p $port -c max_connections=300 -c shared_preload_libraries=citus -c max_prepared_transactions=200 -c citus.propagate_set_commands=local $settings" \
      start >&2 || { cat "$dir/server$i.log" >&2; exit 1; }
    urls+=("postgres://postgres@127.0.0.1:$port/postgres")
  done
  psql_c() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -d postgres -p "$1" -c "$2" >/dev/null; }
  for i in 0 1 2; do psql_c $((base + i)) "CREATE EXTENSION citus"; done
  psql_c "$base" "SELECT citus_set_coordinator_host('127.0.0.1', $base)"
  psql_c "$base" "SELECT citus_add_node('127.0.0.1', $((base + 1))); SELECT citus_add_node('127.0.0.1', $((base + 2)))"
  echo "$dir" >"$last"
  echo "cluster folder: $dir" >&2
  echo "${urls[*]}"
  ;;
stop)
  dir=${2:-$(cat "$last" 2>/dev/null || true)}
  [ -n "$dir" ] && [ -d "$dir" ] || { echo "no cluster folder to stop" >&2; exit 0; }
  for node in "$dir"/node*; do as_pg "$PGBIN/pg_ctl" -D "$node" -m fast -w stop >&2 || true; done
  rm -rf "$dir"
  [ "$(cat "$last" 2>/dev/null || true)" = "$dir" ] && rm -f "$last"
  ;;
*)
  echo "usage: $0 start [--durable] | stop [DIR]" >&2
  exit 2
  ;;
esac
