"""Converter of ``hu_nosofsky_dots`` (tegorman13/dot_variability) to the standard schema.

Column meanings are the authors' readme files, copied into the repository beside the data
(``data/mc_2024/readme.txt``, ``data/lmc_2022/Exp2_Classification/README.txt``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from catmodel.data.datasets.readers import read_table
from catmodel.data.datasets.source import FileSource
from catmodel.data.datasets.standard import finish

#: Pattern types (both readmes, column 4).
PATTERN_TYPES = {1: "old", 2: "prototype", 3: "new_low", 4: "new_medium", 5: "new_high"}
#: Per experiment: folder, number of columns, and the 1-based columns of phase, block,
#: pattern type, category, token, distortion (None: none), response, correct, rt, first dot.
LAYOUTS = {
    "mc_2024": ("data/mc_2024/", 28, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11),
    "lmc_2022_exp2": (
        "data/lmc_2022/Exp2_Classification/Data/",
        27,
        1,
        2,
        4,
        5,
        6,
        None,
        7,
        8,
        9,
        10,
    ),
}
#: Training conditions by file name (readmes).
CONDITIONS = {
    "dot_cond1": "low",
    "dot_cond2": "medium",
    "dot_cond3": "high",
    "dot_cond4": "mixed",
    "polyrep": "repeating",
    "polynrep": "nonrepeating",
}


def convert(source: FileSource, experiment: str) -> pd.DataFrame:
    """Hu & Nosofsky (2024) (``mc_2024``) or (2022) Exp. 2 (``lmc_2022_exp2``).

    - Phase 1 is training, phase 2 the transfer test (readmes); the transfer phase restarts
      block and trial numbers, so ``block`` runs on (the transfer block follows the last
      training block) and ``trial`` is the running position.
    - Feedback: training trials were corrective (the papers' training procedure): the
      category.  Transfer trials had none: missing, so a model predicts but does not learn.
    - Features: the 18 dot coordinates, dot i of each pattern kept as ``x(2i-1), x(2i)``
      (the shared copy's SCHEMA.md found dot order preserved between a pattern and its
      prototype).
    - ``item``: the pattern, named by category, pattern type, distortion level and token (the
      readmes' columns; one-to-one with the coordinates within a participant);
      ``item_type`` and ``distortion`` are kept as columns.
    - No exclusions are stated in the readmes; ``excluded_by_authors`` is False.
    """
    folder, n, cphase, cblock, ctype, ccat, ctoken, cdist, cresp, ccorr, crt, cdot = LAYOUTS[
        experiment
    ]
    parts = []
    for path in source.paths(folder):
        stem = path.rsplit("/", 1)[-1].split(".")[0]
        if stem.lower().startswith("readme"):
            continue
        raw = read_table(source.local(path), n, path)
        raw = raw.iloc[np.lexsort((raw[3], raw[cblock], raw[cphase]))]
        train = raw[cphase] == 1
        last_block = int(raw.loc[train, cblock].max()) if train.any() else 0
        block = np.where(train, raw[cblock], raw[cblock] + last_block)
        item_type = raw[ctype].map(PATTERN_TYPES)
        distortion = raw[cdist] if cdist is not None else pd.Series(np.nan, index=raw.index)
        item = (
            "c"
            + raw[ccat].astype(str)
            + "-"
            + item_type
            + (
                "-d" + distortion.astype(int).astype(str)
                if cdist is not None
                else pd.Series("", index=raw.index)
            )
            + "-"
            + raw[ctoken].astype(str)
        )
        frame = pd.DataFrame(
            {
                "participant": stem,
                "block": block,
                "category": raw[ccat].astype(int),
                "response": raw[cresp].where(raw[cresp].isin([1, 2, 3])),
                "feedback": raw[ccat].astype(int).where(train),
                "correct": raw[ccorr].astype(int),
                "rt": raw[crt].astype(float),
                "condition": CONDITIONS[stem.rstrip("0123456789").split("_sub")[0]],
                "phase": np.where(train, "train", "transfer"),
                "item": item,
                "excluded_by_authors": False,
                "item_type": item_type,
                "distortion": distortion,
            }
        )
        for d in range(18):
            frame[f"x{d + 1}"] = raw[cdot + d].astype(float).to_numpy()
        parts.append(frame)
    return finish(pd.concat(parts, ignore_index=True), 18)
