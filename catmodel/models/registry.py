"""Models by name: ``get_model("gaussian", momentum=0.3)``."""

from __future__ import annotations

from catmodel.errors import SettingsError
from catmodel.models.base import Model

_REGISTRY: dict[str, type[Model]] = {}

#: named variants: a registered model with other settings, fitted under its own name
VARIANTS: dict[str, tuple[str, dict]] = {
    "exemplar-decay": ("exemplar", {"memory_decay": True}),
}

#: nested pairs (restricted, full, parameters of the full model on their boundary in the
#: restricted one) for likelihood-ratio tests: decay = 0 is the no-forgetting GCM
NESTED: tuple[tuple[str, str, int], ...] = (("exemplar", "exemplar-decay", 1),)


def register(cls: type[Model]) -> type[Model]:
    """Class decorator (or function) adding a model class to the registry under its name."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    _REGISTRY[cls.name] = cls
    return cls


def _load_builtins() -> None:
    # imported here so that importing the registry never imports every model eagerly
    from catmodel.models.alcove import Alcove
    from catmodel.models.exemplar import Exemplar
    from catmodel.models.gaussian import Gaussian
    from catmodel.models.guessing import Guessing
    from catmodel.models.prototype import Prototype

    for cls in (Gaussian, Prototype, Exemplar, Alcove, Guessing):
        _REGISTRY.setdefault(cls.name, cls)


def available_models() -> dict[str, type[Model]]:
    """Registered model classes by name (variants under their own names)."""
    _load_builtins()
    models = dict(_REGISTRY)
    models.update({name: _REGISTRY[base] for name, (base, _) in VARIANTS.items()})
    return models


def get_model(name: str, **settings) -> Model:
    """A model instance by registered name (or variant name), with settings."""
    models = available_models()
    if name not in models:
        raise SettingsError(f"unknown model {name!r} (available: {', '.join(sorted(models))})")
    if name in VARIANTS:
        base, fixed = VARIANTS[name]
        model = models[base](**{**fixed, **settings})
        model.name = name  # results, files and comparisons carry the variant's name
        return model
    return models[name](**settings)
