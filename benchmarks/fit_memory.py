"""Peak memory and time of a large fit: prints one JSON object (issue 14, item 5).

Simulates ``--participants`` (default 10,000) Gaussian learners x ``--trials`` (400) on the
``ii`` design and fits the Gaussian learner to them with ``fit``'s defaults except Wald
intervals, in units of ``--chunk-size`` participants (:mod:`catmodel.fitting.units`), so that
only one chunk's search candidates and trajectories are held at a time. Reports the
process's peak resident memory (``ru_maxrss``) and the time of the simulation and the fit.
The target on a 2-core machine: peak memory at most 4 GiB.

Usage::

    python benchmarks/fit_memory.py                  # 10,000 x 400 (about an hour on 2 cores)
    python benchmarks/fit_memory.py --quick          # 200 x 400 (a smoke test)
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

from catmodel.compare.recovery import simulate_participants
from catmodel.fitting.fit import fit
from catmodel.models.gaussian import Gaussian


def peak_rss_gib() -> float:
    """Peak resident memory of this process so far, GiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**30 if sys.platform == "darwin" else 2**20)


def cpu_seconds() -> float:
    """User + system CPU time of this process so far: on a shared machine the wall time
    depends on what else runs, the CPU time much less."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--trials", type=int, default=400)
    parser.add_argument("--chunk-size", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="200 participants")
    args = parser.parse_args(argv)
    n = 200 if args.quick else args.participants
    t0 = time.perf_counter()
    _, batch, _ = simulate_participants(Gaussian(), "ii", n, args.trials, seed=0)
    simulated = time.perf_counter() - t0
    t1 = time.perf_counter()
    result = fit(batch, "gaussian", ci="wald", chunk_size=args.chunk_size)
    report = {
        "participants": n,
        "trials": args.trials,
        "chunk_size": args.chunk_size,
        "simulate_s": round(simulated, 1),
        "fit_s": round(time.perf_counter() - t1, 1),
        "cpu_s": round(cpu_seconds(), 1),
        "peak_rss_gib": round(peak_rss_gib(), 3),
        "sum_nll": round(float(result.fits[0].nll.sum()), 2),
    }
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
