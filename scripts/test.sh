#!/usr/bin/env bash
# The project's one test command: installs everything the tests need, then runs the checks
# (ruff lint + format, mypy on src/, the import-layer contract) and the test suite.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k ece`.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== installing confide with the test extra" >&2
python -m pip install --quiet --disable-pip-version-check -e ".[test]"

echo "== PostgreSQL and Chromium for the service tests" >&2
# shellcheck source=scripts/services.sh
source scripts/services.sh

echo "== ruff (lint, format)" >&2
python -m ruff check src tests bench
python -m ruff format --check src tests bench
echo "== mypy src/" >&2
python -m mypy
echo "== import layers" >&2
lint-imports
echo "== pytest" >&2
python -m pytest "$@"
