"""``catmodel datasets``: every shared data set converts to the standard schema, matches the
sizes ``datasets list`` states, keeps every shown trial, and loads with no mapping options.

Reads ``../shared/datasets`` in place (never copied); skips when it is absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from catmodel.cli.main import main
from catmodel.data import load_trials
from catmodel.data.datasets import DATASETS, get_dataset
from catmodel.data.datasets.files import read_registry, registry_lines

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"no data sets at {SHARED}")

TRIAL_LEVEL = [
    (d.name, e.name)
    for d in DATASETS.values()
    if not d.refusal
    for e in d.experiments
    if e.convert is not None
]


def test_every_shared_folder_is_registered():
    names = {"crossley_cat_unlearn_2cat", "crossley_unlearning_4cat", "ashby_rbii_switchvi"}
    names |= {"hu_nosofsky_dots", "sixproblems", "catlearn_cirp_grouplevel"}
    assert set(DATASETS) == names
    if SHARED.is_dir():
        assert {p.name for p in SHARED.iterdir() if p.is_dir()} == names


def test_list_prints_every_data_set(capsys):
    assert main(["datasets", "list"]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0].split()
    assert header[:6] == ["name", "experiment", "participants", "trials", "D", "K"]
    for name, experiment in TRIAL_LEVEL:
        assert any(name in line and experiment in line for line in out.splitlines())
    assert "catlearn_cirp_grouplevel" in out and "GPL" in out


@needs_shared
@pytest.mark.parametrize("name", sorted(DATASETS))
def test_registry_matches_the_shared_copies(name):
    """The recorded checksums are those of the original (gunzipped) files."""
    lines = registry_lines(SHARED / name)
    assert dict(line.split() for line in lines) == read_registry(name)


@needs_shared
@pytest.mark.parametrize(("name", "experiment"), TRIAL_LEVEL)
def test_conversion_matches_the_list_and_loads(name, experiment):
    d = DATASETS[name]
    e = next(x for x in d.experiments if x.name == experiment)
    frame = get_dataset(name, experiment or None, source=SHARED)
    assert frame["participant"].nunique() == e.participants
    assert len(frame) == e.trials
    features = [c for c in frame.columns if c.startswith("x") and c[1:].isdigit()]
    assert len(features) == e.n_features
    assert list(frame.columns[:3]) == ["participant", "trial", "block"] or name.startswith("ashby")
    assert list(pd.unique(frame["phase"])) == e.phases.split(", ")
    assert frame["excluded_by_authors"].dtype == bool
    # trials run 1..n within each participant, in the order shown
    runs = frame.groupby("participant", sort=False)["trial"]
    assert (runs.diff().fillna(1) == 1).all()
    # the loader reads the table as written: no mapping, same learners, trials and features
    table = load_trials(_write(frame.head(4000)))
    assert table.features == features
    assert set(table.learners) == set(frame["participant"].head(4000).astype(str))


def _write(frame: pd.DataFrame) -> str:
    import tempfile

    path = Path(tempfile.mkdtemp()) / "data.csv.gz"
    frame.to_csv(path, index=False)
    return str(path)


@needs_shared
def test_dots_transfer_trials_have_no_feedback_and_follow_training():
    frame = get_dataset("hu_nosofsky_dots", "lmc_2022_exp2", source=SHARED)
    one = frame[frame["participant"] == "polyrep1"]
    transfer = one["phase"] == "transfer"
    assert transfer.sum() == 63 and one["feedback"][transfer].isna().all()
    assert one["feedback"][~transfer].notna().all()
    # the transfer phase restarts block and trial numbers in the file: here it comes last
    assert one["trial"][transfer].min() == 226 and one["block"][transfer].unique().tolist() == [16]
    # repeating condition: 63 distinct patterns, each item one pattern
    assert one["item"].nunique() == 63
    coords = one[[f"x{d}" for d in range(1, 19)]].astype(str).agg(" ".join, axis=1)
    assert (pd.DataFrame({"i": one["item"], "c": coords}).drop_duplicates().shape[0]) == 63


@needs_shared
def test_crossley_key_codes_become_missing_responses_and_authors_exclusions():
    frame = get_dataset("crossley_cat_unlearn_2cat", source=SHARED)
    logged = frame["response_logged"]
    keycodes = ~logged.isin(["A", "B"])
    assert keycodes.sum() > 0 and frame["response"][keycodes].isna().all()
    assert frame["response"][~keycodes].notna().all()
    # trial_data.py: more than 10% unmapped responses
    share = keycodes.groupby(frame["participant"]).mean()
    excluded = frame.groupby("participant")["excluded_by_authors"].first()
    assert (excluded == (share > 0.10)).all() and excluded.sum() == 6
    # veridical learn/test phases imply the category; unknown where the intervention's
    # random feedback followed a key code
    veridical = frame["phase"].isin(["learn", "test"])
    assert (frame["feedback"][veridical] == frame["category"][veridical]).all()
    middle = frame["phase"] == "intervention"
    assert frame["feedback"][middle & keycodes].isna().all()


@needs_shared
def test_sixproblems_keeps_shown_trials_only():
    frame = get_dataset("sixproblems", "nosof94", source=SHARED)
    assert len(frame) == 96_000 - 67_960  # SCHEMA.md: 67,960 padded post-criterion rows
    per = frame.groupby("participant").size()
    assert per.min() == 32 and per.max() == 400
    bits = frame[["x1", "x2", "x3"]].to_numpy() @ np.array([4, 2, 1]) + 1
    assert (bits == frame["item"]).all()


def test_get_refuses_group_level_and_unknown(tmp_path, capsys):
    out = tmp_path / "x.csv.gz"
    assert main(["datasets", "get", "catlearn_cirp_grouplevel", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "group-level" in err and "analyses.shj" in err
    six = ["datasets", "get", "sixproblems", "--out", str(out), "--experiment"]
    assert main([*six, "kurtz2013e2"]) == 2
    assert "block-level" in capsys.readouterr().err
    assert main([*six, "x"]) == 2
    assert main(["datasets", "get", "nope", "--out", str(out)]) == 2
    assert not out.exists()


@needs_shared
def test_get_then_fit_with_no_mapping_flags(tmp_path, capsys):
    out = tmp_path / "nosof94.csv.gz"
    argv = ["datasets", "get", "sixproblems", "--experiment", "nosof94"]
    assert main([*argv, "--from", str(SHARED), "--out", str(out)]) == 0
    assert "wrote 28,040 trials of 240 participants" in capsys.readouterr().out
    small = tmp_path / "small.csv"
    frame = pd.read_csv(out)
    frame[frame["participant"].isin(frame["participant"].unique()[:2])].to_csv(small, index=False)
    fit = ["fit", str(small), "--models", "gaussian,prototype,exemplar", "--starts", "1"]
    assert main([*fit, "--candidates", "16", "--ci", "none", "--out", str(tmp_path / "r")]) == 0
    fits = pd.read_csv(tmp_path / "r" / "fits.csv")
    assert len(fits) == 6


@needs_shared
def test_fit_applies_authors_exclusions_only_when_asked(tmp_path):
    frame = get_dataset("crossley_cat_unlearn_2cat", "1", source=SHARED)
    path = tmp_path / "c.csv.gz"
    frame.to_csv(path, index=False)
    from catmodel.data import ColumnMap

    assert load_trials(path).n_learners == 40
    table = load_trials(path, ColumnMap(authors_exclusions=True))
    assert table.n_learners == 40 - 2
    assert any("--authors-exclusions" in note for note in table.notes)
