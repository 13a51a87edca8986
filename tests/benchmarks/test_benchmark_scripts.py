"""The benchmark scripts run and print the JSON they promise (sizes reduced with --quick)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

from catmodel.fitting.intervals import Intervals
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


def load_script(name: str):
    """A benchmark script as a module (the folder is not a package)."""
    spec = importlib.util.spec_from_file_location(
        name.removesuffix(".py"), REPO / "benchmarks" / name
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_coverage_counts_empty_intervals_as_misses():
    coverage = load_script("coverage.py")
    nan = np.nan
    found = Intervals(
        low=np.array([[0.0, nan], [1.0, 0.0], [-1.0, 0.0], [2.0, nan]]),
        high=np.array([[1.0, nan], [3.0, 2.0], [0.5, 4.0], [3.0, nan]]),
        low_at_edge=np.zeros((4, 2), dtype=bool),
        high_at_edge=np.zeros((4, 2), dtype=bool),
    )
    true = np.array([[0.5, 1.0], [0.5, 1.0], [0.0, 5.0], [2.5, 1.0]])
    summary = coverage.interval_summary(found, true, ["a", "b"])
    assert summary["a"] == {"coverage": 0.75, "empty": 0.0, "median_width": 1.25}
    assert summary["b"] == {"coverage": 0.25, "empty": 0.5, "median_width": 3.0}


def test_coverage_core_on_a_tiny_study():
    coverage = load_script("coverage.py")
    per_model = {"prototype": coverage.study("prototype", 6, 100, seed=1)}
    report = coverage.report(per_model, coverage.METHODS)
    assert set(report["coverage"]["prototype"]) == {"attention_1", "temperature"}
    for method in ("wald", "profile"):
        shares = report["coverage_by_method"][method]["prototype"].values()
        # shares of six participants, rounded to three decimals
        assert all(abs(6 * share - round(6 * share)) < 0.01 for share in shares)
    # the default interval is fit's default, the profile
    assert report["coverage"] == report["coverage_by_method"]["profile"]
    assert set(report["seconds"]["prototype"]) == {"fit", "profile"}


def test_coverage_script_prints_its_json():
    report = run_script(
        "coverage.py", "--quick", "--participants", "5", "--trials", "80", "--models", "prototype"
    )
    assert report["participants"] == 5 and report["design"] == "ii"
    assert report["default_method"] == "profile" and report["other_designs"] == {}
    assert set(report["coverage_by_method"]) == {"wald", "profile"}
    assert 0.0 <= report["coverage"]["prototype"]["temperature"] <= 1.0


def test_load_speed_script_loads_every_file():
    report = run_script("load_speed.py", "--quick", "--trials", "50")
    assert report["files"] == report["participants"] == 30
    assert report["trials"] == 30 * 50 and len(report["seconds_each"]) == 1
    assert report["seconds_best"] > 0


def test_smoothness_script_prints_its_json():
    report = run_script("smoothness.py", "--quick", "--vectors", "30", "--models", "gaussian")
    assert report["limit"] == 1e-6 and report["relative_step"] == 1e-9
    assert set(report["models"]) == {"gaussian"}  # the candidates run only with every model
    for record in report["models"]["gaussian"].values():
        assert record["vectors"] == 30 and record["path_vectors"] == 30
    assert report["worst"]["share_smooth"] == 1.0
    assert report["worst"]["max_path_diff"] <= 1e-6


def test_fit_speed_names_its_device_and_refuses_a_missing_gpu():
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present (the GPU run is measured by hand)")
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "fit_speed.py"), "--device", "cuda"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "fit_speed.py: error: --device cuda: no CUDA device is available"
    ]


def test_fit_memory_script_prints_its_json_and_chunking_changes_nothing():
    # the 10,000-participant run is measured by hand (README); here: its keys, and the same
    # fits whether the participants come in one chunk or in three
    args = ("--participants", "5", "--trials", "60")
    whole = run_script("fit_memory.py", *args, "--chunk-size", "5")
    chunked = run_script("fit_memory.py", *args, "--chunk-size", "2")
    assert whole["participants"] == 5 and chunked["chunk_size"] == 2
    assert whole["sum_nll"] == chunked["sum_nll"]
    assert 0 < whole["peak_rss_gib"] < 4 and whole["cpu_s"] > 0
