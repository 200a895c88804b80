#!/usr/bin/env bash
# Regenerate requirements.lock (runtime) and requirements-dev.lock (tests and tools) from the
# pins in pyproject.toml, in throw-away virtual environments.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/rt" && "$tmp/rt/bin/pip" install -q --upgrade pip
"$tmp/rt/bin/pip" install -q .
"$tmp/rt/bin/pip" freeze --exclude chirp | LC_ALL=C sort > "$tmp/rt.txt"
python3 -m venv "$tmp/dev" && "$tmp/dev/bin/pip" install -q --upgrade pip
"$tmp/dev/bin/pip" install -q ".[dev]"
"$tmp/dev/bin/pip" freeze --exclude chirp | LC_ALL=C sort > "$tmp/dev.txt"
{ echo "# Runtime dependencies, fully pinned. Regenerate with scripts/lock.sh."; cat "$tmp/rt.txt"; } > requirements.lock
{
  echo "# Development and test dependencies on top of requirements.lock. Regenerate with scripts/lock.sh."
  echo "-r requirements.lock"
  LC_ALL=C comm -13 "$tmp/rt.txt" "$tmp/dev.txt"
} > requirements-dev.lock
echo "Wrote requirements.lock and requirements-dev.lock"
