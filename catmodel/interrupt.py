"""Ctrl-C at any moment: one line, exit status 130, never a traceback.

Python turns SIGINT into a ``KeyboardInterrupt`` wherever the main thread happens to be.
Inside a numba kernel's dispatcher that surfaces as ``SystemError: CPUDispatcher(...) returned
a result with an exception set`` and a double traceback; inside torch or a library's cleanup
code it can be worse. So the command line replaces the handler (:func:`install`, before torch
and numba are imported) with one that ends the process at once with :func:`os._exit`, after
one line on stderr: ``catmodel: interrupted (N of M units saved; rerun with --resume)`` where
the run is resumable (:func:`set_units`), ``catmodel: interrupted`` otherwise.

Ending the process at once is safe because every output and every checkpoint is written
atomically: a temporary file renamed into place. The one window that matters, between
creating a temporary file and renaming it, runs under :func:`deferred`: an interrupt there
is held until the file is in place (or removed), then acted on.

This module is the lowest part of the package: it imports nothing of catmodel's.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator

#: exit status of a process ended by SIGINT (128 + 2), what shells report for Ctrl-C
EXIT_INTERRUPTED = 130


class _State:
    """What the handler needs to know (a plain class: this module imports as little as it can,
    since a Ctrl-C before :func:`install` still gets Python's traceback)."""

    def __init__(self) -> None:
        self.installed = False
        self.pending = False
        self.depth = 0
        self.done: int | None = None
        self.total: int | None = None
        # a study made of several runs of units (model recovery: one fit per generating
        # model): the units of the runs before the current one, and the study's total
        self.before = 0
        self.study_total: int | None = None


_state = _State()


def install() -> Callable[[], None]:
    """Handle SIGINT by :func:`interrupt`; returns a function that restores the old handler.

    Only the command line installs it: a library caller keeps Python's ``KeyboardInterrupt``.
    Outside the main thread (where signals cannot be handled) it does nothing.
    """
    try:
        previous = signal.signal(signal.SIGINT, _handler)
    except ValueError:  # not the main thread
        return lambda: None
    _state.installed = True

    def restore() -> None:
        signal.signal(signal.SIGINT, previous)
        _state.installed = False
        _state.pending = False
        clear_units()

    return restore


def set_units(done: int, total: int) -> None:
    """Record that ``done`` of ``total`` resumable units are saved (for the message)."""
    _state.done, _state.total = int(done), int(total)


def set_study(before: int, total: int) -> None:
    """Inside a study of several runs of units: ``before`` units of the earlier runs are saved
    and the study has ``total`` in all; :func:`set_units` then counts the current run's."""
    _state.before, _state.study_total = int(before), int(total)


def clear_units() -> None:
    """The run is no longer resumable (or never was): a plain message."""
    _state.done = _state.total = _state.study_total = None
    _state.before = 0


def message() -> str:
    """The line printed on interrupt."""
    if _state.total is None:
        return "catmodel: interrupted"
    done = _state.before + (_state.done or 0)
    total = _state.study_total if _state.study_total is not None else _state.total
    return f"catmodel: interrupted ({done} of {total} units saved; rerun with --resume)"


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold an interrupt that arrives inside the block until it ends (nesting allowed)."""
    _state.depth += 1
    try:
        yield
    finally:
        _state.depth -= 1
        if _state.depth == 0 and _state.pending:
            interrupt()


def interrupt() -> None:
    """Print :func:`message` on stderr and end the process with status 130 at once."""
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    with contextlib.suppress(Exception):
        # a progress bar may own the current line (and ends it with no newline)
        sys.stderr.write(f"\n{message()}\n")
        sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)


def _handler(signum, frame) -> None:  # the signal module's signature
    if _state.depth > 0:
        _state.pending = True
        return
    interrupt()
