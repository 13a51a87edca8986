"""The six category structures of Shepard, Hovland & Jenkins (1961) on three binary dimensions.

Stimuli
    The 8 items are the corners of the cube {0, 1}^3. Item ``i`` (0-based row of
    :data:`SHJ_STIMULI`) is the logical stimulus ``logstim = i + 1`` of Nosofsky, Gluck,
    Palmeri, McKinley & Glauthier (1994), numbered ``logstim = 1 + 4 d1 + 2 d2 + d3``.

Categories
    Each type splits the items 4 / 4. The partitions are those of the trial-level data
    ``sixproblems/nosof94tld`` (Nosofsky et al., 1994; see
    ``shared/datasets/sixproblems/SCHEMA.md``), where the listed logical stimuli are category 1
    and the rest category 0:

    ====  ==============  ==========================================
    type  category 1      structure
    ====  ==============  ==========================================
    I     {5, 6, 7, 8}    one dimension (d1)
    II    {1, 2, 7, 8}    exclusive-or of d1 and d2 (d3 irrelevant)
    III   {3, 6, 7, 8}    rule plus exceptions (4-chains)
    IV    {4, 6, 7, 8}    prototype / family resemblance (star)
    V     {1, 6, 7, 8}    rule plus exception (3-chain + isolate)
    VI    {2, 3, 5, 8}    parity of d1, d2, d3
    ====  ==============  ==========================================

    For types III and V this is an isomorphic relabelling of the table in R's
    ``catlearn::nosof94train``; the difficulty of a type does not depend on the labelling.

Blocks
    :func:`shj_blocks` follows Nosofsky et al. (1994): a block is 16 trials made of two passes
    through the 8 items, each pass in its own random order (``passes=1`` gives 8-trial blocks
    of one pass). The group-level learning curves of that study (``nosof94``, 16 blocks) are
    mean error proportions per such 16-trial block.
"""

from __future__ import annotations

import numpy as np

from catmodel.errors import SettingsError

#: the 8 stimuli (8 x 3, values 0/1); row i is logical stimulus i + 1 = 1 + 4 d1 + 2 d2 + d3
SHJ_STIMULI: np.ndarray = np.array(
    [[(i >> 2) & 1, (i >> 1) & 1, i & 1] for i in range(8)], dtype=np.int64
)
SHJ_STIMULI.setflags(write=False)

#: logical stimuli (1-based) in category 1, per type (Nosofsky et al., 1994 numbering)
SHJ_CATEGORY_ONE: dict[int, tuple[int, ...]] = {
    1: (5, 6, 7, 8),
    2: (1, 2, 7, 8),
    3: (3, 6, 7, 8),
    4: (4, 6, 7, 8),
    5: (1, 6, 7, 8),
    6: (2, 3, 5, 8),
}

#: trials per pass through the items
ITEMS = 8


def _check_type(type_number: int) -> int:
    t = int(type_number)
    if t not in SHJ_CATEGORY_ONE:
        raise SettingsError(f"SHJ type must be 1..6, got {type_number!r}")
    return t


def shj_categories(type_number: int) -> np.ndarray:
    """Category labels (0 or 1) of the 8 stimuli of SHJ type ``type_number`` (1..6).

    Parameters
    ----------
    type_number
        The type, 1 (I) .. 6 (VI).

    Returns
    -------
    numpy.ndarray
        (8,) int64 labels in the row order of :data:`SHJ_STIMULI`.
    """
    members = SHJ_CATEGORY_ONE[_check_type(type_number)]
    labels = np.zeros(ITEMS, dtype=np.int64)
    labels[np.asarray(members) - 1] = 1
    return labels


def shj_blocks(
    type_number: int, n_blocks: int, seed: int | np.random.Generator | None = 0, passes: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """A training sequence of SHJ type ``type_number`` in blocks of the 8 items.

    Parameters
    ----------
    type_number
        The type, 1..6.
    n_blocks
        Number of blocks.
    seed
        Seed (or generator) of the random item orders.
    passes
        Passes through the 8 items per block, each in a fresh random order: 2 (default,
        16-trial blocks as in Nosofsky et al., 1994) or 1 (8-trial blocks).

    Returns
    -------
    stimuli, categories
        ``(n_blocks * passes * 8, 3)`` int64 0/1 stimuli and ``(n_blocks * passes * 8,)`` int64
        category labels. Trial ``t`` belongs to block ``t // (8 * passes)``.
    """
    labels = shj_categories(type_number)
    if int(n_blocks) < 0 or int(passes) < 1:
        raise SettingsError("n_blocks must be >= 0 and passes >= 1")
    rng = np.random.default_rng(seed)
    n_passes = int(n_blocks) * int(passes)
    order = (
        np.concatenate([rng.permutation(ITEMS) for _ in range(n_passes)])
        if n_passes
        else np.zeros(0, dtype=np.int64)
    )
    return SHJ_STIMULI[order].copy(), labels[order].copy()


def shj_batch(orders: int = 16, n_blocks: int = 16, seed: int = 100):
    """Every type's trials in random item orders, as one batch for the models.

    Rows are ordered by type, then order: row ``(type - 1) * orders + i`` is order ``i`` of
    that type, seeded by ``seed * type + i``. Features are standardised as a fit would do
    (0/1 become -1/+1 for these balanced designs).
    """
    import pandas as pd

    from catmodel.data.batch import batch_from_frame

    frames = []
    for type_number in range(1, 7):
        for i in range(orders):
            x, c = shj_blocks(type_number, n_blocks, seed=seed * type_number + i)
            frame = pd.DataFrame(
                {"learner": f"{type_number}-{i}", "participant": f"{i}", "category": c}
            )
            for d in range(3):
                frame[f"x{d + 1}"] = x[:, d]
            frames.append(frame)
    return batch_from_frame(
        pd.concat(frames, ignore_index=True), ["x1", "x2", "x3"], categories=[0, 1]
    )


def block_errors(
    logits, batch, rows, temperature, lapse: float = 1e-4, block: int = 2 * ITEMS
) -> np.ndarray:
    """Mean predicted P(error) per block, (L, n_blocks), from logits (L, T, 2).

    The model's own choice probabilities (shared choice rule) of the wrong category, averaged
    over each block's trials — the quantity Nosofsky et al. (1994) plot for people.
    """
    import torch

    from catmodel.models.choice import choice_log_probs

    logp = choice_log_probs(logits, torch.as_tensor(temperature), lapse)
    truth = batch.category[torch.as_tensor(rows)]
    p_correct = torch.gather(logp, -1, truth[..., None])[..., 0].exp().numpy()
    return 1.0 - p_correct.reshape(len(rows), -1, block).mean(-1)


def type_curves(errors: np.ndarray, orders: int = 16) -> np.ndarray:
    """Per-learner block errors ((6 * orders), n_blocks) -> mean curve per type (6, n_blocks)."""
    return errors.reshape(6, orders, -1).mean(1)
