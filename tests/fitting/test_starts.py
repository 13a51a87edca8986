"""Starts in separated regions of the box and an honest ``converged`` (issue 10, part 1)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from catmodel.cli.main import main
from catmodel.data.batch import batch_from_frame
from catmodel.errors import SettingsError
from catmodel.fitting.fit import best_of_starts, fit, search_starts
from catmodel.fitting.likelihood import Objective
from catmodel.fitting.progress import ignore_report
from catmodel.fitting.result import FitResult, as_nullable_boolean, convergence_shares
from catmodel.fitting.search import START_SEPARATION, separated_starts
from catmodel.models.params import ParameterSet
from catmodel.models.registry import get_model
from catmodel.results import read_fit_folder
from tests.conftest import REPO, small_frame

EXAMPLE = REPO / "data" / "example.csv.gz"


def greedy_reference(values, unit, k, separation):
    """The rule written out one candidate at a time: in order of value, accept a candidate
    that is at least ``separation`` (max-norm) from every accepted one."""
    out = []
    for c in np.argsort(values, kind="stable"):
        if out and not np.isfinite(values[c]):
            break
        if all(np.max(np.abs(unit[c] - unit[o])) >= separation for o in out):
            out.append(int(c))
        if len(out) == k:
            break
    return out + [-1] * (k - len(out))


def test_separated_starts_follow_the_greedy_rule_written_out():
    rng = np.random.default_rng(0)
    unit = rng.random((200, 3))
    values = rng.normal(size=(6, 200))
    values[1, :190] = np.inf  # only ten finite candidates: the infinite ones never start
    picks = separated_starts(values, unit, 5)
    for row in range(6):
        assert picks[row].tolist() == greedy_reference(values[row], unit, 5, START_SEPARATION)
    for row in range(6):
        chosen = picks[row][picks[row] >= 0]
        assert chosen[0] == np.argmin(values[row])  # the best candidate always starts
        for i in range(len(chosen)):
            for j in range(i):
                assert np.max(np.abs(unit[chosen[i]] - unit[chosen[j]])) >= START_SEPARATION


def test_neighbours_of_the_best_candidate_are_skipped_and_short_rows_padded():
    # one dimension: candidates at 0.0, 0.1, 0.2, 0.3, 0.6, 0.9; the best three sit together
    unit = np.array([[0.0], [0.1], [0.2], [0.3], [0.6], [0.9]])
    values = np.array([[1.0, 2.0, 3.0, 9.0, 8.0, 7.0]])
    # in order of NLL: 0.0 starts; 0.1 and 0.2 lie within a quarter of it; 0.9, 0.6 and 0.3
    # are each at least 0.3 from every start before them
    assert separated_starts(values, unit, 5).tolist() == [[0, 5, 4, 3, -1]]
    # no searched coordinate: the one candidate is the one start
    assert separated_starts(np.array([[3.0]]), np.zeros((1, 0)), 3).tolist() == [[0, -1, -1]]


def test_search_starts_are_separated_in_the_unit_box(small_batch):
    model = get_model("prototype")
    objective = Objective(model, small_batch, ParameterSet.for_model(model, 2, 2))
    found = search_starts(objective, starts=5, candidates=64, seed=0, report=ignore_report)
    lo, hi = objective.search_bounds()
    assert found.counts.sum() == len(found.rows) == len(found.scale)
    # one searched coordinate (the temperature is profiled): at most five points 0.25 apart
    assert np.all((found.counts >= 2) & (found.counts <= 5))
    for row in range(small_batch.n_learners):
        unit = (found.scale[found.rows == row][:, :1] - lo) / (hi - lo)
        gaps = np.abs(unit[:, None, 0] - unit[None, :, 0])
        assert np.all(gaps[~np.eye(len(unit), dtype=bool)] >= START_SEPARATION)


def test_converged_needs_another_start_at_the_best_nll():
    counts = np.array([3, 3, 3, 1, 2])
    nll = np.array(
        [
            [10.0, 10.05, 12.0],  # another start agrees, optimiser converged: True
            [10.0, 10.2, 12.0],  # no other start within 0.1: False
            [10.0, 10.05, 12.0],  # agrees, but the optimiser stopped at its cap: False
            [10.0, np.nan, np.nan],  # one start: unknown
            [11.0, 10.0, np.nan],  # the best is the second start; the first is 1 away
        ]
    )
    conv = np.array(
        [[1, 1, 1], [1, 1, 1], [0, 1, 1], [1, 0, 0], [1, 1, 0]], dtype=bool
    )  # per start
    keep = ~np.isnan(nll)
    scale = np.arange(keep.sum(), dtype=float)[:, None]
    best = best_of_starts(scale, nll[keep], conv[keep], counts)
    assert best.converged.tolist() == [True, False, False, pd.NA, False]
    assert best.nll.tolist() == [10.0, 10.0, 10.0, 10.0, 10.0]
    assert best.scale[:, 0].tolist() == [0.0, 3.0, 6.0, 9.0, 11.0]
    assert np.isnan(best.start_nll[3, 1:]).all()


def test_one_start_leaves_convergence_unknown_everywhere(small_batch, tmp_path):
    result = fit(small_batch, ["prototype"], starts=1, candidates=16)
    f = result.fits[0]
    assert f.converged.isna().all()
    frame = result.to_frame()
    assert frame["converged"].isna().all() and str(frame["converged"].dtype) == "boolean"
    summary = result.summary()
    assert summary.loc["prototype", "converged"] == 0.0
    assert summary.loc["prototype", "converged_unknown"] == 1.0
    assert "unknown" in str(result).splitlines()[-2] and "100%" in str(result).splitlines()[-1]
    # empty in fits.csv, and missing again when read back
    frame.to_csv(tmp_path / "fits.csv", index=False)
    assert pd.read_csv(tmp_path / "fits.csv")["converged"].isna().all()
    assert read_fit_folder(tmp_path).fits["converged"].isna().all()


def test_convergence_shares_count_unknowns_apart():
    assert convergence_shares(pd.array([True, False, pd.NA, True], dtype="boolean")) == (
        0.5,
        0.25,
    )
    # as read back from a CSV file: True/False strings, booleans and empty cells
    assert as_nullable_boolean(["True", "false", np.nan, None]).tolist() == [
        True,
        False,
        pd.NA,
        pd.NA,
    ]
    assert convergence_shares(np.array([True, True])) == (1.0, 0.0)


def test_fewer_separated_candidates_than_starts_are_recorded_in_the_info():
    # prototype searches one coordinate: at most five candidates a quarter apart, often four
    batch = batch_from_frame(small_frame(n_learners=4, seed=2), ["x1", "x2"])
    f = fit(batch, ["prototype"], starts=8, candidates=64).fits[0]
    counts = (~np.isnan(f.start_nll)).sum(axis=1)
    assert f.info["starts"] == 8 and f.info["start_separation"] == START_SEPARATION
    assert f.info["participants_with_fewer_starts"] == int(np.sum(counts < 8)) == 4
    assert f.info["fewest_starts"] == counts.min() <= 5
    assert len(FitResult(fits=[f]).starts_frame()) == counts.sum()


@pytest.mark.parametrize("starts", [0, -2, 1.5])
def test_fit_refuses_fewer_than_one_start(small_batch, starts):
    with pytest.raises(SettingsError, match="at least 1"):
        fit(small_batch, ["prototype"], starts=starts)


@pytest.mark.parametrize("command", ["fit", "recover", "model-recovery"])
def test_starts_below_one_is_a_one_line_usage_error(command, tmp_path, capsys):
    args = {
        "fit": ["fit", str(EXAMPLE)],
        "recover": ["recover", "--participants", "2"],
        "model-recovery": ["model-recovery", "--participants", "1"],
    }[command]
    assert main([*args, "--starts", "0", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "--starts" in err and "at least 1" in err
    assert not (tmp_path / "out").exists()
