"""Where configurations are evaluated: in this process (Numba, all cores) or on a Dask cluster.

An executor is started once with the prepared bars, then evaluates parameter matrices (rows of kernel parameters)
into metric matrices (columns ``METRIC_NAMES``). Both executors run the same kernel, so their results are
bit-identical for the same rows.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from core.bars import BarArrays
from core.engine import NO_VOLATILITY, run_params, volatility_inputs

DEFAULT_CHUNK = 2_000


class Executor(Protocol):
    """Evaluates parameter matrices on bars given once to :meth:`start`."""

    name: str

    def start(self, bars: BarArrays) -> None:
        """Receive the data (once per study run)."""

    def evaluate(self, params: np.ndarray) -> np.ndarray:
        """Metric matrix ``(n, len(METRIC_NAMES))`` of a parameter matrix ``(n, N_PARAMS)``."""

    def close(self) -> None:
        """Release resources (never closes a client it did not create)."""


class LocalExecutor:
    """The Numba fast path in this process, ``chunk`` rows per kernel call (bounds memory for huge batches)."""

    name = "local"

    def __init__(self, n_threads: int | None = None, chunk: int = DEFAULT_CHUNK) -> None:
        self.n_threads = n_threads
        self.chunk = max(1, int(chunk))
        self._bars: BarArrays | None = None

    def start(self, bars: BarArrays) -> None:
        """Keep a reference to the bars."""
        self._bars = bars

    def evaluate(self, params: np.ndarray) -> np.ndarray:
        """Run the kernel chunk by chunk."""
        if self._bars is None:
            raise RuntimeError("LocalExecutor.start() was not called")
        parts = [run_params(self._bars, params[i : i + self.chunk], self.n_threads)
                 for i in range(0, max(len(params), 1), self.chunk)]
        return np.vstack(parts) if len(parts) > 1 else parts[0]

    def close(self) -> None:
        """Drop the bars."""
        self._bars = None


def _run_chunk(bars: BarArrays, params: np.ndarray, n_threads: int | None) -> np.ndarray:
    """One Dask task. Module-level so that workers unpickle it by reference.

    With one thread the rows go one by one through the serial kernel (``run_one``, which ``run_many`` calls for
    each row, so the numbers are identical): a Dask worker running several tasks at once in threads must not
    launch Numba parallel regions concurrently (the ``workqueue`` threading layer does not allow it).
    """
    if n_threads != 1:
        return run_params(bars, params, n_threads)
    from core import kernel as K

    out = np.empty((params.shape[0], K.N_METRICS))
    no_rec, no_div = np.empty((0, K.N_RECORD)), np.empty((0, K.N_DIV_RECORD))
    params = np.ascontiguousarray(params, dtype=np.float64)
    sigma, sigma_row = volatility_inputs(bars.close, params)  # one series per window, as run_params does
    for j in range(params.shape[0]):
        bar_sigma = sigma[sigma_row[j]] if sigma_row[j] >= 0 else NO_VOLATILITY
        out[j] = K.run_one(bars.close, bars.day, bars.in_session, bars.div_ex_day, bars.div_amount,
                           bars.div_pay_day, params[j], bar_sigma, bars.n_days, no_rec, no_div)
    return out


class DaskExecutor:
    """Chunks of configurations as tasks on a ``dask.distributed`` cluster.

    ``scheduler`` is an address (``tcp://host:8786``) or an existing ``distributed.Client``. The bars are
    scattered to every worker once (:meth:`start`); each chunk of ``chunk`` rows is one task. With ``n_threads=1``
    (the default) a task runs its rows serially, so parallelism comes from Dask (worker processes × threads).
    Workers need this project importable (same code and packages as the client).
    """

    name = "dask"

    def __init__(self, scheduler: Any, chunk: int = 500, n_threads: int | None = 1) -> None:
        from distributed import Client

        if isinstance(scheduler, Client):
            self.client, self._own = scheduler, False
        else:
            try:
                self.client, self._own = Client(scheduler, timeout="10s"), True
            except OSError as exc:
                raise ConnectionError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        self.chunk = max(1, int(chunk))
        self.n_threads = n_threads
        self._bars: Any = None

    def start(self, bars: BarArrays) -> None:
        """Send the bars to every worker once."""
        self._bars = self.client.scatter(bars, broadcast=True)

    def evaluate(self, params: np.ndarray) -> np.ndarray:
        """One task per chunk; results gathered in order."""
        if self._bars is None:
            raise RuntimeError("DaskExecutor.start() was not called")
        if len(params) == 0:
            return run_params_empty()
        futures = [
            self.client.submit(_run_chunk, self._bars, params[i : i + self.chunk], self.n_threads, pure=False)
            for i in range(0, len(params), self.chunk)
        ]
        return np.vstack(self.client.gather(futures))

    def close(self) -> None:
        """Release the scattered data; close the client if this executor opened it."""
        if self._bars is not None:
            self.client.cancel(self._bars)
            self._bars = None
        if self._own:
            self.client.close()


def run_params_empty() -> np.ndarray:
    """An empty metric matrix."""
    from core.engine import METRIC_NAMES

    return np.empty((0, len(METRIC_NAMES)))


def make_executor(kind: str = "local", scheduler: str | None = None, **options: Any) -> Executor:
    """``"local"`` or ``"dask"`` (which needs ``scheduler``)."""
    if kind == "local":
        return LocalExecutor(**options)
    if kind == "dask":
        if not scheduler:
            raise ValueError("the dask executor needs a scheduler address, e.g. tcp://10.0.0.5:8786")
        return DaskExecutor(scheduler, **options)
    raise ValueError(f"executor must be local or dask, got {kind!r}")
