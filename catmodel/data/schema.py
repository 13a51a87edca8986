"""How the columns of a user's trial files map onto catmodel's standard columns.

A :class:`ColumnMap` mirrors the command-line data options one to one (``--participant subject``
is ``ColumnMap(participant="subject")``), so a mapping can be written in Python or on the command
line and means the same.  Columns are named, or given by 1-based position for files without a
header (``category=5`` or ``category="5"``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from catmodel.errors import SettingsError

ColumnRef = str | int

#: Standard single-column roles and the column name each defaults to when present.
ROLES = (
    "participant",
    "trial",
    "category",
    "response",
    "feedback",
    "correct",
    "block",
    "rt",
    "condition",
)
#: The phase column is a role too, but its flag is ``--phase-column`` (``--phase`` filters).
PHASE_ROLE = "phase"
#: Names that default feature discovery never takes as a feature.
STANDARD_NAMES = frozenset(ROLES) | {
    PHASE_ROLE,
    "learner",
    "trial_original",
    "source_file",
    "source_row",
}
#: Value of a column option that switches off the default column of that name.
UNMAPPED = "none"
WHITESPACE = "whitespace"

_DELIMITER_NAMES = {
    "tab": "\t",
    "\\t": "\t",
    "comma": ",",
    "semicolon": ";",
    "space": WHITESPACE,
    " ": WHITESPACE,
    "whitespace": WHITESPACE,
}


@dataclass(frozen=True)
class ColumnMap:
    """How a trial file's columns map onto the standard ones, plus filters and recodings.

    Every field mirrors the command-line option of the same name (dashes become underscores).
    Column fields take a column name or a 1-based position (an ``int`` or a digit string, kept
    as a digit string so that ``5`` and ``"5"`` are the same map); a name wins over a position
    when a column is literally called ``"5"``.  ``None`` means "the column
    of the standard name, when the file has one"; ``"none"`` switches that default off (e.g.
    ``correct="none"`` ignores a column called ``correct``).

    Attributes
    ----------
    participant
        Participant id column.  Default: a ``participant`` column, else the first ``learner``
        column, else the file name.
    participant_from_filename
        Take the participant id from the file name: a regular expression with one group, searched
        in the file's base name (``r"sub_(\\d+)"``).  Without it, and without a participant
        column, the id is the file name without its extensions.
    learner
        Columns whose values, joined by ``":"``, identify a learner (one sequence of trials),
        e.g. ``("subj", "prob")`` when one person did several problems.  When the participant
        column is not among them the participant id is put in front.
    trial, block
        Trial number and block number.  Trials are ordered by block, then trial, then row; either
        may be absent (row order is used).
    features
        Stimulus feature columns.  Default: ``x1, x2, ...`` or ``x, y, z``; in a file in the
        standard schema (with ``participant`` and ``category`` columns) the numeric columns that
        are not standard.  Ranges of positions are allowed (``"11-28"``).
    binary_code
        Columns to expand into binary features ``COL_1 .. COL_k``: 0/1 digit strings (``'011'``)
        or non-negative integers (value minus the column minimum, in the fewest bits).
    category, response, feedback, correct, rt, condition, phase_column
        The true label, the participant's choice, the label the feedback indicated, feedback as
        correct/incorrect, response time, condition and phase.
    recode_response, recode_category
        ``{"100": "A", "107": "B"}`` or ``"100=A,107=B"``: replace labels before validation.
        An empty replacement (``"999="``) makes the label missing.  ``recode_category`` also
        applies to ``feedback``.
    trials
        Keep each learner's trials at these 1-based positions (after sorting and after
        ``where``/``phase``): ``"1-300"``, ``"1-100,601-700"``, ``"301-"``.
    phase
        Keep rows whose phase column equals one of these values (``"learn"`` or ``"1,2"``).
    where
        A ``pandas.DataFrame.query`` expression (python engine) on each file's original column
        names; only matching rows are kept (columns of files without a header are named
        ``1, 2, ...``: write them in backticks, ```8` == 1``).
    no_feedback_where
        A query like ``where``, on the same original column names: matching trials showed no
        feedback (the model predicts them but does not learn from them), e.g. ```1` == 2``
        for a transfer phase coded 2 in column 1.
    condition_from_filename
        Take the condition from the file name: a regular expression with one group, searched
        in the file's base name (``r"^([a-z]+\\d)"``); a file it does not match is an error.
    authors_exclusions
        Drop the rows whose ``excluded_by_authors`` column is true (the column
        ``catmodel datasets get`` writes); without it the column is ignored.
    delimiter
        Field delimiter; default from the extension (``.csv`` comma, ``.tsv`` tab, ``.txt`` and
        ``.dat`` whitespace).  ``"tab"``, ``"comma"``, ``"whitespace"`` are accepted.
    header
        ``True``/``False`` to say whether text files have a header line; ``None`` detects it.
    rdata_object
        Which data frame to take from an R data file that holds several.
    drop_invalid_responses
        Drop trials whose response is not a category label instead of stopping with an error.
    """

    participant: ColumnRef | None = None
    participant_from_filename: str | None = None
    learner: tuple[ColumnRef, ...] | None = None
    trial: ColumnRef | None = None
    block: ColumnRef | None = None
    features: tuple[ColumnRef, ...] | None = None
    binary_code: tuple[ColumnRef, ...] = ()
    category: ColumnRef | None = None
    response: ColumnRef | None = None
    feedback: ColumnRef | None = None
    correct: ColumnRef | None = None
    rt: ColumnRef | None = None
    condition: ColumnRef | None = None
    phase_column: ColumnRef | None = None
    recode_response: Mapping[str, str] = field(default_factory=dict)
    recode_category: Mapping[str, str] = field(default_factory=dict)
    trials: str | None = None
    phase: tuple[str, ...] | None = None
    where: str | None = None
    no_feedback_where: str | None = None
    condition_from_filename: str | None = None
    authors_exclusions: bool = False
    delimiter: str | None = None
    header: bool | None = None
    rdata_object: str | None = None
    drop_invalid_responses: bool = False

    def __post_init__(self) -> None:
        # Accept the command-line spellings ("x,y", "100=A") as well as Python values, so a
        # mapping reads the same in a script and on the command line.
        set_ = object.__setattr__
        for name in _COLUMN_FIELDS:
            set_(self, name, _column_ref(getattr(self, name), name))
        for name in ("learner", "features", "binary_code", "phase"):
            value = getattr(self, name)
            if value is not None:
                items = split_list(value, ranges=name == "features")
                if name != "phase":
                    items = [_column_ref(item, name) for item in items]
                set_(self, name, tuple(items) if items or name == "binary_code" else None)
        for name in ("recode_response", "recode_category"):
            set_(self, name, parse_recode(getattr(self, name), name))
        if self.trials is not None:
            parse_ranges(self.trials)
        for name in ("participant_from_filename", "condition_from_filename"):
            if getattr(self, name) is not None:
                _check_filename_regex(getattr(self, name), name)
        set_(self, "delimiter", normalize_delimiter(self.delimiter))

    def role(self, name: str) -> ColumnRef | None:
        """The column option for a standard role (``"phase"`` reads ``phase_column``)."""
        return self.phase_column if name == PHASE_ROLE else getattr(self, name)

    def named_columns(self) -> set[str]:
        """Column names this map refers to (for header detection)."""
        refs: list = [self.role(r) for r in (*ROLES, PHASE_ROLE)]
        refs += list(self.learner or ()) + list(self.features or ()) + list(self.binary_code)
        return {r for r in refs if isinstance(r, str) and not r.isdigit() and r != UNMAPPED}


_COLUMN_FIELDS = (
    "participant",
    "trial",
    "block",
    "category",
    "response",
    "feedback",
    "correct",
    "rt",
    "condition",
    "phase_column",
)


def _column_ref(value, name: str) -> str | None:
    """A column reference in canonical form: a name, or a position as a digit string.

    Positions are kept as text (``5`` becomes ``"5"``) so that a map reads the same whether it
    came from Python or from the command line; a column literally named ``"5"`` wins.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise SettingsError(f"--{dash(name)}: expected a column name or position, got {value!r}")
    text = str(value).strip()
    if text.isdigit() and int(text) < 1:
        raise SettingsError(f"--{dash(name)}: column positions start at 1, got {text}")
    return text


