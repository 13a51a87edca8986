"""Trial data: reading participants' trial files into a validated long table and batched tensors.

>>> from catmodel.data import ColumnMap, load_trials
>>> table = load_trials("data/sub_*.csv", ColumnMap(participant="subject", category="cat",
...                                                 response="resp", features=("x", "y")))
>>> batch = table.to_batch()
"""

from catmodel.data.batch import Standardization, TrialBatch
from catmodel.data.schema import ColumnMap
from catmodel.data.trials import TrialTable, load_trials
from catmodel.errors import DataError

__all__ = [
    "ColumnMap",
    "DataError",
    "Standardization",
    "TrialBatch",
    "TrialTable",
    "load_trials",
]
