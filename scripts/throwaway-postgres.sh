#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and benchmarks, on 127.0.0.1:${PGPORT:-5433}.
#   scripts/throwaway-postgres.sh start [--durable]   starts a fresh server (folder in /tmp), prints the folder;
#       connect with postgres://postgres@127.0.0.1:${PGPORT:-5433}/postgres. Without --durable, fsync and
#       synchronous commit are off (tests); with it, PostgreSQL's defaults (benchmarks).
#   scripts/throwaway-postgres.sh stop DIR
# PostgreSQL refuses to run as root: as root, the server runs as the unprivileged user "postgres"
# (created if missing). Debian's postgresql package is installed when no binaries are found.
# PGBIN picks the server's binaries (default: the newest installed); PG_EXTRA_SETTINGS adds server
# settings ("-c name=value ...", as scripts/citus-cluster.sh does).
set -euo pipefail
cmd=${1:-start}
port=${PGPORT:-5433}

find_bin() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r) /usr/local/bin; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
  done
  return 1
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
  if [ -z "${PGBIN:-}" ] && ! PGBIN=$(find_bin); then
    echo "installing Debian's postgresql" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
    PGBIN=$(find_bin)
  fi
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  fi
  settings="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${2:-}" = "--durable" ] && settings=""
  settings="$settings ${PG_EXTRA_SETTINGS:-}"
  dir=$(mktemp -d /tmp/rempart-pg.XXXXXX)
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-k $dir -c listen_addresses=127.0.0.1 -p $port -c max_connections=200 $settings" \
    start >&2 || { cat "$dir/server.log" >&2; exit 1; }
  echo "$dir"
  ;;
stop)
  dir=${2:?usage: stop DIR}
  PGBIN=${PGBIN:-$(find_bin)}
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start | stop DIR" >&2
  exit 2
  ;;
esac
