"""Learning curves: accuracy by block for data, simulated runs and predicted probabilities.

Every curve is built in two steps, so that each participant weighs the same however many
trials they have in a block:

1. per participant x block (x group): the proportion of correct trials
   (:func:`accuracy_by_block`), or the mean predicted probability of the correct response
   (:func:`expected_accuracy_by_block`);
2. across participants: the mean, the number of participants ``n``, and a t-based confidence
   interval ``mean ± t_{(1+ci)/2, n-1} · sd / √n`` (sd with ``n - 1`` in the denominator);
   with ``n = 1`` the interval is undefined (NaN) (:func:`group_curve`). The interval is not
   clipped to [0, 1]: it is the textbook t interval, and a bound outside [0, 1] says that
   ``n`` is too small for it.

:func:`predictive_curves` does the same for posterior predictive simulations (several runs per
participant) and adds a predictive interval across runs; :func:`curves_table` and
:func:`compare_curves` put data and models side by side in one long table for plotting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

#: Columns of :func:`curves_table`, before the optional group and predictive-interval columns.
CURVE_COLUMNS = ("source", "block", "mean", "ci_low", "ci_high", "n")

Columns = str | Sequence[str] | None


def probability_column(model: str, label) -> str:
    """Name of the column holding ``model``'s predicted probability of response ``label``."""
    return f"p_{model}_{label}"


def _names(columns: Columns) -> list[str]:
    if columns is None:
        return []
    return [columns] if isinstance(columns, str) else list(columns)


def _defined(values: pd.Series) -> np.ndarray:
    return values.notna().to_numpy()


def _per_participant(
    frame: pd.DataFrame, value: np.ndarray, keep: np.ndarray, keys: list[str], name: str
) -> pd.DataFrame:
    """Mean of ``value`` over the ``keep`` rows per ``keys``, with the trial count."""
    rows = frame.loc[keep, keys].copy()
    rows[name] = value[keep]
    grouped = rows.groupby(keys, sort=True, dropna=False)[name]
    out = grouped.agg(["mean", "size"]).rename(columns={"mean": name, "size": "n_trials"})
    return out.reset_index()


def accuracy_by_block(
    frame: pd.DataFrame,
    response: str = "response",
    group: Columns = None,
    block: str = "block",
    *,
    category: str = "category",
    participant: str = "participant",
) -> pd.DataFrame:
    """Proportion correct per participant x block (x group).

    A trial is correct when its response equals its category. Trials without a response, and
    trials without a defined category (e.g. new transfer items), are left out; a participant x
    block with no trial left has no row.

    Parameters
    ----------
    frame
        One row per trial.
    response, block, category, participant
        Column names.
    group
        Column(s) to keep apart (e.g. ``"condition"``, ``"phase"``).

    Returns
    -------
    pandas.DataFrame
        ``participant``, the group columns, ``block``, ``accuracy``, ``n_trials``.
    """
    keys = [participant, *_names(group), block]
    keep = _defined(frame[response]) & _defined(frame[category])
    correct = (frame[response].astype(object) == frame[category].astype(object)).to_numpy(float)
    return _per_participant(frame, correct, keep, keys, "accuracy")


def _t_interval(
    mean: np.ndarray, sd: np.ndarray, n: np.ndarray, ci: float
) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stats.t.ppf((1 + ci) / 2, n - 1) * sd / np.sqrt(n)
    half = np.where(n > 1, half, np.nan)
    return mean - half, mean + half


