"""catmodel: trial-by-trial models of human category learning.

Read trial data (:mod:`catmodel.data`), run learning models (:mod:`catmodel.models`), fit them
per participant by maximum likelihood (:mod:`catmodel.fitting`), compare them
(:mod:`catmodel.compare`), simulate (:mod:`catmodel.simulate`) and plot (:mod:`catmodel.plots`).
"""

__version__ = "0.1.0"
