"""Checkpoints of a resumable run: every finished unit saved at once, inside the output folder.

A run's checkpoint is a folder ``.catmodel-checkpoint`` in its output folder holding
``identity.json`` (what the run is: :func:`identity_hash` of the data hash, catmodel's
version, the kernel sources and every option that changes results) and one pickle per
finished unit (:class:`~catmodel.fitting.units.Unit`), each written atomically
(:mod:`catmodel.atomic`): ``kill -9`` at any moment loses at most the units in progress.
Rerunning with ``resume=True`` loads the finished units and fits only the others; a checkpoint
of another run is refused with one line. The folder is removed once the final files are
written.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
from collections.abc import Mapping
from pathlib import Path

from catmodel.atomic import atomic_open, atomic_path
from catmodel.errors import SettingsError

#: the checkpoint folder's name inside a results folder
CHECKPOINT = ".catmodel-checkpoint"
IDENTITY = "identity.json"


def identity_hash(identity: Mapping[str, object]) -> str:
    """SHA-256 of a run's identity (a JSON-able mapping), independent of key order."""
    text = json.dumps(identity, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class Checkpoint:
    """The finished units of one run, kept in ``<out>/.catmodel-checkpoint``.

    Parameters
    ----------
    out
        The results folder.
    identity
        What the run is (see :func:`identity_hash`); recorded beside the units.
    resume
        Keep the finished units of an earlier run with the same identity (and refuse one
        with another); without it any earlier checkpoint is discarded.

    Raises
    ------
    SettingsError
        With ``resume``, when the folder holds the checkpoint of a different run.
    """

    def __init__(self, out: str | Path, identity: Mapping[str, object], resume: bool) -> None:
        self.folder = Path(out) / CHECKPOINT
        self.identity = dict(identity)
        self.hash = identity_hash(identity)
        self.resumed: list[str] = []
        recorded = self._recorded_hash()
        if recorded is not None and resume and recorded != self.hash:
            raise SettingsError(
                f"{out}: holds an interrupted run with other data, options or catmodel "
                "version; rerun it with its own command, or drop --resume to start afresh"
            )
        if recorded is not None and not resume:
            self.discard()
        self.folder.mkdir(parents=True, exist_ok=True)
        if self._recorded_hash() is None:
            with atomic_open(self.folder / IDENTITY) as fh:
                json.dump({"hash": self.hash, "identity": self.identity}, fh, default=str)

    def _recorded_hash(self) -> str | None:
        try:
            return json.loads((self.folder / IDENTITY).read_text())["hash"]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    @staticmethod
    def exists(out: str | Path) -> bool:
        """Whether ``out`` holds a checkpoint (of any run)."""
        return (Path(out) / CHECKPOINT / IDENTITY).is_file()

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.pkl"

    def done(self, key: str) -> bool:
        """Whether the unit ``key`` is saved."""
        return self._path(key).is_file()

    def load(self, key: str):
        """A saved unit's result (recorded as resumed)."""
        with open(self._path(key), "rb") as fh:
            value = pickle.load(fh)
        self.resumed.append(key)
        return value

    def save(self, key: str, value) -> None:
        """Save a finished unit's result atomically."""
        with atomic_path(self._path(key)) as tmp, open(tmp, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)

    def discard(self) -> None:
        """Remove the checkpoint (after the final files are written, or to start afresh)."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def part(self, prefix: str) -> CheckpointPart:
        """The units of one part of a study — one generating model's fit in a model recovery —
        kept in this checkpoint under names starting with ``prefix`` (the parts' unit names
        would clash otherwise)."""
        return CheckpointPart(self, prefix)


class CheckpointPart:
    """One part of a study's checkpoint (:meth:`Checkpoint.part`): the same interface as
    :class:`Checkpoint` for the units of one fit."""

    def __init__(self, whole: Checkpoint, prefix: str) -> None:
        self.whole = whole
        self.prefix = prefix

    def done(self, key: str) -> bool:
        """Whether the unit ``key`` of this part is saved."""
        return self.whole.done(self.prefix + key)

    def load(self, key: str):
        """A saved unit's result (recorded as resumed in the whole checkpoint)."""
        return self.whole.load(self.prefix + key)

    def save(self, key: str, value) -> None:
        """Save a finished unit's result atomically."""
        self.whole.save(self.prefix + key, value)
