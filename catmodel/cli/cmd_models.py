"""``catmodel models``: the registered models, their parameters and settings."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser(
        "models",
        help="list the models with their parameters and settings",
        description="List every registered model: its free parameters with "
        "fitting and generating boxes (natural scale), and its settings.",
    )
    p.add_argument("--features", type=int, default=2, help="number of features (default 2)")
    p.add_argument("--categories", type=int, default=2, help="number of categories (default 2)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from catmodel.models.registry import available_models, get_model

    for name, cls in sorted(available_models().items()):
        model = get_model(name)  # a variant with its own settings (e.g. exemplar-decay)
        print(f"{name} ({cls.role} model): {cls.summary}")
        for p in model.params(args.features, args.categories):
            gen = p.generating_box
            state = "free" if p.free else f"fixed at {p.default:g}"
            print(
                f"  {p.name:<14} {state:<16} box [{p.lower:.3g}, {p.upper:.3g}] "
                f"generating [{gen[0]:.3g}, {gen[1]:.3g}] ({p.scale})  {p.doc}"
            )
        for key, value in model.settings.items():
            doc = cls.setting_docs.get(key, "")
            print(f"  setting {key} = {value!r}  {doc}")
        print()
