#!/usr/bin/env bash
# A streaming replica (hot standby) of a PostgreSQL server on this machine, for measuring what the
# portal's and the history's reads would see from a replica (docs/SCALING.md, "Read replicas").
#   scripts/standby.sh start PRIMARY_PORT [STANDBY_PORT]   copies the primary on 127.0.0.1:PRIMARY_PORT
#       (pg_basebackup, replication slot "rempart_standby"), starts it read-only on STANDBY_PORT
#       (default PRIMARY_PORT + 1) and prints its folder; connect with
#       postgres://postgres@127.0.0.1:STANDBY_PORT/DB.
#   scripts/standby.sh stop DIR PRIMARY_PORT              stops it, drops the slot, removes the folder.
# The primary must accept replication connections from 127.0.0.1 (scripts/throwaway-postgres.sh's
# servers do: trust for every local connection). As root, the server runs as the user "postgres".
set -euo pipefail
cmd=${1:-}

find_bin() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r) /usr/local/bin; do
    if [ -x "$dir/pg_basebackup" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
  done
  return 1
}
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
PGBIN=${PGBIN:-$(find_bin)}

case "$cmd" in
start)
  primary=${2:?usage: start PRIMARY_PORT [STANDBY_PORT]}
  port=${3:-$((primary + 1))}
  dir=$(mktemp -d /tmp/rempart-standby.XXXXXX)
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$primary" -U postgres -D "$dir/data" \
    --write-recovery-conf --create-slot --slot rempart_standby --checkpoint fast --wal-method stream \
    >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; exit 1; }
  # A hot standby needs these at least as high as on the primary (set there on its command line,
  # which the copy does not carry): read them from the primary.
  same=$(as_pg psql -h 127.0.0.1 -p "$primary" -U postgres -d postgres -qAtc \
    "SELECT string_agg('-c ' || name || '=' || setting, ' ') FROM pg_settings WHERE name IN
       ('max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions',
        'max_locks_per_transaction', 'shared_buffers', 'shared_preload_libraries')
       AND setting <> ''")
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-k $dir -c listen_addresses=127.0.0.1 -p $port -c hot_standby=on -c hot_standby_feedback=on $same" \
    start >&2 || { cat "$dir/server.log" >&2; exit 1; }
  echo "$dir"
  ;;
stop)
  dir=${2:?usage: stop DIR PRIMARY_PORT}
  primary=${3:?usage: stop DIR PRIMARY_PORT}
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  as_pg psql -h 127.0.0.1 -p "$primary" -U postgres -d postgres -qAtc \
    "SELECT pg_drop_replication_slot('rempart_standby') FROM pg_replication_slots WHERE slot_name = 'rempart_standby'" \
    >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start PRIMARY_PORT [STANDBY_PORT] | stop DIR PRIMARY_PORT" >&2
  exit 2
  ;;
esac
