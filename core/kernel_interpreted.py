"""The rules of :mod:`core.kernel`, run by the Python interpreter instead of Numba.

The same source file is executed a second time with ``njit`` made a no-op and ``prange`` made ``range``. This is
the "plain Python loop of the same rules" the benchmarks compare against, and a check that compiled and
interpreted semantics agree (integer division, float rounding, NaN handling).
"""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import numba

_KERNEL_PATH = Path(__file__).with_name("kernel.py")


def _no_jit(*args, **kwargs):
    if args and callable(args[0]):
        return args[0]
    return lambda fn: fn


@cache
def load() -> ModuleType:
    """The interpreted copy of ``core.kernel`` (module name ``core.kernel_python``), built once per process."""
    name = "core.kernel_python"
    spec = importlib.util.spec_from_file_location(name, _KERNEL_PATH)
    module = importlib.util.module_from_spec(spec)
    saved = numba.njit, numba.prange
    numba.njit, numba.prange = _no_jit, range
    try:
        sys.modules[name] = module
        spec.loader.exec_module(module)
    finally:
        numba.njit, numba.prange = saved
    return module
