"""Finding trial files and reading them into raw tables (the user's own columns, unvalidated).

Text files (``.csv``, ``.tsv``, ``.txt``, ``.dat``, each optionally ``.gz``) are read with
pandas after two checks that pandas does not make: every line has the same number of fields,
and a header line is detected rather than assumed.  R data files (``.rda``, ``.RData``,
``.rds``, optionally ``.gz``) are read with pyreadr, imported only when needed.
"""

from __future__ import annotations

import csv
import glob
import gzip
import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from catmodel.data.schema import STANDARD_NAMES, UNMAPPED, WHITESPACE, ColumnMap
from catmodel.errors import CatmodelError, DataError

#: Text extensions and the delimiter each implies.
TEXT_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": WHITESPACE, ".dat": WHITESPACE}
RDATA_SUFFIXES = (".rda", ".rdata", ".rds")
#: How many lines header detection looks at.
HEADER_SNIFF_LINES = 50
#: Field values pandas reads as missing by default (a subset that matters for sniffing).
NA_TOKENS = frozenset({"", "na", "nan", "n/a", "null", "none", "#n/a", "-nan"})
# Floats must read back exactly what ``to_csv`` wrote.  pandas 3 does so by default (and
# deprecates the option); pandas 2's default parser may be off in the last bit.
_EXACT_FLOATS = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


@dataclass
class RawTable:
    """One file's rows with its own column names.

    Attributes
    ----------
    path
        The file, as found.
    frame
        The rows, columns labelled by name, or ``"1", "2", ...`` when the file has no header.
    rows
        1-based line number of each row of ``frame`` in the file (the header is line 1); for R
        data files, the 1-based row number of the data frame.
    has_header
        Whether column names came from the file.
    text
        The columns to binary-code, read again as text (so ``'011'`` keeps its zeros while
        ``frame`` keeps the types ``--where`` expects), or None.
    """

    path: str
    frame: pd.DataFrame
    rows: np.ndarray
    has_header: bool
    text: pd.DataFrame | None = None

    def display(self, label: str) -> str | int:
        """How a column is named in messages: its name, or its position without a header."""
        return label if self.has_header else int(label)


# ----------------------------------------------------------------------------- file discovery


def split_suffix(path: str | os.PathLike) -> tuple[str, str, bool]:
    """Split a file name into (stem, data suffix in lower case, gzipped).

    ``"sub_1.csv.gz"`` gives ``("sub_1", ".csv", True)``; unknown suffixes give ``""``.
    """
    name = Path(path).name
    gz = name.lower().endswith(".gz")
    if gz:
        name = name[:-3]
    lower = name.lower()
    for suffix in (*TEXT_SUFFIXES, *RDATA_SUFFIXES):
        if lower.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], suffix, gz
    return name, "", gz


def default_participant(path: str | os.PathLike) -> str:
    """The participant id a file name gives: the name without its extensions."""
    return split_suffix(path)[0]


def is_data_file(path: Path) -> bool:
    """Whether a directory entry looks like a trial file (and is not a readme)."""
    stem, suffix, _ = split_suffix(path)
    return path.is_file() and suffix != "" and not stem.lower().startswith("readme")


