"""ALCOVE: attention learning covering map (Kruschke, 1992).

Network
    Hidden nodes sit at stimuli. With the setting ``nodes="session"`` (default, as in the
    original, where nodes sit at the training exemplars) every distinct stimulus of the
    learner's whole session has a node from trial 1; with ``nodes="seen"`` a node is recruited
    when its stimulus is first presented (it takes part from that trial on). "Distinct" means
    equal feature vectors after standardisation. A node's activation is::

        a_j = exp(-c sum_d alpha_d |h_jd - x_d|)                 (metric "city-block")
        a_j = exp(-c (sum_d alpha_d (h_jd - x_d)^2)^(1/2))       (metric "euclidean")

    with specificity ``c`` and learned attention strengths ``alpha_d`` (starting at 1/D).
    Category outputs are ``o_k = sum_j w_kj a_j`` (association weights start at 0). The
    original's response mapping ``P(k) ∝ exp(phi o_k)`` is the shared choice rule with
    ``phi = 1 / temperature``, so phi is not a second free parameter.

Learning (after the trial's feedback; both gradients use the weights and attention before the
update, as in backpropagation)
    Humble teachers: ``t_k = max(1, o_k)`` for the feedback category, ``min(-1, o_k)``
    otherwise. Gradient descent on ``E = 1/2 sum_k (t_k - o_k)^2``::

        w_kj    <- w_kj + lr_w (t_k - o_k) a_j
        alpha_d <- max(0, alpha_d - lr_attn c sum_j [sum_k (t_k - o_k) w_kj] a_j D_jd)

    with ``D_jd = |h_jd - x_d|`` (city-block) or ``(h_jd - x_d)^2 / (2 dist_j)`` (Euclidean;
    taken as 0 at ``dist_j = 0``, where the root's derivative is infinite). Attention is
    clipped at 0 after each update, as in the original.

Safeguards (not in the original; they never bind at sensible rates)
    With many nodes that all respond to a stimulus (small ``c``) and a large ``lr_w``, the
    weight update overshoots its target by a factor ``lr_w sum_j a_j^2`` and, above 2, oscillates
    with growing amplitude; near that limit the likelihood, though smooth, bends so sharply
    (second derivatives near 1e10 in log10 units) that a change in the ninth digit of a
    parameter moves the NLL, and fits there are not reproducible. So the weight step uses
    ``min(lr_w, 1 / sum_j a_j^2)``: the delta rule's no-overshoot limit, at which one step
    moves the outputs exactly to their teachers. With Kruschke's SHJ values (8 nodes, c = 3.25
    here) ``lr_w sum_j a_j^2`` stays below 0.1, so the cap binds only where many broad
    receptive fields overlap (on 400 trials of continuous 2-D stimuli, ``c`` near 1 and
    ``lr_w`` above about 0.01). Association weights are also clipped to [-1e3, 1e3] and
    attention strengths to [0, 1e3] after each update, to keep the likelihood finite everywhere
    in the box; in ordinary learning weights stay near ±1 and attention below a few units.

Parameters
    ``specificity`` c (log, [10^-1, 10^1.5], generating [10^0, 10^1]), ``lr_w`` (log,
    [10^-3.5, 10^0], generating [10^-2.25, 10^-1]), ``lr_attn`` (log, [10^-5, 10^-2.5],
    generating [10^-4.5, 10^-3]) and the temperature (log, [10^-3, 10^1], generating
    [10^-2, 10^-0.75]); lapse fixed at 0.01 unless freed.

    Why ``lr_attn`` stops at 10^-2.5: an attention step is ``lr_attn * c`` times the gradient,
    and where that product exceeds about 0.1 the attention strengths overshoot and the
    learner's trajectory turns chaotic: a change in the ninth digit of a rate changes the NLL of
    real participants by several units (``benchmarks/smoothness.py``; 1.7 % of vectors over the
    old box [10^-5, 10^0.5] were not smooth, none with ``lr_attn * c <= 0.1``). With c at most
    10^1.5, the box keeps that product at or below 10^-1. The cost, measured on 40 participants
    of ``crossley_cat_unlearn_2cat`` (trials 1-300): in-sample NLL 5998 against 5946 over the
    old box (README). Fits to Shepard-Hovland-Jenkins curves need larger attention rates (the
    fitted optimum below has ``lr_attn * c`` = 1.9): widen the box with ``--bounds``
    (``lr_attn=1e-5:3``) knowing that the likelihood is then rough.

    On standardised binary features (±1) distances are twice those on 0/1 coding, so the
    original's ``c`` corresponds to ``c / 2`` here (activations, both updates and the choice
    rule are otherwise identical): Kruschke's SHJ values (c = 6.5, phi = 2, lr_w = 0.03,
    lr_attn = 0.0033) are c = 3.25, temperature = 0.5 here. Fitted to Nosofsky et al.'s (1994)
    SHJ curves (``tests/models/test_models_shj.py``): c = 2.8, lr_w = 0.076, lr_attn = 0.68,
    temperature = 0.51 — the same optimum as R's ``catlearn::nosof94exalcove`` (c 5.82 on 0/1
    coding, phi 1.95, lambda_w 0.075, lambda_a 0.99): outside the default box (see above).

Learning curves in the generating box (method in :mod:`catmodel.models.similarity`)
    (a) ``ii`` task, blocks 1..10 of 30 trials (one node per trial):

        session     .591 .697 .732 .749 .765 .777 .777 .780 .791 .787
        seen        .544 .619 .671 .701 .726 .744 .749 .754 .767 .765
        euclidean   .606 .714 .745 .764 .775 .783 .785 .788 .796 .794

    (b) SHJ, blocks 1 / 4 / 16: I .66/.97/.99, II .53/.88/.98, III .59/.93/.99,
        IV .60/.95/.99, V .55/.87/.94, VI .47/.76/.90.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, NamedTuple

import numpy as np
import torch

from catmodel.errors import SettingsError
from catmodel.models.base import Model, Param, State, make_temperature
from catmodel.models.similarity import metric_exponent, safe_sqrt

#: association weights are clipped to [-WEIGHT_LIMIT, WEIGHT_LIMIT] (a safeguard)
WEIGHT_LIMIT = 1e3
#: attention strengths are clipped to [0, ATTENTION_LIMIT] (a safeguard; 0 is the original's)
ATTENTION_LIMIT = 1e3
#: "first trial" of padding nodes: they never become active
_NEVER = np.iinfo(np.int64).max // 2


def session_nodes(batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct stimuli of every batch row, in order of first presentation.

    Returns
    -------
    nodes
        (R, J, D) float64: node positions (padding nodes at 0), J = the largest number of
        distinct stimuli of any row (at least 1).
    first
        (R, J) int64: trial position of each node's first presentation (``_NEVER`` for padding).
    n_nodes
        (R,) int64: number of distinct stimuli of each row.

    The arrays are cached on the batch (its ``meta`` dict).
    """
    key = "_alcove_nodes"
    cached = batch.meta.get(key)
    if cached is not None and cached[0] is batch.x:
        return cached[1]
    x = batch.x.detach().cpu().numpy().astype(np.float64)
    n_trials = batch.n_trials.cpu().numpy()
    rows = []
    for r in range(x.shape[0]):
        real = x[r, : n_trials[r]]
        if len(real):
            _, first_index = np.unique(real, axis=0, return_index=True)
            order = np.sort(first_index)
        else:
            order = np.zeros(0, dtype=np.int64)
        rows.append(order)
    j_max = max(1, max((len(o) for o in rows), default=0))
    nodes = np.zeros((x.shape[0], j_max, x.shape[2]))
    first = np.full((x.shape[0], j_max), _NEVER, dtype=np.int64)
    n_nodes = np.zeros(x.shape[0], dtype=np.int64)
    for r, order in enumerate(rows):
        nodes[r, : len(order)] = x[r, order]
        first[r, : len(order)] = order
        n_nodes[r] = len(order)
    arrays = (nodes, first, n_nodes)
    batch.meta[key] = (batch.x, arrays)
    return arrays