def group_curve(
    per_participant: pd.DataFrame,
    by: Columns = None,
    ci: float = 0.95,
    *,
    value: str = "accuracy",
    block: str = "block",
    participant: str = "participant",
) -> pd.DataFrame:
    """Mean curve across participants with a t-based confidence interval.

    Parameters
    ----------
    per_participant
        One row per participant x block (x group), e.g. from :func:`accuracy_by_block`. A
        participant with several rows in a block and ``by`` group (from columns not in ``by``)
        is averaged first, so ``n`` always counts participants.
    by
        Group column(s) that get their own curves.
    ci
        Confidence level of the interval ``mean ± t_{(1+ci)/2, n-1} · sd / √n``; NaN when
        ``n = 1`` (no spread to estimate), ``mean`` itself when all participants agree.
    value, block, participant
        Column names.

    Returns
    -------
    pandas.DataFrame
        The group columns, ``block``, ``mean``, ``sd``, ``n``, ``ci_low``, ``ci_high``.
    """
    keys = [*_names(by), block]
    one = per_participant.groupby([*keys, participant], sort=True, dropna=False)[value].mean()
    out = (
        one.groupby(level=list(range(len(keys))), sort=True, dropna=False)
        .agg(["mean", "std", "count"])
        .reset_index()
    )
    out = out.rename(columns={"std": "sd", "count": "n"})
    out["ci_low"], out["ci_high"] = _t_interval(
        out["mean"].to_numpy(), out["sd"].to_numpy(), out["n"].to_numpy(), ci
    )
    return out[[*keys, "mean", "sd", "n", "ci_low", "ci_high"]]


def predictive_curves(
    simulated: pd.DataFrame,
    response: str = "response",
    group: Columns = None,
    block: str = "block",
    run: str = "run",
    ci: float = 0.95,
    interval: float = 0.95,
    *,
    category: str = "category",
    participant: str = "participant",
) -> pd.DataFrame:
    """The model's curve from posterior predictive runs, with confidence and predictive bands.

    Parameters
    ----------
    simulated
        Simulated trials with several runs per participant (a ``run`` column), e.g. from
        ``catmodel.simulate.predictive.posterior_predictive``.
    response, group, block, category, participant
        As for :func:`accuracy_by_block`.
    run
        The run column.
    ci
        Level of the confidence interval across participants of the run-averaged accuracy
        (what compares with the data's interval).
    interval
        Level of the predictive interval: the ``(1 - interval)/2`` and ``(1 + interval)/2``
        percentiles, over runs, of the group curve of each run (the spread of group curves a
        replication with these participants would show).

    Returns
    -------
    pandas.DataFrame
        The group columns, ``block``, ``mean`` (mean over runs per participant, then across
        participants), ``sd``, ``n`` (participants), ``ci_low``, ``ci_high``, ``pi_low``,
        ``pi_high`` and ``n_runs``.
    """
    groups = _names(group)
    per = accuracy_by_block(
        simulated, response, [run, *groups], block, category=category, participant=participant
    )
    curve = group_curve(per, groups, ci, block=block, participant=participant)
    keys = [*groups, block]
    by_run = per.groupby([*keys, run], sort=True, dropna=False)["accuracy"].mean()
    lo, hi = (1 - interval) / 2, (1 + interval) / 2
    bands = by_run.groupby(level=list(range(len(keys))), sort=True, dropna=False).agg(
        pi_low=lambda s: s.quantile(lo), pi_high=lambda s: s.quantile(hi), n_runs="count"
    )
    return curve.merge(bands.reset_index(), on=keys, how="left")


def probability_columns(
    frame: pd.DataFrame, models: str | Sequence[str], labels: Sequence | None = None
) -> dict[str, dict]:
    """``{model: {label: column}}`` for the ``p_<model>_<label>`` columns of ``frame``.

    Raises
    ------
    KeyError
        A model has no column for one of the labels.
    """
    if labels is None:
        labels = pd.unique(frame["category"].dropna())
    out: dict[str, dict] = {}
    for model in _names(models):
        cols = {label: probability_column(model, label) for label in labels}
        missing = [c for c in cols.values() if c not in frame]
        if missing:
            raise KeyError(f"no column {missing[0]!r} for model {model!r}")
        out[model] = cols
    return out


def correct_probability(
    frame: pd.DataFrame, columns: Mapping, category: str = "category"
) -> np.ndarray:
    """Each trial's predicted probability of its correct response (NaN without a category).

    ``columns`` maps every category label to the column of its predicted probability.
    """
    p = np.full(len(frame), np.nan)
    labels = frame[category].astype(object)
    for label, column in columns.items():
        hit = (labels == label).to_numpy()
        p[hit] = frame.loc[hit, column].to_numpy(dtype=float)
    return p


