"""The validated long table of trials (:class:`TrialTable`) and :func:`load_trials`.

Loading goes file by file (read, ``--where``, map columns, check values), then over the whole
table (recode labels, ``--phase``, check trials, sort, ``--trials``, check responses, derive the
feedback label, check categories).  Any problem raises :class:`~catmodel.errors.DataError`
before a table exists, so nothing is half-done.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from catmodel.data import validate as check
from catmodel.data.batch import Standardization, TrialBatch, batch_from_frame, sort_labels
from catmodel.data.io import RawTable, default_participant, find_files, one_line, read_raw
from catmodel.data.schema import (
    PHASE_ROLE,
    ROLES,
    STANDARD_NAMES,
    UNMAPPED,
    ColumnMap,
    parse_ranges,
)
from catmodel.errors import DataError, SettingsError

#: Columns ``to_csv`` writes (features go after ``block``), when present.
WRITTEN = ("learner", "participant", "trial", "block")
WRITTEN_AFTER = ("category", "response", "feedback", "rt", "condition", "phase")
MEMORY = "<memory>"


@dataclass
class TrialTable:
    """Every learner's trials in one validated long table.

    Attributes
    ----------
    frame
        One row per trial, sorted by learner (in order of first appearance) then trial order
        (block, trial, row).  Columns: ``learner`` (str), ``participant`` (str), ``trial``
        (1-based position within the learner), ``trial_original`` (the file's trial number or
        NaN), ``block`` (if any), the feature columns (float), ``category``, ``response``
        (label, or None when missing), ``feedback`` (label, or None: no learning on that trial),
        ``rt``, ``condition``, ``phase`` (if any), ``source_file``, ``source_row`` (1-based line
        number; the header is line 1).
    features
        Feature column names.
    categories
        Category labels, sorted (numbers numerically, then strings).
    learners
        Learner ids in table order.
    dropped
        Rows removed by each filter that was used (``where``, ``phase``, ``trials``,
        ``invalid_responses``).
    notes
        One-line human summaries (what was dropped and why).
    source
        What was loaded (a path, pattern or ``"<memory>"``).
    """

    frame: pd.DataFrame
    features: list[str]
    categories: list
    learners: list[str]
    dropped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    source: str = MEMORY

    @property
    def n_learners(self) -> int:
        """Number of learners."""
        return len(self.learners)

    @property
    def n_trials(self) -> int:
        """Total number of trials (rows) over all learners."""
        return len(self.frame)

    def to_batch(
        self, standardize: bool | Standardization = True, dtype: torch.dtype = torch.float64
    ) -> TrialBatch:
        """Padded tensors (learners x trials x features) for the models.

        Parameters
        ----------
        standardize
            ``True`` to standardise features over this table, ``False`` for none, or a
            :class:`Standardization` to reuse.
        dtype
            Floating dtype of the stimuli.
        """
        return batch_from_frame(self.frame, self.features, self.categories, standardize, dtype)

    def summary(self) -> pd.DataFrame:
        """Per learner: participant, condition (if any), trials, responses, feedback trials and
        accuracy (proportion of responses equal to the category)."""
        f = self.frame
        responded = f["response"].notna()
        correct = responded & (f["response"].astype(object) == f["category"].astype(object))
        parts = pd.DataFrame(
            {
                "learner": f["learner"],
                "trials": 1,
                "responses": responded.astype(int),
                "feedback_trials": f["feedback"].notna().astype(int),
                "correct": correct.astype(int),
            }
        )
        out = parts.groupby("learner", sort=False).sum()
        first = f.groupby("learner", sort=False).first()
        out.insert(0, "participant", first["participant"])
        if "condition" in f:
            out.insert(1, "condition", first["condition"])
        out["accuracy"] = out["correct"] / out["responses"].where(out["responses"] > 0)
        return out.drop(columns="correct").reset_index()

    def to_csv(self, path: str | os.PathLike) -> Path:
        """Write the standard schema atomically (gzip when the name ends in ``.gz``).

        Columns: ``learner`` (only when a learner is not just its participant),
        ``participant``, ``trial``, ``block``, the features, ``category``, ``response``,
        ``feedback``, ``rt``, ``condition``, ``phase`` (when present).  ``load_trials(path,
        ColumnMap())`` reads the file back into the same table.
        """
        from catmodel.atomic import write_csv

        f = self.frame
        names = [c for c in WRITTEN if c in f]
        if (f["learner"] == f["participant"]).all():
            names.remove("learner")
        names += list(self.features) + [c for c in WRITTEN_AFTER if c in f]
        return write_csv(f[names], path)

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        features: Sequence[str] | None = None,
        *,
        columns: ColumnMap | None = None,
        categories: Sequence | None = None,
        source: str = MEMORY,
    ) -> TrialTable:
        """Validate an in-memory table in the standard schema (or mapped by ``columns``).

        Parameters
        ----------
        frame
            One row per trial, with ``participant`` (or ``learner``), the features,
            ``category`` and optionally ``trial``, ``block``, ``response``, ``feedback``,
            ``correct``, ``rt``, ``condition``, ``phase``.  ``source_file`` and ``source_row``
            columns, when present, are kept for error messages.
        features
            Feature columns (default: ``columns.features``, else discovered as in files).
        columns
            Column mapping and filters (default: the standard names).
        categories
            All category labels, when some may not occur in ``frame``.
        source
            Name used for the table in error messages.
        """
        columns = columns or ColumnMap()
        if features is not None:
            columns = _with_features(columns, features)
        data = frame.reset_index(drop=True)
        rows = (
            data["source_row"].to_numpy(dtype=np.int64)
            if "source_row" in data
            else np.arange(1, len(data) + 1, dtype=np.int64)
        )
        keep = [c for c in data.columns if c not in ("source_file", "source_row")]
        raw = RawTable(
            path=source, frame=data[keep].rename(columns=str), rows=rows, has_header=True
        )
        if data.empty:
            raise DataError(source, 1, 1, "the table has no rows")
        part = _standardize(raw, columns, 0, require_response=False)
        if "source_file" in data:
            part.frame["source_file"] = data["source_file"].astype(str).to_numpy()[part.kept]
        return _assemble([part], columns, source, categories)


def load_trials(
    source: str | os.PathLike | Sequence[str | os.PathLike],
    columns: ColumnMap | None = None,
    *,
    require_response: bool = True,
) -> TrialTable:
    """Read trial files into one validated :class:`TrialTable`.

    Parameters
    ----------
    source
        One file holding all participants, a directory of per-participant files, a glob
        pattern, or a list of these.  Text files ``.csv``, ``.tsv``, ``.txt``, ``.dat`` (the
        last two whitespace-separated), with or without a header, and R data files ``.rda``,
        ``.RData``, ``.rds``; any of them may be gzipped (``.gz``).
    columns
        How the files' columns map onto the standard ones, and which rows to keep
        (see :class:`ColumnMap`); default: the standard column names.
    require_response
        Whether a response column must exist (a design without responses, for simulation,
        passes ``False``).

    Raises
    ------
    DataError
        Any problem with the data, naming the file, row and column.
    """
    columns = columns or ColumnMap()
    files = find_files(source)
    parts = [
        _standardize(read_raw(path, columns), columns, i, require_response)
        for i, path in enumerate(files)
    ]
    return _assemble(parts, columns, _describe(source), None)


# ----------------------------------------------------------------------------- one file


@dataclass
class _Part:
    """One file mapped onto standard columns (labels normalised, not yet checked as a whole)."""

    path: str
    frame: pd.DataFrame
    labels: dict[str, str | int]
    features: list[str]
    discovered: bool
    from_name: bool
    n_rows: int
    kept: np.ndarray
    excluded: int = 0


def _standardize(raw: RawTable, columns: ColumnMap, index: int, require_response: bool) -> _Part:
    n_rows = len(raw.frame)
    raw, excluded = _apply_exclusions(raw, columns.authors_exclusions)
    raw, kept = _apply_where(raw, columns.where)
    kept = excluded[kept]
    found = _resolve_roles(raw, columns, require_response)
    feature_labels, discovered = _resolve_features(raw, columns, found)
    feature_data = _feature_values(raw, feature_labels)
    features = list(feature_data)
    _check_feature_names([f for f in features if not f.startswith("\0")])
    labels = {role: raw.display(label) for role, label in found.items()}
    labels.update({name: raw.display(label) for name, label in feature_labels.items()})
    participant, learner, from_name = _learner_ids(raw, columns, found)
    data: dict[str, object] = {
        "learner": learner,
        "participant": participant,
        "trial_original": _numbers(raw, found, "trial", "trial number"),
    }
    if "block" in found:
        data["block"] = _numbers(raw, found, "block", "block number", integral=True)
    data.update(feature_data)
    for role in ("category", "response", "feedback", "correct", "condition", "phase"):
        if role in found:
            data[role] = check.normalize_labels(raw.frame[found[role]]).to_numpy()
    if columns.condition_from_filename:
        data["condition"] = np.full(len(raw.frame), _condition_from_name(raw.path, columns))
    data["_no_feedback"] = _query_mask(raw, columns.no_feedback_where, "--no-feedback-where")
    data["_has_feedback"] = "feedback" in found
    data["_has_correct"] = "correct" in found
    if "rt" in found:
        data["rt"] = _numbers(raw, found, "rt", "response time")
    data["source_file"] = raw.path
    data["source_row"] = raw.rows
    data["_file"] = index
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(raw.frame)))
    n_excluded = n_rows - len(excluded)
    return _Part(raw.path, frame, labels, features, discovered, from_name, n_rows, kept, n_excluded)


#: The column ``catmodel datasets get`` writes the authors' exclusions to.
EXCLUDED = "excluded_by_authors"


def _apply_exclusions(raw: RawTable, apply: bool) -> tuple[RawTable, np.ndarray]:
    """Drop the rows the authors excluded (``--authors-exclusions``): those whose
    ``excluded_by_authors`` is true.  Returns the table and the kept positions."""
    positions = np.arange(len(raw.frame))
    if not apply:
        return raw, positions
    if EXCLUDED not in raw.frame.columns:
        raise DataError(
            raw.path,
            1,
            EXCLUDED,
            f"--authors-exclusions needs an {EXCLUDED!r} column (catmodel datasets get writes one)",
        )
    values = raw.frame[EXCLUDED].astype(str).str.strip().str.lower()
    truth = {"true": True, "1": True, "1.0": True, "false": False, "0": False, "0.0": False}
    flags = values.map(truth)
    if flags.isna().any():
        i = int(np.flatnonzero(flags.isna().to_numpy())[0])
        raise DataError(
            raw.path,
            int(raw.rows[i]),
            EXCLUDED,
            f"expected true/false or 1/0, got {raw.frame[EXCLUDED].iloc[i]!r}",
        )
    index = np.flatnonzero(~flags.to_numpy(dtype=bool))
    text = None if raw.text is None else raw.text.iloc[index].reset_index(drop=True)
    frame = raw.frame.iloc[index].reset_index(drop=True)
    return RawTable(raw.path, frame, raw.rows[index], raw.has_header, text), index


def _query_mask(raw: RawTable, expr: str | None, option: str) -> np.ndarray:
    """Which rows a pandas query (python engine) on the file's own columns matches."""
    if not expr:
        return np.zeros(len(raw.frame), dtype=bool)
    frame = raw.frame.set_axis(np.arange(len(raw.frame)))
    try:
        matched = frame.query(expr, engine="python").index.to_numpy()
    except Exception as exc:  # any parse or evaluation error of the user's expression
        raise DataError(
            raw.path, 1, _unknown_name(exc), f"{option} {expr!r} failed: {one_line(exc)}"
        ) from exc
    mask = np.zeros(len(raw.frame), dtype=bool)
    mask[matched] = True
    return mask


