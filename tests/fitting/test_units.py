"""Units of a fit (model x chunk of learners): the merged result equals one fit of all
learners, and a checkpoint keeps finished units for a resumed run."""

from __future__ import annotations

import numpy as np
import pytest

from catmodel.data.batch import batch_from_frame
from catmodel.errors import SettingsError
from catmodel.fitting.checkpoint import Checkpoint, identity_hash
from catmodel.fitting.fit import fit
from catmodel.fitting.units import plan_units
from tests.conftest import small_frame

MODELS = "prototype,gaussian"


def _csv(result) -> tuple[str, str]:
    return result.to_frame().to_csv(index=False), result.starts_frame().to_csv(index=False)


@pytest.fixture(scope="module")
def whole():
    batch = batch_from_frame(small_frame(n_learners=4, n_trials=40), ["x1", "x2"])
    return batch, fit(batch, MODELS, starts=3, candidates=16, ci="profile")


@pytest.mark.parametrize("chunk_size", [1, 2])
def test_a_chunked_fit_equals_the_whole_fit_number_for_number(whole, chunk_size):
    batch, result = whole
    chunked = fit(batch, MODELS, starts=3, candidates=16, ci="profile", chunk_size=chunk_size)
    assert _csv(chunked) == _csv(result)
    assert chunked.notes == result.notes


def test_units_cover_every_learner_of_every_model_once():
    units = plan_units(["a", "b"], 7, 3)
    assert [(u.model_name, u.start, u.stop) for u in units] == [
        ("a", 0, 3),
        ("a", 3, 6),
        ("a", 6, 7),
        ("b", 0, 3),
        ("b", 3, 6),
        ("b", 6, 7),
    ]
    assert len({u.key for u in units}) == len(units)
    with pytest.raises(SettingsError, match="chunk-size"):
        plan_units(["a"], 7, 0)


def test_a_resumed_fit_loads_saved_units_and_gives_the_same_result(whole, tmp_path):
    batch, result = whole
    identity = {"data": "x", "seed": 0}
    first = Checkpoint(tmp_path, identity, resume=False)
    fit(batch, MODELS, starts=3, candidates=16, ci="profile", chunk_size=2, checkpoint=first)
    saved = sorted(p.name for p in first.folder.glob("*.pkl"))
    assert len(saved) == 4  # 2 models x 2 chunks
    (first.folder / saved[-1]).unlink()  # as if killed during the last unit
    again = Checkpoint(tmp_path, identity, resume=True)
    resumed = fit(
        batch, MODELS, starts=3, candidates=16, ci="profile", chunk_size=2, checkpoint=again
    )
    assert len(again.resumed) == 3
    assert _csv(resumed) == _csv(result)


def test_a_checkpoint_of_another_run_is_refused_and_discarded_without_resume(tmp_path):
    Checkpoint(tmp_path, {"seed": 0}, resume=False).save("u", 1)
    with pytest.raises(SettingsError, match="other data, options"):
        Checkpoint(tmp_path, {"seed": 1}, resume=True)
    fresh = Checkpoint(tmp_path, {"seed": 1}, resume=False)
    assert not fresh.done("u")
    assert Checkpoint(tmp_path, {"seed": 1}, resume=True).hash == identity_hash({"seed": 1})


def test_identity_hash_ignores_key_order_but_not_values():
    assert identity_hash({"a": 1, "b": [1, 2]}) == identity_hash({"b": [1, 2], "a": 1})
    assert identity_hash({"a": 1}) != identity_hash({"a": 2})


def test_fit_on_cuda_without_one_is_a_settings_error(whole):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    batch, _ = whole
    with pytest.raises(SettingsError, match="no CUDA device"):
        fit(batch, "prototype", device="cuda")
    result = fit(batch, "prototype", starts=2, candidates=16, ci=None, device="auto")
    assert np.isfinite(result.fits[0].nll).all()
