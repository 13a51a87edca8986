"""``catmodel compare --cv`` refits every model exactly as the fit did (issue 9)."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

import catmodel.compare.crossval as crossval
from catmodel.cli.main import main
from catmodel.compare.recovery import simulate_participants
from catmodel.models.registry import get_model

#: the fit's overrides that every refit must keep
OVERRIDES = ["--fix", "lr_cov=0.01", "--bounds", "lr_w=0.1:0.8", "--set", "units_per_category=2"]


@pytest.fixture(scope="module")
def trial_files(tmp_path_factory):
    """Four simulated Gaussian learners, 90 trials in three blocks; also without blocks."""
    model = get_model("gaussian")
    table, _, _ = simulate_participants(model, "two-gaussian", 4, 90, seed=4, block_size=30)
    frame = table.frame
    folder = tmp_path_factory.mktemp("cv-data")
    cols = ["participant", "trial", "block", "x1", "x2", "category", "response"]
    frame[cols].to_csv(folder / "blocks.csv", index=False)
    frame[[c for c in cols if c != "block"]].to_csv(folder / "no_blocks.csv", index=False)
    return folder


def fitted(data, out):
    command = ["fit", str(data), "--models", "gaussian", "--starts", "1", "--candidates", "16"]
    assert main([*command, *OVERRIDES, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def fit_with_blocks(trial_files, tmp_path_factory):
    return fitted(trial_files / "blocks.csv", tmp_path_factory.mktemp("cv") / "fit")


@pytest.fixture(scope="module")
def fit_without_blocks(trial_files, tmp_path_factory):
    return fitted(trial_files / "no_blocks.csv", tmp_path_factory.mktemp("cv") / "fit")


@pytest.fixture
def refits(monkeypatch):
    """Every fold's fit, recorded: (model, parameter set, keyword options, result)."""
    seen = []
    real = crossval.fit_model

    def recording(model, batch, pset=None, **options):
        result = real(model, batch, pset, **options)
        seen.append((model, pset, options, result))
        return result

    monkeypatch.setattr(crossval, "fit_model", recording)
    return seen


def copy_of(folder, tmp_path):
    return shutil.copytree(folder, tmp_path / "fit")


def assert_refitted_like_the_fit(refits, folds):
    assert len(refits) == folds
    for model, pset, options, result in refits:
        assert pset.fixed["lr_cov"] == 0.01 and "lr_cov" not in pset.free_names
        assert (result.values["lr_cov"] == 0.01).all()
        assert (pset["lr_w"].lower, pset["lr_w"].upper) == (0.1, 0.8)
        assert model.settings["units_per_category"] == 2
        assert options["starts"] == 1 and options["candidates"] == 16


def test_the_fit_records_its_overrides_as_given(fit_with_blocks):
    fitting = json.loads((fit_with_blocks / "run.json").read_text())["fitting"]
    assert fitting["fix"] == {"lr_cov": 0.01}
    assert fitting["bounds"] == {"lr_w": [0.1, 0.8]}
    assert fitting["free"] == [] and fitting["standardize"] is True


def test_cross_validation_refits_with_the_fits_fixed_values_bounds_and_settings(
    fit_with_blocks, tmp_path, refits, capsys
):
    out = copy_of(fit_with_blocks, tmp_path)
    capsys.readouterr()
    assert main(["compare", str(out), "--cv", "forward"]) == 0
    assert_refitted_like_the_fit(refits, folds=2)  # blocks 1 | 2 and 1, 2 | 3
    cv = pd.read_csv(out / "crossval.csv")
    assert (cv["n_scored"] == 60).all() and (cv["folds"] == 2).all()
    lines = capsys.readouterr().out.splitlines()
    at = next(i for i, line in enumerate(lines) if "held-out NLL" in line)
    assert lines[at].split() == "model held-out NLL (sum) held-out trials NLL per trial".split()
    name, *numbers = lines[at + 1].split()
    total, trials, per_trial = (float(v) for v in numbers)
    assert name == "gaussian"
    assert total == pytest.approx(cv["cv_nll"].sum(), abs=1e-3) and trials == 240
    assert per_trial == pytest.approx(total / trials, abs=1e-3)
    assert f"wrote {out / 'crossval.csv'}" in lines


def test_without_blocks_cross_validation_stops_before_writing_anything(
    fit_without_blocks, tmp_path, refits, capsys
):
    out = copy_of(fit_without_blocks, tmp_path)
    before = sorted(p.name for p in out.iterdir())
    record = (out / "run.json").read_text()
    capsys.readouterr()
    assert main(["compare", str(out), "--cv", "forward"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--cv-blocks" in err
    assert sorted(p.name for p in out.iterdir()) == before
    assert (out / "run.json").read_text() == record
    assert refits == []


def test_cv_blocks_split_each_participants_trials_into_consecutive_blocks(
    fit_without_blocks, tmp_path, refits
):
    out = copy_of(fit_without_blocks, tmp_path)
    assert main(["compare", str(out), "--cv", "forward", "--cv-blocks", "3"]) == 0
    assert_refitted_like_the_fit(refits, folds=2)
    cv = pd.read_csv(out / "crossval.csv")
    assert (cv["n_scored"] == 60).all()  # blocks 2 and 3 of 30 trials each
    outputs = json.loads((out / "run.json").read_text())["outputs"]
    assert {"comparison.csv", "group.csv", "crossval.csv"} <= set(outputs)


@pytest.mark.parametrize(
    "options, message",
    [
        (["--cv-blocks", "3"], "--cv-blocks needs --cv"),
        (["--cv", "forward", "--cv-blocks", "1"], "at least 2"),
        (["--cv", "forward", "--cv-blocks", "91"], "into 91 blocks"),
    ],
)
def test_bad_cv_block_options_are_one_line_errors(
    fit_without_blocks, tmp_path, options, message, capsys
):
    out = copy_of(fit_without_blocks, tmp_path)
    before = sorted(p.name for p in out.iterdir())
    capsys.readouterr()
    assert main(["compare", str(out), *options]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err
    assert sorted(p.name for p in out.iterdir()) == before


def test_consecutive_blocks_are_equal_up_to_one_trial():
    _, batch, _ = simulate_participants(get_model("prototype"), "two-gaussian", 2, 10, seed=1)
    split = crossval.consecutive_blocks(batch, 3)
    blocks = split.block[split.mask].reshape(2, 10)
    assert blocks[0].tolist() == [1, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert (blocks[1] == blocks[0]).all()
