"""Every kind of bad input gets a one-line DataError naming the file, the row and the column."""

from __future__ import annotations

import pytest

from catmodel.data import ColumnMap, DataError, load_trials

HEADER = "participant,trial,x1,x2,category,response\n"


def rows(*lines: str) -> str:
    return HEADER + "".join(line + "\n" for line in lines)


GOOD = ("1,1,0.1,0.2,A,A", "1,2,0.3,0.1,B,A", "1,3,0.5,0.9,A,B", "1,4,0.7,0.4,B,B")


def located(exc: pytest.ExceptionInfo, file: str, row: int | str, column) -> str:
    """Assert the message names file, row and column, on one line; return it."""
    message = str(exc.value)
    assert "\n" not in message
    assert file in message
    assert f", row {row}, column {column}:" in message, message
    assert (exc.value.row, str(exc.value.column)) == (row, str(column))
    return message


def test_missing_column(write_file):
    path = write_file("trials.csv", rows(*GOOD))
    with pytest.raises(DataError) as exc:
        load_trials(path, ColumnMap(category="cat"))
    assert "no such column" in located(exc, "trials.csv", 1, "cat")


def test_missing_standard_column(write_file):
    path = write_file("trials.csv", "participant,trial,x1,category\n1,1,0.5,A\n1,2,0.1,B\n")
    with pytest.raises(DataError) as exc:
        load_trials(path, ColumnMap())
    assert "--response" in located(exc, "trials.csv", 1, "response")


def test_missing_column_by_position(write_file):
    path = write_file("sub1.txt", "1 0.5 0.2 1 1\n2 0.1 0.3 2 1\n")
    with pytest.raises(DataError) as exc:
        load_trials(path, ColumnMap(category=4, response=7, features="2,3"))
    assert "only 5 columns" in located(exc, "sub1.txt", 1, 7)


def test_non_numeric_feature(write_file):
    path = write_file("trials.csv", rows(*GOOD[:2], "1,3,abc,0.9,A,B", GOOD[3]))
    with pytest.raises(DataError) as exc:
        load_trials(path, ColumnMap())
    assert "'abc'" in located(exc, "trials.csv", 4, "x1")


def test_nan_feature(write_file):
    path = write_file("trials.csv", rows(*GOOD[:3], "1,4,0.7,,B,B"))
    with pytest.raises(DataError) as exc:
        load_trials(path, ColumnMap())
    assert "missing feature" in located(exc, "trials.csv", 5, "x2")


def test_nan_feature_without_header_names_position(write_file):
    path = write_file("sub1.txt", "1 0.5 0.2 1 1\n2 0.1 NaN 2 1\n")
    with pytest.raises(DataError) as exc:
        load_trials(path, ColumnMap(category=4, response=5, features="2,3"))
    located(exc, "sub1.txt", 2, 3)


def test_empty_file(write_file):
    path = write_file("empty.csv", "")
    with pytest.raises(DataError) as exc:
        load_trials(path, ColumnMap())
    assert "empty" in located(exc, "empty.csv", 1, 1)


def test_empty_gzipped_file(write_file):
    path = write_file("empty.txt.gz", "\n  \n")
    with pytest.raises(DataError) as exc:
        load_trials(path, ColumnMap())
    located(exc, "empty.txt.gz", 1, 1)


def test_duplicate_trial_reports_second_occurrence(write_file):
    path = write_file("trials.csv", rows(*GOOD[:3], "1,2,0.7,0.4,B,B"))
    with pytest.raises(DataError) as exc:
        load_trials(path, ColumnMap())
    message = located(exc, "trials.csv", 5, "trial")
    assert "duplicate trial" in message and "row 3" in message


def test_duplicate_trial_within_block(write_file):
    text = (
        "subj,blk,t,x1,x2,cat,resp\n"
        "1,1,1,0.1,0.2,A,A\n1,1,2,0.3,0.1,B,A\n1,2,1,0.5,0.9,A,B\n1,2,1,0.7,0.4,B,B\n"
    )
    path = write_file("blocks.csv", text)
    columns = ColumnMap(participant="subj", block="blk", trial="t", category="cat", response="resp")
    with pytest.raises(DataError) as exc:
        load_trials(path, columns)
    assert "block 2" in located(exc, "blocks.csv", 5, "t")


def test_learner_with_one_category(write_file):
    path = write_file("trials.csv", rows(*GOOD, "2,2,0.1,0.2,A,A", "2,1,0.3,0.4,A,B"))
    with pytest.raises(DataError) as exc:
        load_trials(path, ColumnMap())
    # learner 2's first trial (trial 1) is on line 7
    assert "only one category" in located(exc, "trials.csv", 7, "category")