def dash(name: str) -> str:
    """The command-line spelling of a field name."""
    return name.replace("_", "-")


def split_list(value: str | Iterable, ranges: bool = False) -> list[ColumnRef]:
    """Split ``"a,b"`` (or a list) into items; with ``ranges``, ``"11-13"`` is ``11, 12, 13``."""
    if isinstance(value, int):
        value = [value]  # one column given by position
    items = value.split(",") if isinstance(value, str) else list(value)
    out: list[ColumnRef] = []
    for item in items:
        if isinstance(item, str):
            item = item.strip()
            if not item:
                continue
            m = re.fullmatch(r"(\d+)-(\d+)", item) if ranges else None
            if m:
                lo, hi = int(m.group(1)), int(m.group(2))
                if hi < lo:
                    raise SettingsError(f"--features: empty range {item!r}")
                out.extend(range(lo, hi + 1))
                continue
        out.append(item)
    return out


def parse_recode(value: str | Mapping | None, name: str) -> dict[str, str]:
    """Parse ``"100=A,107=B"`` (or a mapping) into ``{"100": "A", "107": "B"}``."""
    if not value:
        return {}
    if isinstance(value, Mapping):
        return {str(k).strip(): ("" if v is None else str(v).strip()) for k, v in value.items()}
    out: dict[str, str] = {}
    for item in str(value).split(","):
        if not item.strip():
            continue
        if "=" not in item:
            raise SettingsError(f"--{dash(name)}: expected OLD=NEW pairs, got {item.strip()!r}")
        old, new = item.split("=", 1)
        out[old.strip()] = new.strip()
    return out


