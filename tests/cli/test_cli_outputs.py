"""Where commands write: ``--out`` checked before any work, and stale outputs of earlier runs
removed from a results folder while every other file is kept (issue 9)."""

from __future__ import annotations

import json

import pytest

import catmodel.compare.model_recovery
import catmodel.compare.recovery
import catmodel.data
import catmodel.figures
from catmodel.cli.main import main
from catmodel.compare.recovery import simulate_participants
from catmodel.models.registry import get_model
from catmodel.results import recorded_outputs, remove_stale_outputs


def must_not_run(*args, **kwargs):
    raise AssertionError("the command did its work before checking --out")


@pytest.fixture
def no_work(monkeypatch):
    """Loading data, recovery studies and figures fail the test if they are reached."""
    monkeypatch.setattr(catmodel.data, "load_trials", must_not_run)
    monkeypatch.setattr(catmodel.compare.recovery, "parameter_recovery", must_not_run)
    monkeypatch.setattr(catmodel.compare.model_recovery, "model_recovery", must_not_run)
    monkeypatch.setattr(catmodel.figures, "draw_figures", must_not_run)


FOLDER_COMMANDS = {
    "fit": ["fit", "data.csv"],
    "recover": ["recover", "--participants", "2", "--trials", "20"],
    "model-recovery": ["model-recovery", "--models", "prototype", "--participants", "1"],
    "figures": ["figures", "results"],
    "demo": ["demo"],
}


@pytest.mark.parametrize("command", sorted(FOLDER_COMMANDS))
@pytest.mark.parametrize("inside", [False, True], ids=["file", "below-a-file"])
def test_out_naming_a_file_stops_before_any_work(command, inside, tmp_path, no_work, capsys):
    existing = tmp_path / "existing.txt"
    existing.write_text("a user's file\n")
    out = existing / "sub" if inside else existing
    assert main([*FOLDER_COMMANDS[command], "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"catmodel: error: --out {out}: ") and "not a folder" in err
    assert existing.read_text() == "a user's file\n"


def test_figures_default_folder_that_is_a_file_is_refused(tmp_path, no_work, capsys):
    (tmp_path / "figures").write_text("not a folder\n")
    assert main(["figures", str(tmp_path)]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_simulate_refuses_an_existing_folder_as_its_file(tmp_path, capsys):
    folder = tmp_path / "sim"
    folder.mkdir()
    command = ["simulate", "--model", "prototype", "--participants", "1", "--trials", "10"]
    assert main([*command, "--out", str(folder)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "is a folder" in err
    assert list(folder.iterdir()) == []
    assert main([*command, "--out", str(folder / "sim.csv")]) == 0  # a file in it is fine


@pytest.fixture(scope="module")
def trial_file(tmp_path_factory):
    table, _, _ = simulate_participants(get_model("prototype"), "two-gaussian", 3, 60, seed=7)
    path = tmp_path_factory.mktemp("data") / "trials.csv"
    table.frame[["participant", "trial", "x1", "x2", "category", "response"]].to_csv(
        path, index=False
    )
    return path


def fit(data, out, models):
    command = ["fit", str(data), "--models", models, "--starts", "1", "--candidates", "16"]
    assert main([*command, "--out", str(out)]) == 0


def test_refit_removes_the_stale_outputs_of_earlier_runs_and_keeps_every_other_file(
    trial_file, tmp_path, capsys
):
    out = tmp_path / "results"
    fit(trial_file, out, "gaussian,exemplar")
    assert main(["compare", str(out)]) == 0
    assert main(["figures", str(out), "--runs", "0", "--format", "png"]) == 0
    figures = sorted(p.relative_to(out).as_posix() for p in (out / "figures").iterdir())
    assert "figures/model_comparison.png" in figures
    recorded = recorded_outputs(out)
    assert {"fits.csv", "comparison.csv", "group.csv", "run.json", *figures} <= set(recorded)
    (out / "notes.txt").write_text("my notes\n")
    (out / "figures" / "my_sketch.png").write_bytes(b"mine")
    capsys.readouterr()

    fit(trial_file, out, "gaussian")

    assert sorted(recorded_outputs(out)) == ["fits.csv", "run.json", "starts.csv", "trials.csv.gz"]
    assert not (out / "comparison.csv").exists() and not (out / "group.csv").exists()
    assert [p.name for p in (out / "figures").iterdir()] == ["my_sketch.png"]
    assert (out / "notes.txt").read_text() == "my notes\n"
    stale = len(recorded) - 4  # everything but fits, starts, trials and run.json
    assert f"removed {stale} stale files" in capsys.readouterr().out


def test_without_a_readable_run_record_nothing_is_removed(trial_file, tmp_path, capsys):
    out = tmp_path / "results"
    fit(trial_file, out, "prototype")
    assert main(["compare", str(out)]) == 0
    (out / "run.json").write_text("{ not json")
    capsys.readouterr()
    fit(trial_file, out, "prototype")
    assert (out / "comparison.csv").exists() and (out / "group.csv").exists()
    assert "stale" not in capsys.readouterr().out


def test_only_recorded_regular_files_inside_the_folder_are_removed(tmp_path):
    out = tmp_path / "results"
    (out / "sub").mkdir(parents=True)
    (tmp_path / "outside.txt").write_text("x")
    for name in ("old.csv", "kept.csv", "notes.txt"):
        (out / name).write_text("x")
    (out / "link.csv").symlink_to(tmp_path / "outside.txt")
    (out / "run.json").write_text(json.dumps({"kind": "fit", "outputs": ["kept.csv"]}))
    previous = ["old.csv", "kept.csv", "sub", "link.csv", "../outside.txt", str(out / "notes.txt")]
    removed = remove_stale_outputs(out, previous)
    assert removed == [out / "old.csv"]
    assert sorted(p.name for p in out.iterdir()) == [
        "kept.csv",
        "link.csv",
        "notes.txt",
        "run.json",
        "sub",
    ]
    assert (tmp_path / "outside.txt").exists()


def test_recover_and_model_recovery_replace_the_recorded_outputs_of_a_fit(
    trial_file, tmp_path, capsys
):
    out = tmp_path / "results"
    fit(trial_file, out, "prototype")
    assert main(["compare", str(out)]) == 0
    (out / "notes.txt").write_text("my notes\n")
    small = ["--participants", "2", "--trials", "30", "--starts", "1", "--candidates", "16"]
    capsys.readouterr()
    assert main(["recover", "--model", "prototype", *small, "--out", str(out)]) == 0
    assert "removed 2 stale files" in capsys.readouterr().out  # comparison.csv, group.csv
    recovered = set(recorded_outputs(out))
    assert {"fits.csv", "recovery.csv", "recovery_summary.csv", "recovery.png"} <= recovered
    assert not (out / "comparison.csv").exists()
    assert (
        main(["model-recovery", "--models", "prototype,guessing", *small, "--out", str(out)]) == 0
    )
    assert {"confusion.csv", "model_recovery.png", "run.json"} <= set(recorded_outputs(out))
    left = {p.name for p in out.iterdir()}
    assert not left & {"fits.csv", "recovery.csv", "recovery.png"}
    assert "notes.txt" in left
