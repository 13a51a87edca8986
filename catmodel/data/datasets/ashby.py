"""Converter of ``ashby_rbii_switchvi`` (crossley/cat_learn_task_switch) to the standard schema.

Column names come from the repository's ``code/util_funcs.py`` (``load_data``), their meanings
from ``resources/RBIIExperimentDescription.doc`` and ``write/main.tex`` (as summarised in the
shared copy's ``SCHEMA.md``).
"""

from __future__ import annotations

import re

import pandas as pd

from catmodel.data.datasets.readers import read_table
from catmodel.data.datasets.source import FileSource
from catmodel.data.datasets.standard import finish

#: util_funcs.py: cat, x (length, px), y (orientation, rad), cue (colour), resp, rt (s).
COLUMNS = ("cat", "x", "y", "cue", "resp", "rt")
#: The condition is the file name's prefix (``ud2``, ``cjii4``, ``ii2cr``, ...; main.tex).
CONDITION = re.compile(r"^(.*)sub\d+$")


def convert(source: FileSource, experiment: str) -> pd.DataFrame:
    """Every participant file of ``data/all_data`` (the repository's copy of all conditions).

    - Feedback ("correct"/"wrong") followed every response and was deterministic (main.tex):
      with the category known, the label it implied is the category.  In the four-label
      switching conditions a "wrong" leaves two labels of the cued task; it is read, as the
      design intends, as naming the true category.
    - ``item``: the design's fixed stimuli (56 points per structure, main.tex) repeat 10
      times; ``item`` numbers each distinct (length, orientation, cue) over the data set.
    - No exclusions are stated in the repository; ``excluded_by_authors`` is False.
    - ``rt`` in the files is in seconds; written in milliseconds.
    """
    parts = []
    for path in source.paths("data/all_data/"):
        stem = path.rsplit("/", 1)[-1].split(".")[0]
        raw = read_table(source.local(path), len(COLUMNS), path)
        raw.columns = COLUMNS
        m = CONDITION.match(stem)
        parts.append(
            pd.DataFrame(
                {
                    "participant": stem,
                    "x1": raw["x"].astype(float),
                    "x2": raw["y"].astype(float),
                    "category": raw["cat"].astype(int),
                    "response": raw["resp"].where(raw["resp"].isin([0, 1, 2, 3])),
                    "feedback": raw["cat"].astype(int),
                    "correct": (raw["resp"] == raw["cat"]).astype(int),
                    "rt": raw["rt"].astype(float) * 1000.0,
                    "condition": m.group(1) if m else stem,
                    "phase": "train",
                    "excluded_by_authors": False,
                    "cue": raw["cue"].astype(int),
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    frame["item"] = frame.groupby(["x1", "x2", "cue"], sort=True).ngroup().to_numpy() + 1
    return finish(frame, 2)
