"""Converters of the two Crossley data sets to the standard schema.

``crossley_cat_unlearn_2cat`` (crossley/cat_unlearn) and ``crossley_unlearning_4cat``
(crossley/unlearning_master).  Each rule names where it comes from: the repository's README
and code, as summarised in the shared copy's ``SCHEMA.md``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from catmodel.data.datasets.readers import read_csv, read_table
from catmodel.data.datasets.source import FileSource
from catmodel.data.datasets.standard import finish, implied_by_correct

# ----------------------------------------------------------------------------- 2 categories

#: cat_unlearn_2_cat/analysis/trial_data.py splits the 899 trials into these phases:
#: trials 0-299, 300-599, 600-898 (0-based).
PHASES_2CAT = ((0, "learn"), (300, "intervention"), (600, "test"))
#: trial_data.py excludes participants with more than 10% responses it cannot map to A/B.
UNMAPPED_SHARE_2CAT = 0.10
#: 25-trial blocks, as the project's own analysis of these data uses (the files have none).
BLOCK_2CAT = 25


def convert_2cat(source: FileSource, experiment: str) -> pd.DataFrame:
    """``crossley_cat_unlearn_2cat``, experiment ``"1"`` or ``"2"`` (the files' column).

    - Responses other than ``A``/``B`` are pygame key codes the logger wrote over the
      response (README, run_exp.py): they become missing responses.
    - Feedback: the label the ``fb`` message implied for the logged response (``Correct``:
      the response; ``Incorrect``: the other label).  Where the response is a key code, the
      learn and test phases, whose feedback was veridical (run_exp.py), imply the category;
      in the intervention phase (random feedback in Exp. 1, random on 75% of trials in
      Exp. 2, run_exp.py) the label is unknown and left missing.
    - ``excluded_by_authors``: more than 10% unmappable responses (trial_data.py).
    """
    parts = []
    for path in source.paths("cat_unlearn_2_cat/data/"):
        raw = read_csv(source.local(path), path)
        raw = raw[raw["experiment"].astype(str) == experiment]
        if raw.empty:
            continue
        raw = raw.sort_values("trial", kind="stable")
        response = raw["resp"].astype(str).where(raw["resp"].astype(str).isin(["A", "B"]))
        phase = _phase(raw["trial"].to_numpy(), PHASES_2CAT)
        correct = raw["fb"].map({"Correct": 1, "Incorrect": 0})
        feedback = implied_by_correct(response, correct, ["A", "B"])
        veridical = np.isin(phase, ["learn", "test"]) & feedback.isna().to_numpy()
        feedback[veridical] = raw["cat"][veridical]
        frame = pd.DataFrame(
            {
                "participant": raw["subject"].astype(str),
                "block": raw["trial"].to_numpy() // BLOCK_2CAT + 1,
                "x1": raw["x"],
                "x2": raw["y"],
                "category": raw["cat"],
                "response": response.astype(object).where(response.notna(), None),
                "feedback": feedback,
                "correct": correct,
                "rt": raw["rt"],
                "condition": raw["condition"],
                "phase": phase,
                "excluded_by_authors": response.isna().mean() > UNMAPPED_SHARE_2CAT,
                "experiment": experiment,
                "response_logged": raw["resp"].astype(str),
            }
        )
        parts.append(frame)
    return finish(pd.concat(parts, ignore_index=True), 2)


def _phase(trial: np.ndarray, starts) -> np.ndarray:
    out = np.empty(len(trial), dtype=object)
    for first, name in starts:
        out[trial >= first] = name
    return out


# ----------------------------------------------------------------------------- 4 categories

#: master_analysis_unlearning.m / inspect_crossleyetal2013.R treat trials 1-300 as
#: acquisition, 301-600 as the intervention, 601-900 as re-acquisition (1-based).
PHASES_4CAT = ((1, "acquisition"), (301, "intervention"), (601, "reacquisition"))
#: The authors' scripts exclude participants below .40 correct in trials 201-300.
CRITERION_4CAT = (201, 300, 0.40)

#: Per file name pattern: number of columns and the 1-based columns of x, y, category,
#: response, rt (seconds), the "feedback shown" column (1 = "correct"; None: not recorded)
#: and the condition.  x/y/category/response are the columns the authors' MATLAB and R code
#: read; rt and the feedback column are the shared copy's SCHEMA.md's readings of the values.
#: Prefixes ending in "m" are the "new learning" files (labels permuted in re-acquisition).
LAYOUTS_4CAT: dict[str, tuple] = {
    # pattern: (columns, x, y, cat, resp, rt, shown, condition)
    r"unl7m\d+": (12, 2, 3, 5, 6, 9, 8, "new_learn"),
    r"unl7\d+": (10, 2, 3, 5, 6, 9, 8, "relearn"),
    r"unl1\d+": (None, 2, 3, 5, 6, 9, 8, "relearn"),
    r"ext5_\d+": (None, 3, 4, 2, 6, 7, None, "relearn"),
    r"ext6_\d+": (None, 3, 4, 2, 6, 7, None, "new_learn"),
    r"nc(?:40|63)m\d+": (None, 2, 3, 4, 5, 7, None, "new_learn"),
    r"nc(?:40|63)\d+": (None, 2, 3, 4, 5, 7, None, "relearn"),
    r"uRB\d+": (None, 2, 3, 5, 6, 9, 8, "rule_based"),
    r"frc([ABC]?)\d+": (None, 2, 3, 6, 7, 9, None, "renewal"),
}
#: Experiment (a folder of the repository) -> the folder holding its files.
FOLDERS_4CAT = {
    "mix_2575": "mix_2575_data/",
    "nc_25": "nc_25_data/",
    "nc_40": "nc_40_data/",
    "nc_63": "nc_63_data/",
    "nc_63_new_batch": "nc_63_data_new_batch/",
    "rb": "rb_data/data/",
    "renewal": "renewal_data/",
}


def convert_4cat(source: FileSource, experiment: str) -> pd.DataFrame:
    """``crossley_unlearning_4cat``, one folder of the repository (an experiment).

    - 900 trials, nine 100-trial blocks (column 1); phases from the authors' code.
    - Feedback: acquisition and re-acquisition were veridical (where a feedback column exists
      it equals category == response on every such trial): the category.  Intervention:
      where the file records the feedback shown (column 8 of the ``unl``/``uRB`` files,
      1 = "correct"), a "correct" names the response and a "wrong" names no single one of
      the four labels (missing); where it is not recorded, missing (the file does not say
      what was shown).
    - ``excluded_by_authors``: below .40 correct in trials 201-300 (the authors' scripts;
      their hand-written subject lists are not reproduced).
    - Participant: the file name (byte-identical duplicate files are kept, as in the copy).
    """
    folder = FOLDERS_4CAT[experiment]
    parts = []
    for path in source.paths(folder):
        stem = path.rsplit("/", 1)[-1].split(".")[0]
        if "/" in path[len(folder) :] or stem.startswith("II_cats"):
            continue
        layout, match = _layout(stem)
        if layout is None:
            continue
        _, cx, cy, ccat, cresp, crt, cshown, condition = layout
        raw = read_table(source.local(path), None, path)
        trial = np.arange(1, len(raw) + 1)
        phase = _phase(trial, PHASES_4CAT)
        category = raw[ccat].astype(int)
        response = raw[cresp].where(raw[cresp].isin([1, 2, 3, 4])).astype("Int64")
        feedback = pd.Series(category.to_numpy(), dtype=object)
        middle = phase == "intervention"
        if cshown is None:
            feedback[middle] = None
        else:
            shown = raw[cshown].where(raw[cshown].isin([0, 1]))
            implied = implied_by_correct(response.astype(object), shown, [1, 2, 3, 4])
            feedback[middle] = implied[middle]
        lo, hi, least = CRITERION_4CAT
        late = (trial >= lo) & (trial <= hi)
        accuracy = float((response[late] == category[late]).fillna(False).mean())
        if condition == "renewal":
            # which of frc/frcA/frcB/frcC is which renewal design (ABA, AAB, ABC) is not
            # documented: the condition is the file name's prefix
            condition = f"frc{match.group(1)}"
        parts.append(
            pd.DataFrame(
                {
                    "participant": f"{experiment}/{stem}",
                    "block": raw[1].astype(int),
                    "x1": raw[cx].astype(float),
                    "x2": raw[cy].astype(float),
                    "category": category,
                    "response": response,
                    "feedback": feedback,
                    "correct": (response == category).astype("Int64"),
                    "rt": raw[crt].astype(float) * 1000.0,
                    "condition": condition,
                    "phase": phase,
                    "excluded_by_authors": accuracy < least,
                    "experiment": experiment,
                }
            )
        )
    return finish(pd.concat(parts, ignore_index=True), 2)


def _layout(stem: str):
    for pattern, layout in LAYOUTS_4CAT.items():
        m = re.fullmatch(pattern, stem)
        if m:
            return layout, m
    return None, None
