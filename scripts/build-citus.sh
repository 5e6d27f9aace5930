#!/usr/bin/env bash
# Builds and installs Citus 13.2.2 (distributed PostgreSQL; the last release for PostgreSQL 15)
# into this machine's PostgreSQL 15, from the source kept in shared/vendor/citus, for the tests on
# a Citus cluster (scripts/citus-cluster.sh). An operator installs Citus from Citus's own packages
# instead (docs/SCALING.md). Idempotent: does nothing when citus.so is installed. Run as root.
#   scripts/build-citus.sh            source from $REMPART_CITUS_SOURCE, ../shared/vendor/citus or /work/shared/vendor/citus
# The vendored patch removes Citus's own have_createdb_privilege for PostgreSQL builds that export
# it; it is applied only when the installed server headers declare that function.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
pkglib=$(pg_config --pkglibdir 2>/dev/null || true)
if [ -n "$pkglib" ] && [ -f "$pkglib/citus.so" ]; then echo "citus already installed in $pkglib"; exit 0; fi
src=${REMPART_CITUS_SOURCE:-}
for candidate in "$src" "$here/../shared/vendor/citus" /work/shared/vendor/citus; do
  if [ -n "$candidate" ] && [ -f "$candidate/citus-13.2.2.tar.gz" ]; then src=$candidate; break; fi
done
[ -f "$src/citus-13.2.2.tar.gz" ] || { echo "citus source not found (set REMPART_CITUS_SOURCE)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq postgresql-15 postgresql-server-dev-15 libcurl4-openssl-dev liblz4-dev libzstd-dev \
  libkrb5-dev libselinux1-dev libxslt1-dev libpam0g-dev libssl-dev libreadline-dev libicu-dev >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xzf "$src/citus-13.2.2.tar.gz" -C "$work"
cd "$work/citus-13.2.2"
if grep -q have_createdb_privilege "$(pg_config --includedir-server)/commands/dbcommands.h"; then
  patch -p1 -s < "$src/citus-pg15.18.patch"
fi
./configure --quiet >/dev/null
make -s -j"$(nproc)" >/dev/null 2>&1 || make -j1   # show the error if the parallel build fails
make -s install >/dev/null
echo "citus installed in $(pg_config --pkglibdir)"
