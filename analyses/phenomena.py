"""Benchmark phenomena: every registered learning model against four classic effects.

    python -m analyses.phenomena [--quick] [--out results/report]

Writes ``phenomena/phenomena.csv`` (columns ``phenomenon, model, statistic, value, target,
reproduced``), one figure per phenomenon and ``phenomena/dots_transfer.csv`` (people's and each
model's accuracy in the dot-pattern transfer phase by item type: the README's transfer
table). The models are the registry's learning models
(:func:`catmodel.models.registry.default_models`). Each phenomenon names its statistic, its
target and the rule that decides ``reproduced``:

``shj`` — Shepard-Hovland-Jenkins types (Nosofsky et al., 1994; group curves only, from
    ``catlearn_cirp_grouplevel/nosof94``). Parameters, shared by the six types: scrambled Sobol
    points (seeded) over the model's generating box, then Nelder-Mead from the best, minimising
    the sum of squared errors (SSE) of the predicted mean P(error) per 16-trial block against
    the 96 data points (types x blocks; predictions averaged over random item orders per
    type; see :class:`Budget`). Statistics: *type ordering* — reproduced when mean error
    I < II < each of III, IV, V < VI (the paper's ordering); *SSE* — reproduced when the SSE is
    below a quarter of that of the flat per-type baseline (each type's own mean in every
    block; the same criterion as ``tests/models/test_models_shj.py``, RMSE < half).
``dots`` — prototype enhancement and the distortion gradient (``hu_nosofsky_dots``, mc_2024).
    Each participant is fitted on the training trials (the transfer responses are hidden from
    the likelihood); the fitted model then predicts the no-feedback transfer trials.
    Statistics: *prototype - old* (predicted P(correct) on the prototypes minus the old
    training patterns in transfer) — reproduced when its sign is the observed one (people:
    prototype > old); *distortion gradient* (predicted P(correct) on new low, medium, high
    distortions) — reproduced when low > medium > high, as observed. A difference smaller
    than :data:`TIE` (.005) is a tie and reproduces nothing (here and in ``rbii``).
``rbii`` — rule-based vs information-integration (``ashby_rbii_switchvi``, the single-task
    baselines: RB = ``ud2`` and ``cj2``, II = ``ii2``). Statistic: mean accuracy RB - II, the
    prediction being each fitted participant's expected accuracy on their own trials (feedback
    here is the category, which the models learn from, so this is the mean of the
    posterior-predictive accuracy without simulation noise). Reproduced when the sign is the
    observed one.
``catnum`` — category number, 2 vs 4 categories (``crossley_cat_unlearn_2cat`` learn phase vs
    ``crossley_unlearning_4cat`` nc_40 acquisition phase: the first 300 trials, both
    information-integration structures; the authors' exclusions applied). Statistic: mean
    accuracy 2 - 4 categories. Reproduced when the predicted drop has the observed sign and
    lies within a factor of two of it (chance alone differs by .25, so the sign is not
    enough).

Targets are the values observed in the same participants' trials of the shared data sets
(``catmodel datasets get``), with the paper's ordering. ``--quick`` uses a few participants,
fewer search points and starts (what CI runs); parts whose data set is absent are left out.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analyses.common import SHARED, parser, shared

TYPES = ("I", "II", "III", "IV", "V", "VI")
#: transfer item types of the dot-pattern data, in the order the figure shows them
ITEM_TYPES = ("prototype", "old", "new_low", "new_medium", "new_high")
RB_CONDITIONS = ("ud2", "cj2")
II_CONDITIONS = ("ii2",)


@dataclass(frozen=True)
class Budget:
    """How much of each data set a run uses (quick: CI; full: the README's table)."""

    shj_orders: int  # random item orders per SHJ type
    shj_points: int  # Sobol points of the SHJ search, per model
    shj_refine: int  # Nelder-Mead evaluations from the best Sobol point
    dots_per_condition: int  # dot-pattern participants per training condition
    rbii_per_condition: int  # participants per Ashby single-task condition
    catnum_participants: int  # participants per Crossley data set
    starts: int
    candidates: int | None


QUICK = Budget(8, 256, 150, 1, 1, 2, 2, 64)
FULL = Budget(16, 2048, 600, 8, 7, 24, 3, 256)


# ------------------------------------------------------------------------------ shared pieces
def models() -> list[str]:
    """The registry's learning models (``niw`` joins when it is registered)."""
    from catmodel.models.registry import default_models

    return default_models()


def p_correct(model, batch, rows: np.ndarray, values: dict[str, np.ndarray]) -> np.ndarray:
    """Predicted P(correct response) (L, T) of ``model`` on each learner's trials.

    Computed before each trial's feedback with the model's own choice rule (temperature and
    lapse where the model has them), so it is the expected accuracy of a simulated learner
    that saw the same stimuli and feedback.
    """
    import torch

    from catmodel.models.choice import choice_log_probs
    from catmodel.models.rollout import rollout_logits

    rows = np.asarray(rows, dtype=np.int64)
    logits = rollout_logits(model, batch, rows, values)
    n = len(rows)
    temperature = values["temperature"] if model.has_temperature else np.ones(n)
    lapse = values.get("lapse", np.zeros(n))
    logp = choice_log_probs(
        logits,
        torch.as_tensor(np.asarray(temperature, dtype=float))[:, None],
        torch.as_tensor(np.asarray(lapse, dtype=float))[:, None],
    )
    truth = batch.category[torch.as_tensor(rows)]
    return torch.gather(logp, -1, truth[..., None])[..., 0].exp().numpy()


def fit_and_predict(
    frame: pd.DataFrame, hidden: np.ndarray, names: Sequence[str], budget: Budget, seed: int
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Fit ``names`` to ``frame`` (standard schema) and predict P(correct) on every row.

    ``hidden`` marks rows whose responses the fit must not see (transfer trials predicted, not
    fitted). Returns the frame as validated (same rows, same order as ``frame``) and each
    model's predicted P(correct) per row.
    """
    from catmodel.data import TrialTable
    from catmodel.fitting.fit import fit

    frame = frame.reset_index(drop=True)
    fitted = frame.copy()
    fitted["response"] = fitted["response"].astype(object).where(~hidden, None)
    table = TrialTable.from_frame(fitted)
    batch = table.to_batch()
    # the table keeps every row; source_row maps its rows back onto ``frame``
    back = table.frame["source_row"].to_numpy() - 1
    t0 = time.perf_counter()
    result = fit(
        batch,
        list(names),
        starts=budget.starts,
        candidates=budget.candidates,
        seed=seed,
        ci=None,  # intervals are not used here and cost more than the fit
    )
    print(
        f"  fitted {', '.join(names)} to {table.n_learners} learners in "
        f"{time.perf_counter() - t0:.0f} s"
    )
    rows = np.arange(batch.n_learners)
    predicted = {}
    for name in names:
        fm = result[name]
        on_rows = batch.on_table_rows(p_correct(fm.model, batch, rows, fm.values), len(frame))
        out = np.full(len(frame), np.nan)
        out[back] = on_rows
        predicted[name] = out
    return frame, predicted


def observed_correct(frame: pd.DataFrame) -> np.ndarray:
    """1/0 where the response equals the category, NaN where no response was recorded."""
    responded = frame["response"].notna().to_numpy()
    same = frame["response"].astype(object).to_numpy() == frame["category"].astype(object)
    return np.where(responded, same.astype(float), np.nan)


def participant_means(frame: pd.DataFrame, values: np.ndarray, by: str) -> pd.Series:
    """Mean of ``values`` per participant, then over participants per level of ``by``.

    Averaging participants, not trials, keeps each person's weight equal, as papers report.
    """
    data = pd.DataFrame({"participant": frame["participant"], by: frame[by], "v": values})
    per = data.dropna(subset=["v"]).groupby([by, "participant"], sort=False)["v"].mean()
    return per.groupby(level=0, sort=False).mean()


def row(phenomenon, model, statistic, value, target, reproduced) -> dict:
    return {
        "phenomenon": phenomenon,
        "model": model,
        "statistic": statistic,
        "value": value,
        "target": target,
        "reproduced": bool(reproduced),
    }


#: a predicted difference in P(correct) smaller than this is a tie, not an effect: the sign of
#: +.0006 says nothing (the full run's Gaussian learner on the dot patterns)
TIE = 0.005


def same_sign(predicted: float, observed: float) -> bool:
    """Whether a predicted difference is an effect in the observed direction (not a tie)."""
    return abs(predicted) >= TIE and np.sign(predicted) == np.sign(observed)


def descending(values: Sequence[float]) -> bool:
    """Whether every step of ``values`` goes down by at least :data:`TIE`."""
    return bool(np.all(np.diff(np.asarray(values, dtype=float)) <= -TIE))


def fmt(values: Sequence[float]) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


def pick(frame: pd.DataFrame, by: str, n: int, levels: Sequence[str] | None = None) -> pd.DataFrame:
    """The first ``n`` participants of each level of ``by`` (all levels when None)."""
    levels = list(dict.fromkeys(frame[by])) if levels is None else list(levels)
    keep = []
    for level in levels:
        ids = list(dict.fromkeys(frame.loc[frame[by] == level, "participant"]))
        keep += ids[:n]
    return frame[frame["participant"].isin(keep)].reset_index(drop=True)


def bar_figure(
    groups: Sequence[str], series: dict[str, Sequence[float]], ylabel: str, title, path: Path
) -> None:
    """Grouped bars: one group per x label, one bar per series (people first)."""
    import matplotlib.pyplot as plt

    from catmodel.plots.style import PALETTE, paper_style, save_figure

    with paper_style():
        fig, ax = plt.subplots(figsize=(1.2 + 0.9 * len(groups) * max(1, len(series)) / 3, 3.0))
        width = 0.8 / len(series)
        x = np.arange(len(groups))
        for i, (name, values) in enumerate(series.items()):
            colour = "0.4" if name == "people" else PALETTE[i % len(PALETTE)]
            ax.bar(x + (i - (len(series) - 1) / 2) * width, values, width, label=name, color=colour)
        ax.set_xticks(x, groups)
        ax.axhline(0, color="0.2", linewidth=0.6)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=9)
        ax.legend(frameon=False, fontsize=7)
        fig.tight_layout()
        save_figure(fig, path, ("png",))
        plt.close(fig)


# ------------------------------------------------------------------------------------- SHJ
def shj_search(name: str, data: np.ndarray, budget: Budget, seed: int) -> np.ndarray:
    """Mean P(error) curves (6, 16) at the best parameters found in the generating box.

    The search: ``budget.shj_points`` scrambled Sobol points (seeded) over the model's
    generating box in scale coordinates, then Nelder-Mead on the SSE from the best of them,
    kept inside the box (``budget.shj_refine`` evaluations). The parameters are shared by the
    six types, as one group of people would be.
    """
    from scipy.optimize import minimize
    from scipy.stats import qmc

    from catmodel.models.params import ParameterSet
    from catmodel.models.registry import get_model
    from catmodel.simulate.shj import shj_batch

    model = get_model(name)
    batch = shj_batch(budget.shj_orders)
    pset = ParameterSet.for_model(model, 3, 2)
    lo, hi = pset.generating_scale_box()
    n_rows = batch.n_learners

    def curves_at(points: np.ndarray) -> np.ndarray:
        natural = pset.scale_to_natural(np.clip(points, lo, hi))
        rows = np.tile(np.arange(n_rows), len(points))
        values = {k: np.repeat(np.asarray(v, dtype=float), n_rows) for k, v in natural.items()}
        err = 1.0 - p_correct(model, batch, rows, values)
        err = np.nan_to_num(err, nan=0.5)  # a failed rollout predicts chance
        return err.reshape(len(points), 6, budget.shj_orders, -1, 16).mean((2, 4))

    def sse(points: np.ndarray) -> np.ndarray:
        return ((curves_at(points) - data) ** 2).sum((1, 2))

    unit = qmc.Sobol(len(lo), scramble=True, seed=seed).random(budget.shj_points)
    points = lo + unit * (hi - lo)
    chunk = max(1, 4096 // n_rows)  # rollouts per call: bounded memory
    found = np.concatenate([sse(points[i : i + chunk]) for i in range(0, len(points), chunk)])
    start = points[int(np.argmin(found))]
    best = minimize(
        lambda z: float(sse(z[None])[0]),
        start,
        method="Nelder-Mead",
        options={"maxfev": budget.shj_refine, "xatol": 1e-3, "fatol": 1e-5},
    )
    return curves_at(np.clip(best.x, lo, hi)[None])[0]


def shj(names: Sequence[str], budget: Budget, seed: int, out: Path) -> list[dict]:
    """SHJ type ordering and SSE against Nosofsky et al.'s (1994) group curves."""
    from analyses.shj import observed

    path = shared("catlearn_cirp_grouplevel")
    if path is None:
        return []
    data = observed(path)
    data_mean = data.mean(1)
    flat = float(((data - data_mean[:, None]) ** 2).sum())
    rows, means = [], {"people": data_mean}
    for name in names:
        curves = shj_search(name, data, budget, seed)
        mean = curves.mean(1)
        means[name] = mean
        ordered = mean[0] < mean[1] < mean[2:5].min() and mean[2:5].max() < mean[5]
        sse = float(((curves - data) ** 2).sum())
        rows.append(
            row(
                "shj",
                name,
                "mean P(error) by type I..VI",
                fmt(mean),
                f"I < II < {{III, IV, V}} < VI (people: {fmt(data_mean)})",
                ordered,
            )
        )
        rows.append(
            row(
                "shj",
                name,
                "SSE vs nosof94 curves (6 types x 16 blocks)",
                round(sse, 4),
                f"< {flat / 4:.4f} (a quarter of the flat per-type baseline's SSE)",
                sse < flat / 4,
            )
        )
    bar_figure(
        TYPES,
        means,
        "mean P(error), 16 blocks",
        "SHJ types: people (Nosofsky et al. 1994) and models at the searched optimum",
        out / "shj_types",
    )
    return rows


# --------------------------------------------------------------------------- dot patterns
def dots(names: Sequence[str], budget: Budget, seed: int, out: Path) -> list[dict]:
    """Prototype enhancement and the distortion gradient in the no-feedback transfer phase."""
    from catmodel.atomic import write_csv
    from catmodel.data.datasets import get_dataset

    if shared("hu_nosofsky_dots") is None:
        return []
    frame = get_dataset("hu_nosofsky_dots", "mc_2024", source=SHARED)
    frame = pick(frame, "condition", budget.dots_per_condition)
    transfer = (frame["phase"] == "transfer").to_numpy()
    frame, predicted = fit_and_predict(frame, transfer, names, budget, seed)
    people = observed_correct(frame)

    def by_type(values: np.ndarray) -> pd.Series:
        part = frame[transfer]
        return participant_means(part, values[transfer], "item_type").reindex(ITEM_TYPES)

    obs = by_type(people)
    obs_gain = obs["prototype"] - obs["old"]
    obs_gradient = obs[["new_low", "new_medium", "new_high"]].to_numpy()
    obs_down = bool(np.all(np.diff(obs_gradient) < 0))
    series, rows = {"people": obs.to_numpy()}, []
    for name in names:
        pred = by_type(predicted[name])
        series[name] = pred.to_numpy()
        gain = pred["prototype"] - pred["old"]
        gradient = pred[["new_low", "new_medium", "new_high"]].to_numpy()
        rows.append(
            row(
                "dots",
                name,
                "prototype - old P(correct) in transfer",
                round(gain, 4),
                f"sign of people's {obs_gain:+.3f}",
                same_sign(gain, obs_gain),
            )
        )
        rows.append(
            row(
                "dots",
                name,
                "P(correct) new low, medium, high distortion",
                fmt(gradient),
                f"low > medium > high (people: {fmt(obs_gradient)})",
                obs_down and descending(gradient),
            )
        )
    n = frame["participant"].nunique()
    # the README's transfer table: observed and predicted accuracy by item type
    by_item = pd.DataFrame(series, index=list(ITEM_TYPES)).rename_axis("item_type")
    by_item.insert(0, "participants", n)
    write_csv(by_item.reset_index(), out / "dots_transfer.csv")
    bar_figure(
        ITEM_TYPES,
        series,
        "P(correct) in transfer",
        f"Dot patterns (Hu & Nosofsky 2024), {n} participants: fitted on training",
        out / "dots_transfer",
    )
    return rows


# --------------------------------------------------------------------------------- RB vs II
def rbii(names: Sequence[str], budget: Budget, seed: int, out: Path) -> list[dict]:
    """Rule-based minus information-integration accuracy on the single-task baselines."""
    from catmodel.data.datasets import get_dataset

    if shared("ashby_rbii_switchvi") is None:
        return []
    frame = get_dataset("ashby_rbii_switchvi", source=SHARED)
    frame = pick(frame, "condition", budget.rbii_per_condition, RB_CONDITIONS + II_CONDITIONS)
    frame["structure"] = np.where(frame["condition"].isin(RB_CONDITIONS), "RB", "II")
    hidden = np.zeros(len(frame), dtype=bool)
    frame, predicted = fit_and_predict(frame, hidden, names, budget, seed)

    def difference(values: np.ndarray) -> tuple[float, pd.Series]:
        means = participant_means(frame, values, "structure")
        return float(means["RB"] - means["II"]), means

    obs_diff, obs = difference(observed_correct(frame))
    series, rows = {"people": [obs["RB"], obs["II"]]}, []
    for name in names:
        diff, means = difference(predicted[name])
        series[name] = [means["RB"], means["II"]]
        rows.append(
            row(
                "rbii",
                name,
                "accuracy RB - II (ud2, cj2 vs ii2)",
                round(diff, 4),
                f"sign of people's {obs_diff:+.3f}",
                same_sign(diff, obs_diff),
            )
        )
    n = frame["participant"].nunique()
    bar_figure(
        ["RB", "II"],
        series,
        "accuracy (all 560 trials)",
        f"Rule-based vs information-integration (Ashby data), {n} participants",
        out / "rbii",
    )
    return rows


# -------------------------------------------------------------------------- category number
def catnum(names: Sequence[str], budget: Budget, seed: int, out: Path) -> list[dict]:
    """Accuracy with 2 vs 4 categories in the first 300 trials of the Crossley data sets."""
    from catmodel.data.datasets import get_dataset

    if shared("crossley_cat_unlearn_2cat") is None or shared("crossley_unlearning_4cat") is None:
        return []
    sets = {
        "2": get_dataset("crossley_cat_unlearn_2cat", "1", source=SHARED),
        "4": get_dataset("crossley_unlearning_4cat", "nc_40", source=SHARED),
    }
    accuracy: dict[str, dict[str, float]] = {}
    for k, frame in sets.items():
        frame = frame[~frame["excluded_by_authors"] & (frame["trial"] <= 300)]
        ids = list(dict.fromkeys(frame["participant"]))[: budget.catnum_participants]
        frame = frame[frame["participant"].isin(ids)].drop(columns=["experiment"])
        frame, predicted = fit_and_predict(
            frame, np.zeros(len(frame), dtype=bool), names, budget, seed
        )
        frame = frame.assign(all="all")
        accuracy[k] = {"people": participant_means(frame, observed_correct(frame), "all")["all"]}
        for name in names:
            accuracy[k][name] = participant_means(frame, predicted[name], "all")["all"]
    obs = accuracy["2"]["people"] - accuracy["4"]["people"]
    rows = []
    for name in names:
        drop = accuracy["2"][name] - accuracy["4"][name]
        ok = np.sign(drop) == np.sign(obs) and 0.5 <= drop / obs <= 2.0
        rows.append(
            row(
                "catnum",
                name,
                "accuracy 2 - 4 categories (trials 1-300)",
                round(drop, 4),
                f"people's {obs:+.3f}, within a factor of 2",
                ok,
            )
        )
    series = {s: [accuracy["2"][s], accuracy["4"][s]] for s in ["people", *names]}
    bar_figure(
        ["2 categories", "4 categories"],
        series,
        "accuracy, trials 1-300",
        "Category number (Crossley data sets, information-integration)",
        out / "catnum",
    )
    return rows


PHENOMENA = {"shj": shj, "dots": dots, "rbii": rbii, "catnum": catnum}


def main(argv=None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument(
        "--only",
        default=",".join(PHENOMENA),
        help="comma-separated phenomena to run (default: all)",
    )
    args = p.parse_args(argv)
    unknown = sorted(set(args.only.split(",")) - set(PHENOMENA))
    if unknown:
        p.error(f"unknown phenomenon {unknown[0]!r} (phenomena: {', '.join(PHENOMENA)})")
    if not SHARED.exists():
        print(f"skipped: {SHARED} is absent (the shared data sets are not in this checkout)")
        return 0
    from catmodel.atomic import write_csv

    budget = QUICK if args.quick else FULL
    names = models()
    out = args.out / "phenomena"
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rows: list[dict] = []
    for key in args.only.split(","):
        t1 = time.perf_counter()
        print(f"--- {key}")
        rows += PHENOMENA[key](names, budget, args.seed, out)
        print(f"  {key}: {time.perf_counter() - t1:.0f} s")
    table = pd.DataFrame(rows, columns=list(row("", "", "", "", "", False)))
    write_csv(table, out / "phenomena.csv")
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(table.to_string(index=False))
    print(f"phenomena in {out / 'phenomena.csv'} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
