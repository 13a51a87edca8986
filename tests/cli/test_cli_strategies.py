"""``catmodel strategies`` end to end on simulated strategies, and its one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from catmodel.cli.main import main
from catmodel.compare.strategies import block_numbers


def _simulate(tmp_path, model, design, trials, seed, extra=()):
    path = tmp_path / f"{model}.csv"
    args = ["simulate", "--model", model, "--design", design, "--participants", "4"]
    args += ["--trials", str(trials), "--draw-params", "--seed", str(seed), "--out", str(path)]
    assert main([*args, *extra]) == 0
    return path


def test_strategies_writes_table_figure_and_run_record(tmp_path, capsys):
    # two conditions: a unidimensional rule on the rb design, a linear bound on the ii design
    ud = pd.read_csv(_simulate(tmp_path, "ud_x1", "rb", 250, 1)).assign(condition="rb")
    glc = pd.read_csv(_simulate(tmp_path, "glc", "ii", 250, 2)).assign(condition="ii")
    glc["participant"] = glc["participant"] + "g"
    data = tmp_path / "both.csv"
    pd.concat([ud, glc]).to_csv(data, index=False)
    out = tmp_path / "st"
    assert main(["strategies", str(data), "--out", str(out), "--starts", "2", "--jobs", "1"]) == 0
    table = pd.read_csv(out / "strategies.csv")
    # 250 trials: blocks of 100, 100 and 50 (half a block is a block of its own)
    assert len(table) == 8 * 3
    assert sorted(table.groupby("participant")["n_trials"].sum().unique()) == [250]
    for name in ["ud_x1", "ud_x2", "cj", "glc", "gqc", "guessing"]:
        assert {f"nll_{name}", f"bic_{name}"} <= set(table.columns)
    assert {"participant", "condition", "block", "best_model", "bic_weight", "noise"} <= set(
        table.columns
    )
    assert table["bic_weight"].between(1 / 6, 1).all()
    best = table.groupby("condition")["best_model"].agg(lambda s: s.value_counts().idxmax())
    assert best["rb"] == "ud_x1" and best["ii"] == "glc"
    # the best model's parameters are filled in, the others' are empty
    assert table.loc[table["best_model"] == "glc", "angle"].notna().all()
    assert table.loc[table["best_model"] == "glc", "criterion"].isna().all()
    run = json.loads((out / "run.json").read_text())
    assert run["kind"] == "strategies"
    assert {"strategies.csv", "strategies.png", "run.json"} <= set(run["outputs"])
    assert (out / "strategies.png").stat().st_size > 20_000


def test_strategies_refuses_four_categories_in_one_line(tmp_path, capsys):
    data = _simulate(tmp_path, "guessing", "ii-4", 40, 3)
    assert main(["strategies", str(data), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert "two categories" in err and len(err.splitlines()) == 1


def test_strategies_unknown_parameter_is_a_one_line_error(tmp_path, capsys):
    data = _simulate(tmp_path, "glc", "ii", 40, 4)
    assert main(["strategies", str(data), "--out", str(tmp_path / "x"), "--fix", "rate=1"]) == 2
    assert "no strategy has a parameter 'rate'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("n", "size", "expected"),
    [
        (250, 100, [100, 100, 50]),  # half a block: a block of its own
        (249, 100, [100, 149]),  # shorter than half: joins the block before
        (100, 100, [100]),
        (30, 100, [30]),  # a participant shorter than a block is one block
    ],
)
def test_block_numbers(n, size, expected):
    assert np.bincount(block_numbers(n, size))[1:].tolist() == expected
