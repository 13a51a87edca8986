"""Where commands write: ``--out`` checked before any work (issue 9)."""

from __future__ import annotations

import pytest

import catmodel.compare.model_recovery
import catmodel.compare.recovery
import catmodel.data
import catmodel.figures
from catmodel.cli.main import main


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
