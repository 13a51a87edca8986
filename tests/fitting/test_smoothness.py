"""The smoothness check: smooth surfaces pass however steep, rough ones fail."""

from __future__ import annotations

import numpy as np

from catmodel.data import load_trials
from catmodel.fitting.likelihood import Objective
from catmodel.fitting.smoothness import LIMIT, box_vectors, check_smoothness
from catmodel.models.gaussian import Gaussian
from catmodel.models.params import ParameterSet
from tests.conftest import REPO


def test_a_steep_smooth_surface_passes_and_a_rough_one_fails():
    theta, rows = box_vectors([-3.0, -1.0], [1.0, 2.0], 200, 5, seed=1)
    assert (theta >= [-3.0, -1.0]).all() and (theta <= [1.0, 2.0]).all()
    assert set(np.unique(rows)) <= set(range(5))

    def steep(_rows, points):  # curvature 1e6: a second difference of about 1e-12
        return 1e6 * (points**2).sum(1)

    def rough(_rows, points):  # a jump of 1e-3 every 1e-10 in the first coordinate
        return (points**2).sum(1) + 1e-3 * (np.floor(points[:, 0] * 1e10) % 2)

    assert check_smoothness(steep, rows, theta).share_smooth == 1.0
    check = check_smoothness(rough, rows, theta)
    assert check.share_smooth < 0.8 and check.second_difference.max() > LIMIT
    np.testing.assert_allclose(check.nll, rough(rows, theta))


def test_the_default_gaussian_learner_is_smooth_where_the_original_is_not():
    batch = load_trials(str(REPO / "data" / "example.csv.gz")).to_batch()
    shares = {}
    for update in ("natural", "sgd"):
        model = Gaussian(update=update)
        pset = ParameterSet.for_model(model, batch.n_features, batch.n_categories)
        theta, rows = box_vectors(*pset.scale_bounds(), 60, batch.n_learners, seed=2)
        shares[update] = check_smoothness(Objective(model, batch, pset).nll_at, rows, theta)
    assert shares["natural"].share_smooth == 1.0
    assert shares["sgd"].share_smooth < 0.9  # raw SGD steps: chaotic over much of its box