def _condition_from_name(path: str, columns: ColumnMap) -> str:
    """The condition ``--condition-from-filename`` finds in the file's base name."""
    name = Path(path).name
    m = re.search(columns.condition_from_filename, name)
    if not m or m.group(1) is None:
        raise DataError(
            path,
            None,
            "condition",
            f"the file name {name!r} does not match "
            f"--condition-from-filename {columns.condition_from_filename!r}",
        )
    return m.group(1)


def _apply_where(raw: RawTable, where: str | None) -> tuple[RawTable, np.ndarray]:
    """Keep the rows matching ``--where``; returns the filtered table and kept positions."""
    positions = np.arange(len(raw.frame))
    if not where:
        return raw, positions
    frame = raw.frame.set_axis(positions)
    try:
        kept = frame.query(where, engine="python")
    except Exception as exc:  # any parse or evaluation error of the user's expression
        raise DataError(
            raw.path, 1, _unknown_name(exc), f"--where {where!r} failed: {one_line(exc)}"
        ) from exc
    index = kept.index.to_numpy()
    text = None if raw.text is None else raw.text.iloc[index].reset_index(drop=True)
    return RawTable(
        raw.path, kept.reset_index(drop=True), raw.rows[index], raw.has_header, text
    ), index


def _unknown_name(exc: Exception) -> str:
    m = re.search(r"name '([^']+)' is not defined", str(exc))
    return m.group(1) if m else "-"


