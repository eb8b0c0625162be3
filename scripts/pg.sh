#!/usr/bin/env bash
# Starts Debian's PostgreSQL (installed by scripts/deps.sh) and prints the
# DSN of a throw-away test database for the fleet's PostgreSQL tests:
#   eval "$(scripts/pg.sh)"   # sets SCANBOX_FLEET_PG
# Needs root (it starts the cluster as the postgres user). Idempotent.
set -euo pipefail
if [[ $(id -u) -ne 0 ]]; then
  echo "scripts/pg.sh: run as root, or set SCANBOX_FLEET_PG to a PostgreSQL DSN yourself" >&2
  exit 2
fi
ver=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
if [[ -z $ver ]]; then
  echo "scripts/pg.sh: PostgreSQL is not installed (scripts/deps.sh core installs it)" >&2
  exit 2
fi
if ! pg_lsclusters -h 2>/dev/null | awk '{print $1"/"$2}' | grep -qx "$ver/main"; then
  pg_createcluster "$ver" main >/dev/null 2>&1
fi
pg_ctlcluster "$ver" main start >/dev/null 2>&1 || true
for _ in $(seq 1 50); do
  pg_isready -q -h 127.0.0.1 && break
  sleep 0.2
done
pg_isready -q -h 127.0.0.1 || { echo "scripts/pg.sh: PostgreSQL did not start" >&2; exit 2; }
# A fixed local test role: the cluster listens on loopback only (Debian's default).
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='scanbox_test'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"CREATE ROLE scanbox_test LOGIN PASSWORD 'scanbox_test' CREATEDB\"" >/dev/null 2>&1
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='scanbox_test'\"" | grep -q 1 ||
  su postgres -c "createdb -O scanbox_test scanbox_test" >/dev/null
echo "export SCANBOX_FLEET_PG='postgres://scanbox_test:scanbox_test@127.0.0.1:5432/scanbox_test?sslmode=disable'"
