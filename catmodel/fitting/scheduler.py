"""Running the units of a fit: here, one after another, or on Dask workers.

Each unit (:class:`~catmodel.fitting.units.Unit`) is a call of a module-level function (so
that it can be shipped to another process); its result is saved to the run's checkpoint as
soon as it arrives, and the interrupt message learns how many units are saved
(:func:`catmodel.interrupt.set_units`). Units already in the checkpoint are loaded, not run.

``scheduler="dask"`` sends the units to a Dask cluster: an existing one at ``dask_address``
(``tcp://host:8786``, e.g. started by ``dask-jobqueue`` on SLURM) or, without one, a
``distributed.LocalCluster`` on this machine. Results are the same as here: a unit's result
depends only on its learners and the run's options (see :mod:`catmodel.fitting.units`).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Sequence

from catmodel import interrupt
from catmodel.errors import SettingsError
from catmodel.fitting.checkpoint import Checkpoint
from catmodel.fitting.units import Unit

SCHEDULERS = ("local", "dask")

#: a unit as a call: (function, positional arguments, keyword arguments)
Task = tuple[Callable, tuple, dict]


def check_scheduler(scheduler: str, dask_address: str | None = None) -> str:
    """The scheduler's name, or :class:`SettingsError` (unknown name; Dask not installed)."""
    if scheduler not in SCHEDULERS:
        raise SettingsError(f"unknown scheduler {scheduler!r} (--scheduler: local or dask)")
    if dask_address and scheduler != "dask":
        raise SettingsError("--dask-address needs --scheduler dask")
    if scheduler == "dask":
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise SettingsError(
                '--scheduler dask needs Dask: pip install "catmodel[dask]"'
            ) from None
    return scheduler


def run_units(
    units: Sequence[Unit],
    task: Callable[[Unit], Task],
    checkpoint: Checkpoint | None = None,
    *,
    scheduler: str = "local",
    dask_address: str | None = None,
    workers: int | None = None,
    reporter: Callable[[Unit], Callable | None] | None = None,
) -> dict[str, object]:
    """Every unit's result by key, loading saved units and running the others.

    Parameters
    ----------
    units
        The run's units.
    task
        The call that computes a unit.
    checkpoint
        Where finished units are saved (and found when resuming); None saves nothing.
    scheduler, dask_address, workers
        ``"local"`` (in this process, in order) or ``"dask"`` (at ``dask_address``, or a
        local cluster of ``workers`` processes, by default one per two cores).
    reporter
        A progress reporter for a unit run locally (passed as the call's ``report``).
    """
    results: dict[str, object] = {}
    todo = []
    for unit in units:
        if checkpoint is not None and checkpoint.done(unit.key):
            results[unit.key] = checkpoint.load(unit.key)
        else:
            todo.append(unit)
    total = len(units)
    if checkpoint is not None:
        interrupt.set_units(len(results), total)

    def finished(unit: Unit, value) -> None:
        results[unit.key] = value
        if checkpoint is not None:
            checkpoint.save(unit.key, value)
            interrupt.set_units(len(results), total)

    if check_scheduler(scheduler, dask_address) == "dask":
        _run_dask(todo, task, finished, dask_address, workers)
    else:
        for unit in todo:
            fn, args, kwargs = task(unit)
            report = reporter(unit) if reporter is not None else None
            if report is not None:
                kwargs = {**kwargs, "report": report}
            finished(unit, fn(*args, **kwargs))
    return results


def _run_dask(todo, task, finished, address, workers) -> None:
    from distributed import Client, LocalCluster, as_completed

    if not todo:
        return
    with contextlib.ExitStack() as stack:
        if address:
            client = stack.enter_context(Client(address))
        else:
            n = workers or max(1, (os.cpu_count() or 2) // 2)
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
                )
            )
            client = stack.enter_context(Client(cluster))
        run = uuid.uuid4().hex[:8]  # keys unique across runs on a long-lived cluster
        futures = {}
        for unit in todo:
            fn, args, kwargs = task(unit)
            key = f"catmodel-{run}-{unit.key}"
            futures[client.submit(fn, *args, **kwargs, key=key, pure=False)] = unit
        for future in as_completed(futures):
            finished(futures[future], future.result())
