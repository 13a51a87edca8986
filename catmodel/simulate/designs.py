"""Task designs: stimulus sequences with categories, in the trial schema the loader reads.

A design returns one row per trial of every simulated participant, with the columns
``participant`` (``"sim001"``, ...), ``trial`` (1-based), ``block``, the features ``x1 .. xD``,
``category`` and, where the design has trials without feedback, ``feedback`` (missing on those
trials) and ``phase``. Each participant gets its own random stimulus sequence; the whole table
is a deterministic function of ``seed``. ``TrialTable.from_frame(frame)`` validates it, and
``frame.attrs["features"]`` names the feature columns.

Designs (``make_design(name, ...)``; ``describe_designs()`` lists them):

``two-gaussian``
    The demo's task (:data:`TWO_GAUSSIAN_MEANS`, :data:`TWO_GAUSSIAN_COVS`): 400 trials in
    blocks of 40 by default.
``rb``
    Rule-based: two bivariate normal categories with means (40, 50) and (60, 50) and the common
    covariance diag(10², 30²); the optimal boundary is x1 = 50 (orthogonal to x1) and the best
    possible accuracy is Φ(1) = 0.841345. ``rotation`` (degrees, counter-clockwise about the
    centre of the means) rotates the structure; ``rotation=45`` gives the ``ii`` default.
``ii``
    Information-integration: the ``rb`` structure rotated by 45°: means 50 ∓ 10/√2 on both
    dimensions, covariance with SD 30 along the boundary x1 + x2 = 100 and SD 10 across it;
    optimal accuracy Φ(1) = 0.841345 (the model-recovery default design). Options ``means``
    (K x 2), ``covs`` (K x 2 x 2, or one 2 x 2 for all) and ``rotation`` (degrees, applied on
    top).
    Both Gaussian designs have 600 trials in blocks of 100 by default, each block holding the
    categories equally often (any remainder goes to randomly chosen categories).
``ii-4``
    Four isotropic Gaussian categories (SD 10) at the corners of a diamond, means (72, 100),
    (100, 128), (100, 72), (128, 100): the structure of ``crossley_unlearning_4cat``; the
    optimal boundaries are the diagonals (information integration).
``distortion``
    Prototype-distortion categories in D dimensions (option ``dims``, default 16), with a
    transfer phase without feedback (:mod:`catmodel.simulate.distortion`).
``shj-1`` .. ``shj-6``
    The Shepard, Hovland & Jenkins (1961) types on three binary dimensions, categories 0/1, in
    blocks of the 8 items in a fresh random order (via :mod:`catmodel.simulate.shj`); 32
    blocks by default (``passes=2``: 16 blocks of 16 trials, as Nosofsky et al., 1994).
``5-4``
    Medin & Schaffer's (1978) 5-4 structure (:data:`FIVE_FOUR_ITEMS`): training blocks of the
    9 training items with feedback (``phase="train"``; 16 blocks by default), then one block of
    all 16 items without feedback (``phase="transfer"``).
``file:PATH``
    The stimuli, categories, feedback and blocks of each learner in a data file, read with the
    loader (option ``columns``: a :class:`~catmodel.data.ColumnMap`).

:func:`optimal_accuracy` gives the Bayes-optimal accuracy of the Gaussian designs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from catmodel.errors import SettingsError
from catmodel.simulate.distortion import distortion

#: the original model's two-category task (means, covariances), 200 points per category
TWO_GAUSSIAN_MEANS = np.array([[-0.5, 0.25], [-0.25, -0.6]])
TWO_GAUSSIAN_COVS = np.array(
    [[[0.0185, -0.005], [-0.005, 0.065]], [[0.0125, 0.005], [0.005, 0.005]]]
)

#: Rule-based default: categories differ on x1 only (d' = 2 on x1), x2 is irrelevant noise.
RB_MEANS = np.array([[40.0, 50.0], [60.0, 50.0]])
RB_COVS = np.array([np.diag([10.0**2, 30.0**2])] * 2)
#: Rotation (degrees) that turns the rule-based default into the information-integration one.
II_ROTATION = 45.0

#: The 5-4 structure of Medin & Schaffer (1978), item names and coding as in Smith &
#: Minda (2000, Table 1): (name, features, nominal category or None for new transfer items).
#: 1 on every dimension is the category-A prototype, 0 the category-B one.
FIVE_FOUR_ITEMS: tuple[tuple[str, tuple[int, int, int, int], str | None], ...] = (
    ("A1", (1, 1, 1, 0), "A"),
    ("A2", (1, 0, 1, 0), "A"),
    ("A3", (1, 0, 1, 1), "A"),
    ("A4", (1, 1, 0, 1), "A"),
    ("A5", (0, 1, 1, 1), "A"),
    ("B6", (1, 1, 0, 0), "B"),
    ("B7", (0, 1, 1, 0), "B"),
    ("B8", (0, 0, 0, 1), "B"),
    ("B9", (0, 0, 0, 0), "B"),
    ("T10", (1, 0, 0, 1), None),
    ("T11", (1, 0, 0, 0), None),
    ("T12", (1, 1, 1, 1), None),
    ("T13", (0, 0, 1, 0), None),
    ("T14", (0, 1, 0, 1), None),
    ("T15", (0, 0, 1, 1), None),
    ("T16", (0, 1, 0, 0), None),
)

GAUSSIAN_BLOCK = 100
GAUSSIAN_TRIALS = 600
SHJ_TRIALS = 256
FIVE_FOUR_BLOCKS = 16
FILE_BLOCK = 40


# ----------------------------------------------------------------------------- the demo task


def two_gaussian(
    n_participants: int, n_trials: int = 400, seed: int = 0, block_size: int = 40
) -> pd.DataFrame:
    """The demo's task: two bivariate normal categories, equal numbers in a shuffled order.

    Each participant gets a fresh sample of ``n_trials`` stimuli (half per category, the extra
    one to category A when odd) in a random order.

    Parameters
    ----------
    n_participants
        Number of simulated participants.
    n_trials
        Trials per participant.
    seed
        Seed of the stimuli and orders (one stream for all participants, in order).
    block_size
        Trials per block.
    """
    rng = np.random.default_rng(seed)
    frames = []
    for p in range(n_participants):
        n_a = (n_trials + 1) // 2
        cats = np.r_[np.zeros(n_a, int), np.ones(n_trials - n_a, int)]
        rng.shuffle(cats)
        x = np.empty((n_trials, 2))
        for k in (0, 1):
            idx = np.flatnonzero(cats == k)
            x[idx] = rng.multivariate_normal(TWO_GAUSSIAN_MEANS[k], TWO_GAUSSIAN_COVS[k], len(idx))
        frames.append(_frame(p, x, np.array(["A", "B"])[cats], block_size))
    return _with_features(pd.concat(frames, ignore_index=True), 2)


def _frame(participant: int, x: np.ndarray, category: np.ndarray, block_size: int) -> pd.DataFrame:
    n = len(x)
    frame = pd.DataFrame(
        {
            "participant": participant_id(participant),
            "trial": np.arange(1, n + 1),
            "block": np.arange(n) // block_size + 1,
        }
    )
    for d in range(x.shape[1]):
        frame[f"x{d + 1}"] = x[:, d]
    frame["category"] = category
    return frame


def participant_id(index: int) -> str:
    """The id of the ``index``-th (0-based) simulated participant: ``"sim001"``, ..."""
    return f"sim{index + 1:03d}"


def _with_features(frame: pd.DataFrame, n_features: int) -> pd.DataFrame:
    frame.attrs["features"] = [f"x{d + 1}" for d in range(n_features)]
    return frame


def _participant_rngs(seed: int, n: int) -> list[np.random.Generator]:
    # One independent stream per participant, so participant p's sequence does not change
    # when more participants are simulated.
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n)]


def _length(n_trials: int | None, n_blocks: int | None, block_size: int, default: int) -> int:
    """Trials per participant from ``n_trials`` or ``n_blocks`` (blocks of ``block_size``)."""
    if int(block_size) != block_size or block_size < 1:
        raise SettingsError(f"the block size must be a positive integer, got {block_size}")
    if n_trials is not None and n_blocks is not None and n_trials != n_blocks * block_size:
        raise SettingsError(
            f"give the number of trials or of blocks, not both "
            f"({n_trials} trials != {n_blocks} blocks of {block_size})"
        )
    if n_blocks is not None:
        n_trials = n_blocks * block_size
    n = default if n_trials is None else n_trials
    if int(n) != n or n < 1:
        raise SettingsError(f"the number of trials must be a positive integer, got {n}")
    return int(n)


def _check_participants(n_participants: int) -> int:
    if int(n_participants) != n_participants or n_participants < 1:
        raise SettingsError(
            f"the number of participants must be a positive integer, got {n_participants}"
        )
    return int(n_participants)


# ----------------------------------------------------------------------------- Gaussian designs


def rotation_matrix(degrees: float) -> np.ndarray:
    """The 2 x 2 counter-clockwise rotation by ``degrees``."""
    t = np.radians(degrees)
    return np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])


def rotate_structure(
    means: np.ndarray, covs: np.ndarray, degrees: float
) -> tuple[np.ndarray, np.ndarray]:
    """Rotate Gaussian categories by ``degrees`` about the centre of their means.

    The centre is the (equal-prior) mean of the means, so the structure keeps its place in the
    stimulus space and only its orientation changes.
    """
    r = rotation_matrix(degrees)
    centre = means.mean(axis=0)
    return (means - centre) @ r.T + centre, r @ covs @ r.T


def gaussian_categories(
    name: str, means=None, covs=None, rotation: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Means (K, 2) and covariances (K, 2, 2) of a Gaussian design's categories.

    Parameters
    ----------
    name
        ``"two-gaussian"``, ``"ii"`` or ``"rb"``.
    means, covs
        The user's categories (``ii``/``rb`` only): means (K, 2); covariances (K, 2, 2) or one
        (2, 2) shared by all. Either one alone keeps the design's default for the other (a
        default covariance is shared by all K categories).
    rotation
        Degrees, counter-clockwise about the centre of the means (``ii``/``rb`` only). ``ii``
        is already the ``rb`` default rotated by 45°; ``rotation`` is applied on top.
    """
    if name == "two-gaussian":
        if means is not None or covs is not None or rotation:
            raise SettingsError("two-gaussian has fixed categories; use ii or rb for others")
        return TWO_GAUSSIAN_MEANS.copy(), TWO_GAUSSIAN_COVS.copy()
    if name not in ("ii", "rb"):
        raise SettingsError(f"{name!r} is not a Gaussian design (two-gaussian, ii, rb)")
    default = (RB_MEANS, RB_COVS)
    if name == "ii":
        default = rotate_structure(RB_MEANS, RB_COVS, II_ROTATION)
    m, c = _user_categories(means, covs, *default)
    if rotation:
        m, c = rotate_structure(m, c, float(rotation))
    return m, c


