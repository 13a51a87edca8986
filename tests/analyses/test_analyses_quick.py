"""The report's scripts run end to end on a tiny subset (as in CI)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analyses import run_all
from tests.conftest import SHARED_DATASETS


@pytest.mark.slow
def test_run_all_quick_writes_the_report(tmp_path):
    assert run_all.main(["--quick", "--out", str(tmp_path)]) == 0
    report = (tmp_path / "REPORT.md").read_text()
    assert report.startswith("# catmodel report")
    demo = json.loads((tmp_path / "gaussian_learner" / "demo.json").read_text())
    assert demo[0]["accuracy"] >= 0.95
    robustness = json.loads((tmp_path / "gaussian_learner" / "robustness.json").read_text())
    assert robustness["total"]["exceptions"] == 0
    summary = pd.read_csv(tmp_path / "recovery" / "parameters" / "recovery_summary.csv")
    assert set(summary["parameter"]) == {"lr_mu", "lr_cov", "lr_w", "temperature"}
    confusion = pd.read_csv(tmp_path / "recovery" / "models_ii" / "confusion.csv")
    assert confusion.columns[0] == "generating"
    assert (tmp_path / "simulated" / "summary.csv").exists()
    assert "![" in report
    if SHARED_DATASETS.exists():
        figures = tmp_path / "crossley_2cat" / "figures"
        assert (figures / "learning_curves.png").stat().st_size > 10_000
        assert list(figures.glob("learned_gaussians_*.png"))
        assert (tmp_path / "shj" / "shj_curves.png").exists()
        for key in ("crossley_4cat", "ashby_rbii", "dots", "sixproblems"):
            assert (tmp_path / "datasets" / key / "figures" / "results.png").exists()


@pytest.mark.slow
def test_gaussian_candidates_quick_measures_every_candidate(tmp_path):
    from analyses import gaussian_candidates

    assert gaussian_candidates.main(["--quick", "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "gaussian_candidates" / "candidates.csv")
    names = list(gaussian_candidates.CANDIDATES)
    assert table["candidate"].tolist()[: len(names)] == names
    fitted = table[~table["candidate"].isin(gaussian_candidates.LEARNING_ONLY)].head(3)
    assert fitted["r lr_mu"].notna().all() and fitted["model recovery hits"].notna().all()
    default = table.set_index("candidate").loc["natural, responsibility"]
    # the default learns in 16 dimensions and on binary features; the original does not
    assert default["learns distortion D=16"] > 0.75 and default["learns 5-4"] > 0.75
    original = table.set_index("candidate").loc["sgd"]
    assert original["learns distortion D=16"] < 0.5
    if SHARED_DATASETS.exists():
        assert default["real smooth"] == 1.0 and original["real smooth"] < 1.0
        assert default["real held-out NLL"] < original["real held-out NLL"]


def test_recovery_bound_quick_writes_its_table(tmp_path):
    from analyses import recovery_bound

    assert recovery_bound.main(["--quick", "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "recovery_bound" / "bound.csv")
    assert table["parameter"].tolist() == ["lr_mu", "lr_cov", "lr_w", "temperature"]
    assert table[["r_bound", "rmse_bound", "r_fit", "rmse_fit"]].notna().all().all()
    assert (tmp_path / "recovery_bound" / "bound.md").read_text().startswith("| parameter")


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_DATASETS.exists(), reason="needs ../shared/datasets")
def test_covariance_learning_quick_compares_the_nested_variants(tmp_path):
    from analyses import covariance_learning

    assert covariance_learning.main(["--quick", "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "covariance_learning" / "variants.csv")
    batches = {}
    for name, loader in covariance_learning.DATA_SETS.items():
        batches.update(loader(SHARED_DATASETS / name, True))
    assert table["data set"].unique().tolist() == list(batches)
    for label, rows in table.groupby("data set", sort=False):
        rows = rows.set_index("variant")
        assert rows.index.tolist() == list(covariance_learning.VARIANTS)
        assert rows["free parameters"].tolist() == [4, 3, 3]
        free = rows.iloc[0]
        assert free["better BIC than free"] == 0 and free["better held-out than free"] == 0
        # BIC - 2 NLL is the penalty: one parameter fewer saves sum(ln n) over the participants
        batch = batches[label]
        assert rows["participants"].iloc[0] == batch.n_learners
        log_n = float(np.log((batch.response >= 0).sum(1).cpu().numpy()).sum())
        penalty = rows["BIC"] - 2 * rows["NLL"]
        assert penalty.iloc[0] - penalty.iloc[1] == pytest.approx(log_n, abs=0.3)
        assert penalty.iloc[1] == pytest.approx(penalty.iloc[2], abs=0.3)
        # lr_cov = 1e-3 lies in the free fit's box, so the free fit is at least as good in
        # sample
        assert free["NLL"] <= rows["NLL"].iloc[1] + 0.5
    assert (tmp_path / "covariance_learning" / "variants.md").read_text().startswith("| data set")
