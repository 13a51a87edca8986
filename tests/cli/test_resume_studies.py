"""Resumable ``catmodel recover`` and ``catmodel model-recovery``: stopped after some units,
rerun with --resume, the same files as an uninterrupted run (figures included)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catmodel.cli.main import main
from catmodel.fitting.checkpoint import CHECKPOINT, Checkpoint

STUDY = ("--trials", "100", "--candidates", "32", "--chunk-size", "2", "--seed", "5")
RECOVER = ("recover", "--model", "prototype", "--participants", "6", *STUDY)
# two generating models x (two fitted models x two chunks of two participants): 8 units
MODEL_RECOVERY = ("model-recovery", "--models", "prototype,exemplar", "--participants", "4")
MODEL_RECOVERY = (*MODEL_RECOVERY, *STUDY)


def outputs(out: Path) -> dict[str, bytes]:
    """Every file a study wrote but run.json (which says what was resumed)."""
    files = sorted(p for p in out.iterdir() if p.is_file() and p.name != "run.json")
    return {p.name: p.read_bytes() for p in files}


def run(command: tuple[str, ...], out: Path, *extra: str) -> int:
    return main([*command, "--out", str(out), *extra])


@pytest.fixture(scope="module", params=[RECOVER, MODEL_RECOVERY], ids=["recover", "models"])
def study(request, tmp_path_factory) -> tuple[tuple[str, ...], dict[str, bytes]]:
    out = tmp_path_factory.mktemp("reference")
    assert run(request.param, out) == 0
    return request.param, outputs(out)


def stop_after(monkeypatch, saves: int) -> None:
    """Ctrl-C (as the library sees it) when the run is about to save unit ``saves + 1``."""
    original = Checkpoint.save
    count = {"n": 0}

    def save(self, key, value):
        if count["n"] == saves:
            raise KeyboardInterrupt
        count["n"] += 1
        original(self, key, value)

    monkeypatch.setattr(Checkpoint, "save", save)


def test_stopped_then_resumed_gives_the_files_of_an_uninterrupted_run(
    study, tmp_path, monkeypatch, capsys
):
    command, reference = study
    # recover: one model x three chunks; model recovery: the study's 8 units, counted across
    # its generating models (the second model's fit is under way)
    saved, total = (2, 3) if command is RECOVER else (5, 8)
    stop_after(monkeypatch, saved)
    assert run(command, tmp_path) == 130
    assert f"({saved} of {total} units saved; rerun with --resume)" in capsys.readouterr().err
    assert len(list((tmp_path / CHECKPOINT).glob("*.pkl"))) == saved
    monkeypatch.undo()
    assert run(command, tmp_path, "--resume") == 0
    assert outputs(tmp_path) == reference
    record = json.loads((tmp_path / "run.json").read_text())
    assert len(record["resumed"]) == saved
    assert not (tmp_path / CHECKPOINT).exists()


def test_resume_on_a_finished_study_does_nothing(study, tmp_path, capsys):
    command, reference = study
    assert run(command, tmp_path) == 0
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    capsys.readouterr()
    assert run(command, tmp_path, "--resume") == 0
    assert "nothing to resume" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == before
    assert outputs(tmp_path) == reference  # and a rerun without --resume writes the same bytes


def test_resume_of_a_study_with_other_options_is_refused_with_one_line(study, tmp_path, capsys):
    command, _ = study
    with pytest.MonkeyPatch.context() as patch:
        stop_after(patch, 1)
        assert run(command, tmp_path) == 130
    capsys.readouterr()
    assert run(command, tmp_path, "--resume", "--trials", "120") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "other data, options" in err


def test_an_eb_fit_resumes_model_by_model(tmp_path, monkeypatch, capsys):
    # each model's EM is one unit: stopped after the first model, the resumed run fits only
    # the second and writes the files of an uninterrupted run
    import pandas as pd

    from tests.conftest import REPO

    frame = pd.read_csv(REPO / "data" / "example.csv.gz")
    keep = sorted(frame["participant"].unique())[:6]
    data = tmp_path / "six.csv"
    frame[frame["participant"].isin(keep) & (frame["trial"] <= 150)].to_csv(data, index=False)
    command = ("fit", str(data), "--models", "prototype,exemplar", "--method", "eb")
    command = (*command, "--candidates", "32")
    assert run(command, tmp_path / "reference") == 0
    stop_after(monkeypatch, 1)
    assert run(command, tmp_path / "out") == 130
    assert "(1 of 2 units saved; rerun with --resume)" in capsys.readouterr().err
    monkeypatch.undo()
    assert run(command, tmp_path / "out", "--resume") == 0
    for name in ("fits.csv", "population.csv", "starts.csv"):
        resumed, reference = tmp_path / "out" / name, tmp_path / "reference" / name
        assert resumed.read_bytes() == reference.read_bytes()
    assert json.loads((tmp_path / "out" / "run.json").read_text())["resumed"] == [
        "m000-prototype-c00000"
    ]
