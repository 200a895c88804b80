#!/usr/bin/env bash
# Make PostgreSQL, Redis and Chromium ready for the full test suite, idempotently.
# Usage: scripts/services.sh   (as root; prints the CHIRP_TEST_* exports to use)
set -euo pipefail

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "services: installing ${need_apt[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >&2
fi

# PostgreSQL: start the cluster, set the postgres password, create the test database.
pg_version=$(ls /etc/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h 2>/dev/null | awk '{print $4}' | grep -q online; then
  pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start >&2
fi
for _ in $(seq 1 30); do
  su postgres -c "pg_isready -q" && break
  sleep 0.5
done
su postgres -c "psql -q -v ON_ERROR_STOP=1" >&2 <<'SQL'
ALTER ROLE postgres WITH PASSWORD 'postgres';
SELECT 'CREATE DATABASE chirp_test' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'chirp_test')\gexec
SQL

# Redis: in memory only, on loopback.
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --save "" --appendonly no >&2
  for _ in $(seq 1 30); do
    redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break
    sleep 0.2
  done
fi

cat <<'ENV'
export CHIRP_TEST_DATABASE_URL=postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/chirp_test
export CHIRP_TEST_REDIS_URL=redis://127.0.0.1:6379/15
export CHIRP_TEST_REQUIRE_SERVICES=1
ENV
