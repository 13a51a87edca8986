"""Ctrl-C at any moment: one line, exit status 130, never a traceback (issue 14)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO
    )


def torch_loading(pid: int, timeout: float = 120.0) -> None:
    """Wait until process ``pid`` has mapped PyTorch's library (Linux: ``/proc/PID/maps``):
    ``catmodel`` imports torch only after installing its handler, so from then on an
    interrupt is catmodel's to handle. (Before that Python itself is still starting, and a
    Ctrl-C there is Python's own.) Elsewhere, wait a second instead."""
    maps = Path(f"/proc/{pid}/maps")
    if not maps.exists():
        time.sleep(1.0)
        return
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if "libtorch" in maps.read_text():
                return
        except OSError:
            return  # the process has ended
        time.sleep(0.005)


def interrupted_fit(out: Path, after: float, *extra: str) -> subprocess.CompletedProcess:
    """``catmodel fit`` on the example data, sent SIGINT ``after`` seconds after it started
    loading PyTorch."""
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "catmodel.cli.main", "fit", "data/example.csv.gz"),
            *("--models", "prototype,exemplar", "--ci", "wald", "--out", str(out), *extra),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    torch_loading(proc.pid)
    time.sleep(after)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


# while torch loads, while the kernels run, while files are written
@pytest.mark.parametrize("after", [0.0, 2.0, 4.5])
def test_sigint_during_a_fit_exits_130_without_a_traceback(tmp_path, after):
    done = interrupted_fit(tmp_path / "out", after)
    if done.returncode == 0:
        pytest.skip(f"the fit finished in under {after} s")
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr
    assert "SystemError" not in done.stderr
    last = done.stderr.replace("\r", "\n").strip().splitlines()[-1]
    assert last.startswith("catmodel: interrupted")
    # no temporary file of an atomic write is left behind (in the folder or its checkpoint)
    out = tmp_path / "out"
    leftovers = [p.name for p in out.rglob(".*") if p.name != ".catmodel-checkpoint"]
    assert leftovers == []
    if list(out.glob(".catmodel-checkpoint/*.pkl")):  # units saved: it says how many
        assert "units saved; rerun with --resume" in last


def test_an_interrupt_inside_an_atomic_write_waits_for_the_file(tmp_path):
    target = tmp_path / "f.txt"
    code = (
        "import os, signal\n"
        "from catmodel import interrupt\n"
        "from catmodel.atomic import atomic_open\n"
        "interrupt.install()\n"
        f"with atomic_open(r'{target}') as fh:\n"
        "    fh.write('a'); os.kill(os.getpid(), signal.SIGINT); fh.write('b')\n"
        "print('not reached')\n"
    )
    done = _python(code)
    assert done.returncode == 130
    assert done.stderr.strip() == "catmodel: interrupted"
    assert "not reached" not in done.stdout
    assert target.read_text() == "ab"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


def test_the_message_counts_saved_units_where_the_run_can_resume():
    code = (
        "import os, signal, time\n"
        "from catmodel import interrupt\n"
        "interrupt.install(); interrupt.set_units(2, 5)\n"
        "os.kill(os.getpid(), signal.SIGINT); time.sleep(5)\n"
    )
    done = _python(code)
    assert done.returncode == 130
    assert done.stderr.strip() == "catmodel: interrupted (2 of 5 units saved; rerun with --resume)"


def test_main_restores_the_callers_handler(capsys):
    from catmodel.cli.main import main

    before = signal.getsignal(signal.SIGINT)
    assert main(["models"]) == 0
    assert signal.getsignal(signal.SIGINT) is before


@pytest.mark.skipif(os.name != "posix", reason="signals")
def test_library_callers_keep_keyboard_interrupt():
    code = (
        "import os, signal, time\n"
        # a caller with Python's own Ctrl-C handling (a process started from a pytest-xdist
        # worker inherits SIGINT ignored, and Python then installs no handler of its own)
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "import catmodel.atomic\n"
        "try:\n"
        # Python acts on a signal at its next check, which under load can come after
        # os.kill returns: wait for it inside the try
        "    os.kill(os.getpid(), signal.SIGINT); time.sleep(5)\n"
        "except KeyboardInterrupt:\n"
        "    print('caught')\n"
    )
    assert _python(code).stdout.strip() == "caught"
