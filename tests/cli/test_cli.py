"""The command line: help everywhere, the main jobs end to end, one-line errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from catmodel.cli.main import COMMANDS, main
from tests.conftest import REPO

EXAMPLE = REPO / "data" / "example.csv.gz"


@pytest.mark.parametrize("command", [c.replace("_", "-") for c in COMMANDS])
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: catmodel " + command)
    assert len(out.splitlines()) > 5


def test_models_lists_each_model_with_its_own_parameters(capsys):
    assert main(["models"]) == 0
    listing, roles = {}, {}
    for block in capsys.readouterr().out.strip().split("\n\n"):
        name, role = block.split(":", 1)[0].split(" (")
        roles[name] = role
        listing[name] = [
            line.split()[0]
            for line in block.splitlines()[1:]
            if not line.strip().startswith("setting")
        ]
    assert {"gaussian", "prototype", "exemplar", "exemplar-decay", "alcove"} <= set(listing)
    assert "decay" in listing["exemplar-decay"]
    assert "decay" not in listing["exemplar"]
    assert {"lr_mu", "lr_cov", "lr_w", "temperature"} <= set(listing["gaussian"])
    assert roles["gaussian"] == "learning model)" and roles["guessing"] == "response-only model)"


def test_demo_draws_both_panels_and_prints_accuracy_and_kl(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--lr-cov", "1"]) == 0
    out = capsys.readouterr().out
    accuracy = float(out.split("last-epoch accuracy: ")[1].split()[0])
    assert 0.5 <= accuracy <= 1.0
    assert out.count("KL(true || learned)") == 2
    png = tmp_path / "demo_lrcov1.png"
    assert png.exists() and png.stat().st_size > 20_000


def test_fit_the_shipped_example_writes_every_output(tmp_path, capsys):
    out = tmp_path / "fit"
    data = pd.read_csv(EXAMPLE)
    subset = tmp_path / "four.csv"
    data[data["participant"].isin(data["participant"].unique()[:4])].to_csv(subset, index=False)
    assert (
        main(
            [
                "fit",
                str(subset),
                "--models",
                "gaussian",
                "--starts",
                "2",
                "--candidates",
                "64",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    # the summary, not the closing line (it names the results folder, however long its path)
    printed = capsys.readouterr().out.split("\ndone in")[0]
    assert max(len(line) for line in printed.splitlines()) <= 100, printed
    assert "natural scale" in printed and "IQR" in printed
    fits = pd.read_csv(out / "fits.csv")
    assert list(fits.columns[:3]) == ["participant", "model", "lr_mu"]
    # counts are written as integers, not 4.0
    assert pd.api.types.is_integer_dtype(fits["n_params"])
    for column in (
        "se_log10_lr_mu",
        "nll",
        "aic",
        "bic",
        "n_params",
        "n_trials",
        "converged",
        "at_bound",
    ):
        assert column in fits
    assert len(fits) == 4 and set(fits["model"]) == {"gaussian"}
    starts = pd.read_csv(out / "starts.csv")
    assert len(starts) == 4 * 2
    trials = pd.read_csv(out / "trials.csv.gz")
    assert len(trials) == 4 * 400
    assert pd.api.types.is_integer_dtype(trials["trial_original"])
    assert (trials[["p_gaussian_A", "p_gaussian_B"]].sum(axis=1) - 1).abs().max() < 1e-9
    run = json.loads((out / "run.json").read_text())
    assert run["kind"] == "fit" and len(run["data"]["sha256"]) == 64
    assert run["models"]["gaussian"]["settings"]["sd_band"] == [0.1, 3.0]
    assert "torch" in run["versions"]
    # compare on the same folder
    assert main(["compare", str(out)]) == 0
    assert (out / "comparison.csv").exists() and (out / "group.csv").exists()
    group = next(
        line.split() for line in capsys.readouterr().out.splitlines() if "gaussian" in line
    )
    assert group[:2] == ["gaussian", "4"]  # n_params, not 4.000


def test_bad_data_gives_one_line_error_naming_file_row_and_column(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("participant,trial,x1,x2,category,response\n1,1,0.5,0.1,A,A\n1,2,oops,0.2,B,A\n")
    code = main(["fit", str(bad), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "bad.csv" in err and "row 3" in err and "x1" in err
    assert not (tmp_path / "out" / "fits.csv").exists()


def test_unknown_parameter_and_setting_are_one_line_errors(tmp_path, capsys):
    assert main(["fit", str(EXAMPLE), "--fix", "nope=1", "--out", str(tmp_path)]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["fit", str(EXAMPLE), "--set", "speed=3", "--out", str(tmp_path)]) == 2
    assert "speed" in capsys.readouterr().err


def test_simulated_file_fits_back_and_posterior_predictive_runs(tmp_path, capsys):
    sim = tmp_path / "sim.csv"
    assert (
        main(
            [
                "simulate",
                "--model",
                "gaussian",
                "--participants",
                "3",
                "--trials",
                "120",
                "--draw-params",
                "--seed",
                "3",
                "--out",
                str(sim),
            ]
        )
        == 0
    )
    frame = pd.read_csv(sim)
    assert len(frame) == 360 and frame["response"].isin(["A", "B"]).all()
    assert (tmp_path / "sim.params.csv").exists()
    out = tmp_path / "fit"
    assert main(["fit", str(sim), "--starts", "2", "--candidates", "64", "--out", str(out)]) == 0
    ppc = tmp_path / "ppc.csv"
    assert (
        main(
            [
                "simulate",
                "--model",
                "gaussian",
                "--from-fits",
                str(out),
                "--runs",
                "4",
                "--out",
                str(ppc),
            ]
        )
        == 0
    )
    pred = pd.read_csv(ppc)
    assert len(pred) == 4 * 360 and sorted(pred["run"].unique()) == [1, 2, 3, 4]
    assert (pred.groupby("run")["x1"].sum().nunique()) == 1  # the same stimuli every run
    # the fitted participants on another design: their ids, the design's stimuli
    other = tmp_path / "other.csv"
    assert (
        main(
            [
                "simulate",
                "--model",
                "gaussian",
                "--from-fits",
                str(out),
                "--design",
                "ii",
                "--trials",
                "60",
                "--out",
                str(other),
            ]
        )
        == 0
    )
    moved = pd.read_csv(other)
    assert set(moved["participant"]) == set(frame["participant"]) and len(moved) == 3 * 60
    assert moved["x1"].mean() > 20  # ii stimuli live around (50, 50), not near the demo's 0


def test_recover_writes_the_tables_and_figure(tmp_path, capsys):
    out = tmp_path / "rec"
    assert (
        main(
            [
                "recover",
                "--participants",
                "6",
                "--trials",
                "120",
                "--starts",
                "2",
                "--candidates",
                "64",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    summary = pd.read_csv(out / "recovery_summary.csv")
    assert list(summary.columns[:5]) == ["parameter", "r", "bias", "rmse", "share_within_1"]
    assert set(summary["parameter"]) == {"lr_mu", "lr_cov", "lr_w", "temperature"}
    recovery = pd.read_csv(out / "recovery.csv")
    assert len(recovery) == 6 * 4
    corr = pd.read_csv(out / "recovery_correlations.csv")
    assert corr.columns[0] == "parameter" and len(corr) == 4
    assert (out / "recovery.png").stat().st_size > 10_000


def test_shipped_example_is_reproduced_by_its_documented_command(tmp_path, capsys):
    readme = (REPO / "data" / "README.md").read_text()
    line = next(x for x in readme.splitlines() if x.startswith("| `example.csv.gz`"))
    command = line.split("`catmodel ")[1].split("`")[0].split()
    out = tmp_path / "example.csv.gz"
    command[command.index("--out") + 1] = str(out)
    assert main(command) == 0
    # stimuli are drawn by numpy, whose last bit can differ between its versions; every label
    # and response must be the same
    made, shipped = pd.read_csv(out), pd.read_csv(EXAMPLE)
    pd.testing.assert_frame_equal(made, shipped, check_exact=False, rtol=1e-12, atol=1e-12)
    for column in ("participant", "category", "response", "feedback"):
        assert made[column].equals(shipped[column])


def test_ci_runs_exactly_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    block = readme.split("# 2. install the test extras and run the tests\n")[1]
    command = block.splitlines()[0].strip()
    assert "pytest" in command
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert command in [line.strip() for line in ci]


def test_readme_main_job_uses_the_shipped_example():
    readme = (REPO / "README.md").read_text()
    block = readme.split("# 1. install, fit five models")[1].splitlines()[1]
    assert "catmodel fit data/example.csv.gz" in block
    assert EXAMPLE.exists()


def test_readme_python_example_uses_every_name_it_imports():
    import re

    readme = (REPO / "README.md").read_text()
    section = readme.split("## Python API")[1].split("\n## ")[0]
    code = "\n".join(block.split("```")[0] for block in section.split("```python")[1:])
    imported = [
        name.strip()
        for line in code.splitlines()
        if line.startswith("from ")
        for name in line.split(" import ")[1].split(",")
    ]
    body = "\n".join(line for line in code.splitlines() if not line.startswith("from "))
    unused = [name for name in imported if not re.search(rf"\b{name}\(", body)]
    assert imported and unused == []


def test_fit_prints_one_warning_per_model_with_too_few_trials(tmp_path, capsys):
    data = pd.read_csv(EXAMPLE)
    short = data[data["participant"].isin(["sim001", "sim002"]) & (data["trial"] <= 30)]
    short.to_csv(tmp_path / "short.csv", index=False)
    command = ["fit", str(tmp_path / "short.csv"), "--models", "gaussian,prototype,guessing"]
    assert main([*command, "--starts", "1", "--candidates", "16", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    warnings = [line for line in printed.splitlines() if line.startswith("warning:")]
    # 30 trials each: fewer than 10 per parameter for gaussian (4 free parameters), not for
    # prototype (2) or guessing (1)
    assert warnings == [
        "warning: gaussian has 4 free parameters; participants sim001 (30 trials), sim002 "
        "(30 trials) have fewer than 10 trials with a response per parameter (40)"
    ], printed
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["warnings"] == warnings
