"""The shared data options build the same ColumnMap a script would."""

from __future__ import annotations

import argparse

import pytest

from catmodel.cli.data_options import add_data_options, column_map_from_args
from catmodel.data import ColumnMap, load_trials


def parse(*argv: str) -> ColumnMap:
    parser = argparse.ArgumentParser(prog="catmodel fit")
    parser.add_argument("source")
    add_data_options(parser)
    return column_map_from_args(parser.parse_args(["data.csv", *argv]))


def test_no_options_is_the_default_map():
    assert parse() == ColumnMap()


def test_every_option_maps_to_its_field():
    columns = parse(
        "--participant",
        "subject",
        "--trial",
        "t",
        "--block",
        "blk",
        "--category",
        "5",
        "--response",
        "resp",
        "--feedback",
        "fb",
        "--correct",
        "none",
        "--rt",
        "RT",
        "--condition",
        "cond",
        "--phase-column",
        "stage",
        "--features",
        "x,y",
        "--binary-code",
        "stim",
        "--binary-code",
        "code",
        "--learner",
        "subject,prob",
        "--participant-from-filename",
        r"sub(\d+)",
        "--recode-response",
        "100=A,107=B",
        "--recode-category",
        "1=A",
        "--drop-invalid-responses",
        "--where",
        "resp.notna()",
        "--phase",
        "learn,test",
        "--trials",
        "1-300",
        "--delimiter",
        "tab",
        "--no-header",
        "--rdata-object",
        "trials",
    )
    assert columns == ColumnMap(
        participant="subject",
        trial="t",
        block="blk",
        category="5",
        response="resp",
        feedback="fb",
        correct="none",
        rt="RT",
        condition="cond",
        phase_column="stage",
        features=("x", "y"),
        binary_code=("stim", "code"),
        learner=("subject", "prob"),
        participant_from_filename=r"sub(\d+)",
        recode_response={"100": "A", "107": "B"},
        recode_category={"1": "A"},
        drop_invalid_responses=True,
        where="resp.notna()",
        phase=("learn", "test"),
        trials="1-300",
        delimiter="\t",
        header=False,
        rdata_object="trials",
    )
    assert parse("--header").header is True


def test_bad_values_are_settings_errors():
    from catmodel.errors import SettingsError

    with pytest.raises(SettingsError, match="--trials"):
        parse("--trials", "ten")


def test_flags_load_a_headerless_file(write_file):
    path = write_file("sub3.txt", "1 0.5 0.2 A A\n2 0.1 0.3 B A\n")
    columns = parse(
        "--category",
        "4",
        "--response",
        "5",
        "--features",
        "2,3",
        "--trial",
        "1",
        "--participant-from-filename",
        r"sub(\d+)",
    )
    table = load_trials(path, columns)
    assert table.learners == ["3"] and table.features == ["x1", "x2"]
