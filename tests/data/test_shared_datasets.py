"""Every trial-level data set in ../shared/datasets loads with mapping options alone.

Each mapping is written as command-line flags and as ColumnMap fields; the test checks that
both give the same map (so the flags suffice) and loads the data with it.  Expected counts are
hard-coded from each data set's SCHEMA.md (the line is cited next to each number).

Not loaded: sixproblems/kurtz2013e2bld (block-level accuracies, not trials), sixproblems/
lewan11wm (working-memory scores, one row per person) and catlearn_cirp_grouplevel (group
means).  The data sets are read in place and never copied into the repository.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from catmodel.cli.data_options import add_data_options, column_map_from_args
from catmodel.data import ColumnMap, TrialTable, load_trials

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"

pytestmark = pytest.mark.skipif(not DATASETS.is_dir(), reason=f"no data sets at {DATASETS}")


def mapping(argv: list[str], **fields) -> ColumnMap:
    """The ColumnMap of these flags, checked against the same map written as fields."""
    parser = argparse.ArgumentParser()
    add_data_options(parser)
    from_flags = column_map_from_args(parser.parse_args(argv))
    assert from_flags == ColumnMap(**fields)
    return from_flags


def trials_per_learner(table: TrialTable) -> np.ndarray:
    return table.frame.groupby("learner", sort=False).size().to_numpy()


def accuracy(table: TrialTable, rows: np.ndarray) -> float:
    """Mean over learners of the proportion of responses equal to the category."""
    f = table.frame[rows]
    hits = (f["response"].astype(object) == f["category"].astype(object)).astype(float)
    return float(hits.groupby(f["learner"]).mean().mean())


def test_crossley_cat_unlearn_2cat():
    folder = DATASETS / "crossley_cat_unlearn_2cat" / "cat_unlearn_2_cat" / "data"
    # SCHEMA.md line 44: some `resp` values are raw pygame key codes (100 = 'd' = A,
    # 107 = 'k' = B, also 97, 102, ...): recode the two response keys, drop the rest.
    columns = mapping(
        [
            "--participant",
            "subject",
            "--trial",
            "trial",
            "--category",
            "cat",
            "--response",
            "resp",
            "--features",
            "x,y",
            "--correct",
            "fb",
            "--recode-response",
            "100=A,107=B",
            "--drop-invalid-responses",
        ],
        participant="subject",
        trial="trial",
        category="cat",
        response="resp",
        features="x,y",
        correct="fb",
        recode_response="100=A,107=B",
        drop_invalid_responses=True,
    )
    table = load_trials(folder, columns)
    # SCHEMA.md line 6: 80 participants, 899 trials each (71,920 rows)
    assert table.n_learners == 80
    dropped = table.dropped["invalid_responses"]
    assert 0 < dropped < 0.01 * 71_920
    assert table.n_trials + dropped == 71_920
    assert trials_per_learner(table).max() == 899
    assert any(f"dropped {dropped:,} of 71,920 trials" in note for note in table.notes)
    assert table.categories == ["A", "B"]
    assert set(table.frame["condition"]) == {"relearn", "new_learn"}
    # SCHEMA.md line 43: Learn-phase accuracy (trials 0-299) 0.68-0.74 by group
    learn = table.frame["trial_original"].to_numpy() < 300
    assert 0.65 < accuracy(table, learn) < 0.77
    # feedback from `fb` (Correct/Incorrect) is a label on every trial (2 categories)
    assert table.frame["feedback"].notna().all()


# SCHEMA.md lines 32-44 ("Column maps"): x, y, cat, resp, RT columns and files per group.
UNLEARNING_GROUPS = [
    ("mix_2575_data/unl7*.dat.gz", "2,3", "5", "6", "9", 29 + 24),
    ("nc_25_data/unl1*.dat.gz", "2,3", "5", "6", "9", 14),
    ("nc_25_data/ext[56]_*.txt.gz", "3,4", "2", "6", "7", 16 + 18),  # category in column 2
    ("nc_40_data/nc40*.dat.gz", "2,3", "4", "5", "7", 23 + 25),
    ("nc_63_data/nc63*.dat.gz", "2,3", "4", "5", "7", 20 + 19),
    ("nc_63_data_new_batch/nc63*.dat.gz", "2,3", "4", "5", "7", 27 + 24),
    ("rb_data/data/uRB*.txt.gz", "2,3", "5", "6", "9", 37),
    ("renewal_data/frc*.dat.gz", "2,3", "6", "7", "9", 26 + 19 + 25 + 23),
]


def test_crossley_unlearning_4cat():
    folder = DATASETS / "crossley_unlearning_4cat"
    n_files = 0
    for pattern, features, category, response, rt, expected_files in UNLEARNING_GROUPS:
        columns = mapping(
            ["--features", features, "--category", category, "--response", response, "--rt", rt],
            features=features,
            category=category,
            response=response,
            rt=rt,
        )
        # no --block: rows are already in trial order (and see the padding note below)
        table = load_trials(str(folder / pattern), columns)
        assert table.n_learners == expected_files, pattern
        # SCHEMA.md line 4: 900 rows in each file; participant id = file name
        assert (trials_per_learner(table) == 900).all(), pattern
        assert table.learners[0] == Path(table.frame["source_file"].iloc[0]).name.split(".")[0]
        assert table.categories == [1, 2, 3, 4], pattern
        # SCHEMA.md line 51: accuracy in trials 201-300 is 0.60-0.72 (mean over files)
        late = table.frame["trial"].between(201, 300).to_numpy()
        assert 0.55 < accuracy(table, late) < 0.77, pattern
        n_files += table.n_learners
    # SCHEMA.md line 4 / SOURCE.txt line 12: 369 participant files
    assert n_files == 369


def test_crossley_unlearning_4cat_padding_rows():
    # Not in SCHEMA.md (found while writing this test): nc6321 and nc63m24 of the new batch end
    # in 500 and 100 rows of all 1s, i.e. padding.  x = y = 1 is far outside the stimulus
    # range (about 39-161), so --where removes exactly those rows.
    folder = DATASETS / "crossley_unlearning_4cat" / "nc_63_data_new_batch"
    columns = mapping(
        ["--features", "2,3", "--category", "4", "--response", "5", "--where", "`2` > 1"],
        features="2,3",
        category="4",
        response="5",
        where="`2` > 1",
    )
    table = load_trials(folder, columns)
    assert table.dropped["where"] == 600
    assert table.n_learners == 51 and table.n_trials == 51 * 900 - 600


def test_ashby_rbii_switchvi():
    columns = mapping(
        ["--category", "1", "--features", "2,3", "--response", "5", "--rt", "6"],
        category=1,
        features=(2, 3),
        response=5,
        rt=6,
    )
    table = load_trials(DATASETS / "ashby_rbii_switchvi" / "data" / "all_data", columns)
    # SCHEMA.md line 7: 228 participants, 560 trials each, no missing/invalid responses
    assert table.n_learners == 228
    assert (trials_per_learner(table) == 560).all()
    assert table.frame["response"].notna().all()
    assert table.categories == [0, 1, 2, 3]
    assert "ii2sub1" in table.learners


@pytest.mark.parametrize(
    "pattern, response, features, learners, trials, learning",
    [
        # SCHEMA.md line 7-8: 304 participants, 354 trials (270 training + 84 test)
        ("mc_2024/dot_*.txt.gz", "8", "11-28", 304, 354, 270),
        # SCHEMA.md line 18-19: 89 participants, 288 trials (225 training + 63 transfer)
        ("lmc_2022/Exp2_Classification/Data/*.txt.gz", "7", "10-27", 89, 288, 225),
    ],
)
def test_hu_nosofsky_dots(pattern, response, features, learners, trials, learning):
    # Block numbers restart in the test phase, so trial order is row order (no --block).
    columns = mapping(
        ["--phase-column", "1", "--category", "5", "--response", response, "--features", features],
        phase_column="1",
        category="5",
        response=response,
        features=features,
    )
    table = load_trials(str(DATASETS / "hu_nosofsky_dots" / "data" / pattern), columns)
    assert table.n_learners == learners
    assert (trials_per_learner(table) == trials).all()
    assert len(table.features) == 18
    assert table.categories == [1, 2, 3]
    assert (table.frame["phase"] == "1").sum() == learners * learning


def test_sixproblems_nosof94tld():
    # SCHEMA.md line 9-11: rows with NA resp are padded post-criterion trials; drop them
    columns = mapping(
        [
            "--learner",
            "subj",
            "--category",
            "cat",
            "--response",
            "resp",
            "--binary-code",
            "logstim",
            "--where",
            "resp.notna()",
            "--condition",
            "type",
        ],
        learner="subj",
        category="cat",
        response="resp",
        binary_code="logstim",
        where="resp.notna()",
        condition="type",
    )
    table = load_trials(DATASETS / "sixproblems" / "data" / "nosof94tld.rda.gz", columns)
    # SCHEMA.md line 8: 240 subj values; line 11: 32-400 real trials each, 67,960 padded
    assert table.n_learners == 240
    assert table.n_trials == 96_000 - 67_960
    assert table.dropped["where"] == 67_960
    counts = trials_per_learner(table)
    assert counts.min() == 32 and counts.max() == 400
    assert table.features == ["logstim_1", "logstim_2", "logstim_3"]
    assert table.categories == [0, 1]


def test_sixproblems_lewan11tld():
    # SCHEMA.md line 24-26: padded trials have RT = NA; a learner is subj x session x phase
    columns = mapping(
        [
            "--participant",
            "subj",
            "--learner",
            "subj,session,phase",
            "--category",
            "logcat",
            "--response",
            "resp",
            "--binary-code",
            "logstim",
            "--rt",
            "RT",
            "--where",
            "RT.notna()",
        ],
        participant="subj",
        learner="subj,session,phase",
        category="logcat",
        response="resp",
        binary_code="logstim",
        rt="RT",
        where="RT.notna()",
    )
    table = load_trials(DATASETS / "sixproblems" / "data" / "lewan11tld.rda.gz", columns)
    # SCHEMA.md line 24: 113 participants x 6 problems; line 25: 51,504 padded rows
    assert table.frame["participant"].nunique() == 113
    assert table.n_learners == 113 * 6
    assert table.n_trials == 130_176 - 51_504
    counts = trials_per_learner(table)
    # SCHEMA.md line 26: 32-192 real trials per participant x problem
    assert counts.min() == 32 and counts.max() == 192
    # the `correct` column (found by name) gives the feedback label; SCHEMA.md line 31 says
    # correct == (resp == logcat), so it must name the category on every trial
    assert (table.frame["feedback"] == table.frame["category"]).all()


def test_sixproblems_rehder05tld():
    # SCHEMA.md line 36-39: the response is `value` on rows with DV == "resp_key".  Its keys
    # are counterbalanced (respCB), so `correct` would not name a category label: ignore it.
    columns = mapping(
        [
            "--participant",
            "s",
            "--category",
            "logcat",
            "--response",
            "value",
            "--binary-code",
            "logstim",
            "--where",
            "DV == 'resp_key'",
            "--correct",
            "none",
        ],
        participant="s",
        category="logcat",
        response="value",
        binary_code="logstim",
        where="DV == 'resp_key'",
        correct="none",
    )
    table = load_trials(DATASETS / "sixproblems" / "data" / "rehder05tld.rda.gz", columns)
    # SCHEMA.md line 35-36: 72 participants, 8,880 trials, 34 with NA value
    assert table.n_learners == 72
    assert table.n_trials == 8_880
    assert table.frame["response"].isna().sum() == 34  # kept, as trials without a response
    assert table.to_batch().responded.sum().item() == 8_880 - 34
