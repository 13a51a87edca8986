"""Options of how a long run runs, not what it computes: resuming, units, scheduler, device.

None of them changes a number in the results (``--chunk-size`` only changes how the work is
cut, and ``--dtype`` is the exception that does: it is part of a run's identity), so
``--resume``, ``--jobs``, ``--device``, ``--scheduler`` and ``--dask-address`` stay out of the
identity a resumed run must match (:func:`run_identity`).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from catmodel.errors import SettingsError

DEVICES = ("cpu", "cuda", "auto")
DTYPES = ("float64", "float32")


def add_device_options(parser: argparse.ArgumentParser) -> None:
    """``--device`` and ``--dtype``, for every command that fits or simulates."""
    g = parser.add_argument_group("device")
    g.add_argument(
        "--device",
        choices=DEVICES,
        default="cpu",
        help="where the models run: cpu (default; compiled numba kernels), cuda (the batched "
        "PyTorch step on a GPU) or auto (cuda when one is available, else cpu)",
    )
    g.add_argument(
        "--dtype",
        choices=DTYPES,
        default="float64",
        help="floating-point precision (default float64; float32 only on cuda)",
    )


def add_resume_options(parser: argparse.ArgumentParser) -> None:
    """``--resume``, ``--chunk-size``, ``--scheduler`` and ``--dask-address``."""
    from catmodel.fitting.units import DEFAULT_CHUNK

    g = parser.add_argument_group("long runs")
    g.add_argument(
        "--resume",
        action="store_true",
        help="keep the units an interrupted run of the same command saved in --out and fit "
        "only the rest (same files as an uninterrupted run); without a checkpoint it starts "
        "afresh, on a finished folder it does nothing; a checkpoint of a run with other data, "
        "options or catmodel version is refused",
    )
    g.add_argument(
        "--chunk-size",
        type=int,
        default=DEFAULT_CHUNK,
        help=f"participants per unit of work (default {DEFAULT_CHUNK}): each finished unit "
        "(model x chunk) is saved at once, so an interruption loses at most the units in "
        "progress; results do not depend on it",
    )
    g.add_argument(
        "--scheduler",
        choices=("local", "dask"),
        default="local",
        help="run the units here (local, default) or on Dask workers (dask; pip install "
        '"catmodel[dask]"): the cluster at --dask-address, else a LocalCluster here',
    )
    g.add_argument(
        "--dask-address",
        default=None,
        metavar="tcp://HOST:PORT",
        help="the scheduler of an existing Dask cluster (e.g. one dask-jobqueue started)",
    )


def check_run_options(args: argparse.Namespace) -> None:
    """Device and scheduler options that are wrong whatever the data: raised before work."""
    from catmodel.fitting.device import resolve_device
    from catmodel.fitting.scheduler import check_scheduler
    from catmodel.fitting.units import check_chunk_size

    if hasattr(args, "device"):
        args.device = resolve_device(args.device, args.dtype)
    if hasattr(args, "scheduler"):
        check_scheduler(args.scheduler, args.dask_address)
        check_chunk_size(args.chunk_size)


def run_identity(kind: str, data_sha256: str, options: Mapping[str, object]) -> dict:
    """What a run is, for resuming: the data, catmodel's version, the kernel sources and the
    options that change results (``options``: the caller lists them)."""
    from catmodel import __version__
    from catmodel.kernels.cache import kernel_source_hash

    return {
        "kind": kind,
        "data_sha256": data_sha256,
        "catmodel": __version__,
        "kernels_sha256": kernel_source_hash(),
        "options": dict(options),
    }


def refuse_other_run(out, message: str) -> None:
    """One line, exit 2: ``out`` holds another run than this one."""
    raise SettingsError(f"{out}: {message}")


#: options that say how a run runs, not what it computes, and the output folder: a resumed
#: run need not repeat them
NOT_IDENTITY = frozenset({"resume", "jobs", "device", "scheduler", "dask_address", "out"})


def options_identity(args: argparse.Namespace) -> dict:
    """Every option of a command that changes its results (for :func:`run_identity`): all
    parsed options but :data:`NOT_IDENTITY` and the command's handler."""
    return {
        key: value
        for key, value in sorted(vars(args).items())
        if key not in NOT_IDENTITY and not callable(value)
    }


def open_checkpoint(out, identity: Mapping[str, object], resume: bool):
    """The run's :class:`~catmodel.fitting.checkpoint.Checkpoint` in ``out``, or None when
    ``resume`` finds this run's results there, finished (said in one line: nothing to do).

    Raises
    ------
    SettingsError
        With ``resume``, when ``out`` holds the checkpoint or the finished results of another
        run.
    """
    from catmodel.fitting.checkpoint import Checkpoint, identity_hash
    from catmodel.results import finished_run

    if resume and not Checkpoint.exists(out):
        state = finished_run(out, identity_hash(identity))
        if state == "same":
            print(f"nothing to resume: {out}/ holds this run's results, finished")
            return None
        if state == "other":
            refuse_other_run(
                out,
                "holds the results of a run with other data, options or catmodel version; "
                "drop --resume to run afresh there, or give another --out",
            )
    return Checkpoint(out, identity, resume=resume)