def _find(raw: RawTable, ref, option: str) -> str | None:
    """The raw column a reference names (a name, else a 1-based position); None if unmapped."""
    names = list(raw.frame.columns)
    if ref is None or (isinstance(ref, str) and ref.strip().lower() == UNMAPPED):
        return None
    if isinstance(ref, str) and ref in names:
        return ref
    if isinstance(ref, int) or str(ref).isdigit():
        position = int(ref)
        if 1 <= position <= len(names):
            return names[position - 1]
        raise DataError(
            raw.path, 1, position, f"--{option}: the file has only {len(names)} columns"
        )
    shown = ", ".join(names[:30]) + (", ..." if len(names) > 30 else "")
    raise DataError(
        raw.path, 1, ref, f"no such column (for --{option}); the file's columns are: {shown}"
    )


def _resolve_roles(raw: RawTable, columns: ColumnMap, require_response: bool) -> dict[str, str]:
    """Map each standard role to a raw column: the named one, else the standard name."""
    names = set(raw.frame.columns)
    found: dict[str, str] = {}
    for role in (*ROLES, PHASE_ROLE):
        ref = columns.role(role)
        option = "phase-column" if role == PHASE_ROLE else role
        if ref is None:
            label = role if role in names else None
        else:
            label = _find(raw, ref, option)
        if label is not None:
            found[role] = label
    if columns.participant_from_filename and columns.participant is not None:
        raise SettingsError(
            "--participant and --participant-from-filename both name the participant; use one"
        )
    if columns.participant_from_filename:
        found.pop("participant", None)
    if columns.condition_from_filename and columns.condition is not None:
        raise SettingsError(
            "--condition and --condition-from-filename both name the condition; use one"
        )
    if columns.condition_from_filename:
        found.pop("condition", None)
    for role, required in (("category", True), ("response", require_response)):
        if required and role not in found:
            raise DataError(raw.path, 1, role, f"no {role} column: name it with --{role}")
    return found


