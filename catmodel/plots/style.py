"""One print-ready look for every figure, and atomic saving as PNG and PDF."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # figures are files: never require a display

import matplotlib.pyplot as plt
import seaborn as sns

from catmodel.atomic import atomic_path

#: colour-blind-safe palette shared by all figures (Okabe-Ito)
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]

RC = {
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "pdf.fonttype": 42,  # editable text in vector editors
    "ps.fonttype": 42,
}


@contextlib.contextmanager
def paper_style() -> Iterator[None]:
    """Context in which figures get the toolkit's style (seaborn 'ticks' + print sizes)."""
    with sns.axes_style("ticks"), plt.rc_context(RC):
        yield


#: no creation dates in saved figures, so that a rerun (or a resumed run) with the same seed
#: writes the same bytes
REPRODUCIBLE_METADATA = {"pdf": {"CreationDate": None}, "svg": {"Date": None}}


def save_figure(fig, path: str | os.PathLike, formats: tuple[str, ...] = ("png",)) -> list[Path]:
    """Save ``fig`` atomically in each format (``path`` without or with any suffix), with no
    creation date, so that the same figure gives the same bytes."""
    base = Path(path)
    # strip only an image suffix: names like "demo_lrcov0.001" keep their dots
    base = base.with_suffix("") if base.suffix.lower() in (".png", ".pdf", ".svg") else base
    written = []
    for fmt in formats:
        target = base.parent / f"{base.name}.{fmt}"
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=fmt, metadata=REPRODUCIBLE_METADATA.get(fmt))
        written.append(target)
    return written


def save_and_close(fig, path: str | os.PathLike, formats: tuple[str, ...] = ("png",)) -> list[Path]:
    """Lay ``fig`` out, save it (:func:`save_figure`) and close it, also when saving fails."""
    try:
        fig.tight_layout()
        return save_figure(fig, path, formats)
    finally:
        plt.close(fig)
