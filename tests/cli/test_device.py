"""--device and --dtype: CUDA absent is one line (exit 2), auto falls back to the CPU."""

from __future__ import annotations

import pytest
import torch

from catmodel.cli.main import main
from catmodel.errors import SettingsError
from catmodel.fitting.device import resolve_device

no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")


@no_cuda
@pytest.mark.parametrize(
    "command",
    [
        ["fit", "data/example.csv.gz"],
        ["strategies", "data/example.csv.gz"],
        ["recover"],
        ["model-recovery"],
        ["simulate", "--model", "gaussian"],
    ],
)
def test_device_cuda_without_one_is_a_one_line_error(command, tmp_path, capsys):
    assert main([*command, "--device", "cuda", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no CUDA device" in err[0]
    assert not (tmp_path / "o").exists()


@no_cuda
@pytest.mark.parametrize("command", [["compare", "--cv", "forward"], ["figures"]])
def test_device_cuda_on_a_folder_without_one_is_a_one_line_error(command, tmp_path, capsys):
    # checked before the folder is read: the folder need not exist
    assert main([command[0], str(tmp_path / "fit"), *command[1:], "--device", "cuda"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no CUDA device" in err[0]


@no_cuda
def test_auto_picks_the_cpu_without_cuda():
    assert resolve_device("auto") == "cpu"


def test_float32_needs_cuda():
    with pytest.raises(SettingsError, match="float32 needs --device cuda"):
        resolve_device("cpu", "float32")
