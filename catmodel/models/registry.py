"""Models by name: the one place where names become model instances.

``get_model("gaussian", momentum=0.3)`` gives one model; :func:`build_models` a list from a
comma-separated string (or names, or instances) with ``--set`` settings routed to the models
that have them. Every model class carries a ``role``: ``"learning"`` models (the Gaussian,
prototype, exemplar and ALCOVE learners) make up the default lists of studies that compare
learners (:func:`default_models`); ``"response-only"`` models (the guessing floor and the
decision-bound strategies of :mod:`catmodel.models.decision_bound`) are fitted and compared
when asked for, but join no default list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from catmodel.errors import SettingsError
from catmodel.models.base import LEARNING, ROLES, Model

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
    if cls.role not in ROLES:
        raise ValueError(f"{cls.__name__}: role must be one of {ROLES}, not {cls.role!r}")
    _REGISTRY[cls.name] = cls
    return cls


def _load_builtins() -> None:
    # imported here so that importing the registry never imports every model eagerly
    from catmodel.models.alcove import Alcove
    from catmodel.models.decision_bound import MODELS as DECISION_BOUND
    from catmodel.models.exemplar import Exemplar
    from catmodel.models.gaussian import Gaussian
    from catmodel.models.guessing import Guessing
    from catmodel.models.ideal_observer import IdealObserver
    from catmodel.models.prototype import Prototype

    for cls in (Gaussian, Prototype, Exemplar, Alcove, IdealObserver, Guessing, *DECISION_BOUND):
        if cls.name not in _REGISTRY:
            register(cls)


def available_models() -> dict[str, type[Model]]:
    """Registered model classes by name (variants under their own names)."""
    _load_builtins()
    models = dict(_REGISTRY)
    models.update({name: _REGISTRY[base] for name, (base, _) in VARIANTS.items()})
    return models


def default_models(role: str = LEARNING) -> list[str]:
    """Names of the registered models with ``role``, in registration order (no variants).

    The default model list of studies that compare learners (``catmodel model-recovery``).
    """
    if role not in ROLES:
        raise SettingsError(f"unknown model role {role!r} (roles: {', '.join(ROLES)})")
    _load_builtins()
    return [name for name, cls in _REGISTRY.items() if cls.role == role]


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


def build_models(
    models: str | Model | Sequence[str | Model],
    settings: Mapping[str, object] | None = None,
) -> list[Model]:
    """Model instances from names, instances or comma-separated strings of names.

    Parameters
    ----------
    models
        ``"gaussian,exemplar"``, ``["gaussian", Exemplar()]``, or one instance.
    settings
        ``--set`` settings: a plain name (``momentum``) applies to every named model that has
        that setting, ``model.name`` (``gaussian.momentum``) to one. A setting that no named
        model has is an error. Instances are used as they are.

    Raises
    ------
    SettingsError
        No model, an unknown name, or a setting no named model has.
    """
    items = [models] if isinstance(models, (str, Model)) else list(models)
    settings = dict(settings or {})
    known = available_models()
    out: list[Model] = []
    used: set[str] = set()
    for item in items:
        if isinstance(item, Model):
            out.append(item)
            continue
        for name in (n.strip() for n in str(item).split(",")):
            if not name:
                continue
            if name not in known:
                raise SettingsError(
                    f"unknown model {name!r} (available: {', '.join(sorted(known))})"
                )
            mine = {}
            for key, value in settings.items():
                target, _, setting = key.rpartition(".")
                if target and target != name:
                    continue
                if setting in known[name].default_settings:
                    mine[setting] = value
                    used.add(key)
            out.append(get_model(name, **mine))
    if not out:
        raise SettingsError("no model to fit: give at least one model name")
    unused = [k for k in settings if k not in used]
    if unused:
        raise SettingsError(
            f"--set: no requested model has a setting {unused[0]!r} "
            f"(see `catmodel models` for each model's settings)"
        )
    return out
