"""The data-mapping options every subcommand that reads trial files shares.

Each option sets the :class:`~catmodel.data.ColumnMap` field of the same name, so
``catmodel fit data/ --participant subject --category cat --response resp --features x,y``
reads the files exactly as ``ColumnMap(participant="subject", category="cat", response="resp",
features="x,y")`` does.
"""

from __future__ import annotations

import argparse
from dataclasses import fields

from catmodel.data.schema import ColumnMap

#: Column options: (flag, help).  COL is a column name or a 1-based position.
_COLUMN_OPTIONS = (
    ("participant", "participant id column (default: 'participant', else the file name)"),
    (
        "trial",
        "trial number column (default: 'trial', else row order); trials are ordered "
        "by block, then trial, then row",
    ),
    ("block", "block number column (default: 'block')"),
    ("category", "true category label column (default: 'category')"),
    ("response", "response (the participant's choice) column (default: 'response')"),
    (
        "feedback",
        "label the feedback indicated, when it differs from the category (default: "
        "'feedback'); missing, or 0 when 0 is not a label, means no feedback",
    ),
    (
        "correct",
        "feedback as correct/incorrect: 1/0, true/false, correct/incorrect/wrong, "
        "yes/no (default: 'correct')",
    ),
    ("rt", "response time column (default: 'rt')"),
    ("condition", "condition column (default: 'condition')"),
    ("phase-column", "phase column (default: 'phase'); see --phase"),
)


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """Add the trial-data mapping, filter and format options to ``parser``.

    Column options take a column name or, for files without a header, a 1-based position;
    ``none`` ignores a column of the standard name.  See :class:`~catmodel.data.ColumnMap`.
    """
    columns = parser.add_argument_group(
        "trial data columns",
        "map your files' columns onto the standard ones (COL: a name, or a 1-based position "
        "for files without a header; 'none' ignores a column of the standard name)",
    )
    for name, text in _COLUMN_OPTIONS:
        columns.add_argument(f"--{name}", metavar="COL", default=None, help=text)
    columns.add_argument(
        "--features",
        metavar="COLS",
        default=None,
        help="comma-separated feature columns, positions may be ranges (2,3 or 11-28); "
        "default: x1,x2,... or x,y,z",
    )
    columns.add_argument(
        "--binary-code",
        metavar="COL",
        action="append",
        default=None,
        help="make binary features COL_1..COL_k from a column of 0/1 strings ('011') or "
        "non-negative integers (value minus the minimum, in the fewest bits); repeatable",
    )
    columns.add_argument(
        "--learner",
        metavar="COLS",
        default=None,
        help="columns that together identify a learner, e.g. subj,prob (ids joined by ':')",
    )
    columns.add_argument(
        "--participant-from-filename",
        metavar="REGEX",
        default=None,
        help="take the participant id from the file name: a regex with one group, e.g. "
        "'sub(\\d+)' (default without a participant column: the name without extensions)",
    )
    columns.add_argument(
        "--condition-from-filename",
        metavar="REGEX",
        default=None,
        help="take the condition from the file name: a regex with one group, searched in "
        "the base name, e.g. '^([a-z]+\\d)sub' (a file it does not match is an error)",
    )
    labels = parser.add_argument_group("trial data labels and filters")
    labels.add_argument(
        "--recode-response",
        metavar="MAP",
        default=None,
        help="recode responses, e.g. 100=A,107=B (an empty new value: missing)",
    )
    labels.add_argument(
        "--recode-category",
        metavar="MAP",
        default=None,
        help="recode category (and feedback) labels, e.g. 1=A,2=B",
    )
    labels.add_argument(
        "--drop-invalid-responses",
        action="store_true",
        default=False,
        help="drop trials whose response is not a category label (default: "
        "stop with an error); the number dropped is reported",
    )
    labels.add_argument(
        "--where",
        metavar="EXPR",
        default=None,
        help="keep rows matching a pandas query on the original column names, "
        'e.g. "DV == \'resp_key\'" or "resp.notna()"',
    )
    labels.add_argument(
        "--no-feedback-where",
        metavar="EXPR",
        default=None,
        help="trials matching this pandas query (on the original column names, as "
        '--where) showed no feedback: predicted, not learned from; e.g. "`1` == 2"',
    )
    labels.add_argument(
        "--authors-exclusions",
        action="store_true",
        default=False,
        help="drop the rows whose 'excluded_by_authors' column is true (written by "
        "`catmodel datasets get`; ignored otherwise)",
    )
    labels.add_argument(
        "--phase",
        metavar="VALUES",
        default=None,
        help="keep rows whose phase column has one of these values (comma-separated)",
    )
    labels.add_argument(
        "--trials",
        metavar="RANGES",
        default=None,
        help="keep each learner's trials at these 1-based positions, e.g. "
        "1-300 or 1-100,601- (after sorting, --where and --phase)",
    )
    formats = parser.add_argument_group("trial data files")
    formats.add_argument(
        "--delimiter",
        metavar="DELIM",
        default=None,
        help="field delimiter: a character, 'tab' or 'whitespace' (default: "
        "from the extension: .csv comma, .tsv tab, .txt/.dat whitespace)",
    )
    formats.add_argument(
        "--header",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="whether text files have a header line (default: detect)",
    )
    formats.add_argument(
        "--rdata-object",
        metavar="NAME",
        default=None,
        help="data frame to read from an R data file that holds several",
    )


def column_map_from_args(args: argparse.Namespace) -> ColumnMap:
    """The :class:`~catmodel.data.ColumnMap` the parsed data options describe."""
    values = {}
    for f in fields(ColumnMap):
        value = getattr(args, f.name, None)
        if value is None:
            continue
        if f.name == "binary_code":
            # --binary-code may be repeated, and each may list several columns.
            value = ",".join(value)
        values[f.name] = value
    return ColumnMap(**values)
