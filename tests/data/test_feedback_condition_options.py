"""``--no-feedback-where``, ``--condition-from-filename`` and ``--authors-exclusions``."""

from __future__ import annotations

import pytest

from catmodel.cli.main import main
from catmodel.data import ColumnMap, load_trials
from catmodel.errors import DataError, SettingsError

# headerless, like the dot-pattern files: phase (1 train, 2 transfer), x, y, category, response
ROWS = "1 0.1 0.2 1 1\n1 0.9 0.8 2 2\n1 0.2 0.1 1 2\n2 0.5 0.5 1 1\n2 0.8 0.9 2 2\n"


def test_no_feedback_where_marks_trials_without_feedback(write_file):
    path = write_file("ii2sub1.txt", ROWS)
    columns = dict(features="2,3", category=4, response=5)
    table = load_trials(path, ColumnMap(**columns, no_feedback_where="`1` == 2"))
    feedback = table.frame["feedback"].tolist()
    assert feedback[:3] == [1, 2, 1] and feedback[3:] == [None, None]
    # without it every trial has (veridical) feedback
    assert load_trials(path, ColumnMap(**columns)).frame["feedback"].notna().all()
    # it overrides a feedback column too, and the rows stay (only --where drops rows)
    table = load_trials(path, ColumnMap(**columns, feedback=4, no_feedback_where="`2` > 0.4"))
    assert table.n_trials == 5 and table.frame["feedback"].isna().sum() == 3


def test_no_feedback_where_error_names_file_and_column(write_file):
    path = write_file("a.txt", ROWS)
    with pytest.raises(DataError, match=r"a\.txt, row 1, column nope: --no-feedback-where"):
        load_trials(path, ColumnMap(features="2,3", category=4, response=5,
                                    no_feedback_where="nope == 1"))  # fmt: skip


def test_condition_from_filename(write_file):
    a = write_file("d/ud2sub1.txt", ROWS)
    write_file("d/cjii4sub12.txt", ROWS)
    columns = ColumnMap(features="2,3", category=4, response=5, condition_from_filename=r"^(.+)sub")
    table = load_trials(str(a.parent), columns)
    assert dict(zip(table.frame["participant"], table.frame["condition"], strict=True)) == {
        "ud2sub1": "ud2",
        "cjii4sub12": "cjii4",
    }
    with pytest.raises(SettingsError, match="exactly one group"):
        ColumnMap(condition_from_filename=r"(a)(b)")


def test_condition_from_filename_stops_at_the_first_file_not_matching(write_file, capsys):
    first = write_file("d/ud2sub1.txt", ROWS)
    write_file("d/b.txt", ROWS)  # files are read in natural order: b, c, ud2sub1
    write_file("d/c.txt", ROWS)
    argv = ["fit", str(first.parent), "--features", "2,3", "--category", "4", "--response", "5"]
    argv += ["--condition-from-filename", r"^(.+)sub", "--out", str(first.parent / "r")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "b.txt" in err and "does not match --condition-from-filename" in err
    assert "c.txt" not in err


def test_authors_exclusions(write_file):
    text = "participant,x,y,category,response,excluded_by_authors\n"
    text += "p1,0.1,0.2,A,A,False\np1,0.9,0.8,B,B,False\n"
    text += "p2,0.1,0.2,A,B,True\np2,0.9,0.8,B,B,True\n"
    path = write_file("t.csv", text)
    assert load_trials(path).learners == ["p1", "p2"]  # ignored without the option
    table = load_trials(path, ColumnMap(authors_exclusions=True))
    assert table.learners == ["p1"] and table.dropped["authors_exclusions"] == 2
    bare = write_file("u.csv", "participant,x,y,category,response\np1,0,0,A,A\np1,1,1,B,B\n")
    with pytest.raises(DataError, match="column excluded_by_authors: --authors-exclusions"):
        load_trials(bare, ColumnMap(authors_exclusions=True))
