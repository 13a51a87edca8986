"""Converter of ``sixproblems`` (ajwills72/sixproblems, GPL >= 2) to the standard schema.

Column meanings are the package's ``man/*.Rd`` pages (as quoted in the shared copy's
``SCHEMA.md``).  Three binary stimulus dimensions, two categories, Shepard-Hovland-Jenkins
types I-VI; corrective feedback on every trial until the learning criterion.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from catmodel.data.datasets.readers import read_rdata
from catmodel.data.datasets.source import FileSource
from catmodel.data.datasets.standard import finish

#: Experiment -> the package's data file.
FILES = {
    "nosof94": "data/nosof94tld.rda",
    "lewan11": "data/lewan11tld.rda",
    "rehder05": "data/rehder05tld.rda",
}


def convert(source: FileSource, experiment: str) -> pd.DataFrame:
    """Nosofsky et al. (1994), Lewandowsky (2011) or Rehder & Hoffman (2005).

    - Padded rows are dropped: the ``.Rd`` pages say that rows after the learning criterion
      (``resp`` missing in nosof94tld, ``RT`` missing in lewan11tld) are assumed-correct
      trials that were never shown.  Every shown trial is kept.
    - Features: the logical stimulus as three bits (``logstim``: nosof94tld numbers it 1-8,
      read as 1 + 4 d1 + 2 d2 + d3, which makes each type's partition a valid SHJ structure;
      the other two give the bits as a string).  ``item`` is the logical stimulus, numbered
      1-8 as in nosof94tld (1 + the bits read as a binary number).
    - Feedback was corrective on every shown trial: the category.
    - One learner per person and problem: nosof94tld's ``subj`` already is one (each of 120
      people did two problems under separate ids); in lewan11tld each person did all six
      types, so the participant is ``subject:type``.
    - ``condition``: the SHJ type (``type1`` .. ``type6``); no exclusions are stated.
    """
    path = FILES[experiment]
    raw = read_rdata(source.local(path), path)
    if experiment == "nosof94":
        raw = raw[raw["resp"].notna()]
        code = raw["logstim"].astype(int).to_numpy() - 1
        bits = np.stack([(code >> 2) & 1, (code >> 1) & 1, code & 1], axis=1)
        frame = pd.DataFrame(
            {
                "participant": "nosof94/" + raw["subj"].astype(int).astype(str),
                "block": raw["block"].astype(int),
                "category": raw["cat"].astype(float).astype(int),
                "response": raw["resp"].astype(float),
                "rt": np.nan,
                "condition": "type" + raw["type"].astype(int).astype(str),
                "item": raw["logstim"].astype(int),
            }
        )
        order = ["subj", "prob", "block", "subblock", "trial"]
    elif experiment == "lewan11":
        raw = raw[raw["RT"].notna()]
        bits = np.array([[int(c) for c in s] for s in raw["logstim"].astype(str)])
        frame = pd.DataFrame(
            {
                "participant": "lewan11/"
                + raw["subj"].astype(int).astype(str)
                + ":type"
                + raw["type"].astype(int).astype(str),
                "block": raw["block"].astype(int),
                "category": raw["logcat"].astype(int),
                "response": raw["resp"].astype(float),
                "rt": raw["RT"].astype(float) * 1000.0,
                "condition": "type" + raw["type"].astype(int).astype(str),
                "item": _number(raw["logstim"]),
                "session": raw["session"].astype(int),
            }
        )
        order = ["subj", "session", "phase", "block", "trial"]
    else:
        frame, bits, raw = _rehder(raw)
        order = ["s", "block", "trial"]
    frame = frame.assign(feedback=frame["category"], phase="train", excluded_by_authors=False)
    frame["correct"] = (frame["response"] == frame["category"]).astype("Int64")
    frame.loc[frame["response"].isna(), "correct"] = pd.NA
    for d in range(3):
        frame[f"x{d + 1}"] = bits[:, d].astype(float)
    frame = frame.iloc[np.lexsort([raw[c].to_numpy() for c in reversed(order)])]
    return finish(frame, 3)


def _rehder(raw: pd.DataFrame):
    """rehder05tld is long: one row per measure.  The response is the ``resp_key`` row's
    value, mapped through the response counterbalancing (``respCB`` 1: key = category
    label, 2: key = the other label; the ``correct`` column agrees on every row), the
    RT the ``resp_rt`` row's (ms)."""
    keys = raw[raw["DV"].astype(str) == "resp_key"].reset_index(drop=True)
    rts = raw[raw["DV"].astype(str) == "resp_rt"].set_index(["s", "block", "trial"])["value"]
    key = keys["value"].astype(float)
    response = key.where(keys["respCB"] == 1, 1 - key)
    bits = np.array([[int(c) for c in s] for s in keys["logstim"].astype(str)])
    index = pd.MultiIndex.from_frame(keys[["s", "block", "trial"]])
    frame = pd.DataFrame(
        {
            "participant": "rehder05/" + keys["s"].astype(int).astype(str),
            "block": keys["block"].astype(int),
            "category": keys["logcat"].astype(int),
            "response": response,
            "rt": rts.reindex(index).to_numpy(dtype=float),
            "condition": "type" + keys["type"].astype(int).astype(str),
            "item": _number(keys["logstim"]),
        }
    )
    return frame, bits, keys


def _number(bits: pd.Series) -> np.ndarray:
    """Bit strings ``'011'`` as nosof94tld's stimulus numbers (1 + binary value)."""
    return np.array([1 + int(str(b), 2) for b in bits])
