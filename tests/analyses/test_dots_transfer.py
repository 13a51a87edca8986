"""The dot-pattern transfer trials are predicted, not learned from.

``hu_nosofsky_dots``'s transfer phase shows no feedback; ``catmodel datasets get`` leaves its
``feedback`` missing (``tests/data/test_datasets.py``), and a trial without feedback leaves a
model's state unchanged (``tests/models/test_models_contract.py``). This test checks the two
together on the real data, for every learning model of the phenomena table: the prediction for
a transfer trial must not depend on the order of the other transfer trials. Were the transfer
trials learned from, an earlier transfer trial would change the prediction for a later one —
which the control case (the same trials with feedback) shows the check would detect.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analyses import phenomena
from tests.conftest import SHARED_DATASETS


@pytest.fixture(scope="module")
def one_participant() -> pd.DataFrame:
    if not SHARED_DATASETS.exists():
        pytest.skip("the shared data sets are absent")
    from catmodel.data.datasets import get_dataset

    frame = get_dataset("hu_nosofsky_dots", "mc_2024", source=SHARED_DATASETS)
    first = frame["participant"].iloc[0]
    return frame[frame["participant"] == first].reset_index(drop=True)


def predictions(model, frame: pd.DataFrame) -> np.ndarray:
    """The model's logits (rows of ``frame`` x categories) at the middle of its generating box.

    Logits, not choice probabilities: at some parameters a model's choices saturate (P(correct)
    within 1e-12 of 1), which would hide a change of its state from the check.
    """
    from catmodel.data import TrialTable
    from catmodel.models.params import ParameterSet
    from catmodel.models.rollout import rollout_logits

    table = TrialTable.from_frame(frame)
    batch = table.to_batch()
    pset = ParameterSet.for_model(model, batch.n_features, batch.n_categories)
    lo, hi = pset.generating_scale_box()
    values = pset.scale_to_natural(((lo + hi) / 2)[None])
    logits = rollout_logits(model, batch, np.arange(batch.n_learners), values).numpy()
    back = table.frame["source_row"].to_numpy() - 1
    out = np.full((len(frame), logits.shape[-1]), np.nan)
    for k in range(logits.shape[-1]):
        out[back, k] = batch.on_table_rows(logits[..., k], len(frame))
    return out


def reversed_transfer(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """``frame`` with its transfer trials shown in reverse order, and the new row order."""
    train = np.flatnonzero(frame["phase"] != "transfer")
    transfer = np.flatnonzero(frame["phase"] == "transfer")
    order = np.concatenate([train, transfer[::-1]])
    out = frame.iloc[order].reset_index(drop=True)
    out["trial"] = np.arange(1, len(out) + 1)
    return out, order


def test_the_transfer_phase_has_no_feedback(one_participant):
    transfer = one_participant["phase"] == "transfer"
    assert transfer.sum() == 84
    assert one_participant.loc[transfer, "feedback"].isna().all()
    assert one_participant.loc[~transfer, "feedback"].notna().all()


@pytest.mark.parametrize("name", phenomena.models())
def test_transfer_predictions_do_not_depend_on_the_transfer_order(one_participant, name):
    from catmodel.models.registry import get_model

    model = get_model(name)
    transfer = (one_participant["phase"] == "transfer").to_numpy()

    def order_effect(frame: pd.DataFrame) -> float:
        forward = predictions(model, frame)
        shuffled, order = reversed_transfer(frame)
        backward = np.full_like(forward, np.nan)
        backward[order] = predictions(model, shuffled)
        return float(np.max(np.abs(forward[transfer] - backward[transfer])))

    # as converted: no feedback in transfer, so the state after training predicts every trial
    assert order_effect(one_participant) < 1e-9
    # control: had the transfer trials carried feedback, their order would matter
    with_feedback = one_participant.assign(feedback=one_participant["category"])
    assert order_effect(with_feedback) > 1e-4
