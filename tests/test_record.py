"""Records: atomic writes, corrupt files refused with a readable reason."""

from __future__ import annotations

import json
import os

import pytest

from prunebench import record
from prunebench.errors import UsageError


def _record() -> record.RunRecord:
    results = [
        {"experiment": "unpruned", "seed": s, "metrics": {"mse": m, "sparsity_pruned": 0.0}}
        for s, m in ((0, 1.0), (1, 3.0), (2, 2.0))
    ]
    return record.RunRecord(profile="quick", seeds=[0, 1, 2], experiments={}, results=results,
                            environment={"tf": "2.21.0"})


def test_round_trip_and_aggregate(tmp_path):
    path = tmp_path / "r.json"
    record.save(_record(), path)
    back = record.load(path)
    assert back.values("unpruned", "mse") == [1.0, 3.0, 2.0]
    assert back.aggregate()["unpruned"]["mse"]["median"] == 2.0


def test_environment_names_every_version_that_decides_figures():
    env = record.environment()
    for dist in ("tensorflow", "tf-keras", "tensorflow-model-optimization", "numpy"):
        assert dist in env["packages"]
    assert env["python"].startswith("3.")
    assert env["cpu"]


def test_failed_write_leaves_no_file_and_no_temp(tmp_path):
    path = tmp_path / "r.json"
    with pytest.raises(TypeError):
        record.write_json_atomic(path, {"x": object()})
    assert os.listdir(tmp_path) == []


def test_failed_write_keeps_the_previous_file(tmp_path):
    path = tmp_path / "r.json"
    record.write_json_atomic(path, {"old": 1})
    with pytest.raises(TypeError):
        record.write_json_atomic(path, {"x": object()})
    assert json.loads(path.read_text()) == {"old": 1}


@pytest.mark.parametrize(
    ("content", "reason"),
    [("{not json", "corrupt"), ("[]", "not a prunebench results file"),
     ('{"schema": "other/1"}', "not a prunebench results file"),
     (json.dumps({"schema": record.SCHEMA, "profile": "quick"}), "corrupt")],
)
def test_corrupt_record_refused(tmp_path, content, reason):
    path = tmp_path / "r.json"
    path.write_text(content)
    with pytest.raises(UsageError, match=reason):
        record.load(path)


def test_unwritable_destination_refused_before_work(tmp_path):
    with pytest.raises(UsageError, match="no directory"):
        record.check_writable(tmp_path / "missing" / "r.json")
    with pytest.raises(UsageError, match="is a directory"):
        record.check_writable(tmp_path)
