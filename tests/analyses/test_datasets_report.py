"""The per-data-set results (``python -m analyses.datasets_report --quick``)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analyses import datasets_report
from tests.conftest import SHARED_DATASETS


def test_skips_cleanly_without_the_shared_data(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(datasets_report, "SHARED", tmp_path / "absent")
    assert datasets_report.main(["--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("skipped:")
    assert not (tmp_path / "datasets").exists()


def test_combine_stacks_the_two_figures(tmp_path):
    import matplotlib.pyplot as plt

    plt.imsave(tmp_path / "a.png", np.zeros((10, 30, 3)))
    plt.imsave(tmp_path / "b.png", np.zeros((6, 20, 3)))
    datasets_report.combine(tmp_path / "a.png", tmp_path / "b.png", tmp_path / "ab.png")
    image = plt.imread(tmp_path / "ab.png")
    assert image.shape[:2] == (16, 30)
    # the narrower figure is centred: white margins of 5 pixels either side
    assert image[12, :5, :3].min() == 1.0 and image[12, 5:25, :3].max() == 0.0


def test_curve_summary_measures_distance_from_people():
    blocks = [1, 2, 1, 2, 1, 2]
    curves = pd.DataFrame(
        {
            "source": ["data", "data", "a", "a", "b", "b"],
            "kind": ["data", "data", "simulated", "simulated", "simulated", "simulated"],
            "block": blocks,
            "mean": [0.6, 0.8, 0.6, 0.8, 0.5, 0.5],
        }
    )
    summary = datasets_report.curve_summary(curves)
    assert summary["people"] == pytest.approx(0.7)
    assert summary["a"]["rmse_vs_people"] == 0.0
    assert summary["b"]["rmse_vs_people"] == pytest.approx(np.sqrt((0.01 + 0.09) / 2), abs=1e-4)


@pytest.mark.slow
def test_quick_run_fits_compares_and_draws_every_data_set(tmp_path):
    if not SHARED_DATASETS.exists():
        pytest.skip("the shared data sets are absent")
    assert datasets_report.main(["--quick", "--out", str(tmp_path)]) == 0
    for spec in datasets_report.DATASETS:
        folder = tmp_path / "datasets" / spec.key
        summary = json.loads((folder / "summary.json").read_text())
        subset = summary["subset"]
        n_conditions = len(spec.conditions) if spec.conditions else len(subset["conditions"])
        assert subset["participants"] == spec.quick.per_condition * n_conditions
        assert subset["trials_per_participant"][1] <= spec.quick.trials
        group = pd.read_csv(folder / "group.csv")
        assert sorted(group["model"]) == sorted(datasets_report.MODELS)
        assert [g["model"] for g in summary["group"]] == group["model"].tolist()
        assert group["sum_bic"].is_monotonic_increasing and np.isfinite(group["sum_bic"]).all()
        assert group["n_best"].sum() == subset["participants"]
        curves = pd.read_csv(folder / "curves.csv")
        simulated = curves[curves["kind"] == "simulated"]
        assert set(simulated["source"]) == set(datasets_report.MODELS)
        # the posterior-predictive band is an interval around each simulated curve
        assert (simulated["pi_low"] <= simulated["mean"] + 1e-12).all()
        assert (simulated["pi_high"] >= simulated["mean"] - 1e-12).all()
        for name in ("learning_curves", "model_comparison", "results"):
            assert (folder / "figures" / f"{name}.png").stat().st_size > 10_000
