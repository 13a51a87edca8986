"""Recovery figures: scatter points and heatmap cells are the tables' numbers; recover and
model-recovery folders draw end to end; a folder that holds no results is a one-line error."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from catmodel.cli.main import main
from catmodel.figures import draw_figures, folder_kind
from catmodel.plots.recovery import (
    confusion_heatmap,
    model_recovery_figure,
    recovery_scatter,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def assert_image(path, min_side=200):
    """A real picture: PNG decodes, is not tiny, not one flat colour; PDF is a PDF."""
    if path.suffix == ".png":
        image = plt.imread(path)
        assert image.ndim == 3 and min(image.shape[:2]) >= min_side
        assert np.ptp(image[..., :3]) > 0.2
        rgb = (image[..., :3] * 255).astype(np.uint32)
        colours = rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2]
        assert np.unique(colours).size > 20  # drawn content, not a blank canvas
    else:
        assert path.read_bytes()[:5] == b"%PDF-"
        assert path.stat().st_size > 2000


@pytest.fixture
def matrices():
    models = ["gaussian", "prototype", "guessing"]
    confusion = pd.DataFrame(
        {
            "generating": models,
            "gaussian": [0.8, 0.1, 0.0],
            "prototype": [0.2, 0.7, 0.25],
            "guessing": [0.0, 0.2, 0.75],
        }
    )
    counts = np.array([[8, 2, 0], [1, 7, 2], [0, 1, 3]], dtype=float)
    inversion = pd.DataFrame(counts / counts.sum(0), columns=models)
    inversion.insert(0, "generating", models)
    return confusion, inversion


def _cells(ax):
    """Heatmap cell values (rows top to bottom) and annotations."""
    values = np.asarray(ax.collections[0].get_array()).reshape(3, 3)
    texts = np.array([t.get_text() for t in ax.texts]).reshape(3, 3)
    return values, texts


def test_heatmap_cells_and_annotations_are_the_matrix(matrices):
    confusion, inversion = matrices
    fig = model_recovery_figure(confusion, inversion, "aic")
    for ax, matrix in zip(fig.axes, (confusion, inversion), strict=True):
        values, texts = _cells(ax)
        want = matrix.drop(columns="generating").to_numpy()
        np.testing.assert_allclose(values, want)
        assert (texts == np.vectorize(lambda v: f"{v:.2f}")(want)).all()
        assert [t.get_text() for t in ax.get_yticklabels()] == list(matrix["generating"])
    assert "AIC" in fig.axes[0].get_title()


def test_a_model_never_best_leaves_its_inversion_column_blank():
    matrix = pd.DataFrame({"generating": ["a", "b"], "a": [1.0, 1.0], "b": [np.nan, np.nan]})
    ax = confusion_heatmap(matrix, "inversion")
    assert [t.get_text() for t in ax.texts] == ["1.00", "1.00"]


def test_scatter_points_are_the_recovery_table():
    rng = np.random.default_rng(1)
    rows = []
    for name, scale in (("lr", "log"), ("bias", "linear")):
        true = rng.uniform(-2, 0, 6)
        for i, t in enumerate(true):
            rows.append(
                {
                    "participant": f"p{i}",
                    "parameter": name,
                    "scale": scale,
                    "true_scale": t,
                    "recovered_scale": t + rng.normal(0, 0.2),
                }
            )
    recovery = pd.DataFrame(rows)
    summary = pd.DataFrame(
        {
            "parameter": ["lr", "bias"],
            "r": [0.9, 0.8],
            "bias": [0.0, 0.1],
            "rmse": [0.2, 0.3],
            "scale": ["log", "linear"],
            "generating_low": [-2.0, -2.0],
            "generating_high": [0.0, 0.0],
        }
    )
    axes = recovery_scatter(recovery, summary)
    for ax, name in zip(axes, ["lr", "bias"], strict=False):
        sub = recovery[recovery["parameter"] == name]
        np.testing.assert_allclose(
            ax.collections[0].get_offsets(), sub[["true_scale", "recovered_scale"]].to_numpy()
        )
    assert axes[0].get_xlabel() == "true log10 lr" and axes[1].get_xlabel() == "true bias"


@pytest.fixture(scope="module")
def recover_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("rec") / "rec"
    assert (
        main(
            [
                "recover",
                "--participants",
                "3",
                "--trials",
                "80",
                "--starts",
                "1",
                "--candidates",
                "16",
                "--seed",
                "2",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    return out


def test_cli_figures_on_a_recover_folder(recover_folder, tmp_path, capsys):
    capsys.readouterr()
    out = tmp_path / "figs"
    assert main(["figures", str(recover_folder), "--out", str(out), "--runs", "1"]) == 0
    printed = capsys.readouterr().out
    assert "skipped model comparison" in printed  # one model: nothing to compare
    names = {p.name for p in out.iterdir()}
    for stem in ("parameter_recovery", "learning_curves", "parameters_gaussian"):
        assert {f"{stem}.png", f"{stem}.pdf"} <= names
        assert_image(out / f"{stem}.png")
        assert_image(out / f"{stem}.pdf")
    assert any(n.startswith("learned_gaussians_") for n in names)
    # the scatter shows recovery.csv
    recovery = pd.read_csv(recover_folder / "recovery.csv")
    assert folder_kind(recover_folder) == "recover"
    axes = recovery_scatter(recovery, pd.read_csv(recover_folder / "recovery_summary.csv"))
    first = recovery[recovery["parameter"] == recovery["parameter"].iloc[0]]
    np.testing.assert_allclose(
        axes[0].collections[0].get_offsets(), first[["true_scale", "recovered_scale"]].to_numpy()
    )


def test_model_recovery_folder(matrices, tmp_path):
    confusion, inversion = matrices
    confusion.to_csv(tmp_path / "confusion.csv", index=False)
    inversion.to_csv(tmp_path / "inversion.csv", index=False)
    (tmp_path / "run.json").write_text(json.dumps({"kind": "model-recovery", "criterion": "bic"}))
    assert folder_kind(tmp_path) == "model-recovery"
    written = draw_figures(tmp_path, tmp_path / "figs")
    assert [p.name for p in written] == ["model_recovery.png", "model_recovery.pdf"]
    for path in written:
        assert_image(path)


@pytest.mark.parametrize("content", ["empty", "missing", "file"])
def test_not_a_results_folder_is_a_one_line_error(tmp_path, capsys, content):
    target = tmp_path / "folder"
    if content == "empty":
        target.mkdir()
        (target / "notes.txt").write_text("nothing here")
    elif content == "file":
        target.write_text("a file")
    code = main(["figures", str(target), "--out", str(tmp_path / "figs")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("catmodel: error: ") and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert not (tmp_path / "figs").exists()


def test_bad_options_are_one_line_errors(matrices, tmp_path, capsys):
    confusion, inversion = matrices
    confusion.to_csv(tmp_path / "confusion.csv", index=False)
    inversion.to_csv(tmp_path / "inversion.csv", index=False)
    for options, word in ((["--format", "png,gif"], "gif"), (["--runs", "-1"], "runs")):
        assert main(["figures", str(tmp_path), *options]) == 2
        err = capsys.readouterr().err
        assert word in err and len(err.strip().splitlines()) == 1
