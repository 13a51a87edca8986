"""--scheduler dask: the units of a fit on a 2-worker LocalCluster give the local fit."""

from __future__ import annotations

import pytest

from catmodel.data.batch import batch_from_frame
from catmodel.errors import SettingsError
from catmodel.fitting.checkpoint import Checkpoint
from catmodel.fitting.fit import fit
from catmodel.fitting.scheduler import check_scheduler
from tests.conftest import small_frame

distributed = pytest.importorskip("distributed")

MODELS = "prototype,exemplar"


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local_cluster:
        yield local_cluster


@pytest.mark.parametrize(
    ("method", "units"),
    [("ml", 8), ("eb", 2)],  # ML: 2 models x 4 chunks of one; EB: one EM per model
)
def test_a_fit_on_two_dask_workers_equals_the_local_fit(tmp_path, cluster, method, units):
    batch = batch_from_frame(small_frame(n_learners=4, n_trials=40), ["x1", "x2"])
    options = {"starts": 2, "candidates": 16, "ci": "wald", "chunk_size": 1, "method": method}
    local = fit(batch, MODELS, **options)
    checkpoint = Checkpoint(tmp_path, {"test": "dask"}, resume=False)
    remote = fit(
        batch,
        MODELS,
        **options,
        checkpoint=checkpoint,
        scheduler="dask",
        dask_address=cluster.scheduler_address,
    )
    assert remote.to_frame().to_csv(index=False) == local.to_frame().to_csv(index=False)
    assert remote.starts_frame().equals(local.starts_frame())
    assert remote.notes == local.notes
    assert len(list(checkpoint.folder.glob("*.pkl"))) == units  # every unit saved as it came


def test_scheduler_options_are_checked():
    with pytest.raises(SettingsError, match="unknown scheduler"):
        check_scheduler("slurm")
    with pytest.raises(SettingsError, match="needs --scheduler dask"):
        check_scheduler("local", "tcp://127.0.0.1:8786")
