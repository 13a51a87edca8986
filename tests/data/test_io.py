"""Finding files and reading raw tables: formats, compression, headers, R data."""

from __future__ import annotations

import gzip
import sys

import pandas as pd
import pytest

from catmodel.data import ColumnMap, DataError, load_trials
from catmodel.data.io import detect_header, find_files, read_raw, split_suffix
from catmodel.errors import CatmodelError

CSV = "participant,trial,x1,x2,category,response\n1,1,0.5,1.5,A,B\n1,2,0.25,2.5,B,B\n"


def test_split_suffix():
    assert split_suffix("data/sub_1.csv.gz") == ("sub_1", ".csv", True)
    assert split_suffix("x/nosof94tld.rda.gz") == ("nosof94tld", ".rda", True)
    assert split_suffix("a.b.RData") == ("a.b", ".rdata", False)
    assert split_suffix("notes.md") == ("notes.md", "", False)


def test_find_files_file_directory_glob_and_list(write_file, tmp_path):
    for name in ("sub10.csv", "sub2.csv", "sub1.txt.gz", "readme.txt", "notes.md"):
        write_file(f"d/{name}", CSV)
    folder = tmp_path / "d"
    # natural order; readme and unknown types skipped in directories
    assert [p.split("/")[-1] for p in find_files(folder)] == [
        "sub1.txt.gz",
        "sub2.csv",
        "sub10.csv",
    ]
    assert [p.split("/")[-1] for p in find_files(str(folder / "sub*.csv"))] == [
        "sub2.csv",
        "sub10.csv",
    ]
    assert len(find_files([folder / "sub2.csv", str(folder / "sub10.csv")])) == 2


def test_empty_directory(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no trial files"):
        find_files(tmp_path / "empty")


@pytest.mark.parametrize(
    "name, text",
    [
        ("t.csv", CSV),
        ("t.csv.gz", CSV),
        ("t.tsv", CSV.replace(",", "\t")),
        ("t.tsv.gz", CSV.replace(",", "\t")),
        ("t.txt", CSV.replace(",", "  ")),
        ("t.dat.gz", CSV.replace(",", " \t ")),
    ],
)
def test_formats_read_the_same(write_file, name, text):
    table = load_trials(write_file(name, text), ColumnMap())
    assert table.features == ["x1", "x2"]
    assert table.frame["x2"].tolist() == [1.5, 2.5]
    assert table.frame["response"].tolist() == ["B", "B"]
    assert table.frame["source_row"].tolist() == [2, 3]


def test_delimiter_override(write_file):
    path = write_file("t.csv", CSV.replace(",", ";"))
    assert load_trials(path, ColumnMap(delimiter=";")).n_trials == 2
    unknown = write_file("t.log", CSV)
    with pytest.raises(DataError, match="--delimiter"):
        load_trials(unknown, ColumnMap())
    assert load_trials(unknown, ColumnMap(delimiter=",")).n_trials == 2


def test_quoted_fields(write_file):
    path = write_file("t.csv", 'participant,x1,category,response\n"p, 1",1,"A",B\n"p, 1",2,B,B\n')
    table = load_trials(path, ColumnMap())
    assert table.learners == ["p, 1"]


def test_header_detection():
    columns = ColumnMap()
    assert detect_header([["subject", "cat", "x"], ["1", "A", "0.5"]], columns)
    # the first line's non-numeric 'A' sits in a text column: no header
    assert not detect_header([["1", "A", "0.5"], ["2", "B", "0.7"]], columns)
    # a header of mapped names only, above text
    assert detect_header([["category", "response"], ["A", "B"]], columns)
    assert detect_header([["cat", "resp"], ["A", "B"]], ColumnMap(category="cat", response="resp"))


def test_header_override(write_file):
    # all-text first line, not recognised as a header: --header says it is one
    path = write_file("t.csv", "who,cat,resp,a\np1,A,B,0.5\np1,B,B,0.7\n")
    auto = read_raw(str(path), ColumnMap())
    assert auto.has_header  # 'a' is text above numbers
    forced = read_raw(str(path), ColumnMap(header=False))
    assert not forced.has_header and list(forced.frame.columns) == ["1", "2", "3", "4"]
    assert forced.rows.tolist() == [1, 2, 3]


def test_no_header_uses_positions(write_file):
    path = write_file("sub7.txt", " 0  81.94  0.21  1\n 1  67.44  1.24  1\n\n 1  60.0  1.0  0\n")
    table = load_trials(path, ColumnMap(category=1, response="4", features="2,3"))
    assert table.features == ["x1", "x2"]
    assert table.learners == ["sub7"]
    assert table.frame["source_row"].tolist() == [1, 2, 4]  # blank line 3 skipped
    assert table.frame["x1"].tolist() == [81.94, 67.44, 60.0]


def test_latin1_text(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("participant,x1,category,response\nJosé,1,A,B\nJosé,2,B,B\n".encode("latin-1"))
    assert load_trials(path, ColumnMap()).learners == ["José"]


def _write_rda(path, frame, name):
    pyreadr = pytest.importorskip("pyreadr")
    pyreadr.write_rdata(str(path), frame, df_name=name)


def test_rdata_plain_and_gzipped(tmp_path, standard_frame):
    _write_rda(tmp_path / "trials.rda", standard_frame, "trials")
    plain = load_trials(tmp_path / "trials.rda", ColumnMap())
    raw = (tmp_path / "trials.rda").read_bytes()
    (tmp_path / "trials.RData.gz").write_bytes(gzip.compress(raw))
    zipped = load_trials(tmp_path / "trials.RData.gz", ColumnMap())
    assert plain.n_trials == zipped.n_trials == len(standard_frame)
    assert plain.frame["source_row"].iloc[0] == 1  # R row numbers
    assert plain.categories == ["A", "B"]


def test_rdata_with_several_frames(tmp_path, standard_frame, monkeypatch):
    pyreadr = pytest.importorskip("pyreadr")
    _write_rda(tmp_path / "two.rda", standard_frame, "trials")
    other = pd.DataFrame({"a": [1]})
    monkeypatch.setattr(pyreadr, "read_r", lambda path: {"info": other, "trials": standard_frame})
    with pytest.raises(DataError, match="--rdata-object") as exc:
        load_trials(tmp_path / "two.rda", ColumnMap())
    assert "two.rda" in str(exc.value) and "info, trials" in str(exc.value)
    table = load_trials(tmp_path / "two.rda", ColumnMap(rdata_object="trials"))
    assert table.n_trials == len(standard_frame)
    with pytest.raises(DataError, match="no data frame called 'nope'"):
        load_trials(tmp_path / "two.rda", ColumnMap(rdata_object="nope"))


def test_rdata_without_pyreadr(tmp_path, monkeypatch):
    (tmp_path / "t.rda").write_bytes(b"RDX2\n")
    monkeypatch.setitem(sys.modules, "pyreadr", None)
    with pytest.raises(CatmodelError, match="pip install pyreadr") as exc:
        load_trials(tmp_path / "t.rda", ColumnMap())
    assert "t.rda" in str(exc.value)


def test_corrupt_gzip(tmp_path):
    (tmp_path / "t.csv.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="cannot read") as exc:
        load_trials(tmp_path / "t.csv.gz", ColumnMap())
    assert "t.csv.gz" in str(exc.value)
