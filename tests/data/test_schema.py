"""ColumnMap accepts the command-line spellings and rejects bad settings early."""

from __future__ import annotations

import pytest

from catmodel.data import ColumnMap
from catmodel.data.schema import parse_ranges
from catmodel.errors import SettingsError


def test_defaults_are_standard_names():
    columns = ColumnMap()
    assert columns.participant is None and columns.features is None
    assert columns.binary_code == () and columns.recode_response == {}


def test_lists_accept_strings_and_position_ranges():
    columns = ColumnMap(features="x, y", learner="subj,prob", phase="learn,test")
    assert columns.features == ("x", "y")
    assert columns.learner == ("subj", "prob")
    assert columns.phase == ("learn", "test")
    assert ColumnMap(features="11-13,2").features == ("11", "12", "13", "2")
    assert ColumnMap(features=[2, 3]).features == ("2", "3")
    assert ColumnMap(category=5) == ColumnMap(category="5")


def test_recode_from_string_or_mapping():
    assert ColumnMap(recode_response="100=A, 107=B").recode_response == {"100": "A", "107": "B"}
    assert ColumnMap(recode_category={1: "A"}).recode_category == {"1": "A"}
    assert ColumnMap(recode_response="999=").recode_response == {"999": ""}
    with pytest.raises(SettingsError, match="OLD=NEW"):
        ColumnMap(recode_response="100A")


def test_trial_ranges():
    assert parse_ranges("1-300") == [(1, 300)]
    assert parse_ranges("5, 10-12") == [(5, 5), (10, 12)]
    assert parse_ranges("301-") == [(301, float("inf"))]
    for bad in ("0-5", "10-2", "a-b"):
        with pytest.raises(SettingsError, match="--trials"):
            ColumnMap(trials=bad)


def test_delimiter_spellings():
    assert ColumnMap(delimiter="tab").delimiter == "\t"
    assert ColumnMap(delimiter="\\t").delimiter == "\t"
    assert ColumnMap(delimiter=";").delimiter == ";"
    assert ColumnMap(delimiter="space").delimiter == "whitespace"
    with pytest.raises(SettingsError, match="--delimiter"):
        ColumnMap(delimiter=";;")


def test_filename_regex_needs_one_group():
    assert ColumnMap(participant_from_filename=r"sub_(\d+)").participant_from_filename
    with pytest.raises(SettingsError, match="one group"):
        ColumnMap(participant_from_filename=r"sub_\d+")
    with pytest.raises(SettingsError, match="invalid regex"):
        ColumnMap(participant_from_filename=r"sub_(")


def test_positions_start_at_one():
    with pytest.raises(SettingsError, match="start at 1"):
        ColumnMap(category=0)


def test_named_columns_for_header_detection():
    columns = ColumnMap(participant="subject", category=5, features="x,2")
    assert columns.named_columns() == {"subject", "x"}
