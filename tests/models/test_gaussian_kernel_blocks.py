"""The Gaussian learner's compiled kernel runs learners in lockstep blocks: check it against the
PyTorch step function for learner counts around the block size, mixed trial lengths, trials
without feedback, and every kind of shape and setting the kernel handles."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest

from catmodel.kernels import gaussian as kernel
from catmodel.models.gaussian import Gaussian
from catmodel.models.rollout import rollout_logits

B = kernel.LANES
#: learner counts that are not multiples of the block size; together they run every path
#: (whole blocks, partly filled blocks, learners one at a time) at 1 and at 2 threads
COUNTS = [1, 3, B - 1, B + 1, 2 * B + 5]
#: (D, K) -> (M, generative, momentum): every shape, and every combination of the settings
CASES = {
    (1, 2): (1, 0.0, 0.0),
    (1, 3): (2, 0.5, 0.5),
    (1, 4): (1, 0.5, 0.0),
    (2, 2): (2, 0.0, 0.5),
    (2, 3): (1, 0.5, 0.5),
    (2, 4): (2, 0.0, 0.0),
    (3, 2): (1, 0.5, 0.5),
    (3, 3): (2, 0.0, 0.0),
    (3, 4): (1, 0.0, 0.5),
    (4, 2): (2, 0.5, 0.0),
    (4, 3): (1, 0.0, 0.5),
    (4, 4): (2, 0.5, 0.5),
}
#: trial counts of the batch rows: learners of a block stop at different trials
LENGTHS = (17, 30, 4, 23, 1, 11, 29)


def _values(n: int, seed: int) -> dict[str, np.ndarray]:
    """Learning rates drawn log-uniformly from the Gaussian learner's generating box."""
    rng = np.random.default_rng(seed)
    return {
        "lr_mu": 10 ** rng.uniform(-3.0, -1.0, n),
        "lr_cov": 10 ** rng.uniform(-2.0, 0.0, n),
        "lr_w": 10 ** rng.uniform(-0.5, 1.25, n),
    }


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def threads(request):
    """Run with 1 and 2 numba threads (which changes how learners are split into blocks)."""
    if request.param > numba.config.NUMBA_NUM_THREADS:
        pytest.skip("needs 2 numba threads")
    before = numba.get_num_threads()
    numba.set_num_threads(request.param)
    yield request.param
    numba.set_num_threads(before)


@pytest.mark.parametrize(
    ("shape", "settings"), list(CASES.items()), ids=[f"D{d}K{k}" for d, k in CASES]
)
def test_blocks_match_step_function(shape, settings, threads, make_batch):
    (d, k), (m, generative, momentum) = shape, settings
    model = Gaussian(update="sgd", units_per_category=m, generative=generative, momentum=momentum)
    batch = make_batch(
        n_features=d, n_categories=k, lengths=LENGTHS, seed=d * 10 + k, p_no_feedback=0.2
    )
    n = max(COUNTS)
    rows = np.arange(n) % batch.n_learners
    values = _values(n, seed=d * 10 + k)
    reference = rollout_logits(model, batch, rows, values, backend="torch").numpy()
    padded = ~batch.mask.numpy()[rows]
    for count in COUNTS:
        part = {name: v[:count] for name, v in values.items()}
        logits = model.kernel_logits(batch, rows[:count], part)
        np.testing.assert_allclose(
            logits, reference[:count], rtol=0, atol=1e-10, err_msg=f"{count} learners"
        )
        assert np.all(logits[padded[:count]] == 0.0)


def test_angle_wrapping_without_fmod_is_pythons_remainder():
    """The kernel's vectorisable wrap equals ``((v + pi) % 2 pi) - pi`` wherever it says so."""
    two_pi = 2 * math.pi
    edges = [c * two_pi - math.pi for c in (-1, 0, 1, 2)]  # shifted value at -2pi, 0, 2pi, 4pi
    near = [np.nextafter(e, s) for e in edges for s in (-np.inf, np.inf)]
    spread = np.random.default_rng(0).uniform(-4 * math.pi, 5 * math.pi, 2000)
    values = [*edges, *near, -math.pi, math.pi, 0.0, -0.0, 1e3, -1e3, 1e-300, *spread]
    for v in values:
        wrapped, exact = kernel._wrap_angle(float(v))
        shifted = v + math.pi
        assert exact == (-two_pi <= shifted < 2 * two_pi), v
        if exact:
            assert wrapped == (shifted % two_pi) - math.pi, v


def test_huge_angle_steps_match_the_step_function(make_batch):
    """Steps that turn the rotations by many turns (absurd learning rates) take the kernel's
    general wrapping branch."""
    model = Gaussian(
        update="sgd", momentum=0.5, generative=1.0
    )  # weights start at 0: only this term acts
    batch = make_batch(n_features=3, n_categories=2, lengths=(8, 8, 8), seed=3, p_no_feedback=0.0)
    n = B + 2  # a block and learners one at a time
    rows = np.arange(n) % batch.n_learners
    values = {
        "lr_mu": np.full(n, 1e-3),
        "lr_cov": np.geomspace(1e2, 1e6, n),
        "lr_w": np.full(n, 1.0),
    }
    logits = model.kernel_logits(batch, rows, values)
    reference = rollout_logits(model, batch, rows, values, backend="torch").numpy()
    assert np.isfinite(logits).all()
    # Trial 0 leaves the angles at 0 (isotropic units have no rotation gradient), trial 1 has
    # no feedback, trial 2 turns them by up to ~1e6 radians. Later trials are not compared:
    # at such rates rounding differences grow to the size of the logits (so they do between
    # the step function and any other implementation).
    np.testing.assert_allclose(logits[:, :4], reference[:, :4], rtol=0, atol=1e-10)


def test_means_must_hold_whole_categories(make_batch):
    """The kernel takes M from the means' rows: rows that are not K M are an error."""
    model = Gaussian(update="sgd", units_per_category=2)
    batch = make_batch(n_features=2, n_categories=3)
    means, sd0 = model.start_means_and_sd(batch)
    low, high = model.mean_box(batch)
    with pytest.raises(ValueError, match="means must be"):
        kernel.gaussian_logits(
            batch,
            np.array([0]),
            _values(1, seed=0),
            means=means[:-1],
            eta0=model.cov.eta_for_sd(sd0),
            log_var_bounds=model.cov.log_var_bounds,
            gain=model.cov.gain,
            eta_limit=model.cov.eta_limit,
            mean_box=(low, high),
            momentum=0.0,
            generative=0.0,
            planes=np.array([[0, 1]]),
        )


def test_a_workspace_that_is_too_small_is_refused():
    """The rollout has no bounds checks: it checks that its workspace holds its arrays."""
    d, k, j, t = 2, 2, 2, 3
    trials = (np.zeros((1, t, d)), np.zeros((1, t), np.int64), np.full(1, t, np.int64))
    learners = (np.zeros(1, np.int64), np.full((3, 1), 0.1))
    model = (np.zeros((j, d)), np.zeros((2, d)), np.zeros(1, np.int64), np.ones(1, np.int64))
    model = (*model, np.zeros(len(kernel.SETTINGS)))
    out = np.empty((1, t, k))
    floats, ints = kernel._workspace(1, j, d, 1, k)
    for small in ((floats[:-1], ints), (floats, ints[:-1])):
        with pytest.raises(ValueError, match="workspace"):
            kernel._rollout_one(0, 1, trials, learners, model, small, out)
    kernel._rollout_one(0, 1, trials, learners, model, (floats, ints), out)
    assert np.isfinite(out).all()
