"""Runs on a real Dask cluster: a distributed.LocalCluster with two worker processes.

The figures of a run on the cluster equal the serial run's (timing aside); a worker whose
process is killed mid-run leaves either a whole record equal to the serial one (Dask
re-ran its task elsewhere) or exit != 0 with one line and no file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from prunebench import cli
from prunebench import cluster as cluster_module

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[1]
#: Deterministic figures: equal across processes for one seed (timing and wall time are not).
EXACT = ("mse", "sparsity_pruned", "keras_zip_bytes", "tflite_zip_bytes", "tflite_int8_mse")
RUN = ("run", "--profile", "smoke", "--seeds", "0", "1", "--experiments", "whole_model")


#: The tests of one LocalCluster and one serial run: one worker starts them once.
SHARES_THE_CLUSTER = pytest.mark.xdist_group("cluster")


@pytest.fixture(scope="module")
def cluster():
    # Worker processes, one thread each, as prunebench requires; the nanny restarts a
    # killed worker, as on a real cluster.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", silence_logs=40) as found, \
            distributed.Client(found) as client:
        yield found, client


def _cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "prunebench.cli", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _figures(path: Path) -> dict[tuple[str, int], dict[str, float]]:
    results = json.loads(path.read_text())["results"]
    return {(r["experiment"], r["seed"]): {m: r["metrics"][m] for m in EXACT} for r in results}


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "serial.json"
    done = _cli(*RUN, "--out", str(out))
    assert done.wait(timeout=900) == 0, done.stderr.read()
    return _figures(out)


@SHARES_THE_CLUSTER
def test_cluster_run_gives_the_serial_figures_and_each_workers_environment(cluster, serial,
                                                                          tmp_path):
    found, client = cluster
    out = tmp_path / "cluster.json"
    done = _cli(*RUN, "--scheduler", found.scheduler_address, "--out", str(out))
    assert done.wait(timeout=900) == 0, done.stderr.read()
    assert _figures(out) == serial
    results = json.loads(out.read_text())["results"]
    assert all(r["environment"]["packages"]["tensorflow"] for r in results)
    # Two seeds' unpruned models are submitted at once to two idle one-thread workers: the
    # work is spread over both, and ran nowhere else (not in this process, not in the CLI's).
    workers = set(client.run(os.getpid).values())
    assert {r["environment"]["pid"] for r in results} == workers and len(workers) == 2


@SHARES_THE_CLUSTER
def test_a_worker_killed_mid_run_leaves_a_whole_record_or_none(cluster, serial, tmp_path):
    found, client = cluster
    out = tmp_path / "killed.json"
    run = _cli(*RUN, "--scheduler", found.scheduler_address, "--out", str(out))
    killed: list[int] = []
    killer = threading.Thread(target=lambda: killed.append(_kill_first_busy_worker(client)))
    killer.start()
    code = run.wait(timeout=900)
    killer.join()
    stderr = run.stderr.read()
    assert killed and killed[0] in _pids_before_now(client, killed[0]), "no worker was killed"
    print(f"killed worker {killed[0]} mid-run: exit {code}, record "
          f"{'whole' if out.exists() else 'absent'}"
          f"{'; ' + stderr.strip() if code else ''}")  # shown with -rP
    if code == 0:
        assert _figures(out) == serial  # Dask re-ran the lost task: a whole, equal record
    else:
        assert not out.exists(), "a half-written record"
        assert stderr.strip().count("\n") == 0 and "lost" in stderr, stderr


def _pids_before_now(client, pid: int) -> set[int]:
    """Return the given pid if it no longer runs a worker of ``client`` (the nanny restarted
    another in its place), else the empty set: the kill did not take."""
    alive = set(client.run(os.getpid).values())
    return {pid} if pid not in alive else set()


def _kill_first_busy_worker(client) -> int:
    """SIGKILL the first worker seen running a task; return its pid, or fail the test."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        busy = [w for w, tasks in client.processing().items() if tasks]
        if busy:
            pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
            os.kill(pid, signal.SIGKILL)
            return pid
        time.sleep(0.2)
    pytest.fail("no worker ran a task within 300 s: nothing was killed")


def test_a_task_whose_worker_dies_with_no_retry_left_fails_in_one_line(tmp_path):
    import dask

    # No retry allowed: the first lost worker fails its task (KilledWorker).
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     dashboard_address=":0", silence_logs=40) as found, \
            distributed.Client(found) as client:
        out = tmp_path / "lost.json"
        run = _cli(*RUN, "--scheduler", found.scheduler_address, "--out", str(out))
        killed = _kill_first_busy_worker(client)
        code = run.wait(timeout=900)
        assert killed in _pids_before_now(client, killed), "no worker was killed"
        stderr = run.stderr.read()
    print(f"worker killed, no retry: exit {code}; {stderr.strip()}")  # shown with -rP
    assert code == 2 and not out.exists()
    assert stderr.strip().count("\n") == 0 and "was lost running" in stderr, stderr


def test_workers_with_several_threads_are_refused(tmp_path):
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  dashboard_address=":0", silence_logs=40) as found:
        done = _cli(*RUN, "--scheduler", found.scheduler_address, "--out", str(tmp_path / "x"))
        assert done.wait(timeout=300) == 2
        message = done.stderr.read()
        assert message.strip().count("\n") == 0 and "--nthreads 1" in message, message
    assert not (tmp_path / "x").exists()


def test_an_unreachable_scheduler_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    # In this process, its connection retries cut from 20 s to 1: nothing listens on port 9.
    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT", 1)
    assert cli.main([*RUN, "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "x")]) == 2
    message = capsys.readouterr().err
    assert message.strip().count("\n") == 0 and "cannot reach" in message, message
