"""Learning models: parameter specs, pure batched step functions, and the registry."""

from catmodel.models.base import LAPSE, TEMPERATURE, Model, Param
from catmodel.models.choice import choice_log_probs, response_log_likelihood
from catmodel.models.registry import available_models, get_model, register
from catmodel.models.rollout import rollout_logits, torch_rollout

__all__ = [
    "LAPSE",
    "TEMPERATURE",
    "Model",
    "Param",
    "available_models",
    "choice_log_probs",
    "get_model",
    "register",
    "response_log_likelihood",
    "rollout_logits",
    "torch_rollout",
]
