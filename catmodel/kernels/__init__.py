"""Compiled CPU kernels (numba) for forward-only rollouts and the choice rule.

Each kernel mirrors a model's PyTorch step function exactly; tests hold them to 1e-10.

Importing this package points numba's cache at the user's cache folder, keyed by catmodel's
version and the kernel sources (:mod:`catmodel.kernels.cache`), before any kernel module
imports numba: compiled code never lands inside the installed package; the first compilation
in a process prints one line on stderr.
"""

from catmodel.kernels.cache import configure as _configure_cache
from catmodel.kernels.cache import install_compile_notice as _install_compile_notice

_configure_cache()
_install_compile_notice()  # imports numba, after the cache folder is set
