"""Figures of a fit folder: each figure's plotted numbers equal the computed ones, the files
are real images, and ``catmodel figures`` works end to end on a fit folder."""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.collections import PathCollection
from matplotlib.colors import to_hex
from matplotlib.patches import Ellipse

from catmodel.cli.main import main
from catmodel.compare.table import compare_fits
from catmodel.data.trials import TrialTable
from catmodel.figures import folder_kind, learned_gaussians_figure
from catmodel.fitting.fit import fit
from catmodel.models.registry import get_model
from catmodel.models.rollout import as_value_tensors, torch_rollout
from catmodel.plots.comparison import comparison_tables, plot_model_comparison
from catmodel.plots.curves import learning_curves, plot_learning_curves, with_blocks
from catmodel.plots.gaussians import (
    NotApplicable,
    boundary_fields,
    default_participant,
    learned_gaussians,
    plot_learned_gaussians,
    state_probabilities,
)
from catmodel.plots.params import parameter_table, plot_parameter_distributions
from catmodel.plots.style import PALETTE
from catmodel.results import free_parameter_scales, read_fit_folder, write_fit_folder
from catmodel.simulate.curves import (
    accuracy_by_block,
    compare_curves,
    group_curve,
    predictive_curves,
)
from catmodel.simulate.predictive import (
    fitted_table,
    fitted_values,
    posterior_predictive,
    simulate_design,
)

MODELS = ["gaussian", "guessing"]


