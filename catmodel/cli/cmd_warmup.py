"""``catmodel warmup``: compile every numba kernel ahead of the first real run."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser(
        "warmup",
        help="compile the numba kernels now (30-120 s once per install), not in the first fit",
        description="Fit every registered model once to a tiny made-up data set, which "
        "compiles every kernel a fit uses into catmodel's cache folder (the user's cache "
        "folder, or $CATMODEL_CACHE_DIR; never inside the installed package). The first run "
        "after an install, an upgrade or a kernel edit compiles (30-120 s); later runs, and "
        "every fit after it, load the compiled kernels in seconds.",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    import time

    from catmodel.fitting.warmup import warm_up
    from catmodel.kernels.cache import kernel_cache_dir

    t0 = time.perf_counter()
    for name, seconds in warm_up():
        print(f"{name}: {seconds:.1f} s")
    print(f"kernels ready in {time.perf_counter() - t0:.1f} s (cache: {kernel_cache_dir()})")