def parse_ranges(value: str) -> list[tuple[int, float]]:
    """Parse ``"1-300,601-"`` into inclusive ``(first, last)`` pairs of 1-based positions."""
    out: list[tuple[int, float]] = []
    for item in str(value).split(","):
        item = item.strip()
        m = re.fullmatch(r"(\d+)(?:\s*-\s*(\d*))?", item)
        if not m:
            raise SettingsError(f"--trials: expected ranges like 1-300, got {item!r}")
        lo = int(m.group(1))
        if m.group(2) is None:
            hi: float = lo
        elif m.group(2) == "":
            hi = float("inf")
        else:
            hi = int(m.group(2))
        if lo < 1 or hi < lo:
            raise SettingsError(f"--trials: empty or invalid range {item!r}")
        out.append((lo, hi))
    return out


def normalize_delimiter(value: str | None) -> str | None:
    """Map delimiter spellings (``"tab"``, ``"space"``) to a character or ``"whitespace"``."""
    if value is None:
        return None
    key = value if value in _DELIMITER_NAMES else value.strip().lower()
    if key in _DELIMITER_NAMES:
        return _DELIMITER_NAMES[key]
    if len(value) != 1:
        raise SettingsError(
            f"--delimiter: expected one character, 'tab' or 'whitespace', got {value!r}"
        )
    return value


def _check_filename_regex(pattern: str, name: str = "participant_from_filename") -> None:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise SettingsError(f"--{dash(name)}: invalid regex {pattern!r}: {exc}") from exc
    if compiled.groups != 1:
        raise SettingsError(
            f"--{dash(name)}: the regex needs exactly one group, e.g. 'sub(\\d+)'; "
            f"{pattern!r} has {compiled.groups}"
        )