def _user_categories(
    means, covs, default_means: np.ndarray, default_covs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    m = default_means.copy() if means is None else np.asarray(means, dtype=float)
    if m.ndim != 2 or m.shape[1] != 2 or len(m) < 2:
        raise SettingsError(f"means must be K x 2 with K >= 2, got shape {m.shape}")
    # the default categories share one covariance, which then serves any number of means
    c = default_covs[0] if covs is None else np.asarray(covs, dtype=float)
    if c.shape == (2, 2):
        c = np.broadcast_to(c, (len(m), 2, 2)).copy()
    if c.shape != (len(m), 2, 2):
        raise SettingsError(
            f"covs must be {len(m)} x 2 x 2 (one per mean) or 2 x 2, got shape {c.shape}"
        )
    for k, ck in enumerate(c):
        if not np.allclose(ck, ck.T) or np.any(np.linalg.eigvalsh(ck) <= 0):
            raise SettingsError(f"covariance {k + 1} is not symmetric positive definite")
    return m, c


def category_labels(k: int) -> np.ndarray:
    """``"A"``, ``"B"``, ... for ``k`` categories."""
    if not 2 <= k <= 26:
        raise SettingsError(f"designs have 2 to 26 categories, got {k}")
    return np.array([chr(ord("A") + i) for i in range(k)])


def gaussian_task(
    n_participants: int,
    means: np.ndarray,
    covs: np.ndarray,
    n_trials: int,
    block_size: int,
    seed: int,
) -> pd.DataFrame:
    """Stimuli drawn from Gaussian categories, each category equally often in every block.

    Within a block of ``b`` trials every category appears ``b // K`` times; the remainder goes
    to categories drawn at random, and the block is shuffled.

    Parameters
    ----------
    n_participants
        Number of simulated participants (``"sim001"``, ...).
    means, covs
        Category means (K, 2) and covariances (K, 2, 2); categories are labelled A, B, ...
    n_trials, block_size
        Trials per participant and per block.
    seed
        Seed; participant ``p`` draws from its own stream, so it does not depend on how many
        participants are simulated.
    """
    labels = category_labels(len(means))
    chol = np.linalg.cholesky(covs)
    frames = []
    for p, rng in enumerate(_participant_rngs(seed, n_participants)):
        cats = _balanced_sequence(rng, len(means), n_trials, block_size)
        z = rng.standard_normal((n_trials, 2))
        x = means[cats] + np.einsum("tij,tj->ti", chol[cats], z)
        frames.append(_frame(p, x, labels[cats], block_size))
    return _with_features(pd.concat(frames, ignore_index=True), 2)


def _balanced_sequence(
    rng: np.random.Generator, k: int, n_trials: int, block_size: int
) -> np.ndarray:
    blocks = []
    for start in range(0, n_trials, block_size):
        b = min(block_size, n_trials - start)
        extra = rng.choice(k, size=b % k, replace=False)
        cats = np.r_[np.repeat(np.arange(k), b // k), extra]
        blocks.append(rng.permutation(cats))
    return np.concatenate(blocks).astype(int)


def information_integration(
    n_participants: int,
    n_trials: int | None = None,
    seed: int = 0,
    n_blocks: int | None = None,
    *,
    means=None,
    covs=None,
    rotation: float = 0.0,
    block_size: int = GAUSSIAN_BLOCK,
) -> pd.DataFrame:
    """The ``ii`` design: Gaussian categories with a diagonal optimal boundary.

    Default: the ``rb`` default rotated by 45° about (50, 50), so the optimal boundary is
    x1 + x2 = 100; optimal accuracy Φ(1) = 0.841345; 600 trials in blocks of 100.

    Parameters
    ----------
    n_participants
        Number of simulated participants.
    n_trials, n_blocks
        Length per participant (one of them; default 600 trials).
    seed
        Seed of the stimulus sequences (each participant its own stream).
    means, covs, rotation
        Other categories, or a rotation on top of the default (see
        :func:`gaussian_categories`).
    block_size
        Trials per block (default 100); every block holds the categories equally often.
    """
    m, c = gaussian_categories("ii", means, covs, rotation)
    n = _length(n_trials, n_blocks, block_size, GAUSSIAN_TRIALS)
    return gaussian_task(_check_participants(n_participants), m, c, n, block_size, seed)


def rule_based(
    n_participants: int,
    n_trials: int | None = None,
    seed: int = 0,
    n_blocks: int | None = None,
    *,
    means=None,
    covs=None,
    rotation: float = 0.0,
    block_size: int = GAUSSIAN_BLOCK,
) -> pd.DataFrame:
    """The ``rb`` design: Gaussian categories whose optimal boundary is x1 = 50.

    Default: means (40, 50), (60, 50), covariance diag(100, 900); optimal accuracy Φ(1) =
    0.841345; 600 trials in blocks of 100. ``rotation=45`` gives the ``ii`` default.

    Parameters
    ----------
    n_participants
        Number of simulated participants.
    n_trials, n_blocks
        Length per participant (one of them; default 600 trials).
    seed
        Seed of the stimulus sequences (each participant its own stream).
    means, covs, rotation
        Other categories, or a rotation (degrees, counter-clockwise about the centre of the
        means; see :func:`gaussian_categories`).
    block_size
        Trials per block (default 100); every block holds the categories equally often.
    """
    m, c = gaussian_categories("rb", means, covs, rotation)
    n = _length(n_trials, n_blocks, block_size, GAUSSIAN_TRIALS)
    return gaussian_task(_check_participants(n_participants), m, c, n, block_size, seed)


# ----------------------------------------------------------------------------- optimal accuracy


def gaussian_optimal_accuracy(means, covs, priors=None) -> float:
    """Bayes-optimal accuracy of Gaussian categories in two dimensions.

    The optimal classifier's accuracy is ∫ max_k π_k p_k(x) dx. For fixed x1 every pairwise
    boundary is a quadratic in x2, so its roots split the line into intervals on each of which
    one category wins; the winner's conditional normal gives the exact mass of each interval.
    What is left is a smooth one-dimensional integral over x1 (±12 SD of every category),
    taken with adaptive quadrature (requested absolute and relative error 1e-12). On the
    ``rb`` and ``ii`` defaults it returns Φ(1) to within 1e-15.

    Parameters
    ----------
    means
        Category means, (K, 2).
    covs
        Covariances, (K, 2, 2).
    priors
        Category probabilities (default equal).
    """
    from scipy import integrate

    means = np.asarray(means, dtype=float)
    covs = np.asarray(covs, dtype=float)
    k = len(means)
    priors = np.full(k, 1.0 / k) if priors is None else np.asarray(priors, float) / np.sum(priors)
    sd = np.sqrt(covs[:, 0, 0])
    lo = float((means[:, 0] - 12 * sd).min())
    hi = float((means[:, 0] + 12 * sd).max())
    value, _ = integrate.quad(
        lambda x1: _line_accuracy(x1, means, covs, priors),
        lo,
        hi,
        epsabs=1e-12,
        epsrel=1e-12,
        limit=500,
    )
    return float(value)


def _line_accuracy(x1: float, means: np.ndarray, covs: np.ndarray, priors: np.ndarray) -> float:
    """Σ_k π_k p_k(x1) P_k(x2 where k wins | x1): the integrand over x1."""
    from scipy.special import ndtr

    inv = np.linalg.inv(covs)
    dx = x1 - means[:, 0]
    my = means[:, 1]
    # log π_k p_k(x1, x2) = const_k - (a_k x2² + b_k x2 + c_k) / 2
    a = inv[:, 1, 1]
    b = 2 * (inv[:, 0, 1] * dx - inv[:, 1, 1] * my)
    c = inv[:, 0, 0] * dx**2 - 2 * inv[:, 0, 1] * dx * my + inv[:, 1, 1] * my**2
    const = np.log(priors) - 0.5 * np.log(np.linalg.det(covs)) - np.log(2 * np.pi)
    cuts = np.sort(_pairwise_roots(a, b, c, const))
    edges = np.r_[-np.inf, cuts, np.inf]
    lo, hi = edges[:-1], edges[1:]
    # one point inside each interval, where the winner is found
    probe = np.zeros(len(lo))
    inner = np.isfinite(lo) & np.isfinite(hi)
    probe[inner] = (lo[inner] + hi[inner]) / 2
    probe[0] = hi[0] - 1.0 if np.isfinite(hi[0]) else 0.0
    if len(lo) > 1:
        probe[-1] = lo[-1] + 1.0
    log_p = const[:, None] - 0.5 * (a[:, None] * probe**2 + b[:, None] * probe + c[:, None])
    win = np.argmax(log_p, axis=0)
    # x2 | x1 under category k is normal with these moments
    cond_mean = my + covs[:, 0, 1] / covs[:, 0, 0] * dx
    cond_sd = np.sqrt(covs[:, 1, 1] - covs[:, 0, 1] ** 2 / covs[:, 0, 0])
    mass = ndtr((hi - cond_mean[win]) / cond_sd[win]) - ndtr((lo - cond_mean[win]) / cond_sd[win])
    marginal = priors * np.exp(-0.5 * dx**2 / covs[:, 0, 0]) / np.sqrt(2 * np.pi * covs[:, 0, 0])
    return float(np.sum(mass * marginal[win]))


def _pairwise_roots(a, b, c, const) -> np.ndarray:
    """Real x2 where two categories' log densities are equal (every pair; finite ones only)."""
    roots = []
    for k in range(len(a)):
        for j in range(k + 1, len(a)):
            qa = -0.5 * (a[k] - a[j])
            qb = -0.5 * (b[k] - b[j])
            qc = const[k] - const[j] - 0.5 * (c[k] - c[j])
            disc = qb * qb - 4 * qa * qc
            if disc < 0:
                continue
            # the cancellation-free pair of roots; qa = 0 (equal x2 precision) leaves one
            q = -0.5 * (qb + np.copysign(np.sqrt(disc), qb))
            if qa != 0:
                roots.append(q / qa)
            if q != 0:
                roots.append(qc / q)
    return np.array([r for r in roots if np.isfinite(r)])


def optimal_accuracy(name: str, **options) -> float:
    """Bayes-optimal accuracy (equal category frequencies) of a Gaussian design.

    Parameters
    ----------
    name
        ``"two-gaussian"``, ``"ii"`` or ``"rb"``.
    **options
        ``means``, ``covs``, ``rotation`` as for the design (see :func:`gaussian_categories`).

    Returns
    -------
    float
        The accuracy, to about 1e-11 (see :func:`gaussian_optimal_accuracy`). The defaults:
        ``rb`` and ``ii`` Φ(1) = 0.8413447461, ``two-gaussian`` 0.9988253470.
    """
    options.pop("block_size", None)
    means, covs = gaussian_categories(name, **options)
    return gaussian_optimal_accuracy(means, covs)


# ----------------------------------------------------------------------------- binary designs


def shj(
    type_number: int,
    n_participants: int,
    n_trials: int | None = None,
    seed: int = 0,
    n_blocks: int | None = None,
    *,
    passes: int = 1,
) -> pd.DataFrame:
    """Shepard, Hovland & Jenkins type ``type_number`` (1-6) in blocks of the 8 items.

    Stimuli, categories (0/1, the coding of Nosofsky et al., 1994) and item orders come from
    :func:`catmodel.simulate.shj.shj_blocks`: every block holds each item ``passes`` times,
    each pass in a fresh random order. The default length is 256 trials: 32 blocks of 8, or
    with ``passes=2`` the 16 blocks of 16 trials of Nosofsky et al.'s (1994) curves. An
    ``n_trials`` that is not a whole number of blocks ends with a partial block. Every trial
    is a training trial (``phase="train"``); ``item`` is the logical stimulus, 1-8.
    """
    from catmodel.simulate.shj import shj_blocks

    size = 8 * int(passes)
    n = _length(n_trials, n_blocks, size, SHJ_TRIALS)
    frames = []
    for p, rng in enumerate(_participant_rngs(seed, _check_participants(n_participants))):
        stimuli, categories = shj_blocks(type_number, -(-n // size), rng, passes=passes)
        x = np.asarray(stimuli, dtype=float)[:n]
        frame = _frame(p, x, np.asarray(categories)[:n], size)
        frame["phase"] = "train"
        # the item is the logical stimulus of Nosofsky et al. (1994), 1 + 4 d1 + 2 d2 + d3,
        # the numbering `catmodel datasets get sixproblems` writes too
        frame["item"] = (1 + x @ np.array([4.0, 2.0, 1.0])).astype(int)
        frames.append(frame)
    return _with_features(pd.concat(frames, ignore_index=True), 3)


def five_four_transfer_labels() -> dict[str, str]:
    """The label each new 5-4 transfer item gets when a category is required.

    The label of the nearer category centroid (mean of the category's training items,
    Euclidean distance); no item is equidistant. Only a convention: the structure leaves these
    items' category undefined.
    """
    feats = np.array([f for _, f, _ in FIVE_FOUR_ITEMS], dtype=float)
    cats = np.array([c for _, _, c in FIVE_FOUR_ITEMS], dtype=object)
    centroid = {c: feats[cats == c].mean(axis=0) for c in ("A", "B")}
    out = {}
    for name, f, c in FIVE_FOUR_ITEMS:
        if c is None:
            d = {k: np.sum((np.array(f) - v) ** 2) for k, v in centroid.items()}
            out[name] = min(d, key=d.__getitem__)
    return out


def five_four(
    n_participants: int,
    n_trials: int | None = None,
    seed: int = 0,
    n_blocks: int | None = None,
    *,
    transfer_blocks: int = 1,
    transfer_category: str = "missing",
) -> pd.DataFrame:
    """Medin & Schaffer's (1978) 5-4 structure: training, then a transfer test.

    Training: blocks of the 9 training items (:data:`FIVE_FOUR_ITEMS`), each in a fresh random
    order, with feedback (``phase="train"``); ``n_blocks`` (default 16) or ``n_trials`` count
    the training trials. Transfer: ``transfer_blocks`` blocks of all 16 items without feedback
    (``phase="transfer"``, ``feedback`` missing). An ``item`` column names the items (A1 ..
    T16, Smith & Minda, 2000).

    Parameters
    ----------
    n_participants
        Number of simulated participants.
    n_trials, n_blocks
        Length of the training phase (one of them; default 16 blocks, 144 trials); a partial
        last block is allowed.
    seed
        Seed of the item orders (each participant its own stream).
    transfer_blocks
        Passes through the 16 items in the transfer phase (default 1; 0 for none).
    transfer_category
        The ``category`` of the 7 new transfer items, whose category the structure leaves
        undefined: ``"missing"`` (default) leaves it missing (the loader accepts a missing
        category on trials without feedback; accuracy curves skip them); ``"centroid"`` gives
        the label of :func:`five_four_transfer_labels` (the nearer category centroid).
    """
    if int(transfer_blocks) != transfer_blocks or transfer_blocks < 0:
        raise SettingsError(f"transfer_blocks must be a whole number >= 0, got {transfer_blocks}")
    if transfer_category not in ("centroid", "missing"):
        raise SettingsError(
            f"transfer_category must be 'centroid' or 'missing', got {transfer_category!r}"
        )
    n = _length(n_trials, n_blocks, 9, FIVE_FOUR_BLOCKS * 9)
    names = np.array([name for name, _, _ in FIVE_FOUR_ITEMS])
    feats = np.array([f for _, f, _ in FIVE_FOUR_ITEMS], dtype=float)
    nominal = [c for _, _, c in FIVE_FOUR_ITEMS]
    if transfer_category == "centroid":
        filled = five_four_transfer_labels()
        nominal = [filled.get(name, c) for name, c in zip(names, nominal, strict=True)]
    labels = np.array(nominal, dtype=object)
    train_blocks = -(-n // 9)
    frames = []
    for p, rng in enumerate(_participant_rngs(seed, _check_participants(n_participants))):
        train = np.concatenate([rng.permutation(9) for _ in range(train_blocks)])[:n]
        test = np.concatenate(
            [np.zeros(0, int), *(rng.permutation(16) for _ in range(int(transfer_blocks)))]
        )
        items = np.r_[train, test].astype(int)
        frame = pd.DataFrame(
            {
                "participant": participant_id(p),
                "trial": np.arange(1, len(items) + 1),
                "block": np.r_[
                    np.arange(n) // 9 + 1, train_blocks + 1 + np.arange(len(test)) // 16
                ],
                "phase": np.r_[np.full(n, "train"), np.full(len(test), "transfer")].astype(object),
                "item": names[items],
            }
        )
        for d in range(4):
            frame[f"x{d + 1}"] = feats[items, d]
        frame["category"] = labels[items]
        frame["feedback"] = np.r_[labels[train], np.full(len(test), None)]
        frames.append(frame)
    return _with_features(pd.concat(frames, ignore_index=True), 4)


# ----------------------------------------------------------------------------- from a file


def from_file(
    path: str,
    n_participants: int | None = None,
    n_trials: int | None = None,
    seed: int = 0,
    n_blocks: int | None = None,
    *,
    columns=None,
    block_size: int = FILE_BLOCK,
) -> pd.DataFrame:
    """The stimulus sequences of a data file: each learner's own stimuli, categories, blocks.

    Parameters
    ----------
    path
        A file, directory or pattern the loader reads (responses are not needed).
    n_participants
        Keep the first ``n`` participants (in file order); ``None`` or 0: all.
    n_trials, n_blocks
        Keep each learner's first ``n_trials`` trials or the trials of its first ``n_blocks``
        blocks; default all.
    seed
        Unused: the sequences are the file's.
    columns
        A :class:`~catmodel.data.ColumnMap` for the file.
    block_size
        Blocks of this many trials when the file has no block column (default 40).

    Returns
    -------
    pandas.DataFrame
        ``learner`` (when learners are not just participants), ``participant``, ``trial``,
        ``block``, the file's features under their own names, ``category``, ``feedback``
        (missing where the learner got none), and ``condition``/``phase`` when present.
    """
    from catmodel.data.trials import load_trials

    del seed
    table = load_trials(path, columns, require_response=False)
    f = table.frame
    keep = pd.unique(f["participant"])
    if n_participants:
        if n_participants > len(keep):
            raise SettingsError(f"{path} has {len(keep)} participants, not {n_participants}")
        keep = keep[:n_participants]
    f = f[f["participant"].isin(keep)].copy()
    if "block" not in f:
        f["block"] = (f["trial"] - 1) // block_size + 1
    f = _first_trials(f, n_trials, n_blocks)
    names = ["learner"] if not (f["learner"] == f["participant"]).all() else []
    names += ["participant", "trial", "block", *table.features, "category", "feedback"]
    names += [c for c in ("condition", "phase") if c in f]
    out = f[names].reset_index(drop=True)
    out.attrs["features"] = list(table.features)
    return out


def _first_trials(f: pd.DataFrame, n_trials: int | None, n_blocks: int | None) -> pd.DataFrame:
    if n_trials is not None and n_blocks is not None:
        raise SettingsError("give the number of trials or of blocks, not both")
    if n_trials is not None:
        f = f[f["trial"] <= n_trials]
    if n_blocks is not None:
        # Blocks in the order the learner met them, which need not be 1, 2, ...
        rank = f.groupby("learner", sort=False)["block"].rank(method="dense")
        f = f[rank <= n_blocks]
    f = f.copy()
    f["trial"] = f.groupby("learner", sort=False).cumcount() + 1
    return f


# ----------------------------------------------------------------------------- registry

#: the ``ii-4`` design: the category means of ``crossley_unlearning_4cat`` (a diamond whose
#: optimal boundaries are its diagonals) and their isotropic covariance (SD 10)
FOUR_II_MEANS = np.array([[72.0, 100.0], [100.0, 128.0], [100.0, 72.0], [128.0, 100.0]])
FOUR_II_COV = 100.0 * np.eye(2)


@dataclass(frozen=True)
class Design:
    """A named design: a generator and a one-line description."""

    name: str
    generate: Callable[..., pd.DataFrame]
    description: str

    def __call__(
        self,
        n_participants: int,
        n_trials: int | None = None,
        seed: int = 0,
        n_blocks: int | None = None,
        **options,
    ) -> pd.DataFrame:
        return self.generate(n_participants, n_trials, seed=seed, n_blocks=n_blocks, **options)


def _two_gaussian_design(n_participants, n_trials=None, seed=0, n_blocks=None, block_size=40):
    n = _length(n_trials, n_blocks, block_size, 400)
    return two_gaussian(_check_participants(n_participants), n, seed=seed, block_size=block_size)


_SHJ_RULES = {
    1: "one dimension decides",
    2: "XOR of two dimensions",
    3: "a rule with exceptions",
    4: "family resemblance (linearly separable)",
    5: "a rule with exceptions",
    6: "parity of all three dimensions",
}

DESIGNS: dict[str, Design] = {
    "two-gaussian": Design(
        "two-gaussian",
        _two_gaussian_design,
        "the demo's two bivariate normal categories; 400 trials, blocks of "
        "40; optimal accuracy 0.9988",
    ),
    "ii": Design(
        "ii",
        information_integration,
        "information-integration: two Gaussian categories, diagonal optimal boundary; "
        "600 trials, blocks of 100; optimal accuracy 0.8413",
    ),
    "rb": Design(
        "rb",
        rule_based,
        "rule-based: two Gaussian categories, optimal boundary x1 = 50; 600 trials, "
        "blocks of 100; optimal accuracy 0.8413 (rotation=45 gives ii)",
    ),
    **{
        f"shj-{t}": Design(
            f"shj-{t}",
            partial(shj, t),
            f"Shepard-Hovland-Jenkins type {t} ({_SHJ_RULES[t]}); 3 binary "
            f"dimensions, 32 blocks of the 8 items",
        )
        for t in range(1, 7)
    },
    "ii-4": Design(
        "ii-4",
        partial(information_integration, means=FOUR_II_MEANS, covs=FOUR_II_COV),
        "four-category information integration: isotropic Gaussian categories (SD 10) at "
        "the corners of a diamond, diagonal optimal boundaries (the structure of the "
        "crossley_unlearning_4cat data); 600 trials, blocks of 100",
    ),
    "distortion": Design(
        "distortion",
        distortion,
        "prototype distortion: 3 random prototypes in D dimensions (option dims, default "
        "16), 8 training blocks of 6 medium distortions per category with feedback, then "
        "old items, prototypes and new low/medium/high distortions without feedback "
        "(item_type); optimal accuracy on medium distortions 0.90",
    ),
    "5-4": Design(
        "5-4",
        five_four,
        "Medin & Schaffer's 5-4 structure: 16 training blocks of the 9 items with "
        "feedback, then the 16 items without feedback",
    ),
}
FILE_PREFIX = "file:"


def describe_designs() -> dict[str, str]:
    """Design name -> one-line description (``file:PATH`` included)."""
    out = {name: d.description for name, d in DESIGNS.items()}
    out["file:PATH"] = (
        "each learner's own stimuli, categories, feedback and blocks from a data "
        "file (option columns: a ColumnMap)"
    )
    return out


def make_design(
    name: str,
    n_participants: int | None,
    n_trials: int | None = None,
    seed: int = 0,
    n_blocks: int | None = None,
    **options,
) -> pd.DataFrame:
    """Stimuli and categories of ``n_participants`` simulated participants on design ``name``.

    Parameters
    ----------
    name
        A key of :data:`DESIGNS` or ``"file:PATH"`` (see :func:`describe_designs`).
    n_participants
        Participants to simulate; for ``file:`` the first ``n`` of the file (``None``: all).
    n_trials, n_blocks
        The length (one of them; default per design, see the module docs).
    seed
        Seed of the stimulus sequences; the same seed gives the same table.
    **options
        Design options (``means``, ``covs``, ``rotation``, ``block_size``, ``columns``, ...).

    Raises
    ------
    SettingsError
        An unknown design or option, or invalid values.
    """
    if name.startswith(FILE_PREFIX):
        generate: Callable[..., pd.DataFrame] = partial(from_file, name[len(FILE_PREFIX) :])
    elif name not in DESIGNS:
        raise SettingsError(
            f"unknown design {name!r} (designs: {', '.join([*DESIGNS, 'file:PATH'])})"
        )
    elif n_participants is None:
        raise SettingsError(f"design {name} needs a number of participants")
    else:
        generate = DESIGNS[name]
    try:
        return generate(n_participants, n_trials, seed=seed, n_blocks=n_blocks, **options)
    except TypeError as exc:
        if "unexpected keyword" not in str(exc):
            raise
        raise SettingsError(f"design {name}: {exc}") from exc


__all__ = [
    "DESIGNS",
    "FIVE_FOUR_ITEMS",
    "RB_COVS",
    "RB_MEANS",
    "TWO_GAUSSIAN_COVS",
    "TWO_GAUSSIAN_MEANS",
    "Design",
    "describe_designs",
    "five_four",
    "from_file",
    "gaussian_categories",
    "gaussian_optimal_accuracy",
    "information_integration",
    "make_design",
    "optimal_accuracy",
    "rule_based",
    "shj",
    "two_gaussian",
]