def _learner_ids(
    raw: RawTable, columns: ColumnMap, found: dict[str, str]
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Participant and learner id of each row, and whether the participant is the file's."""
    n = len(raw.frame)
    explicit = [_find(raw, ref, "learner") for ref in columns.learner or ()]
    default_learner = "learner" in raw.frame.columns and not explicit
    key_labels = explicit or (["learner"] if default_learner else [])
    from_name = False
    if "participant" in found:
        participant = check.id_column(raw, found["participant"], raw.rows, "participant id")
    elif key_labels and not columns.participant_from_filename:
        participant = check.id_column(raw, key_labels[0], raw.rows, "learner id")
    else:
        from_name = True
        participant = pd.Series([_participant_from_name(raw.path, columns)] * n, dtype=object)
    if not key_labels:
        ids = participant.to_numpy(dtype=object)
        return ids, ids, from_name
    parts = [check.id_column(raw, label, raw.rows, "learner id") for label in key_labels]
    learner = parts[0].str.cat(parts[1:], sep=":") if len(parts) > 1 else parts[0]
    if explicit and (from_name or found.get("participant", key_labels[0]) not in explicit):
        # A learner belongs to one participant: put the participant id in front.
        learner = participant.str.cat(learner, sep=":")
    return participant.to_numpy(dtype=object), learner.to_numpy(dtype=object), from_name


def _participant_from_name(path: str, columns: ColumnMap) -> str:
    if not columns.participant_from_filename:
        return default_participant(path)
    name = Path(path).name
    m = re.search(columns.participant_from_filename, name)
    if not m or m.group(1) is None:
        raise DataError(
            path,
            0,
            "participant",
            f"the file name {name!r} does not match "
            f"--participant-from-filename {columns.participant_from_filename!r}",
        )
    return m.group(1)


def _resolve_features(
    raw: RawTable, columns: ColumnMap, found: dict[str, str]
) -> tuple[dict[str, str], bool]:
    """The raw column of each feature (by feature name), and whether they were discovered.

    Binary-coded columns are keyed ``"\\0bin:" + base name``: they expand into several
    features.
    """
    labels: dict[str, str] = {}
    if columns.features is not None:
        for k, ref in enumerate(columns.features, start=1):
            label = _find(raw, ref, "features")
            labels[label if raw.has_header else f"x{k}"] = label
        if len(labels) != len(columns.features):
            raise SettingsError("--features names a column twice")
    elif not columns.binary_code:
        labels = {name: name for name in _discover(raw, columns, found)}
    discovered = columns.features is None and not columns.binary_code
    for ref in columns.binary_code:
        label = _find(raw, ref, "binary-code")
        # Without a header the features are named after the position: col4_1, col4_2, ...
        labels[f"\0bin:{label if raw.has_header else f'col{label}'}"] = label
    return labels, discovered


def _check_feature_names(names: list[str]) -> None:
    clash = [name for name in names if name in STANDARD_NAMES]
    if clash:
        raise SettingsError(
            f"feature {clash[0]!r} has the name of a standard column; "
            f"rename it or map the standard column elsewhere"
        )


def _discover(raw: RawTable, columns: ColumnMap, found: dict[str, str]) -> list[str]:
    """Default features: x1, x2, ...; else x, y, z; else, in a file in the standard schema
    (participant or learner, and category columns), its other numeric columns."""
    learner_columns = {_find(raw, ref, "learner") for ref in columns.learner or ()}
    names = [n for n in raw.frame.columns if n not in found.values() and n not in learner_columns]
    numbered = sorted((n for n in names if re.fullmatch(r"x\d+", n)), key=lambda n: int(n[1:]))
    if numbered:
        return numbered
    xyz = [n for n in ("x", "y", "z") if n in names]
    if xyz:
        return xyz
    standard = found.get("category") == "category" and (
        found.get("participant") == "participant" or "learner" in raw.frame.columns
    )
    if standard:
        rest = [
            n
            for n in names
            if n not in STANDARD_NAMES and pd.api.types.is_numeric_dtype(raw.frame[n].dtype)
        ]
        if rest:
            return rest
    raise DataError(
        raw.path,
        1,
        "features",
        "no feature columns found (x1, x2, ... or x, y, z "
        "are found by default): name them with --features",
    )


def _numbers(
    raw: RawTable, found: dict[str, str], role: str, what: str, integral: bool = False
) -> np.ndarray:
    if role not in found:
        return np.full(len(raw.frame), np.nan)
    return check.numeric_column(raw, found[role], raw.rows, what=what, integral=integral)


def _feature_values(raw: RawTable, labels: dict[str, str]) -> dict[str, np.ndarray]:
    """Feature name -> float values.

    A binary-coded column stays one placeholder ``"\\0bin:<kind>:<base>"`` holding its
    checked values; :func:`_expand_binary` expands it once all files are read.
    """
    out: dict[str, np.ndarray] = {}
    for name, label in labels.items():
        if name.startswith("\0bin:"):
            kind, values = check.binary_values(raw, label, raw.rows)
            out[f"\0bin:{kind}:{name[5:]}"] = values
        else:
            out[name] = check.numeric_column(
                raw, label, raw.rows, what="feature value", allow_missing=False
            )
    return out


# ----------------------------------------------------------------------------- whole table


def _assemble(
    parts: list[_Part], columns: ColumnMap, source: str, categories: Sequence | None
) -> TrialTable:
    """Checks over all files, sorting, filters and the feedback label (see module docs)."""
    labels = {p.path: p.labels for p in parts}
    frame, features = _expand_binary(parts, labels)
    dropped: dict[str, int] = {}
    notes: list[str] = []
    excluded = sum(p.excluded for p in parts)
    if columns.authors_exclusions:
        dropped["authors_exclusions"] = excluded
        total = sum(p.n_rows for p in parts)
        notes.append(
            f"--authors-exclusions dropped {excluded:,} of {total:,} rows ({EXCLUDED} true)"
        )
    if columns.where:
        total = sum(p.n_rows for p in parts) - excluded
        dropped["where"] = total - len(frame)
        notes.append(f"--where {columns.where!r} kept {len(frame):,} of {total:,} rows")
    frame = _recode(frame, columns)
    frame = _filter_phase(frame, columns, parts, dropped, notes)
    _require_rows(frame, source)
    named = np.isin(frame["_file"].to_numpy(), [i for i, p in enumerate(parts) if p.from_name])
    if named.any():
        check.check_filename_participants(frame.loc[named], labels)
    check.check_categories_present(frame, labels)
    check.check_unique_trials(frame, labels)
    frame = _sort(frame)
    frame = _filter_trials(frame, columns, dropped, notes)
    _require_rows(frame, source)
    cats = _categories(frame, categories, labels)
    n_before = len(frame)
    frame, invalid = check.check_responses(frame, cats, labels, columns.drop_invalid_responses)
    if columns.drop_invalid_responses:
        dropped["invalid_responses"] = len(invalid)
        notes.append(invalid_responses_note(invalid, n_before))
    _require_rows(frame, source)
    frame = frame.reset_index(drop=True)
    frame["feedback"] = _feedback(frame, cats, labels)
    check.check_two_categories(frame, labels)
    frame = _finish(frame, features)
    learners = pd.unique(frame["learner"]).tolist()
    return TrialTable(
        frame=frame,
        features=list(features),
        categories=cats,
        learners=learners,
        dropped=dropped,
        notes=notes,
        source=source,
    )


def invalid_responses_note(invalid: pd.DataFrame, n_trials: int) -> str:
    """What ``--drop-invalid-responses`` dropped, as one sentence: how many of how many
    trials, which response values, which participants and (from several files) which files.

    Parameters
    ----------
    invalid
        The dropped trials (columns ``response``, ``participant``, ``source_file``).
    n_trials
        Trials before dropping.
    """
    option = "--drop-invalid-responses"
    if invalid.empty:
        return f"{option}: every response is a category label; no trial dropped"
    values = invalid["response"].map(repr).value_counts(sort=False)
    participants = invalid["participant"].astype(str).value_counts(sort=False)
    files = pd.unique(invalid["source_file"].map(lambda f: Path(str(f)).name))
    text = (
        f"{option}: dropped {len(invalid):,} of {n_trials:,} trials whose response is not a "
        f"category label; {_counted('response', values)}; "
        f"{_counted('participant', participants)}"
    )
    if len(files) > 1:
        text += f"; {len(files)} files {_listed(list(files))}"
    return text


def _counted(what: str, counts: pd.Series, at_most: int = 5) -> str:
    """``"participants p3 (1 trial), p7 (2 trials)"``: the first few values with counts."""
    shown = [f"{value} ({_trials(n)})" for value, n in counts.items()]
    noun = what if len(shown) == 1 else f"{what}s"
    return f"{noun} {_listed(shown, at_most)}"


def _listed(items: list[str], at_most: int = 5) -> str:
    more = len(items) - at_most
    shown = ", ".join(items[:at_most])
    return shown + (f" and {more} more" if more > 0 else "")


def _trials(n: int) -> str:
    return "1 trial" if n == 1 else f"{n:,} trials"


def _expand_binary(parts: list[_Part], labels) -> tuple[pd.DataFrame, list[str]]:
    """Concatenate the files and expand binary-coded columns over all of them."""
    kinds: dict[str, str] = {}
    for part in parts:
        renamed = {}
        for name in part.features:
            if not name.startswith("\0bin:"):
                continue
            _, kind, base = name.split(":", 2)
            placeholder = f"\0bin:{base}"
            renamed[name] = placeholder
            if kind == "empty":
                continue
            known = kinds.setdefault(placeholder, kind)
            if {known, kind} <= {"bits1", "int"}:
                # '0'/'1' are bit strings and integers alike: read them as integers
                kinds[placeholder] = "int" if "int" in (known, kind) else known
            elif known != kind:
                raise DataError(
                    part.path,
                    1,
                    labels[part.path].get(placeholder, base),
                    f"values to binary-code are {_kind(kind)} here but "
                    f"{_kind(known)} in an earlier file",
                )
        part.frame = part.frame.rename(columns=renamed)
        part.features = [renamed.get(name, name) for name in part.features]
    # Named features are the same in every file; discovered ones may differ.
    check.check_feature_sets([(p.path, p.features) for p in parts])
    frame = pd.concat([p.frame for p in parts], ignore_index=True)
    features: list[str] = []
    for name in parts[0].features:
        if name not in kinds and name.startswith("\0bin:"):
            kinds[name] = "int"  # no rows anywhere: any kind will do
        if name in kinds:
            bits = check.expand_binary(frame[name].to_numpy(), kinds[name], name[5:])
            frame = pd.concat([frame.drop(columns=name), bits], axis=1)
            _check_feature_names(list(bits.columns))
            features += list(bits.columns)
        else:
            features.append(name)
    return frame, features


def _kind(kind: str) -> str:
    return f"{kind[4:]}-digit bit strings" if kind.startswith("bits") else "integers"


def _recode(frame: pd.DataFrame, columns: ColumnMap) -> pd.DataFrame:
    frame["category"] = check.recode(frame["category"].astype(object), columns.recode_category)
    if "response" not in frame:
        frame["response"] = None
    frame["response"] = check.recode(frame["response"].astype(object), columns.recode_response)
    if "feedback" in frame:
        frame["feedback"] = check.recode(frame["feedback"].astype(object), columns.recode_category)
    for name in ("condition", "phase"):
        if name in frame:
            values = frame[name].astype(object)
            frame[name] = values.where(values.isna(), values.astype(str)).astype(object)
    return frame


def _filter_phase(
    frame: pd.DataFrame,
    columns: ColumnMap,
    parts: list[_Part],
    dropped: dict[str, int],
    notes: list[str],
) -> pd.DataFrame:
    if not columns.phase:
        return frame
    if "phase" not in frame:
        raise DataError(
            parts[0].path,
            1,
            "phase",
            "--phase filters on a phase column, but there is none: name it with --phase-column",
        )
    wanted = check.normalize_labels(pd.Series(list(columns.phase), dtype=object)).astype(str)
    keep = frame["phase"].isin(set(wanted)).to_numpy()
    dropped["phase"] = int((~keep).sum())
    notes.append(
        f"--phase {','.join(columns.phase)} kept {int(keep.sum()):,} of {len(frame):,} rows"
    )
    return frame.loc[keep].reset_index(drop=True)


def _require_rows(frame: pd.DataFrame, source: str) -> None:
    if frame.empty:
        raise DataError(
            source,
            None,
            None,
            "no trials left after --where, --phase, --trials and dropped responses",
        )


def _sort(frame: pd.DataFrame) -> pd.DataFrame:
    """Learners in order of first appearance; within one, block, then trial, then file row."""
    codes = pd.factorize(frame["learner"], sort=False)[0]

    def key(name: str) -> np.ndarray:
        if name not in frame:
            return np.zeros(len(frame))
        values = frame[name].to_numpy(dtype=float, na_value=np.nan)
        return np.where(np.isnan(values), np.inf, values)

    order = np.lexsort(
        (
            frame["source_row"].to_numpy(),
            frame["_file"].to_numpy(),
            key("trial_original"),
            key("block"),
            codes,
        )
    )
    return frame.iloc[order].reset_index(drop=True)


def _filter_trials(
    frame: pd.DataFrame, columns: ColumnMap, dropped: dict[str, int], notes: list[str]
) -> pd.DataFrame:
    if not columns.trials:
        return frame
    position = frame.groupby("learner", sort=False).cumcount().to_numpy() + 1
    keep = np.zeros(len(frame), dtype=bool)
    for lo, hi in parse_ranges(columns.trials):
        keep |= (position >= lo) & (position <= hi)
    dropped["trials"] = int((~keep).sum())
    notes.append(f"--trials {columns.trials} kept {int(keep.sum()):,} of {len(frame):,} trials")
    return frame.loc[keep].reset_index(drop=True)


def _categories(frame: pd.DataFrame, given: Sequence | None, labels) -> list:
    present = sort_labels(frame["category"].dropna().tolist())
    if given is None:
        return present
    cats = sort_labels(check.normalize_labels(pd.Series(list(given), dtype=object)).tolist())
    bad = ~check.in_set(frame["category"], cats) & ~check.is_missing(frame["category"])
    if bad.any():
        i = check.first_in_file_order(frame, bad)
        raise check.error_at(
            frame,
            i,
            "category",
            f"category {frame['category'].iloc[i]!r} is "
            f"not one of the given categories ({check.describe(cats)})",
            labels,
        )
    return cats


def _feedback(frame: pd.DataFrame, cats: list, labels) -> np.ndarray:
    """The label feedback indicated on each trial; None where the model does not learn.

    A feedback column wins; else a correct column (with two categories an incorrect names the
    other category; with more it names none); else the category (veridical feedback).
    """
    out = frame["category"].to_numpy(dtype=object).copy()
    has_fb = frame["_has_feedback"].to_numpy(dtype=bool)
    if has_fb.any():
        fb = frame["feedback"].astype(object)
        if 0 not in cats:
            # 0 conventionally codes "no feedback" when it is not itself a label.
            fb = fb.where(~fb.isin([0]), None)
        fb = fb.where(pd.Series(has_fb), None)
        check.check_feedback(frame.assign(feedback=fb), cats, labels)
        out[has_fb] = fb.to_numpy(dtype=object)[has_fb]
    use_correct = frame["_has_correct"].to_numpy(dtype=bool) & ~has_fb
    if use_correct.any():
        correct = check.parse_correct(
            frame.assign(correct=frame["correct"].where(pd.Series(use_correct), None)), labels
        )
        out[use_correct] = _label_from_correct(frame["response"], correct, cats)[use_correct]
    # --no-feedback-where: these trials showed no feedback, whatever the columns say
    out[frame["_no_feedback"].to_numpy(dtype=bool)] = None
    return out


def _label_from_correct(response: pd.Series, correct: np.ndarray, cats: list) -> np.ndarray:
    index = pd.Index(cats, dtype=object).get_indexer(pd.Index(response.astype(object)))
    labels = np.array([*cats, None], dtype=object)
    out = np.full(len(response), None, dtype=object)
    right = (correct == 1) & (index >= 0)
    out[right] = labels[index[right]]
    if len(cats) == 2:
        wrong = (correct == 0) & (index >= 0)
        out[wrong] = labels[1 - index[wrong]]
    return out


def _finish(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """Final column order and types."""
    frame = frame.copy()
    frame["trial"] = frame.groupby("learner", sort=False).cumcount() + 1
    for name in ("learner", "participant"):
        frame[name] = frame[name].astype(str)
    for name in ("category", "response", "feedback"):
        values = frame[name].astype(object)
        frame[name] = values.where(values.notna(), None).astype(object)
    if "block" in frame:
        frame["block"] = frame["block"].astype(float).astype("Int64")
    frame["trial_original"] = whole_numbers(frame["trial_original"])
    names = ["learner", "participant", "trial", "trial_original"]
    names += [c for c in ("block",) if c in frame] + list(features)
    names += ["category", "response", "feedback"]
    names += [c for c in ("rt", "condition", "phase") if c in frame]
    names += ["source_file", "source_row"]
    out = frame[names].reset_index(drop=True)
    out["source_row"] = out["source_row"].astype(np.int64)
    return out


def whole_numbers(values: pd.Series) -> pd.Series:
    """Numbers as integers (``Int64``, missing ones stay missing) when all are whole, so that
    trial numbers print as ``12``, not ``12.0``; floats otherwise (a file may number its
    trials in halves)."""
    numbers = values.astype(float)
    present = numbers.dropna()
    if np.array_equal(present, np.round(present)):
        return numbers.astype("Int64")
    return numbers


def _with_features(columns: ColumnMap, features: Sequence[str]) -> ColumnMap:
    from dataclasses import replace

    return replace(columns, features=tuple(features))


def _describe(source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    return ", ".join(str(s) for s in source)


__all__ = ["ColumnMap", "TrialTable", "load_trials"]
