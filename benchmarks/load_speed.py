"""Time to load many participant files: prints one JSON object.

Writes ``--files`` (default 300) headerless, space-separated files of ``--trials`` (900) trials
each — trial, two features, category and response codes 1-4, response time — the layout of
the lab data sets that come as one ``.dat`` file per participant, and times
``load_trials`` on the folder (best of ``--repeats``). Target on a 2-core machine: 300 files
in under 8 s.

Usage::

    python benchmarks/load_speed.py
    python benchmarks/load_speed.py --quick          # 30 files (a smoke test)
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from catmodel.data import ColumnMap, load_trials

TARGET_S = 8.0


def write_files(folder: Path, n_files: int, n_trials: int, seed: int = 1) -> None:
    """One headerless file per participant: trial, x1, x2, category, response (1-4), rt."""
    rng = np.random.default_rng(seed)
    for p in range(n_files):
        category = np.arange(n_trials) % 4 + 1
        correct = rng.random(n_trials) < 0.7
        response = np.where(correct, category, rng.integers(1, 5, n_trials))
        columns = [
            np.arange(1, n_trials + 1),
            rng.normal(size=n_trials).round(4),
            rng.normal(size=n_trials).round(4),
            category,
            response,
            rng.gamma(2, 0.5, n_trials).round(4),
        ]
        lines = (" ".join(str(v) for v in row) for row in zip(*columns, strict=True))
        (folder / f"sub{p:03d}.dat").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--trials", type=int, default=900)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="30 files, one repeat")
    args = parser.parse_args(argv)
    if args.quick:
        args.files, args.repeats = 30, 1
    columns = ColumnMap(trial=1, features="2,3", category=4, response=5, rt=6)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_files(folder, args.files, args.trials)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            table = load_trials(folder, columns)
            times.append(time.perf_counter() - start)
    result = {
        "files": args.files,
        "trials": int(table.n_trials),
        "participants": int(table.n_learners),
        "seconds_best": round(min(times), 3),
        "seconds_each": [round(t, 3) for t in times],
        "target_s_for_300_files": TARGET_S,
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
