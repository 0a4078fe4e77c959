"""The numerical core imports only NumPy and SciPy; extras load only where they are used."""

from __future__ import annotations

import subprocess
import sys

HEAVY = [
    "pandas",
    "pyarrow",
    "matplotlib",
    "typer",
    "rich",
    "torch",
    "sklearn",
    "numba",
    "fastapi",
    "sqlalchemy",
    "dask",
    "transformers",
    "opentelemetry",
]


def test_core_import_pulls_no_extra():
    code = (
        "import sys, confide, confide.metrics, confide.scores, confide.scores.llm\n"
        "import confide.calibration, confide.decision, confide.monitor, confide.agent, confide.active\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_import_contract_passes():
    # The same contract the test command runs (import-linter), kept here so pytest alone sees it.
    import shutil

    exe = shutil.which("lint-imports")
    if exe is None:
        import pytest

        pytest.skip("import-linter is not installed (it comes with the test extra)")
    out = subprocess.run([exe], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout[-2000:]
