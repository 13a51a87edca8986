"""Models by name: ``get_model("gaussian", momentum=0.3)``."""

from __future__ import annotations

from catmodel.errors import SettingsError
from catmodel.models.base import Model

_REGISTRY: dict[str, type[Model]] = {}


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
    """Registered model classes by name."""
    _load_builtins()
    return dict(_REGISTRY)


def get_model(name: str, **settings) -> Model:
    """A model instance by registered name, with settings."""
    models = available_models()
    if name not in models:
        raise SettingsError(f"unknown model {name!r} (available: {', '.join(sorted(models))})")
    return models[name](**settings)