def make_fit_folder(
    path,
    n_participants=4,
    n_trials=120,
    design="two-gaussian",
    seed=3,
    models=MODELS,
    condition=True,
    **design_options,
):
    """A small real fit: simulated Gaussian learners, fitted quickly (few starts)."""
    frame, _ = simulate_design(
        get_model("gaussian"),
        design,
        n_participants,
        seed=seed,
        n_trials=n_trials,
        draw=True,
        **design_options,
    )
    if condition:
        ids = sorted(frame["participant"].unique())
        half = set(ids[: len(ids) // 2])
        frame["condition"] = np.where(frame["participant"].isin(half), "easy", "hard")
    table = TrialTable.from_frame(frame)
    batch = table.to_batch(standardize=True)
    result = fit(batch, models, starts=1, candidates=32, seed=0)
    write_fit_folder(path, table, batch, result, {})
    return read_fit_folder(path)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return make_fit_folder(tmp_path_factory.mktemp("fit") / "fit")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def assert_image(path, min_side=200):
    """``path`` is a real picture: PNG decodes, is not tiny, is not one flat colour; PDF is
    a PDF."""
    if path.suffix == ".png":
        image = plt.imread(path)
        assert image.ndim == 3 and min(image.shape[:2]) >= min_side
        assert np.ptp(image[..., :3]) > 0.2  # not a single flat colour
        rgb = (image[..., :3] * 255).astype(np.uint32)
        colours = rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2]
        assert np.unique(colours).size > 20  # drawn content, not a blank canvas
    else:
        assert path.read_bytes()[:5] == b"%PDF-"
        assert path.stat().st_size > 2000


# --- learning curves ---------------------------------------------------------------------


def _line(ax, label):
    lines = [line for line in ax.get_lines() if line.get_label() == label]
    assert len(lines) == 1, [line.get_label() for line in ax.get_lines()]
    return lines[0]


def test_learning_curves_plot_the_computed_curves(folder):
    curves = learning_curves(folder, runs=3, seed=5)
    axes = plot_learning_curves(curves, chance=0.5)
    assert axes.shape == (2, len(MODELS))  # rows: conditions; columns: models
    trials = folder.trials
    data = group_curve(
        accuracy_by_block(trials, group="condition", participant="learner"),
        "condition",
        participant="learner",
    )
    expected = compare_curves(trials, MODELS, group="condition")
    for r, condition in enumerate(["easy", "hard"]):
        want = data[data["condition"] == condition]
        for c, model in enumerate(MODELS):
            ax = axes[r, c]
            assert condition in ax.get_title() and model in ax.get_title()
            x, y = _line(ax, "data").get_data()
            np.testing.assert_allclose(x, want["block"])
            np.testing.assert_allclose(y, want["mean"])
            exp = expected[(expected["source"] == model) & (expected["condition"] == condition)]
            np.testing.assert_allclose(_line(ax, f"{model} expected").get_ydata(), exp["mean"])
    # the simulated curve is the posterior predictive one, same runs and seed
    sim = posterior_predictive(folder, "gaussian", runs=3, seed=5)
    pred = predictive_curves(sim, group="condition")
    pred = pred[pred["condition"] == "hard"]
    np.testing.assert_allclose(_line(axes[1, 0], "gaussian simulated").get_ydata(), pred["mean"])


def test_learning_curves_without_simulation_have_no_simulated_line(folder):
    curves = learning_curves(folder, runs=0)
    assert set(curves["kind"]) == {"data", "expected"}
    axes = plot_learning_curves(curves)
    labels = [line.get_label() for line in axes[0, 0].get_lines()]
    assert "gaussian simulated" not in labels and "gaussian expected" in labels


def test_trials_without_blocks_are_cut_into_ten_blocks():
    frame = pd.DataFrame(
        {"learner": np.repeat(["a", "b"], [25, 30]), "participant": np.repeat(["a", "b"], [25, 30])}
    )
    out = with_blocks(frame, ["learner"])
    assert out.groupby("learner")["block"].max().tolist() == [9, 10]  # 3 trials a block


# --- learned Gaussians -------------------------------------------------------------------


def _rollout_states(folder, participant):
    """The fitted learner's means/covariances after every block, computed here directly."""
    model = folder.model("gaussian")
    batch = fitted_table(folder).to_batch(standardize=folder.standardization)
    i = list(batch.learners).index(participant)
    values = fitted_values(folder.fits, model, [participant], 2, batch.n_categories)
    vals = as_value_tensors(values, batch.x, 1)
    n = int(batch.n_trials[i])
    blocks = batch.block[i, :n].numpy()
    ends = [int(np.flatnonzero(blocks == b).max()) for b in np.unique(blocks)]
    logits, states = torch_rollout(model, batch, torch.tensor([i]), vals, keep_states=ends)
    return model, batch, i, vals, ends, logits, states


def test_learned_gaussian_ellipses_are_the_learners_units_in_original_units(folder):
    participant = default_participant(folder.fits)
    learned = learned_gaussians(folder, participant, grid_size=41)
    fig = plot_learned_gaussians(learned)
    model, _, _, _, ends, _, states = _rollout_states(folder, participant)
    std = folder.standardization
    assert len(learned.blocks) == len(ends) == 3
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
    for ax, t in zip(panels, ends, strict=True):
        described = model.describe_state(states[t], 0)
        means = std.undo(described["means"])
        ellipses = [p for p in ax.patches if isinstance(p, Ellipse)]
        assert len(ellipses) == 2 * len(means)  # 1 and 2 SD per unit
        centres = np.array([e.center for e in ellipses[::2]])
        np.testing.assert_allclose(centres, means, atol=1e-9)
        # the 1-SD ellipse's area is pi * sqrt(det) of the covariance in original units
        covs = std.undo_covariance(described["covariances"])
        areas = [np.pi * e.width * e.height / 4 for e in ellipses[::2]]
        np.testing.assert_allclose(areas, np.pi * np.sqrt(np.linalg.det(covs)), rtol=1e-6)
        # each unit is coloured by the category its association weights favour
        votes = np.asarray(described["weights"]).argmax(axis=0)
        colours = [to_hex(e.get_edgecolor()) for e in ellipses[::2]]
        assert colours == [PALETTE[v].lower() for v in votes]
    # the learned units move: they are not the same after every block
    assert not np.allclose(learned.blocks[0].covariances, learned.blocks[-1].covariances)


def test_filled_markers_are_correct_responses_open_markers_errors(folder):
    learned = learned_gaussians(folder, grid_size=21)
    fig = plot_learned_gaussians(learned)
    ax, state = fig.axes[0], learned.blocks[0]
    filled = open_ = 0
    for coll in ax.collections:
        if not isinstance(coll, PathCollection):  # the decision boundary's contour set
            continue
        n = len(coll.get_offsets())
        if n and len(coll.get_facecolors()) == 0:  # facecolors "none"
            open_ += n
        elif n:
            filled += n
    answered = state.response >= 0
    assert filled == int(np.sum(state.response[answered] == state.category[answered]))
    assert open_ == int(np.sum(state.response[answered] != state.category[answered]))
    assert filled + open_ == len(state.stimuli) > 0


def test_grid_probabilities_come_from_the_kept_state(folder):
    participant = folder.fits["participant"].iloc[0]
    model, batch, i, vals, ends, logits, states = _rollout_states(folder, participant)
    t = ends[0]
    # the state after trial t predicts trial t + 1 exactly as the rollout did
    probs = state_probabilities(model, states[t], t + 1, batch.x[i, t + 1 : t + 2], vals)
    np.testing.assert_allclose(
        probs[0], model.own_probabilities(logits[0, t + 1]).numpy(), rtol=1e-10
    )
    # the figure's grid (original units, rows = y) holds those probabilities
    learned = learned_gaussians(folder, participant, grid_size=11)
    grid = learned.blocks[0].probabilities
    for row, col in ((0, 0), (3, 7), (10, 5)):
        point = np.array([[learned.grid_x[col], learned.grid_y[row]]])
        z = torch.as_tensor(folder.standardization.apply(point))
        want = state_probabilities(model, states[t], t + 1, z, vals)[0]
        np.testing.assert_allclose(grid[row, col], want, rtol=1e-10)


def test_trials_without_block_numbers_get_the_curves_blocks(folder):
    unnumbered = dataclasses.replace(folder, trials=folder.trials.drop(columns="block"))
    learned = learned_gaussians(unnumbered, grid_size=5)
    # 120 trials, no numbers: ten blocks of 12, as the learning curves cut them
    assert [b.block for b in learned.blocks] == list(range(1, 11))
    assert [len(b.stimuli) for b in learned.blocks] == [12] * 10
    curves = learning_curves(unnumbered, runs=0)
    assert sorted(set(curves["block"])) == list(range(1, 11))


def test_default_participant_has_the_median_nll():
    fits = pd.DataFrame(
        {"participant": list("abcde"), "model": "gaussian", "nll": [5.0, 1.0, 3.0, 4.0, 2.0]}
    )
    assert default_participant(fits) == "c"
    # an even count: the lower of the middle two (NLL 3 and 4)
    assert default_participant(fits.iloc[:4]) == "c"


def _crossings(field, x):
    """Where a (masked) 1-D field changes sign between unmasked neighbours."""
    values, masked = np.ma.getdata(field), np.ma.getmaskarray(field)
    both = ~masked[:-1] & ~masked[1:]
    change = np.sign(values[:-1]) != np.sign(values[1:])
    return (x[:-1] + x[1:])[both & change] / 2


def test_boundaries_with_three_categories_border_the_argmax_regions():
    x = np.linspace(-1, 1, 200)  # no grid point exactly on a border
    # logits -3x, 1, 3x: category 0 wins left of -1/3, 2 right of 1/3, 1 in between
    logits = np.stack([-3 * x, np.ones_like(x), 3 * x], -1)
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    fields = boundary_fields(probs)
    assert len(fields) == 3  # pairs (0, 1), (0, 2), (1, 2)
    np.testing.assert_allclose(_crossings(fields[0], x), [-1 / 3], atol=0.01)
    assert len(_crossings(fields[1], x)) == 0  # regions 0 and 2 never touch
    np.testing.assert_allclose(_crossings(fields[2], x), [1 / 3], atol=0.01)
    # two categories: one field, the 0.5 contour
    two = probs[:, [0, 2]] / probs[:, [0, 2]].sum(-1, keepdims=True)
    (field,) = boundary_fields(two)
    np.testing.assert_allclose(_crossings(field, x), [0.0], atol=0.01)


def test_three_categories_draw_and_other_dimensions_are_refused(tmp_path):
    means = [[30, 30], [70, 30], [50, 70]]
    k3 = make_fit_folder(
        tmp_path / "k3",
        n_participants=1,
        n_trials=80,
        design="rb",
        models=["gaussian"],
        condition=False,
        means=means,
        block_size=40,
    )
    learned = learned_gaussians(k3, grid_size=31)
    assert learned.blocks[0].probabilities.shape == (31, 31, 3)
    fig = plot_learned_gaussians(learned)
    assert len([p for p in fig.axes[0].patches if isinstance(p, Ellipse)]) == 6
    three_d = dataclasses.replace(
        k3, run={**k3.run, "data": {**k3.run["data"], "features": ["a", "b", "c"]}}
    )
    with pytest.raises(NotApplicable, match="2 features"):
        learned_gaussians(three_d)


# --- parameters --------------------------------------------------------------------------


def test_parameter_points_are_the_fitted_values_log10_for_log_parameters(folder):
    scales = free_parameter_scales(folder.run, "gaussian")
    assert scales == {"lr_mu": "log", "lr_cov": "log", "lr_w": "log", "temperature": "log"}
    table = parameter_table(folder.fits, "gaussian", scales)
    axes = plot_parameter_distributions(table)
    fits = folder.fits[folder.fits["model"] == "gaussian"]
    for ax, name in zip(axes, scales, strict=False):
        assert ax.get_ylabel() == f"log10 {name}"
        y = np.concatenate([c.get_offsets()[:, 1] for c in ax.collections])
        np.testing.assert_allclose(np.sort(y), np.sort(np.log10(fits[name])))
    # by condition: one column of points per condition
    labels = [t.get_text() for t in axes[0].get_xticklabels()]
    assert labels == ["easy", "hard"]


def test_linear_parameters_are_shown_as_they_are(folder):
    scales = free_parameter_scales(folder.run, "guessing")
    table = parameter_table(folder.fits, "guessing", scales)
    axes = plot_parameter_distributions(table)
    fits = folder.fits[folder.fits["model"] == "guessing"]
    name = next(iter(scales))
    # bias_1 = ln(b_1 / b_2): the axis says it is a log-ratio
    assert scales[name] == "linear" and axes[0].get_ylabel() == "log-ratio ln(b1 / b2)"
    y = np.concatenate([c.get_offsets()[:, 1] for c in axes[0].collections])
    np.testing.assert_allclose(np.sort(y), np.sort(fits[name]))


def test_attention_and_bias_axes_say_they_are_log_ratios():
    fits = pd.DataFrame(
        {
            "participant": ["1", "2"],
            "model": "prototype",
            "attention_1": [0.5, -0.2],
            "attention_2": [0.1, 0.3],
            "temperature": [0.1, 0.2],
        }
    )
    scales = {"attention_1": "linear", "attention_2": "linear", "temperature": "log"}
    table = parameter_table(fits, "prototype", scales)
    labels = dict(zip(table["parameter"], table["label"], strict=False))
    assert labels == {
        "attention_1": "log-ratio ln(w1 / w3)",
        "attention_2": "log-ratio ln(w2 / w3)",
        "temperature": "log10 temperature",
    }
    axes = plot_parameter_distributions(table)
    assert [ax.get_ylabel() for ax in axes[:3]] == list(labels.values())


def _points_labelled(ax, label):
    return [c for c in ax.collections if c.get_label() == label]


def test_fits_at_a_bound_have_their_own_marker_and_legend_entry(folder):
    fits = folder.fits.copy()
    fits["at_bound"] = fits["at_bound"].astype(object)  # all empty reads as a float column
    gaussian = fits.index[fits["model"] == "gaussian"]
    fits.loc[gaussian, "at_bound"] = ""
    fits.loc[gaussian[:2], "at_bound"] = ["lr_w", "lr_w;temperature"]
    scales = free_parameter_scales(folder.run, "gaussian")
    table = parameter_table(fits, "gaussian", scales)
    assert table.loc[table["parameter"] == "lr_w", "at_bound"].tolist() == [1, 1, 0, 0]
    axes = plot_parameter_distributions(table)
    by_name = dict(zip(scales, axes, strict=False))
    for name, rows in (("lr_w", gaussian[:2]), ("temperature", gaussian[1:2]), ("lr_mu", [])):
        ax = by_name[name]
        marked = _points_labelled(ax, "at a bound")
        if len(rows) == 0:
            assert marked == [] and ax.get_legend() is None
            continue
        (points,) = marked
        want = np.log10(fits.loc[rows, name].to_numpy(dtype=float))
        np.testing.assert_allclose(np.sort(points.get_offsets()[:, 1]), np.sort(want))
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["at a bound"]
        # the marker differs from the other participants' points, which do not repeat them
        others = [c for c in ax.collections if c is not points]
        x_marker = points.get_paths()[0].vertices
        assert all(
            not np.array_equal(c.get_paths()[0].vertices, x_marker)
            for c in others
            if len(c.get_paths())
        )
        y = np.concatenate([c.get_offsets()[:, 1] for c in ax.collections])
        np.testing.assert_allclose(np.sort(y), np.sort(np.log10(fits.loc[gaussian, name])))


# --- model comparison --------------------------------------------------------------------


def test_comparison_bars_and_points_are_the_computed_numbers(folder):
    comparison, group = comparison_tables(folder)
    want_c, want_g = compare_fits(folder.fits)
    fig = plot_model_comparison(comparison, group)
    left, right = fig.axes
    heights = [bar.get_height() for bar in right.patches]
    np.testing.assert_allclose(heights, want_g["protected_exceedance"])
    assert [t.get_text() for t in right.get_xticklabels()] == list(want_g["model"])
    for coll, model in zip(left.collections, want_g["model"], strict=True):
        want = want_c.loc[want_c["model"] == model, "delta_bic"]
        np.testing.assert_allclose(np.sort(coll.get_offsets()[:, 1]), np.sort(want))


def test_the_exceedance_reference_line_is_labelled_one_over_k(folder):
    comparison, group = comparison_tables(folder)
    right = plot_model_comparison(comparison, group).axes[1]
    lines = [line for line in right.get_lines() if "no model preferred" in line.get_label()]
    assert len(lines) == 1
    assert lines[0].get_label() == "1/2 = 0.5: no model preferred"
    assert np.allclose(lines[0].get_ydata(), 1 / len(group))
    legend = [t.get_text() for t in right.get_legend().get_texts()]
    assert "1/2 = 0.5: no model preferred" in legend and "expected frequency" in legend


def test_comparison_relative_to_a_reference_model(folder):
    comparison, group = comparison_tables(folder)
    fig = plot_model_comparison(comparison, group, reference="guessing")
    bic = folder.fits.pivot(index="participant", columns="model", values="bic")
    for coll, model in zip(fig.axes[0].collections, group["model"], strict=True):
        want = bic[model] - bic["guessing"]
        np.testing.assert_allclose(np.sort(coll.get_offsets()[:, 1]), np.sort(want))


def test_comparison_reads_written_tables_when_present(folder, tmp_path):
    copy = dataclasses.replace(folder, path=tmp_path)
    comparison, group = compare_fits(folder.fits)
    group["protected_exceedance"] = [0.7, 0.3]  # recognisably not recomputed
    comparison.to_csv(tmp_path / "comparison.csv", index=False)
    group.to_csv(tmp_path / "group.csv", index=False)
    _, read = comparison_tables(copy)
    assert read["protected_exceedance"].tolist() == [0.7, 0.3]


# --- the whole folder --------------------------------------------------------------------


def test_cli_figures_on_a_fit_folder(folder, tmp_path, capsys):
    out = tmp_path / "figs"
    # not the default participant, so the option is what picks it
    participant = next(
        p for p in folder.fits["participant"] if p != default_participant(folder.fits)
    )
    assert (
        main(
            [
                "figures",
                str(folder.path),
                "--out",
                str(out),
                "--runs",
                "2",
                "--participant",
                participant,
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    want = {
        "learning_curves",
        f"learned_gaussians_{participant}",
        "parameters_gaussian",
        "parameters_guessing",
        "model_comparison",
    }
    files = {f"{n}.{fmt}" for n in want for fmt in ("png", "pdf")}
    assert {p.name for p in out.iterdir()} == files
    assert "skipped" not in printed
    for name in files:
        assert str(out / name) in printed
        assert_image(out / name)
    assert folder_kind(folder.path) == "fit"


def test_cli_unknown_participant_is_a_one_line_error(folder, tmp_path, capsys):
    code = main(["figures", str(folder.path), "--out", str(tmp_path), "--participant", "nobody"])
    err = capsys.readouterr().err
    assert code == 2 and "nobody" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_ideal_observer_categories_are_drawn_at_their_posterior_means(tmp_path):
    # an independent check: the centre of each ellipse is the NIW posterior mean computed from
    # the category's stimuli up to the end of the block (kappa0 m0 + sum x) / (kappa0 + n)
    niw = make_fit_folder(tmp_path / "niw", n_participants=2, n_trials=60, models=["niw"])
    participant = default_participant(niw.fits, "niw")
    learned = learned_gaussians(niw, participant, model_name="niw", grid_size=21)
    fig = plot_learned_gaussians(learned, title="ideal observer (niw)")
    assert "ideal observer" in fig._suptitle.get_text()
    # the figure set names it apart from the Gaussian learner's (which this folder lacks)
    saved, skipped = [], []
    learned_gaussians_figure(niw, lambda fig, name: saved.append(name), skipped.append, None)
    assert saved == [f"learned_categories_niw_{participant}"]
    assert len(skipped) == 1 and "gaussian" in skipped[0]
    batch = fitted_table(niw).to_batch(standardize=niw.standardization)
    i = list(batch.learners).index(participant)
    n0 = float(
        niw.fits.set_index(["model", "participant"]).loc[("niw", participant), "prior_strength"]
    )
    m0 = np.asarray(batch.stim_mean)
    x = batch.x[i].numpy()
    fb = batch.feedback[i].numpy()
    for state in learned.blocks:
        seen = np.arange(len(fb)) <= state.trial
        for k in range(2):
            mine = x[seen & (fb == k)]
            expected = (n0 * m0 + mine.sum(0)) / (n0 + len(mine))
            np.testing.assert_allclose(
                state.means[k], niw.standardization.undo(expected[None])[0], atol=1e-6
            )
