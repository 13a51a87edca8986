"""Checks and conversions of trial data that raise :class:`~catmodel.errors.DataError`.

Every error names the file, the 1-based row (line number; the header is line 1) and the column
(its name, or its position in a file without a header), so the user can open the file at the
problem.  Checks are vectorised; Python loops only build messages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from catmodel.data.io import RawTable
from catmodel.errors import DataError

#: Spellings of correct / incorrect feedback (compared in lower case).
CORRECT_WORDS = {
    "1": 1.0,
    "true": 1.0,
    "correct": 1.0,
    "yes": 1.0,
    "right": 1.0,
    "0": 0.0,
    "false": 0.0,
    "incorrect": 0.0,
    "wrong": 0.0,
    "no": 0.0,
}
_MISSING_WORDS = {"", "na", "nan", "n/a", "null", "none"}

#: Per file, how each standard column or feature is named in messages.
Labels = Mapping[str, Mapping[str, str | int]]


# ----------------------------------------------------------------------------- locating rows


def error_at(
    frame: pd.DataFrame, position: int, role: str, message: str, labels: Labels
) -> DataError:
    """A DataError for row ``position`` (0-based, in ``frame``) of the standard table.

    ``role`` is a standard column or feature name; the message names the user's column.
    """
    row = frame.iloc[int(position)]
    file = str(row["source_file"])
    column = labels.get(file, {}).get(role, role)
    return DataError(file, int(row["source_row"]), column, message)


def first_in_file_order(frame: pd.DataFrame, mask: np.ndarray) -> int:
    """Position of the earliest flagged row by file, then line (``frame`` may be sorted)."""
    candidates = np.flatnonzero(mask)
    keys = np.lexsort(
        (frame["source_row"].to_numpy()[candidates], frame["_file"].to_numpy()[candidates])
    )
    return int(candidates[keys[0]])


# ----------------------------------------------------------------------------- raw columns


def numeric_column(
    raw: RawTable,
    label: str,
    rows: np.ndarray,
    *,
    what: str,
    allow_missing: bool = True,
    integral: bool = False,
) -> np.ndarray:
    """A raw column as floats; non-numbers (and, if asked, missing or fractional values) fail.

    Parameters
    ----------
    raw
        The file (for the error's file name and column display).
    label
        The column in ``raw.frame``.
    rows
        Line numbers of the frame's rows.
    what
        What the column holds, for the message ("feature", "trial number", ...).
    """
    column = raw.frame[label]
    values = pd.to_numeric(column, errors="coerce").to_numpy(
        dtype=float, na_value=np.nan, copy=True
    )
    present = column.notna().to_numpy(copy=True)
    if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
        # Blank strings and NA words count as missing, not as text.
        words = column.astype(object).str.strip().str.lower()
        present &= ~words.isin(_MISSING_WORDS).to_numpy()
    bad = present & ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            raw.path,
            int(rows[i]),
            raw.display(label),
            f"{what} {column.iloc[i]!r} is not a (finite) number",
        )
    if not allow_missing and not present.all():
        i = int(np.flatnonzero(~present)[0])
        raise DataError(raw.path, int(rows[i]), raw.display(label), f"missing {what}")
    if integral:
        fractional = present & (values != np.floor(values))
        if fractional.any():
            i = int(np.flatnonzero(fractional)[0])
            raise DataError(
                raw.path,
                int(rows[i]),
                raw.display(label),
                f"{what} {column.iloc[i]!r} is not a whole number",
            )
    values[~present] = np.nan
    return values


def id_column(raw: RawTable, label: str, rows: np.ndarray, what: str) -> pd.Series:
    """A raw column of ids (participant, learner part) as strings; missing ids fail."""
    ids = normalize_labels(raw.frame[label])
    missing = ids.isna().to_numpy()
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise DataError(raw.path, int(rows[i]), raw.display(label), f"missing {what}")
    return ids.astype(str)


def binary_values(raw: RawTable, label: str, rows: np.ndarray) -> tuple[str, np.ndarray]:
    """Check one file's column to binary-code; return its kind and values.

    Returns ``("bits<k>", text)`` when every value is a 0/1 digit string of length ``k``
    (``'011'``), else ``("int", numbers)`` of non-negative integers (``"empty"`` for no rows).
    The expansion (:func:`expand_binary`) happens over all files at once, so that integer
    codes are relative to the minimum over all of them.
    """
    text = raw.text
    column = text[label] if text is not None and label in text else raw.frame[label]
    if column.empty:
        return "empty", np.zeros(0)
    if column.isna().any():
        i = int(np.flatnonzero(column.isna().to_numpy())[0])
        raise DataError(
            raw.path,
            int(rows[i]),
            raw.display(label),
            "missing value to binary-code (drop such rows with --where)",
        )
    if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
        text = column.astype(str).str.strip()
        lengths = text.str.len()
        if text.str.fullmatch(r"[01]+").all() and lengths.nunique() == 1:
            return f"bits{int(lengths.iloc[0])}", text.to_numpy(dtype=object)
    values = numeric_column(
        raw, label, rows, what="binary-code value", allow_missing=False, integral=True
    )
    if (values < 0).any():
        i = int(np.flatnonzero(values < 0)[0])
        raise DataError(
            raw.path,
            int(rows[i]),
            raw.display(label),
            f"binary-code value {column.iloc[i]!r} is negative",
        )
    return "int", values


def expand_binary(values: np.ndarray, kind: str, base: str) -> pd.DataFrame:
    """Binary features ``base_1 .. base_k`` (most significant bit first) from
    :func:`binary_values` output: one feature per digit of bit strings, or integers minus
    their minimum in the fewest bits that hold the maximum."""
    if kind.startswith("bits"):
        width = int(kind[4:])
        codes, uniques = pd.factorize(pd.Series(values, dtype=object))
        digits = np.array([list(s) for s in uniques], dtype=np.int64).reshape(-1, width)
        bits = digits[codes]
    else:
        numbers = np.asarray(values, dtype=float)
        codes = (numbers - numbers.min()).astype(np.int64) if len(numbers) else numbers
        width = max(1, int(codes.max()).bit_length()) if len(codes) else 1
        shifts = np.arange(width - 1, -1, -1)
        bits = (codes.astype(np.int64)[:, None] >> shifts[None, :]) & 1
    names = [f"{base}_{k}" for k in range(1, width + 1)]
    return pd.DataFrame(bits.astype(float), columns=names)


# ----------------------------------------------------------------------------- labels


def normalize_labels(values: pd.Series) -> pd.Series:
    """Labels as Python objects: ``int`` for whole numbers and integer text, ``float`` for other
    numbers, stripped ``str`` otherwise, ``None`` when missing (also empty / ``NA`` text).

    Integer text becomes ``int`` so that ``1`` in one column and ``"1"`` in another (or in
    ``--recode-response 1=A``) are the same label.
    """
    n = len(values)
    out = np.full(n, None, dtype=object)
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        text_mask = np.zeros(n, dtype=bool)
    else:
        obj = values.astype(object)
        present = obj.notna()
        text = obj[present].astype(str).str.strip()
        text = text[~text.str.lower().isin(_MISSING_WORDS)]
        numbers = np.full(n, np.nan)
        parsed = pd.to_numeric(text, errors="coerce")
        index = values.index.get_indexer(text.index)
        numbers[index] = parsed.to_numpy(dtype=float)
        text_mask = np.zeros(n, dtype=bool)
        text_mask[index] = parsed.isna().to_numpy()
        out[index[text_mask[index]]] = text[parsed.isna()].to_numpy(dtype=object)
    finite = np.isfinite(numbers)
    whole = finite.copy()
    whole[finite] = numbers[finite] == np.floor(numbers[finite])
    out[whole] = numbers[whole].astype(np.int64).astype(object)
    fraction = finite & ~whole
    out[fraction] = numbers[fraction].astype(object)
    return pd.Series(out, index=values.index, dtype=object)


def recode(labels: pd.Series, mapping: Mapping[str, str]) -> pd.Series:
    """Replace labels by ``mapping`` (keys compared with ``str(label)``; ``""`` means missing)."""
    if not mapping:
        return labels
    keys = normalize_labels(pd.Series(list(mapping), dtype=object)).map(str).tolist()
    targets = normalize_labels(pd.Series(list(mapping.values()), dtype=object)).tolist()
    table = dict(zip(keys, targets, strict=True))
    present = labels[labels.notna()]
    text = present.astype(str)
    hit = text.isin(table)
    out = labels.copy()
    out.loc[text.index[hit]] = pd.Series(
        text[hit].map(table).tolist(), index=text.index[hit], dtype=object
    )
    return out


def parse_correct(frame: pd.DataFrame, labels: Labels) -> np.ndarray:
    """The ``correct`` column as 1.0 / 0.0 / NaN (accepts 1/0, true/false, correct/incorrect,
    wrong, yes/no in any case)."""
    raw = frame["correct"]
    text = normalize_labels(raw).map(lambda v: str(v).lower(), na_action="ignore")
    values = text.map(CORRECT_WORDS).to_numpy(dtype=float, na_value=np.nan)
    bad = text.notna().to_numpy() & np.isnan(values)
    if bad.any():
        i = first_in_file_order(frame, bad)
        raise error_at(
            frame,
            i,
            "correct",
            f"{raw.iloc[i]!r} is not correct/incorrect "
            f"(accepted: 1/0, true/false, correct/incorrect/wrong, yes/no)",
            labels,
        )
    return values


def is_missing(labels: pd.Series) -> np.ndarray:
    return labels.isna().to_numpy()


def in_set(labels: pd.Series, allowed: Sequence) -> np.ndarray:
    """Whether each label is one of ``allowed`` (``1`` and ``"1"`` differ)."""
    return labels.isin(list(allowed)).to_numpy()


def describe(labels: Sequence) -> str:
    return ", ".join(repr(v) for v in labels)


# ----------------------------------------------------------------------------- table checks


def check_feature_sets(found: Sequence[tuple[str, list[str]]]) -> None:
    """All files must yield the same features (when they were discovered, not named).

    The file whose features differ from the most common set is reported at row 1.
    """
    sets = [tuple(features) for _, features in found]
    if len(set(sets)) <= 1:
        return
    common = max(set(sets), key=lambda s: (sets.count(s), -sets.index(s)))
    reference = found[sets.index(common)][0]
    for path, features in found:
        if tuple(features) == common:
            continue
        extra = [f for f in features if f not in common]
        missing = [f for f in common if f not in features]
        column = ", ".join(extra or missing or features)
        raise DataError(
            path,
            1,
            column,
            f"this file has features {', '.join(features)} but {reference} has "
            f"{', '.join(common)}; all files must have the same feature columns "
            f"(or name them with --features)",
        )


def check_categories_present(frame: pd.DataFrame, labels: Labels) -> None:
    """Every trial needs a category, except trials whose feedback column says "none".

    A transfer trial without feedback may have no true label (new items in a transfer test):
    the model predicts it but learns nothing, and it counts in no accuracy.
    """
    missing = is_missing(frame["category"]).copy()
    if "feedback" in frame:
        no_feedback = frame["_has_feedback"].to_numpy(dtype=bool) & is_missing(frame["feedback"])
        missing &= ~no_feedback
    if missing.any():
        i = first_in_file_order(frame, missing)
        raise error_at(
            frame,
            i,
            "category",
            "missing category label on a trial with feedback; "
            'drop rows that are not trials with --where (e.g. "cat.notna()")',
            labels,
        )


def check_filename_participants(frame: pd.DataFrame, labels: Labels) -> None:
    """A participant id taken from file names must not come from two files."""
    files = frame.groupby("participant", sort=False)["_file"].nunique()
    shared = files[files > 1]
    if shared.empty:
        return
    pid = shared.index[0]
    rows = frame["participant"].eq(pid).to_numpy()
    later = rows & (frame["_file"].to_numpy() != frame["_file"].to_numpy()[rows][0])
    i = first_in_file_order(frame, later)
    raise error_at(
        frame,
        i,
        "participant",
        f"participant id {pid!r} (from the file name) "
        f"also comes from another file; use --participant-from-filename to tell "
        f"the files apart",
        labels,
    )


def check_unique_trials(frame: pd.DataFrame, labels: Labels) -> None:
    """No learner may have the same block and trial number twice (the later one is reported).

    ``frame`` must still be in file order.
    """
    trial = frame["trial_original"]
    if trial.isna().all():
        return
    keys = pd.DataFrame(
        {
            "learner": frame["learner"],
            "block": frame["block"].astype(float).fillna(-np.inf) if "block" in frame else 0.0,
            "trial": trial,
        }
    )
    dup = keys.duplicated(keep="first").to_numpy() & trial.notna().to_numpy()
    if not dup.any():
        return
    i = first_in_file_order(frame, dup)
    same = keys.eq(keys.iloc[i]).all(axis=1).to_numpy()
    j = int(np.flatnonzero(same)[0])
    first = frame.iloc[j]
    where = "" if "block" not in frame else f"block {frame['block'].iloc[i]}, "
    raise error_at(
        frame,
        i,
        "trial",
        f"duplicate trial: learner {frame['learner'].iloc[i]}, {where}trial "
        f"{trial.iloc[i]:g} is also on row {first['source_row']} of "
        f"{first['source_file']}; if trials restart, map the column that "
        f"tells them apart with --block or --learner",
        labels,
    )


def check_responses(
    frame: pd.DataFrame, categories: Sequence, labels: Labels, drop: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Responses must be category labels or missing; with ``drop`` other trials are dropped.

    Returns
    -------
    kept, dropped
        The frame without the dropped trials, and the dropped trials (no rows when none).
    """
    response = frame["response"]
    bad = ~is_missing(response) & ~in_set(response, categories)
    if not bad.any():
        return frame, frame.iloc[:0]
    if not drop:
        i = first_in_file_order(frame, bad)
        raise error_at(
            frame,
            i,
            "response",
            f"response {response.iloc[i]!r} is not a category label (categories: "
            f"{describe(categories)}); recode it with --recode-response or drop such "
            f"trials with --drop-invalid-responses",
            labels,
        )
    return frame.loc[~bad], frame.loc[bad]


def check_feedback(frame: pd.DataFrame, categories: Sequence, labels: Labels) -> None:
    feedback = frame["feedback"]
    bad = ~is_missing(feedback) & ~in_set(feedback, categories)
    if bad.any():
        i = first_in_file_order(frame, bad)
        raise error_at(
            frame,
            i,
            "feedback",
            f"feedback {feedback.iloc[i]!r} is not a category label (categories: "
            f"{describe(categories)}); recode it with --recode-category",
            labels,
        )


def check_two_categories(frame: pd.DataFrame, labels: Labels) -> None:
    """Each learner must see at least two categories (frame sorted by learner, trial)."""
    counts = frame.groupby("learner", sort=False)["category"].nunique()
    single = counts[counts < 2]
    if single.empty:
        return
    learner = single.index[0]
    i = int(np.flatnonzero(frame["learner"].eq(learner).to_numpy())[0])
    raise error_at(
        frame,
        i,
        "category",
        f"learner {learner} has only one category ({frame['category'].iloc[i]!r}) "
        f"in its trials; a learner needs at least two",
        labels,
    )
