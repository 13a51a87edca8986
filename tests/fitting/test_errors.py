"""Standard errors named by their scale, none at a bound, stable in the Hessian's step
(issue 10, part 3)."""

from __future__ import annotations

import numpy as np
import pytest

from catmodel.compare.recovery import simulate_participants
from catmodel.data.batch import batch_from_frame
from catmodel.fitting.fit import HESSIAN_STEP, bound_mask, fit, standard_errors_at
from catmodel.fitting.hessian import finite_difference_hessian, standard_errors
from catmodel.fitting.likelihood import Objective
from catmodel.fitting.result import se_column
from catmodel.models.base import Param
from catmodel.models.registry import get_model
from tests.conftest import small_frame


def test_standard_error_columns_say_their_scale():
    assert se_column(Param("lr_w", 1.0, 0.1, 10.0, "log")) == "se_log10_lr_w"
    assert se_column(Param("lapse", 0.01, 1e-4, 0.5, "logit")) == "se_logit_lapse"
    assert se_column(Param("attention_1", 0.0, -5.0, 5.0, "linear")) == "se_attention_1"


def test_fits_table_has_one_scale_named_column_per_parameter(small_batch):
    result = fit(small_batch, ["prototype", "guessing"], starts=2, candidates=16, ci=None)
    frame = result.to_frame()
    assert frame.columns[2:10].tolist() == [
        "attention_1",
        "se_attention_1",
        "temperature",
        "se_log10_temperature",
        "lapse",
        "se_logit_lapse",
        "bias_1",
        "se_bias_1",
    ]
    assert frame["se_logit_lapse"].isna().all()  # fixed: no standard error


def quadratic(a, m):
    """NLL 0.5 (x - m)' A (x - m) of every problem, as ``fun(rows, points)``."""

    def fun(rows, points):
        d = points - m[rows]
        return 0.5 * np.einsum("ni,nij,nj->n", d, a[rows], d)

    return fun


def test_hessian_of_a_quadratic_and_its_standard_errors_are_exact():
    rng = np.random.default_rng(1)
    b = rng.normal(size=(4, 3, 3))
    a = b @ b.transpose(0, 2, 1) + 3 * np.eye(3)
    m = rng.normal(size=(4, 3))
    h = finite_difference_hessian(quadratic(a, m), np.arange(4), m + 0.1, np.full(3, 1e-3))
    assert np.allclose(h, a, rtol=1e-6)
    se, ok = standard_errors(h)
    assert ok.all()
    assert np.allclose(se, np.sqrt(np.diagonal(np.linalg.inv(a), axis1=1, axis2=2)), rtol=1e-6)


def test_a_parameter_at_a_bound_has_no_standard_error_and_is_held_for_the_others():
    rng = np.random.default_rng(2)
    b = rng.normal(size=(2, 3, 3))
    a = b @ b.transpose(0, 2, 1) + np.eye(3)
    keep = np.array([[True, False, True], [True, True, True]])
    se, ok = standard_errors(a, keep)
    assert ok.all() and np.isnan(se[0, 1]) and np.isfinite(se[1]).all()
    # the others' errors: the inverse of their block alone (the one at the bound held fixed)
    block = a[0][np.ix_([0, 2], [0, 2])]
    assert np.allclose(se[0, [0, 2]], np.sqrt(np.diag(np.linalg.inv(block))))
    # a block that is not positive definite fails only where it is used
    bad = np.array([[[1.0, 0.0], [0.0, -1.0]]])
    assert np.isnan(standard_errors(bad)[0]).all() and not standard_errors(bad)[1][0]
    assert standard_errors(bad, np.array([[True, False]]))[1][0]


def test_fit_gives_nan_where_a_parameter_presses_against_its_box():
    batch = batch_from_frame(small_frame(n_learners=3, n_trials=120, seed=4), ["x1", "x2"])
    f = fit(batch, ["prototype"], starts=2, bounds={"attention_1": (4.0, 5.0)}).fits[0]
    mask = bound_mask(f.pset, f.at_bound)
    assert mask[:, 0].any()  # a box far from the data's attention presses the fits to it
    assert np.isnan(f.se[mask]).all()
    # the temperature's error, with the attention held at its bound: 1 / sqrt(d2 NLL / dT2)
    objective = Objective(get_model("prototype"), batch, f.pset)
    step = np.array([0.0, 1e-3])
    for i in np.flatnonzero(mask[:, 0] & ~mask[:, 1]):
        x = f.scale[i : i + 1]
        up, mid, down = (objective.nll_at([i], x + s * step)[0] for s in (1, 0, -1))
        assert f.se[i, 1] == pytest.approx(1 / np.sqrt((up - 2 * mid + down) / 1e-6), rel=1e-3)


@pytest.mark.parametrize("name", ["prototype", "exemplar"])
def test_standard_errors_hardly_move_when_the_hessian_step_halves(name):
    """On a design where behaviour stays noisy (ii), fits lie inside the box and their
    likelihood is smooth: halving the step changes the errors by well under 5%."""
    model = get_model(name)
    _, batch, _ = simulate_participants(model, "ii", 12, 300, seed=5)
    f = fit(batch, [model], starts=3).fits[0]
    objective = Objective(model, batch, f.pset)
    mask = bound_mask(f.pset, f.at_bound)
    se, ok = standard_errors_at(objective, f.scale, mask)
    half, ok_half = standard_errors_at(objective, f.scale, mask, step=HESSIAN_STEP / 2)
    assert ok.mean() >= 0.75 and np.array_equal(ok, ok_half)
    change = np.abs(half[ok] / se[ok] - 1)
    finite = np.isfinite(change)
    assert np.median(change[finite]) < 1e-3 and change[finite].max() < 0.05
