"""Parameter and model recovery with empirical Bayes: the same participants as ML."""

from __future__ import annotations

import numpy as np
import pandas as pd

from catmodel.cli.main import main
from catmodel.compare.model_recovery import model_recovery
from catmodel.models.registry import get_model


def test_recover_eb_simulates_the_same_participants_and_keeps_the_summary(tmp_path, capsys):
    common = ["recover", "--model", "prototype", "--participants", "8", "--trials", "120"]
    common += ["--seed", "4", "--starts", "2", "--candidates", "32"]
    assert main([*common, "--out", str(tmp_path / "ml")]) == 0
    assert main([*common, "--method", "eb", "--out", str(tmp_path / "eb")]) == 0
    capsys.readouterr()
    ml = pd.read_csv(tmp_path / "ml" / "recovery.csv")
    eb = pd.read_csv(tmp_path / "eb" / "recovery.csv")
    # same seed, same simulated participants: the true values and their NLL agree
    np.testing.assert_array_equal(ml["true"], eb["true"])
    np.testing.assert_allclose(ml["nll_true"], eb["nll_true"], rtol=1e-12)
    assert not np.allclose(ml["recovered"], eb["recovered"])  # but the fits differ
    summary = pd.read_csv(tmp_path / "eb" / "recovery_summary.csv")
    assert list(summary.columns[:5]) == ["parameter", "r", "bias", "rmse", "share_within_1"]
    fits = pd.read_csv(tmp_path / "eb" / "fits.csv")
    assert (fits["method"] == "eb").all() and "post_sd_log10_temperature" in fits
    # EB's estimate is the posterior mean (fits.csv keeps the MAP in the parameter columns)
    assert (eb["estimate"] == "posterior mean").all() and (ml["estimate"] == "ML").all()
    temperature = eb[eb["parameter"] == "temperature"].set_index("participant")
    means = fits.set_index("participant").loc[temperature.index, "post_mean_log10_temperature"]
    np.testing.assert_allclose(temperature["recovered_scale"], means, rtol=1e-12)
    maps = np.log10(fits.set_index("participant").loc[temperature.index, "temperature"])
    assert not np.allclose(temperature["recovered_scale"], maps)


def test_model_recovery_eb_picks_winners_by_log_evidence():
    models = [get_model("guessing"), get_model("prototype")]
    study = model_recovery(
        models, n_participants=4, n_trials=150, starts=1, candidates=16, method="eb"
    )
    assert study.criterion == "log_evidence"
    comparison = study.comparison
    best = comparison[comparison["best"]].set_index("participant")["model"]
    top = comparison.loc[comparison.groupby("participant", sort=False)["log_evidence"].idxmax()]
    assert best.to_dict() == top.set_index("participant")["model"].to_dict()
    assert len(best) == comparison["participant"].nunique() == 8
