"""The standard trial schema every converted data set is written in.

Columns, in this order: ``participant`` (one id per learner), ``trial`` (1-based running
position within the learner, in the order the trials were shown), ``block``, the features
``x1 .. xD``, ``category``, ``response`` (missing where none was logged as a category label),
``feedback`` (the label the feedback shown implied; missing on trials without feedback or where
it named no single label), ``correct``, ``rt`` (milliseconds), ``condition``, ``phase``,
``item`` (where stimuli repeat), ``excluded_by_authors``, then any columns a data set keeps
from its files (named in its converter).  ``catmodel fit`` reads such a file with no mapping
options: it finds the features by their names ``x1 .. xD``, so the extra columns are never
taken for features, and the ``feedback`` column wins over ``correct``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FIRST = ("participant", "trial", "block")
AFTER = (
    "category",
    "response",
    "feedback",
    "correct",
    "rt",
    "condition",
    "phase",
    "item",
    "excluded_by_authors",
)


def feature_names(n: int) -> list[str]:
    """``x1 .. xn``: the names the loader finds features by."""
    return [f"x{d + 1}" for d in range(n)]


def finish(frame: pd.DataFrame, n_features: int) -> pd.DataFrame:
    """Order the columns, number the trials, and give labels integer types where whole.

    ``frame`` must be in presentation order within each participant (participants in any
    order); ``trial`` is recomputed as the running position.
    """
    frame = frame.reset_index(drop=True).copy()
    frame["trial"] = frame.groupby("participant", sort=False).cumcount() + 1
    for name in ("block", "category", "response", "feedback", "correct"):
        if name in frame and pd.api.types.is_numeric_dtype(frame[name]):
            values = frame[name].astype(float)
            if np.array_equal(values.dropna(), np.round(values.dropna())):
                frame[name] = values.astype("Int64")
    if "excluded_by_authors" in frame:
        frame["excluded_by_authors"] = frame["excluded_by_authors"].astype(bool)
    names = [c for c in FIRST if c in frame] + feature_names(n_features)
    names += [c for c in AFTER if c in frame]
    names += [c for c in frame.columns if c not in names]
    return frame[names]


def implied_by_correct(response: pd.Series, correct: pd.Series, labels: list) -> pd.Series:
    """The label a correct/incorrect message implied, given the response.

    "Correct" names the response.  "Incorrect" names the other label where there are two,
    and no single label where there are more (missing).  A missing response (a key code) or
    missing message gives a missing label.
    """
    out = pd.Series([None] * len(response), index=response.index, dtype=object)
    valid = response.isin(labels) & correct.notna()
    right = valid & (correct.astype(float) == 1)
    out[right] = response[right]
    if len(labels) == 2:
        wrong = valid & (correct.astype(float) == 0)
        other = {labels[0]: labels[1], labels[1]: labels[0]}
        out[wrong] = response[wrong].map(other)
    return out
