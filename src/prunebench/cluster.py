"""Runs on an existing Dask cluster (``--scheduler ADDRESS``): its concurrent.futures executor.

Dask's executor has no initializer, so every task sets its worker up itself, first thing
(``parallel._task`` calls ``kerasenv.keras()``): the Keras choice (``TF_USE_LEGACY_KERAS``)
and the runtime variables are set before TensorFlow is first imported in that worker
process, and TensorFlow's
threads are pinned (``PRUNEBENCH_THREADS``, default 1), as the local process pool's
initializer does. Workers must run one task at a time (``--nthreads 1``): Keras' seeding
is per process. Workers whose TensorFlow, tf-keras or tfmot differ from this process's are
refused before anything runs. Dask is imported only here, only for ``--scheduler``.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from prunebench.errors import UsageError

#: Seconds to reach the scheduler before giving up with one line.
CONNECT_TIMEOUT = 20
#: Packages whose versions must match between this process and every worker.
MATCHED = ("tensorflow", "tf-keras", "tensorflow-model-optimization")


def worker_versions() -> dict[str, str | None]:
    """Return the matched packages' versions in this process (run on each worker)."""
    from prunebench.record import environment

    packages = environment()["packages"]
    return {name: packages.get(name) for name in MATCHED}


def _check_workers(client: Any, address: str) -> None:
    workers = client.scheduler_info()["workers"]
    if not workers:
        raise UsageError(f"the Dask cluster at {address} has no workers")
    threaded = [w for w, info in workers.items() if info.get("nthreads", 1) != 1]
    if threaded:
        raise UsageError(f"Dask worker {threaded[0]} runs {workers[threaded[0]]['nthreads']} "
                         "threads: start workers with --nthreads 1 (Keras seeds per process)")
    here = worker_versions()
    for worker, found in client.run(worker_versions).items():
        differ = [f"{name} {found.get(name)} (here {here[name]})" for name in MATCHED
                  if found.get(name) != here[name]]
        if differ:
            raise UsageError(f"Dask worker {worker} has another {', '.join(differ)}: "
                             "its figures would not be this environment's; refused")


@contextmanager
def executor(address: str, matched: bool = True) -> Iterator[Executor]:
    """Yield a concurrent.futures executor on the Dask cluster at ``address``, checked first.

    ``matched``: refuse workers whose TensorFlow, tf-keras or tfmot differ from this
    process's (off for work that runs in interpreters of its own: ``prunebench upgrade``).
    """
    try:
        from distributed import Client
    except ImportError:
        raise UsageError("--scheduler needs Dask: pip install 'prunebench[dask]'") from None
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise UsageError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        if matched:
            _check_workers(client, address)
        elif not client.scheduler_info()["workers"]:
            raise UsageError(f"the Dask cluster at {address} has no workers")
        # pure=False: the same (seed, experiment) submitted twice is run twice, not cached.
        yield client.get_executor(pure=False)
    finally:
        client.close()


def lost_worker(exc: BaseException) -> bool:
    """Return whether ``exc`` says a task's worker died more often than Dask retries."""
    return type(exc).__name__ in ("KilledWorker", "CommClosedError", "FutureCancelledError")


@contextmanager
def threads_or_cluster(jobs: int, scheduler: str | None) -> Iterator[Executor]:
    """Yield ``jobs`` threads, or the executor of the Dask cluster at ``scheduler`` for work
    that runs in interpreters of its own (workers' packages not matched)."""
    if scheduler is None:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            yield pool
    else:
        with executor(scheduler, matched=False) as pool:
            yield pool