def expected_accuracy_by_block(
    frame: pd.DataFrame,
    prob_columns: str | Sequence[str] | Mapping[str, Mapping],
    group: Columns = None,
    block: str = "block",
    *,
    category: str = "category",
    participant: str = "participant",
    response: str | None = None,
) -> pd.DataFrame:
    """Expected accuracy per model x participant x block from predicted probabilities.

    The expected proportion correct of a block is the mean over its trials of the predicted
    probability of the correct response — exact, no sampling.

    Parameters
    ----------
    frame
        Trials with predicted probabilities (e.g. a fit folder's ``trials.csv.gz``).
    prob_columns
        Model name(s), whose columns are ``p_<model>_<label>``, or ``{model: {label:
        column}}``.
    group, block, category, participant
        As for :func:`accuracy_by_block`.
    response
        When given, only trials with a response count, so that the curve covers the trials the
        data's curve covers; default every trial with a category.

    Returns
    -------
    pandas.DataFrame
        ``model``, ``participant``, the group columns, ``block``, ``accuracy`` (expected),
        ``n_trials``.
    """
    if isinstance(prob_columns, Mapping):
        columns = {m: dict(c) for m, c in prob_columns.items()}
    else:
        columns = probability_columns(frame, prob_columns, pd.unique(frame[category].dropna()))
    keys = [participant, *_names(group), block]
    frames = []
    for model, cols in columns.items():
        p = correct_probability(frame, cols, category)
        keep = ~np.isnan(p)
        if response is not None:
            keep &= _defined(frame[response])
        per = _per_participant(frame, p, keep, keys, "accuracy")
        per.insert(0, "model", model)
        frames.append(per)
    return pd.concat(frames, ignore_index=True)


def curves_table(
    data: pd.DataFrame | None,
    models: Mapping[str, pd.DataFrame] | None = None,
    by: Columns = None,
    *,
    block: str = "block",
) -> pd.DataFrame:
    """Data and model curves in one long table for plotting.

    Parameters
    ----------
    data
        The data's group curve (:func:`group_curve`), or None.
    models
        Model name -> its group curve (:func:`group_curve` of expected accuracies, or
        :func:`predictive_curves`).
    by
        The group column(s) the curves were computed by.

    Returns
    -------
    pandas.DataFrame
        ``source`` (``"data"`` or the model name), ``block``, the group columns, ``mean``,
        ``ci_low``, ``ci_high``, ``n``, and ``pi_low``, ``pi_high`` when a model curve has a
        predictive interval (missing elsewhere).
    """
    parts = {} if data is None else {"data": data}
    parts.update(models or {})
    cols = [CURVE_COLUMNS[0], block, *_names(by), *CURVE_COLUMNS[2:]]
    pi = any("pi_low" in p for p in parts.values())
    frames = []
    for source, curve in parts.items():
        f = curve.copy()
        f.insert(0, "source", source)
        if pi:
            for name in ("pi_low", "pi_high"):
                if name not in f:
                    f[name] = np.nan
        frames.append(f[cols + (["pi_low", "pi_high"] if pi else [])])
    if not frames:
        return pd.DataFrame(columns=cols)
    return pd.concat(frames, ignore_index=True)


def compare_curves(
    frame: pd.DataFrame,
    models: str | Sequence[str] | Mapping[str, Mapping],
    response: str = "response",
    group: Columns = None,
    block: str = "block",
    ci: float = 0.95,
    *,
    category: str = "category",
    participant: str = "participant",
) -> pd.DataFrame:
    """The data's curve and each model's expected curve, side by side (see :func:`curves_table`).

    The models' curves cover the same trials as the data's (those with a response and a
    category), each from its predicted probabilities of the correct response.
    """
    data = group_curve(
        accuracy_by_block(
            frame, response, group, block, category=category, participant=participant
        ),
        group,
        ci,
        block=block,
        participant=participant,
    )
    expected = expected_accuracy_by_block(
        frame, models, group, block, category=category, participant=participant, response=response
    )
    curves = {
        model: group_curve(per, group, ci, block=block, participant=participant)
        for model, per in expected.groupby("model", sort=False)
    }
    return curves_table(data, curves, group, block=block)


__all__ = [
    "accuracy_by_block",
    "compare_curves",
    "correct_probability",
    "curves_table",
    "expected_accuracy_by_block",
    "group_curve",
    "predictive_curves",
    "probability_columns",
]