class AlcoveState(NamedTuple):
    """ALCOVE's learned attention and weights, and its (fixed) exemplar nodes."""

    attention: torch.Tensor  #: (L, D) dimensional attention strengths
    weights: torch.Tensor  #: (L, K, J) association weights of the nodes
    nodes: torch.Tensor  #: (L, J, D) node positions (the session's stimuli)
    first: torch.Tensor  #: (L, J) long: the trial from which each node is active


class Alcove(Model):
    """Kruschke's (1992) ALCOVE: exemplar nodes, learned attention, humble-teacher LMS."""

    name = "alcove"
    summary = (
        "ALCOVE (Kruschke, 1992): exemplar nodes with learned dimensional attention and "
        "association weights, humble-teacher gradient descent"
    )
    temperature_param = make_temperature(10**-3, 10**1, 0.1, (10**-2, 10**-0.75))
    default_settings: ClassVar[dict] = {"metric": "city-block", "nodes": "session"}
    setting_docs: ClassVar[dict] = {
        "metric": "city-block (separable dimensions, r = 1) or euclidean (integral, r = 2)",
        "nodes": "session: a node at every distinct stimulus of the session from trial 1 (the "
        "original); seen: a node is recruited when its stimulus is first presented",
    }

    def _check_settings(self) -> None:
        self.r = metric_exponent(str(self.settings["metric"]))
        if self.settings["nodes"] not in ("session", "seen"):
            raise SettingsError(f"nodes must be session or seen, got {self.settings['nodes']!r}")
        self.seen = self.settings["nodes"] == "seen"

    # --- parameters -------------------------------------------------------------------
    def learning_params(self, n_features: int, n_categories: int) -> list[Param]:
        return [
            Param(
                "specificity",
                3.0,
                10**-1,
                10**1.5,
                "log",
                generating=(10**0, 10**1),
                doc="specificity c of the hidden nodes' receptive fields",
            ),
            Param(
                "lr_w",
                0.03,
                10**-3.5,
                10**0,
                "log",
                generating=(10**-2.25, 10**-1),
                doc="learning rate of the association weights",
            ),
            Param(
                "lr_attn",
                0.001,
                10**-5,
                10**-2.5,
                "log",
                generating=(10**-4.5, 10**-3),
                doc="learning rate of the attention strengths",
            ),
        ]

    # --- the learner ------------------------------------------------------------------
    def node_arrays(self, batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Node positions, the trial from which each node is active, and node counts."""
        nodes, first, n_nodes = session_nodes(batch)
        if not self.seen:
            first = np.where(first < _NEVER, 0, _NEVER)
        return nodes, first, n_nodes

    def init_state(self, batch, index, values) -> State:
        x = batch.x
        nodes, first, _ = self.node_arrays(batch)
        idx = torch.as_tensor(index, dtype=torch.long).cpu().numpy()
        h = torch.as_tensor(nodes[idx], dtype=x.dtype, device=x.device)
        start = torch.as_tensor(first[idx], dtype=torch.long, device=x.device)
        n, j, d = h.shape
        attention = torch.full((n, d), 1.0 / d, dtype=x.dtype, device=x.device)
        weights = torch.zeros((n, batch.n_categories, j), dtype=x.dtype, device=x.device)
        return AlcoveState(attention, weights, h, start)

    def step(self, state, t, x, feedback, values: Mapping[str, torch.Tensor]):
        attention, weights, h, start = state
        k = weights.shape[1]
        c = values["specificity"]
        active = start <= t  # (L, J)
        diff = torch.abs(h - x[:, None, :])  # (L, J, D)
        if self.r == 1:
            dist = (attention[:, None, :] * diff).sum(-1)
            deriv = diff  # d dist / d alpha_d
        else:
            square = diff * diff
            s = (attention[:, None, :] * square).sum(-1)
            dist = safe_sqrt(s)
            positive = s > 0
            half_inv = torch.where(positive, 0.5 / torch.where(positive, dist, 1.0), 0.0)
            deriv = square * half_inv[:, :, None]
        a = torch.where(active, torch.exp(-c[:, None] * dist), 0.0)  # (L, J)
        out = (weights * a[:, None, :]).sum(-1)  # (L, K)

        hit = torch.arange(k, device=x.device)[None, :] == feedback[:, None]
        teacher = torch.where(hit, torch.clamp(out, min=1.0), torch.clamp(out, max=-1.0))
        err = teacher - out  # (L, K)
        back = (weights * err[:, :, None]).sum(1)  # (L, J), with the weights before the update
        grad_attention = ((back * a)[:, :, None] * deriv).sum(1)  # (L, D), / c
        # the delta rule's no-overshoot limit (module docstring, Safeguards)
        rate = torch.minimum(values["lr_w"], 1.0 / (a * a).sum(-1).clamp_min(1e-300))
        new_weights = torch.clamp(
            weights + (rate[:, None] * err)[:, :, None] * a[:, None, :],
            -WEIGHT_LIMIT,
            WEIGHT_LIMIT,
        )
        new_attention = torch.clamp(
            attention - (values["lr_attn"] * c)[:, None] * grad_attention, 0.0, ATTENTION_LIMIT
        )
        learn = feedback >= 0
        new_state = AlcoveState(
            torch.where(learn[:, None], new_attention, attention),
            torch.where(learn[:, None, None], new_weights, weights),
            h,
            start,
        )
        return new_state, out

    # --- kernel -----------------------------------------------------------------------
    def kernel_logits(self, batch, index, values):
        if batch.x.dtype != torch.float64:
            return None
        from catmodel.kernels.alcove import alcove_logits

        nodes, first, n_nodes = session_nodes(batch)
        return alcove_logits(
            batch,
            index,
            nodes,
            n_nodes,
            np.ascontiguousarray(values["specificity"], dtype=np.float64),
            np.ascontiguousarray(values["lr_w"], dtype=np.float64),
            np.ascontiguousarray(values["lr_attn"], dtype=np.float64),
            r=self.r,
            seen=self.seen,
            weight_limit=WEIGHT_LIMIT,
            attention_limit=ATTENTION_LIMIT,
            first=first,
        )

    def describe_state(self, state: State, index: int) -> dict:
        attention, weights, h, _ = state
        return {
            "attention": attention[index].detach().cpu().numpy(),
            "weights": weights[index].detach().cpu().numpy(),
            "nodes": h[index].detach().cpu().numpy(),
        }
