"""asv.conf.json: asv ignores unknown keys silently and pins versions with ==, so check it here."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parent.parent / "asv.conf.json"
#: Every key asv 0.6 reads (asv/config.py); anything else is a typo asv would ignore.
ASV_KEYS = {
    "version", "project", "project_url", "repo", "repo_subdir", "branches", "pythons",
    "matrix", "exclude", "include", "env_dir", "benchmark_dir", "results_dir", "html_dir",
    "show_commit_url", "hash_length", "environment_type", "install_timeout",
    "default_benchmark_timeout", "dvcs", "regressions_first_commits", "regressions_thresholds",
    "plugins", "conda_channels", "conda_environment_file", "build_command", "install_command",
    "uninstall_command", "launch_method", "build_cache_size",
}
EXACT = re.compile(r"^\d+\.\d+\.\d+$")


def minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def environments(conf: dict) -> list[dict[str, str]]:
    """Return the {tensorflow, tf-keras} pairs asv builds: the product minus exclusions."""
    req = conf["matrix"]["req"]
    pairs = [{"tensorflow": tf, "tf-keras": tfk}
             for tf, tfk in itertools.product(req["tensorflow"], req["tf-keras"])]

    def excluded(pair):
        return any(all(re.fullmatch(pattern, pair[key])
                       for key, pattern in rule.get("req", {}).items())
                   for rule in conf.get("exclude", []))

    return [p for p in pairs if not excluded(p)]


def problems(conf: dict) -> list[str]:
    """Return what is wrong with an asv configuration, one message per problem."""
    found = [f"unknown key {k!r}" for k in sorted(set(conf) - ASV_KEYS)]
    req = conf.get("matrix", {}).get("req", {})
    for dist in ("tensorflow", "tf-keras"):
        found += [f"{dist} {v!r} is not an exact X.Y.Z version"
                  for v in req.get(dist, []) if not EXACT.match(v)]
    if found:
        return found
    envs = environments(conf)
    for env in envs:
        if minor(env["tensorflow"]) != minor(env["tf-keras"]):
            found.append(f"TF {env['tensorflow']} paired with tf-keras {env['tf-keras']}")
    for tf in req["tensorflow"]:
        if tuple(map(int, tf.split(".")[:2])) >= (2, 16) and not any(
                e["tensorflow"] == tf for e in envs):
            found.append(f"TF {tf} has no environment with its tf-keras")
    return found


@pytest.fixture(scope="module")
def conf() -> dict:
    return json.loads(CONF.read_text())


def test_committed_config_is_clean(conf):
    assert problems(conf) == []


def test_matrix_is_one_environment_per_tf_minor_2_15_to_2_21(conf):
    envs = environments(conf)
    assert sorted(minor(e["tensorflow"]) for e in envs) == [f"2.{m}" for m in range(15, 22)]
    assert conf["benchmark_dir"] == "benchmarks" and conf["branches"] == ["main"]
    assert conf["environment_type"] == "virtualenv"


def test_unknown_key_rejected(conf):
    assert problems({**conf, "regression_thresholds": {}}) == ["unknown key 'regression_thresholds'"]


def test_non_exact_version_rejected(conf):
    bad = json.loads(json.dumps(conf))
    bad["matrix"]["req"]["tensorflow"][0] = "2.15"
    assert problems(bad) == ["tensorflow '2.15' is not an exact X.Y.Z version"]


def test_tf_216_without_its_tf_keras_rejected(conf):
    bad = json.loads(json.dumps(conf))
    bad["matrix"]["req"]["tf-keras"].remove("2.16.0")
    assert problems(bad) == ["TF 2.16.2 has no environment with its tf-keras"]


def test_mismatched_pair_left_in_rejected(conf):
    bad = json.loads(json.dumps(conf))
    bad["exclude"] = [r for r in bad["exclude"] if r["req"]["tensorflow"] != r"2\.17\.1"]
    assert "TF 2.17.1 paired with tf-keras 2.15.1" in problems(bad)


def test_nightly_conf_installs_one_tensorflow():
    # asv installs "req" entries with their dependencies: tensorflow or tf-keras there, or
    # tfmot and prunebench installed with theirs, would pull TF 2.21 in beside tf-nightly.
    conf = json.loads((CONF.parent / "asv.nightly.conf.json").read_text())
    assert not set(conf) - ASV_KEYS
    assert not {"tensorflow", "tf-keras", "tf-nightly"} & set(conf["matrix"]["req"])
    first, second = conf["install_command"]
    assert first.endswith("pip install -r {build_dir}/requirements/tf-nightly.txt")
    assert "--no-deps tensorflow-model-optimization==0.8.1 {wheel_file}" in second
    stable = json.loads(CONF.read_text())
    assert conf["results_dir"] == stable["results_dir"]  # one history, next to the releases
    assert conf["env_dir"] != stable["env_dir"]
