"""Which device the models run on: the CPU's compiled kernels or the PyTorch step on CUDA.

On the CPU the forward rollouts run in numba kernels, in float64. On a CUDA device the same
step functions run batched in PyTorch (``catmodel.models.rollout``), in float64 or float32.
"""

from __future__ import annotations

import torch

from catmodel.errors import SettingsError

DEVICES = ("cpu", "cuda", "auto")
DTYPES = {"float64": torch.float64, "float32": torch.float32}


def cuda_available() -> bool:
    """Whether PyTorch sees a CUDA device."""
    return bool(torch.cuda.is_available())


def resolve_device(device: str = "cpu", dtype: str = "float64") -> str:
    """``"cpu"`` or ``"cuda"`` for ``device`` (``"auto"``: CUDA when available), or a
    one-line :class:`SettingsError` (no CUDA device; float32 on the CPU, whose kernels are
    float64)."""
    if device not in DEVICES:
        raise SettingsError(f"unknown device {device!r} (--device: cpu, cuda or auto)")
    if dtype not in DTYPES:
        raise SettingsError(f"unknown dtype {dtype!r} (--dtype: float64 or float32)")
    if device == "auto":
        device = "cuda" if cuda_available() else "cpu"
    if device == "cuda" and not cuda_available():
        raise SettingsError(
            "--device cuda: no CUDA device is available to PyTorch "
            f"(torch {torch.__version__}); use --device cpu or --device auto"
        )
    if device == "cpu" and dtype != "float64":
        raise SettingsError("--dtype float32 needs --device cuda (the CPU kernels are float64)")
    return device


def on_device(batch, device: str = "cpu", dtype: str = "float64"):
    """``batch`` on the resolved device with features of ``dtype`` (itself when unchanged)."""
    device = resolve_device(device, dtype)
    if device == "cpu" and batch.x.device.type == "cpu" and batch.x.dtype == DTYPES[dtype]:
        return batch
    return batch.to(device=device, dtype=DTYPES[dtype])
