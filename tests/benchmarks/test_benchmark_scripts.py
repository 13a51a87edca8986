"""The benchmark scripts run and print the JSON they promise (sizes reduced with --quick)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO


def run_script(name: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / name), *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    return json.loads(out.stdout)


@pytest.mark.slow
def test_robustness_quick_has_no_failures_and_learns():
    report = run_script("robustness.py", "--quick")
    total = report["total"]
    assert set(total) == {"runs", "exceptions", "non_finite", "degenerate"}
    assert total["runs"] == sum(c["runs"] for c in report["cells"]) > 0
    assert total["exceptions"] == total["non_finite"] == total["degenerate"] == 0
    assert report["demo_accuracy"] >= 0.95
    assert report["kl_check"]["all_decreased"] and report["kl_check"]["runs"] > 0
    # the original free-matrix parameterisation does fail on the same task
    failures = {r["lr_cov"]: r["failed"] for r in report["original_full_matrix_failures"]}
    assert failures[0.01] == 3
    cell = report["cells"][0]
    for key in ("mode", "rate", "momentum", "dtype", "generative", "accuracy"):
        assert key in cell
