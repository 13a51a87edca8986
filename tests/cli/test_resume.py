"""Resumable ``catmodel fit``: kill it at any moment, rerun with --resume, get the same files."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from catmodel.cli.main import main

REPO = Path(__file__).resolve().parents[2]
FINAL = ("fits.csv", "starts.csv", "trials.csv.gz")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """Six participants of the shipped example (short enough for several runs)."""
    frame = pd.read_csv(REPO / "data" / "example.csv.gz")
    keep = sorted(frame["participant"].unique())[:6]
    path = tmp_path_factory.mktemp("data") / "six.csv"
    frame[frame["participant"].isin(keep) & (frame["trial"] <= 150)].to_csv(path, index=False)
    return path


def fit_args(data: Path, out: Path, *extra: str) -> list[str]:
    return [
        *("fit", str(data), "--models", "prototype,exemplar", "--ci", "wald"),
        *("--candidates", "64", "--chunk-size", "2", "--out", str(out), *extra),
    ]


def files(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in FINAL}


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory) -> tuple[dict[str, bytes], float]:
    out = tmp_path_factory.mktemp("reference")
    t0 = time.perf_counter()
    assert main(fit_args(data, out)) == 0
    return files(out), time.perf_counter() - t0


def test_resume_on_a_finished_folder_does_nothing(data, reference, tmp_path, capsys):
    assert main(fit_args(data, tmp_path)) == 0
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    assert main(fit_args(data, tmp_path, "--resume")) == 0
    assert "nothing to resume" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == before
    assert files(tmp_path) == reference[0]
    assert not (tmp_path / ".catmodel-checkpoint").exists()


def test_resume_of_another_run_is_refused_with_one_line(data, reference, tmp_path, capsys):
    assert main(fit_args(data, tmp_path)) == 0
    capsys.readouterr()
    assert main(fit_args(data, tmp_path, "--resume", "--seed", "1")) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "other data, options" in err


def test_resume_with_another_fitting_method_is_refused(data, reference, tmp_path, capsys):
    # the method is part of a run's identity: a finished ML folder is not an EB run
    assert main(fit_args(data, tmp_path)) == 0
    capsys.readouterr()
    assert main(fit_args(data, tmp_path, "--resume", "--method", "eb")) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "other data, options" in err
    assert files(tmp_path) == reference[0]


def test_resume_without_a_checkpoint_starts_afresh(data, reference, tmp_path):
    assert main(fit_args(data, tmp_path / "new", "--resume")) == 0
    assert files(tmp_path / "new") == reference[0]


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_gives_identical_files(data, reference, tmp_path):
    ref_files, seconds = reference
    rng = random.Random(14)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "catmodel.cli.main", *fit_args(data, out)]
    for attempt in range(3):
        proc = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.2, 1.0) * (seconds + 3))  # start-up included
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        resumed = subprocess.run(
            [*command, "--resume"], cwd=REPO, capture_output=True, text=True, timeout=600
        )
        assert resumed.returncode == 0, resumed.stderr
        assert files(out) == ref_files, f"attempt {attempt}"
        import json

        record = json.loads((out / "run.json").read_text())
        assert isinstance(record["resumed"], list)
        assert not (out / ".catmodel-checkpoint").exists()
        for name in FINAL:
            (out / name).unlink()
