"""The ``distortion`` design: prototype-distortion categories in any number of dimensions.

The structure of the dot-pattern experiments (Posner & Keele, 1968; the ``hu_nosofsky_dots``
data), in a D-dimensional continuous stimulus space so that a learner's behaviour can be studied
as the dimension grows:

* **Prototypes.** Three per participant, at the corners of an equilateral triangle of side
  :data:`SIDE` (= 40) with a random centre in [30, 70]^D and a random orientation (a random
  orthonormal pair of directions): random points of the stimulus box [0, 100]^D whose pairwise
  distances are equal, so that every participant's task is equally hard whatever D is.
* **Distortions.** An item is its prototype plus independent normal noise on every dimension
  with standard deviation ``level * SIDE / RATIO``; the levels are ``low`` 0.5, ``medium`` 1
  and ``high`` 1.5. :data:`RATIO` = 3.15 makes the Bayes-optimal accuracy on medium distortions
  (an ideal observer that knows the prototypes and the noise) 0.90; it is 0.997 on low and
  0.77 on high distortions.
* **Training** (``phase="train"``, with feedback): ``per_category`` (default 6) medium
  distortions of each prototype, the same items in every block, each block in a fresh random
  order; ``blocks`` training blocks (default 8: 144 trials).
* **Transfer** (``phase="transfer"``, no feedback, one block): the old training items, the three
  prototypes, and three new low, three new medium and three new high distortions of each
  prototype, in a random order. The column ``item_type`` says which (``old``, ``prototype``,
  ``low``, ``medium``, ``high``), and ``item`` names each stimulus (``A-old-1`` .. ``C-old-6``,
  the same item in training and transfer; ``A-prototype``; ``A-low-1``, ...).

Option ``dims`` (default 16) sets D.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from catmodel.errors import SettingsError

#: side of the prototypes' triangle (stimulus units; the box is [0, 100]^D)
SIDE = 40.0
#: side / standard deviation of a medium distortion: Bayes-optimal accuracy 0.90
RATIO = 3.15
#: standard deviation of each distortion level, in units of the medium one
LEVELS = {"low": 0.5, "medium": 1.0, "high": 1.5}
#: new items of each level per prototype in the transfer phase
NEW_PER_LEVEL = 3
DEFAULT_DIMS = 16
DEFAULT_BLOCKS = 8
LABELS = ("A", "B", "C")


def prototypes(rng: np.random.Generator, dims: int) -> np.ndarray:
    """Three prototypes (3, D): an equilateral triangle of side :data:`SIDE`, random centre in
    [30, 70]^D, random orientation."""
    triangle = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3.0) / 2.0]]) * SIDE
    triangle -= triangle.mean(axis=0)
    frame, _ = np.linalg.qr(rng.normal(size=(dims, 2)))
    return rng.uniform(30.0, 70.0, dims) + triangle @ frame.T


def distortion(
    n_participants: int,
    n_trials: int | None = None,
    seed: int = 0,
    n_blocks: int | None = None,
    *,
    dims: int = DEFAULT_DIMS,
    per_category: int = 6,
) -> pd.DataFrame:
    """Prototype-distortion categories in ``dims`` dimensions (see the module docstring).

    ``n_blocks`` counts training blocks (default 8); ``n_trials`` training trials (a whole
    number of blocks of ``3 * per_category``). The transfer block follows.
    """
    from catmodel.simulate.designs import _check_participants, _participant_rngs, participant_id

    dims, per_category = int(dims), int(per_category)
    if dims < 2:
        raise SettingsError(f"dims must be at least 2, got {dims}")
    if per_category < 1:
        raise SettingsError(f"per_category must be at least 1, got {per_category}")
    size = 3 * per_category
    if n_trials is not None:
        if n_trials % size:
            raise SettingsError(f"n_trials must be a multiple of {size} (whole training blocks)")
        n_blocks = n_trials // size
    n_blocks = DEFAULT_BLOCKS if n_blocks is None else int(n_blocks)
    sd = SIDE / RATIO
    frames = []
    for p, rng in enumerate(_participant_rngs(seed, _check_participants(n_participants))):
        proto = prototypes(rng, dims)
        old_cat = np.repeat(np.arange(3), per_category)
        old = proto[old_cat] + rng.normal(0.0, sd, (size, dims))
        train = np.concatenate([rng.permutation(size) for _ in range(n_blocks)])
        test_x = [old, proto]
        test_cat = [old_cat, np.arange(3)]
        test_type = [["old"] * size, ["prototype"] * 3]
        # item names: the old items repeat (every training block and the transfer block)
        old_names = [f"{LABELS[c]}-old-{k % per_category + 1}" for k, c in enumerate(old_cat)]
        test_item = [old_names, [f"{label}-prototype" for label in LABELS]]
        for level, scale in LEVELS.items():
            cats = np.repeat(np.arange(3), NEW_PER_LEVEL)
            test_x.append(proto[cats] + rng.normal(0.0, scale * sd, (len(cats), dims)))
            test_cat.append(cats)
            test_type.append([level] * len(cats))
            test_item.append(
                [f"{LABELS[c]}-{level}-{k % NEW_PER_LEVEL + 1}" for k, c in enumerate(cats)]
            )
        order = rng.permutation(size + 3 + 3 * NEW_PER_LEVEL * len(LEVELS))
        x = np.concatenate([old[train], np.concatenate(test_x)[order]])
        cat = np.concatenate([old_cat[train], np.concatenate(test_cat)[order]])
        kind = np.concatenate([np.full(len(train), "old"), np.concatenate(test_type)[order]])
        names = np.concatenate([np.array(old_names)[train], np.concatenate(test_item)[order]])
        n_train = len(train)
        block = np.r_[np.arange(n_train) // size + 1, np.full(len(x) - n_train, n_blocks + 1)]
        frame = pd.DataFrame(
            {
                "participant": participant_id(p),
                "trial": np.arange(1, len(x) + 1),
                "block": block,
            }
        )
        for d in range(dims):
            frame[f"x{d + 1}"] = x[:, d]
        labels = np.array(LABELS, dtype=object)[cat]
        frame["category"] = labels
        frame["feedback"] = np.where(np.arange(len(x)) < n_train, labels, None)
        frame["phase"] = np.where(np.arange(len(x)) < n_train, "train", "transfer").astype(object)
        frame["item_type"] = kind.astype(object)
        frame["item"] = names.astype(object)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out.attrs["features"] = [f"x{d + 1}" for d in range(dims)]
    return out