def test_inconsistent_feature_count_across_files(write_file):
    for p in (1, 2):
        write_file(f"d/sub{p}.csv", rows(*GOOD))
    extra = "participant,trial,x1,x2,x3,category,response\n3,1,0.1,0.2,0.3,A,A\n3,2,0,0,0,B,B\n"
    write_file("d/sub3.csv", extra)
    with pytest.raises(DataError) as exc:
        load_trials(str(write_file("d/sub1.csv", rows(*GOOD)).parent / "sub*.csv"), ColumnMap())
    assert "x1, x2, x3" in located(exc, "sub3.csv", 1, "x3")


def test_field_count_differs_from_header(write_file):
    path = write_file("trials.csv", rows(*GOOD[:2], "1,3,0.5,0.9,A,B,extra", GOOD[3]))
    with pytest.raises(DataError) as exc:
        load_trials(path, ColumnMap())
    assert "--delimiter" in located(exc, "trials.csv", 4, 7)


def test_short_row_without_header(write_file):
    path = write_file("sub1.dat", "1 0.5 0.2 1 1\n2 0.1 0.3 2\n")
    with pytest.raises(DataError) as exc:
        load_trials(path, ColumnMap(category=4, response=5, features="2,3"))
    assert "4 fields where line 1 has 5" in located(exc, "sub1.dat", 2, 5)


def test_single_column_suggests_delimiter(write_file):
    # a comma-separated file with a .txt name reads as one whitespace-separated column
    path = write_file("trials.txt", rows(*GOOD))
    with pytest.raises(DataError) as exc:
        load_trials(path, ColumnMap())
    assert "--delimiter" in located(exc, "trials.txt", 1, 1)
    assert load_trials(path, ColumnMap(delimiter=",")).n_trials == 4


def test_response_outside_categories(write_file):
    path = write_file("trials.csv", rows(*GOOD[:3], "1,4,0.7,0.4,B,C"))
    with pytest.raises(DataError) as exc:
        load_trials(path, ColumnMap())
    assert "--drop-invalid-responses" in located(exc, "trials.csv", 5, "response")


def test_unknown_feedback_label(write_file):
    text = (
        "participant,trial,x1,category,response,fb\n1,1,0.1,A,A,A\n1,2,0.2,B,A,B\n1,3,0.3,A,B,Z\n"
    )
    path = write_file("trials.csv", text)
    with pytest.raises(DataError) as exc:
        load_trials(path, ColumnMap(feedback="fb"))
    assert "'Z'" in located(exc, "trials.csv", 4, "fb")


def test_bad_correct_value(write_file):
    text = "participant,trial,x1,category,response,ok\n1,1,0.1,A,A,yes\n1,2,0.2,B,A,maybe\n"
    path = write_file("trials.csv", text)
    with pytest.raises(DataError) as exc:
        load_trials(path, ColumnMap(correct="ok"))
    located(exc, "trials.csv", 3, "ok")


def test_missing_category(write_file):
    path = write_file("trials.csv", rows(*GOOD[:3], "1,4,0.7,0.4,,B"))
    with pytest.raises(DataError) as exc:
        load_trials(path, ColumnMap())
    assert "--where" in located(exc, "trials.csv", 5, "category")


def about_the_file(exc: pytest.ExceptionInfo, file) -> str:
    """Assert the message names the file, on one line, and no row or column; return it."""
    message = str(exc.value)
    assert "\n" not in message
    assert message.startswith(f"{file}: ")
    assert "row" not in message and "column" not in message
    assert (exc.value.row, exc.value.column) == (None, None)
    return message


def test_nonexistent_path(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(DataError) as exc:
        load_trials(missing, ColumnMap())
    assert about_the_file(exc, missing) == f"{missing}: this file or folder does not exist"


def test_glob_without_matches(tmp_path):
    pattern = str(tmp_path / "sub_*.csv")
    with pytest.raises(DataError) as exc:
        load_trials(pattern, ColumnMap())
    assert "no files match" in about_the_file(exc, pattern)


def test_bad_where_expression(write_file):
    path = write_file("trials.csv", rows(*GOOD))
    with pytest.raises(DataError) as exc:
        load_trials(path, ColumnMap(where="nonesuch > 1"))
    assert "--where" in located(exc, "trials.csv", 1, "nonesuch")


def test_participant_id_from_two_files(write_file):
    text = "trial,x1,category,response\n1,0.1,A,A\n2,0.2,B,B\n"
    write_file("a/sub1.csv", text)
    write_file("b/sub1.csv", text)
    with pytest.raises(DataError) as exc:
        load_trials(
            [str(write_file("a/sub1.csv", text)), str(write_file("b/sub1.csv", text))], ColumnMap()
        )
    assert "--participant-from-filename" in located(exc, "b/sub1.csv", 2, "participant")


def test_errors_leave_nothing_behind(write_file, tmp_path):
    # a failed load returns nothing and writes nothing
    path = write_file("trials.csv", rows(*GOOD[:3], "1,4,0.7,0.4,B,C"))
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(DataError):
        load_trials(path, ColumnMap())
    assert sorted(p.name for p in tmp_path.iterdir()) == before
