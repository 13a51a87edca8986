"""Designs with repeating stimuli write an ``item`` column (and keep phases and labels)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from catmodel.cli.main import main


@pytest.mark.parametrize(
    ("design", "n_items", "phases"),
    [("shj-2", 8, ["train"]), ("5-4", 16, ["train", "transfer"]),
     ("distortion", 18 + 3 + 27, ["train", "transfer"])],
)  # fmt: skip
def test_simulated_designs_write_items(tmp_path, design, n_items, phases):
    out = tmp_path / "sim.csv"
    argv = ["simulate", "--model", "prototype", "--design", design, "--participants", "2"]
    assert main([*argv, "--seed", "3", "--out", str(out)]) == 0
    frame = pd.read_csv(out)
    assert list(pd.unique(frame["phase"])) == phases
    one = frame[frame["participant"] == frame["participant"].iloc[0]]
    assert one["item"].nunique() == n_items
    features = [c for c in frame.columns if c.startswith("x")]
    # an item is one stimulus with one label
    per_item = one.groupby("item")[[*features, "category"]].nunique(dropna=False)
    assert (per_item == 1).all().all()
    if design == "shj-2":  # the logical stimulus of Nosofsky et al. (1994)
        assert (one[features].to_numpy() @ np.array([4, 2, 1]) + 1 == one["item"]).all()
    if design == "distortion":  # the old items repeat in training and transfer
        train = set(one.loc[one["phase"] == "train", "item"])
        assert len(train) == 18 and train < set(one.loc[one["phase"] == "transfer", "item"])
        assert one.loc[one["phase"] == "transfer", "feedback"].isna().all()