def natural_key(text: str) -> list:
    """Sort key that puts ``sub2`` before ``sub10``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def find_files(source: str | os.PathLike | Sequence[str | os.PathLike]) -> list[str]:
    """The trial files a source names, in natural order.

    Parameters
    ----------
    source
        A file, a directory (its trial files, not recursing; files called ``readme.*`` are
        skipped), a glob pattern (``"data/sub_*.csv"``, ``**`` recurses), or a list of these.

    Raises
    ------
    DataError
        When a path does not exist or a directory or pattern holds no files.
    """
    items: Iterable = [source] if isinstance(source, (str, os.PathLike)) else source
    files: list[str] = []
    for item in items:
        files.extend(_expand(str(item)))
    if not files:
        raise DataError(str(source), None, None, "no trial files given")
    return files


def _expand(item: str) -> list[str]:
    path = Path(item)
    if path.is_file():
        return [item]
    if path.is_dir():
        found = sorted(
            (p for p in path.iterdir() if is_data_file(p)), key=lambda p: natural_key(p.name)
        )
        if not found:
            raise DataError(
                item,
                None,
                None,
                "no trial files (.csv, .tsv, .txt, .dat, .rda; optionally .gz) in this directory",
            )
        return [str(p) for p in found]
    if glob.has_magic(item):
        found = sorted(
            (p for p in glob.glob(item, recursive=True) if Path(p).is_file()), key=natural_key
        )
        if not found:
            raise DataError(item, None, None, "no files match this pattern")
        return found
    raise DataError(item, None, None, "this file or folder does not exist")


# ----------------------------------------------------------------------------- reading


def read_raw(path: str, columns: ColumnMap) -> RawTable:
    """Read one trial file into a :class:`RawTable`.

    Parameters
    ----------
    path
        The file.
    columns
        Supplies ``delimiter``, ``header``, ``rdata_object`` and the column names used for
        header detection; columns named by ``binary_code`` are read as text so that bit
        strings such as ``'011'`` keep their leading zeros.

    Raises
    ------
    DataError
        Empty file, unreadable file, rows with a different number of fields, a file that reads
        as one column, or an R data file without a (chosen) data frame.
    """
    _, suffix, gz = split_suffix(path)
    if suffix in RDATA_SUFFIXES:
        return _read_rdata(path, suffix, gz, columns)
    delimiter = columns.delimiter or TEXT_SUFFIXES.get(suffix)
    if delimiter is None:
        raise DataError(
            path,
            None,
            None,
            "unknown file type (expected .csv, .tsv, .txt, .dat, .rda, "
            ".RData, .rds, optionally .gz); pass --delimiter to read it "
            "as text",
        )
    return parse_text(path, _read_text(path, gz), delimiter, columns)


def _read_text(path: str, gz: bool) -> str:
    try:
        if gz:
            with gzip.open(path, "rb") as handle:
                data = handle.read()
        else:
            data = Path(path).read_bytes()
    except (OSError, EOFError) as exc:
        raise DataError(path, None, None, f"cannot read the file: {one_line(exc)}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Lab software often writes Latin-1; every byte string decodes as Latin-1.
        return data.decode("latin-1")


def parse_text(path: str, text: str, delimiter: str, columns: ColumnMap) -> RawTable:
    """Parse the text of a delimited file (see :func:`read_raw`)."""
    lines = np.array(text.splitlines(), dtype=object)
    nonblank = pd.Series(lines, dtype=object).str.strip().ne("").to_numpy(dtype=bool)
    if not nonblank.any():
        raise DataError(path, 1, 1, "the file is empty")
    line_no = np.flatnonzero(nonblank) + 1
    kept = lines[nonblank]
    head = [split_line(line, delimiter) for line in kept[:HEADER_SNIFF_LINES]]
    has_header = columns.header if columns.header is not None else detect_header(head, columns)
    names = _header_names(path, head[0]) if has_header else None
    _check_field_counts(path, kept, line_no, delimiter, names)
    n_fields = len(head[0])
    if n_fields == 1:
        raise DataError(
            path,
            1,
            1,
            f"the file reads as a single column with delimiter "
            f"{describe_delimiter(delimiter)}; pass --delimiter to "
            f"name the right one",
        )
    if names is None:
        names = [str(j) for j in range(1, n_fields + 1)]
    body = kept[1:] if has_header else kept
    if len(body) == 0:
        raise DataError(path, 2, 1, "no trial rows after the header")
    frame = _read_body(path, body, delimiter, names)
    rows = line_no[1:] if has_header else line_no
    if len(frame) != len(rows):
        # Only quoted fields spanning lines get here; the line numbers would be wrong.
        raise DataError(path, None, None, "quoted fields that span lines are not supported")
    text_columns = _text_columns(columns, names)
    text = _read_body(path, body, delimiter, names, text_columns) if text_columns else None
    return RawTable(
        path=path, frame=frame, rows=rows.astype(np.int64), has_header=has_header, text=text
    )


def split_line(line: str, delimiter: str) -> list[str]:
    """Split one line into fields (quotes are honoured for delimited files)."""
    if delimiter == WHITESPACE:
        return line.split()
    return [field.strip() for field in next(csv.reader([line], delimiter=delimiter))]


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def detect_header(head: list[list[str]], columns: ColumnMap) -> bool:
    """Whether the first line is a header.

    It is when a first-line field is not a number in a column whose other values (in the first
    :data:`HEADER_SNIFF_LINES` lines) are all numbers, or when every first-line field is a
    column name the mapping uses (or a standard name, ``x1``, ``x``, ...).
    """
    first, rest = head[0], head[1:]
    known = columns.named_columns() | STANDARD_NAMES | {"x", "y", "z"}
    if all(f in known or re.fullmatch(r"x\d+", f) for f in first):
        return True
    for j, name in enumerate(first):
        if is_number(name) or name.lower() in NA_TOKENS:
            continue
        others = [r[j] for r in rest if j < len(r) and r[j].lower() not in NA_TOKENS]
        if others and all(is_number(v) for v in others):
            return True
    return False


def _header_names(path: str, fields: list[str]) -> list[str]:
    # An empty name (R's write.csv row-name column) is called by its position.
    names = [name or str(j) for j, name in enumerate(fields, start=1)]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DataError(path, 1, name, "the header names this column twice")
        seen.add(name)
    return names


def _check_field_counts(
    path: str, lines: np.ndarray, line_no: np.ndarray, delimiter: str, names: list[str] | None
) -> None:
    counts = field_counts(lines, delimiter)
    bad = np.flatnonzero(counts != counts[0])
    if bad.size == 0:
        return
    i = int(bad[0])
    expected, got = int(counts[0]), int(counts[i])
    position = min(got, expected) + 1
    column: str | int = names[position - 1] if names and position <= len(names) else position
    reference = "the header has" if names else f"line {line_no[0]} has"
    raise DataError(
        path,
        int(line_no[i]),
        column,
        f"{got} fields where {reference} {expected} (delimiter "
        f"{describe_delimiter(delimiter)}); is the delimiter right? "
        f"pass --delimiter to change it",
    )


def field_counts(lines: np.ndarray, delimiter: str) -> np.ndarray:
    """Number of fields on each line."""
    series = pd.Series(lines, dtype=object)
    if delimiter == WHITESPACE:
        return series.str.count(r"\S+").to_numpy(dtype=np.int64)
    if series.str.contains('"', regex=False).any():
        # Quoted fields may hold the delimiter: let the csv module count.
        return np.array([len(r) for r in csv.reader(lines.tolist(), delimiter=delimiter)])
    return series.str.count(re.escape(delimiter)).to_numpy(dtype=np.int64) + 1


def describe_delimiter(delimiter: str) -> str:
    return {WHITESPACE: "whitespace", "\t": "tab", ",": "comma", ";": "semicolon"}.get(
        delimiter, repr(delimiter)
    )


def _text_columns(columns: ColumnMap, names: list[str]) -> list[str]:
    """Columns to read as text: bit-string columns keep their leading zeros."""
    out = []
    for ref in columns.binary_code:
        if isinstance(ref, str) and ref in names:
            out.append(ref)
        elif str(ref).isdigit() and 1 <= int(ref) <= len(names):
            out.append(names[int(ref) - 1])
    return out


def _read_body(
    path: str,
    body: np.ndarray,
    delimiter: str,
    names: list[str],
    text_columns: list[str] | None = None,
) -> pd.DataFrame:
    """Parse the data lines; with ``text_columns``, only those columns, as text."""
    whitespace = delimiter == WHITESPACE
    try:
        return pd.read_csv(
            io.StringIO("\n".join(body.tolist())),
            sep=r"\s+" if whitespace else delimiter,
            header=None,
            names=names,
            index_col=False,
            usecols=text_columns,
            dtype=dict.fromkeys(text_columns, str) if text_columns else None,
            skipinitialspace=not whitespace,
            **_EXACT_FLOATS,
        )
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataError(path, None, None, f"cannot parse the file: {one_line(exc)}") from exc


def _read_rdata(path: str, suffix: str, gz: bool, columns: ColumnMap) -> RawTable:
    try:
        import pyreadr  # optional dependency: only R data files need it
    except ImportError as exc:
        raise CatmodelError(
            f"{path}: reading R data files needs the pyreadr package "
            f"(pip install pyreadr, or pip install 'catmodel[rdata]')"
        ) from exc
    with tempfile.TemporaryDirectory() as tmp:
        target = path
        if gz:
            # pyreadr reads R's own compression but not an outer gzip layer.
            target = os.path.join(tmp, "data" + suffix)
            try:
                with gzip.open(path, "rb") as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
            except (OSError, EOFError) as exc:
                raise DataError(path, None, None, f"cannot read the file: {one_line(exc)}") from exc
        try:
            result = pyreadr.read_r(target)
        except Exception as exc:  # pyreadr raises its own exception types
            raise DataError(path, None, None, f"cannot read R data: {one_line(exc)}") from exc
    frame = _pick_rdata_frame(path, result, columns.rdata_object)
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.CategoricalDtype):
            # R factors: compare and normalise their values, not category codes.
            frame[name] = frame[name].astype(object)
    if frame.empty:
        raise DataError(path, 1, 1, "the data frame is empty")
    rows = np.arange(1, len(frame) + 1, dtype=np.int64)
    return RawTable(path=path, frame=frame, rows=rows, has_header=True)


def _pick_rdata_frame(path: str, result: dict, wanted: str | None) -> pd.DataFrame:
    frames = {
        (default_participant(path) if name is None else str(name)): value
        for name, value in result.items()
        if isinstance(value, pd.DataFrame)
    }
    if wanted and wanted != UNMAPPED:
        if wanted not in frames:
            raise DataError(
                path,
                None,
                None,
                f"no data frame called {wanted!r} (it holds: {', '.join(frames) or 'none'})",
            )
        return frames[wanted]
    if len(frames) == 1:
        return next(iter(frames.values()))
    if not frames:
        raise DataError(path, 1, 1, "the file holds no data frame")
    raise DataError(
        path,
        None,
        None,
        f"the file holds several data frames ({', '.join(frames)}); choose one with --rdata-object",
    )


def one_line(exc: BaseException | str) -> str:
    """An exception's message on one line (messages reach the terminal as one line)."""
    return " ".join(str(exc).split())
