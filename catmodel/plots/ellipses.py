"""Drawing Gaussian densities as contour ellipses."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Ellipse


def covariance_ellipse(mean, cov, n_sd: float = 2.0, **kwargs) -> Ellipse:
    """The ``n_sd``-standard-deviation contour of a bivariate normal as a matplotlib patch."""
    vals, vecs = np.linalg.eigh(np.asarray(cov, dtype=float))
    vals = np.clip(vals, 0.0, None)
    angle = float(np.degrees(np.arctan2(vecs[1, 1], vecs[0, 1])))
    width, height = 2.0 * n_sd * np.sqrt(vals[::-1])
    kwargs.setdefault("fill", False)
    return Ellipse(
        xy=np.asarray(mean, dtype=float), width=width, height=height, angle=angle, **kwargs
    )


def draw_gaussian(ax, mean, cov, color, n_sds=(1.0, 2.0), label=None, **kwargs) -> None:
    """Draw contours at ``n_sds`` standard deviations of a bivariate normal on ``ax``."""
    for i, n in enumerate(n_sds):
        ax.add_patch(
            covariance_ellipse(
                mean,
                cov,
                n,
                edgecolor=color,
                label=label if i == 0 else None,
                linewidth=1.4 if i == 0 else 0.9,
                **kwargs,
            )
        )
    ax.plot(*np.asarray(mean, dtype=float), marker="+", color=color, markersize=8)
