"""The distortion design: structure, distortion levels, and the ideal observer's accuracy."""

from __future__ import annotations

import numpy as np
import pytest

from catmodel.errors import SettingsError
from catmodel.models.gaussian import Gaussian
from catmodel.simulate.designs import make_design
from catmodel.simulate.distortion import LEVELS, RATIO, SIDE
from catmodel.simulate.predictive import simulate_design


def _features(frame, dims):
    return frame[[f"x{d + 1}" for d in range(dims)]].to_numpy()


def test_training_then_transfer_with_the_documented_items():
    dims = 5
    frame = make_design("distortion", 3, seed=1, dims=dims)
    for _, one in frame.groupby("participant"):
        train, transfer = one[one["phase"] == "train"], one[one["phase"] == "transfer"]
        # 8 blocks of the same 18 items (6 per category), with feedback; then one block without
        assert len(train) == 144 and train["feedback"].notna().all()
        assert transfer["feedback"].isna().all() and (transfer["block"] == 9).all()
        blocks = [np.sort(_features(b, dims), axis=0) for _, b in train.groupby("block")]
        assert len(blocks) == 8 and all(np.array_equal(blocks[0], b) for b in blocks)
        assert (train.groupby("block")["category"].value_counts() == 6).all()
        counts = transfer["item_type"].value_counts().to_dict()
        assert counts == {"old": 18, "low": 9, "medium": 9, "high": 9, "prototype": 3}
        # the old transfer items are the training items
        old = np.sort(_features(transfer[transfer["item_type"] == "old"], dims), axis=0)
        assert np.array_equal(old, blocks[0])
        # the prototypes: an equilateral triangle of side SIDE
        proto = _features(transfer[transfer["item_type"] == "prototype"], dims)
        gaps = [np.linalg.norm(proto[i] - proto[j]) for i, j in ((0, 1), (0, 2), (1, 2))]
        np.testing.assert_allclose(gaps, SIDE, rtol=1e-12)


def test_distortions_have_the_documented_spread():
    dims = 16
    frame = make_design("distortion", 60, seed=2, dims=dims)
    transfer = frame[frame["phase"] == "transfer"]
    deviations = {level: [] for level in LEVELS}
    for _, one in transfer.groupby("participant"):
        protos = one[one["item_type"] == "prototype"].set_index("category")
        for level in LEVELS:
            items = one[one["item_type"] == level]
            centre = _features(protos.loc[items["category"]], dims)
            deviations[level].append(_features(items, dims) - centre)
    for level, scale in LEVELS.items():
        sd = np.std(np.concatenate(deviations[level]))  # 60 x 9 x 16 values each
        assert sd == pytest.approx(scale * SIDE / RATIO, rel=0.05), level


def test_an_ideal_observer_classifies_medium_distortions_90_percent_correct():
    """Independent check of RATIO: nearest prototype (Bayes-optimal for equal isotropic noise
    and equal priors) on the triangle's plane, by Monte Carlo; the other dimensions' noise
    does not change which prototype is nearest."""
    rng = np.random.default_rng(0)
    triangle = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3.0) / 2.0]]) * SIDE
    n = 400_000
    cats = rng.integers(0, 3, n)
    x = triangle[cats] + rng.normal(0.0, SIDE / RATIO, (n, 2))
    nearest = np.argmin(((x[:, None, :] - triangle[None]) ** 2).sum(-1), axis=1)
    assert np.mean(nearest == cats) == pytest.approx(0.90, abs=0.005)


def test_simulated_participants_keep_the_item_types():
    design = make_design("distortion", 2, seed=4, dims=3)
    simulated, _ = simulate_design(Gaussian(), "distortion", 2, seed=4, dims=3)
    assert list(simulated["item_type"]) == list(design["item_type"])
    assert list(simulated["phase"]) == list(design["phase"])


@pytest.mark.parametrize(
    "options, message",
    [({"dims": 1}, "dims must be at least 2"), ({"n_trials": 100}, "multiple of 18")],
)
def test_bad_options_are_one_line_errors(options, message):
    with pytest.raises(SettingsError, match=message):
        make_design("distortion", 2, seed=0, **options)
