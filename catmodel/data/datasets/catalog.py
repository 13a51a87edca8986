"""The registry of real data sets: one entry per folder of ``../shared/datasets``.

Each entry names the original repository and the commit its files are pinned to (the commit
of the shared copy, from its ``SOURCE.txt``), the licence, and its experiments with their
citation, size and converter.  Sizes are those of the converted tables;
``tests/data/test_datasets.py`` checks them against the conversion.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from catmodel.data.datasets import ashby, crossley, dots, sixproblems
from catmodel.data.datasets.source import FileSource

Converter = Callable[[FileSource, str], pd.DataFrame]


@dataclass(frozen=True)
class Experiment:
    """One experiment of a data set.

    Attributes
    ----------
    name
        What ``--experiment`` takes (``""`` for a data set with one experiment).
    citation
        The paper (or, where the repository names none, what is known).
    participants, trials
        Learners and trials (rows) of the converted table.
    n_features, categories
        Stimulus dimensions D and the number of categories K (text: several values possible).
    phases
        The phase values, in order.
    convert
        ``(files, experiment name) -> standard table``; None where the files hold no trials.
    refusal
        For an experiment without trial-level data: what it holds (``get`` stops with it).
    """

    name: str
    citation: str
    participants: int | None
    trials: int | None
    n_features: int | None
    categories: str
    phases: str
    convert: Converter | None
    refusal: str = ""


@dataclass(frozen=True)
class DataSet:
    """A folder of ``../shared/datasets`` and where its files come from."""

    name: str
    repository: str
    commit: str
    licence: str
    experiments: tuple[Experiment, ...]
    refusal: str = ""

    @property
    def several(self) -> bool:
        """Whether ``get`` takes ``--experiment``."""
        return len(self.experiments) > 1


_2CAT = "Crossley et al., Memory masking vs overwriting in procedural categorization (in prep.)"
_4CAT = "Crossley, Ashby & Maddox (2013), JEP: General 142(3) (attribution inferred)"
_PHASES_4CAT = "acquisition, intervention, reacquisition"


def _four(name: str, participants: int, citation: str = _4CAT) -> Experiment:
    return Experiment(
        name,
        citation,
        participants,
        participants * 900,
        2,
        "4",
        _PHASES_4CAT,
        crossley.convert_4cat,
    )


DATASETS: dict[str, DataSet] = {
    d.name: d
    for d in (
        DataSet(
            "crossley_cat_unlearn_2cat",
            "crossley/cat_unlearn",
            "80bf87752aa09c3d505a22b915b364464e5d5fe3",
            "none stated",
            tuple(
                Experiment(
                    e,
                    _2CAT,
                    40,
                    40 * 899,
                    2,
                    "2",
                    "learn, intervention, test",
                    crossley.convert_2cat,
                )
                for e in ("1", "2")
            ),
        ),
        DataSet(
            "crossley_unlearning_4cat",
            "crossley/unlearning_master",
            "c7d925f4ce9a7cd28d507d2a7719e5b9310b37fe",
            "none stated",
            (
                _four("mix_2575", 53),
                _four("nc_25", 48),
                _four("nc_40", 48),
                _four("nc_63", 39),
                _four("nc_63_new_batch", 51),
                _four("rb", 37, "none found in the repository (rule-based variant)"),
                _four(
                    "renewal",
                    93,
                    "Crossley, Ashby & Maddox (2014), Brain & Cognition (attribution inferred)",
                ),
            ),
        ),
        DataSet(
            "ashby_rbii_switchvi",
            "crossley/cat_learn_task_switch",
            "522a441889cb614b401801beee7ebbbcba919425",
            "none stated",
            (
                Experiment(
                    "",
                    "Crossley, Filoteo, Maddox & Ashby, Unique motor plans facilitate "
                    "learning during task switching (PsyArXiv r673u)",
                    228,
                    127_680,
                    2,
                    "2, 4",
                    "train",
                    ashby.convert,
                ),
            ),
        ),
        DataSet(
            "hu_nosofsky_dots",
            "tegorman13/dot_variability",
            "6cc9824afaddcd2dbb7855f757e39a8550ae8971",
            "none stated",
            (
                Experiment(
                    "mc_2024",
                    "Hu & Nosofsky (2024), Memory & Cognition",
                    304,
                    304 * 354,
                    18,
                    "3",
                    "train, transfer",
                    dots.convert,
                ),
                Experiment(
                    "lmc_2022_exp2",
                    "Hu & Nosofsky (2022), JEP: LMC 48(12), Exp. 2",
                    89,
                    89 * 288,
                    18,
                    "3",
                    "train, transfer",
                    dots.convert,
                ),
            ),
        ),
        DataSet(
            "sixproblems",
            "ajwills72/sixproblems",
            "3b850a8d7989ef6805dcfaf62e15449a1dd4a3ea",
            "GPL (>= 2)",
            (
                Experiment(
                    "nosof94",
                    "Nosofsky, Gluck, Palmeri, McKinley & Glauthier (1994), Mem. & Cogn. 22",
                    240,
                    28_040,
                    3,
                    "2",
                    "train",
                    sixproblems.convert,
                ),
                Experiment(
                    "lewan11",
                    "Lewandowsky (2011), JEP: LMC 37",
                    678,
                    78_672,
                    3,
                    "2",
                    "train",
                    sixproblems.convert,
                ),
                Experiment(
                    "rehder05",
                    "Rehder & Hoffman (2005), Cognitive Psychology 51",
                    72,
                    8_880,
                    3,
                    "2",
                    "train",
                    sixproblems.convert,
                ),
                Experiment(
                    "kurtz2013e2",
                    "Kurtz, Levering, Stanton, Romero & Morris (2013), Exp. 2",
                    None,
                    None,
                    3,
                    "2",
                    "-",
                    None,
                    refusal="kurtz2013e2bld holds block-level accuracies (no trials); "
                    "no catmodel analysis uses it yet",
                ),
            ),
        ),
        DataSet(
            "catlearn_cirp_grouplevel",
            "ajwills72/catlearn",
            "cc8b192cf12d04cf3f873568b168f5190b4fad2c",
            "GPL (>= 2)",
            (
                Experiment(
                    "",
                    "Wills et al. (2017) CIRPs: nosof94, nosof88, shin92, homa76, krus96",
                    None,
                    None,
                    None,
                    "-",
                    "-",
                    None,
                ),
            ),
            refusal="holds group-level benchmark summaries (catlearn's CIRP data: group "
            "learning curves and choice proportions, no participants or trials); "
            "python -m analyses.shj reads its nosof94 curves",
        ),
    )
}
