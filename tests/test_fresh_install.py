"""prunebench as a user's dependency: a fresh virtual environment with prunebench installed
from a wheel (not this checkout), in a folder outside the checkout.

- the composite action's own steps (action.yml, inputs substituted) judge the example
  task at the smoke profile, then fail on a regression injected into tfmot;
- `prunebench init` makes a project of a trained convolutional model with a training of
  its own (SGD with momentum, batch 16, 3 epochs: read back from the record), its
  baseline, a passing check, a failing one (JUnit and Markdown name the figure), and
  one line for a Keras 3 model.

Slow (a TensorFlow environment, ~2-4 minutes with a warm uv cache): `pytest -m slow`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INJECT = ROOT / "scripts" / "inject"
TF = "2.21"

# One worker for both tests: they share the fresh environment and prunebench installed there.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("fresh-install")]


def _uv() -> str | None:
    """Return uv: beside this interpreter (the dev extras' tox-uv brings it), or on PATH."""
    beside = Path(sys.executable).parent / "uv"
    return str(beside) if beside.is_file() else shutil.which("uv")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """Return (python, folder): a new venv, and an empty folder outside the checkout."""
    uv = _uv()
    if uv is None:
        pytest.skip("needs uv: the fresh environment is built from its cache")
    base = tmp_path_factory.mktemp("fresh")
    venv = base / "venv"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    folder = base / "project"
    folder.mkdir()
    return venv / "bin" / "python", folder


def _action_steps() -> list[dict]:
    import yaml

    return yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["steps"]


def _run_step(step: dict, inputs: dict[str, str], python: Path, cwd: Path,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run one `run:` step as GitHub runs a bash step, its ${{ inputs.X }} substituted."""
    script = re.sub(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", lambda m: inputs[m.group(1)], step["run"])
    # setup-python's step: the fresh interpreter first; then uv, as on a runner that has it.
    path = os.pathsep.join([str(python.parent), str(Path(_uv() or "uv").parent), os.environ["PATH"]])
    full = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                          cwd=cwd, env={**full, "PATH": path, **(env or {})},
                          capture_output=True, text=True, timeout=1800, check=False)


def _inputs(**given: str) -> dict[str, str]:
    import yaml

    action = yaml.safe_load((ROOT / "action.yml").read_text())
    return {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()} | given


def _cli(python: Path, cwd: Path, *args: str, env: dict[str, str] | None = None):
    full = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(python), "-m", "prunebench.cli", *args], cwd=cwd,
                          env={**full, **(env or {})}, capture_output=True, text=True,
                          timeout=1800, check=False)


@pytest.fixture(scope="module")
def installed(fresh, tmp_path_factory):
    """The action's install step, run: prunebench from a wheel of this checkout, the pinned
    TF, and the example task (not editable either)."""
    python, folder = fresh
    wheels = tmp_path_factory.mktemp("wheels")
    subprocess.run([str(_uv()), "build", "--quiet", "--wheel", "--out-dir", str(wheels),
                    str(ROOT)], check=True, capture_output=True)
    [wheel] = wheels.glob("prunebench-*.whl")
    [install] = [s for s in _action_steps() if s.get("name", "").startswith("Install")]
    done = _run_step(install, _inputs(
        prunebench=str(wheel),
        install=f"-r {ROOT / 'requirements' / f'tf{TF}.txt'} "
                f"{ROOT / 'examples' / 'prunebench-example-task'}"), python, folder)
    assert done.returncode == 0, done.stderr[-3000:]
    where = subprocess.run([str(python), "-c", "import prunebench, sys; print(prunebench.__file__);"
                            "print(any(p.startswith(sys.argv[1]) for p in sys.path))", str(ROOT)],
                           cwd=folder, capture_output=True, text=True, check=True).stdout.split()
    assert "site-packages" in where[0] and not where[0].startswith(str(ROOT)), where
    assert where[1] == "False", "the checkout is on the fresh environment's sys.path"
    # Installed, not a checkout: an upgrade's built sides install this version by name.
    said = subprocess.run([str(python), "-c", "from prunebench import __version__, envbuild;"
                           "print(envbuild.source()[0] == [f'prunebench=={__version__}'])"],
                          cwd=folder, capture_output=True, text=True, check=True).stdout
    assert said.strip() == "True"
    return python, folder


def test_the_composite_actions_steps_gate_the_example_task_and_fail_on_a_regression(
        installed, tmp_path):
    python, _ = installed
    project = tmp_path / "user"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[tool.prunebench]\ntasks = ["prunebench_example.task:TASK"]\n')
    made = _cli(python, project, "baseline", "--update", "--profile", "smoke")
    assert made.returncode == 0, made.stderr[-3000:]
    [gate] = [s for s in _action_steps() if s.get("id") == "gate"]
    runs = {}
    for label, env in (("clean", {}), ("injected", {"INJECT": "schedule:0.1",
                                                    "PYTHONPATH": str(INJECT)})):
        summary, output = tmp_path / f"{label}.md", tmp_path / f"{label}.out"
        done = _run_step(gate, _inputs(profile="smoke"), python, project,
                         {**env, "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output)})
        runs[label] = (done, summary.read_text(), output.read_text())
        print(f"{label}: exit {done.returncode}; {output.read_text().strip()}; "
              f"{done.stdout.strip().splitlines()[-1]}")  # shown with -rP
    done, summary, output = runs["clean"]
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert output == "verdict=PASS\n" and summary.startswith("## prunebench check: **PASS**")
    assert "cancer_conv1d" in summary and "digits_cnn" not in summary  # the project's task only
    done, summary, output = runs["injected"]
    assert done.returncode == 1 and output == "verdict=FAIL\n"
    assert "| REGRESSION | `cancer_conv1d/partial.sparsity_pruned` |" in summary
    failed = [c.get("classname") + "." + c.get("name")
              for c in ET.parse(project / "prunebench-junit.xml").iter("testcase")
              if c.find("failure") is not None]
    assert "prunebench.check.cancer_conv1d/partial.sparsity_pruned" in failed


TRAIN = '''
import numpy as np
import tf_keras as keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

x, y = load_digits(return_X_y=True)
x_train, x_test, y_train, y_test = train_test_split(
    (x / 16.0).reshape(-1, 8, 8, 1).astype("float32"), y, test_size=0.3, random_state=0,
    stratify=y)
np.savez("digits.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(8, 3, activation="relu",
                          name="conv"), keras.layers.Flatten(name="flat"),
                          keras.layers.Dense(10, activation="softmax", name="output")])
model.compile(optimizer=keras.optimizers.SGD(momentum=0.9),
              loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, batch_size=16, epochs=3, verbose=0)
model.save("cnn.h5")

import keras as keras3
keras3.Sequential([keras3.Input((8, 8, 1)), keras3.layers.Flatten(),
                   keras3.layers.Dense(10)]).save("k3.keras")
'''

OWN_TRAINING = '''
import dataclasses
from prunebench import kerasenv

TASK = dataclasses.replace(TASK, training=Training(
    optimizer=lambda: kerasenv.keras().optimizers.SGD(momentum=0.9), batch_size=16,
    epochs={"smoke": (3, 3)}))
'''


def test_init_makes_a_gated_project_of_a_trained_model_with_its_own_training(installed, tmp_path):
    python, _ = installed
    project = tmp_path / "mine"
    project.mkdir()
    subprocess.run([str(python), "-c", TRAIN], cwd=project, check=True, capture_output=True)
    keras3 = _cli(python, project, "init", "--model", "k3.keras", "--data", "digits.npz",
                  "--kind", "classification")
    assert keras3.returncode == 2 and keras3.stderr.strip().count("\n") == 0, keras3.stderr
    assert "saved by Keras 3" in keras3.stderr and not (project / "pyproject.toml").exists()
    init = _cli(python, project, "init", "--model", "cnn.h5", "--data", "digits.npz",
                "--kind", "classification")
    assert init.returncode == 0, init.stderr[-3000:]
    with (project / "prunebench_task.py").open("a") as module:
        module.write(OWN_TRAINING)
    made = _cli(python, project, "baseline", "--update", "--profile", "smoke")
    assert made.returncode == 0, made.stderr[-3000:]
    [base] = project.glob("baselines/cnn/tf*.json")
    clean = _cli(python, project, "check", "--profile", "smoke", "--out", "clean.json")
    assert clean.returncode == 0, clean.stdout[-3000:] + clean.stderr[-3000:]
    results = json.loads((project / "clean.json").read_text())["results"]
    unpruned = next(r for r in results if r["experiment"] == "cnn/unpruned")
    tuned = next(r for r in results if r["experiment"] == "cnn/partial")
    assert unpruned["start"].startswith(str(project / "cnn.h5")) and unpruned["metrics"]["epochs_run"] == 0
    assert (tuned["training"]["compiled_with"], tuned["training"]["batch_size"],
            tuned["training"]["epochs"]) == ("optimizer SGD(momentum=0.9)", 16, 3)
    injected = _cli(python, project, "check", "--profile", "smoke", "--junit", "j.xml",
                    "--markdown", "v.md", env={"INJECT": "schedule:0.1",
                                               "PYTHONPATH": str(INJECT)})
    print(injected.stdout.strip().splitlines()[-1], base)  # shown with -rP
    assert injected.returncode == 1, injected.stdout[-3000:]
    assert "| REGRESSION | `cnn/partial.sparsity_pruned` |" in (project / "v.md").read_text()
    failures = [c.get("name") for c in ET.parse(project / "j.xml").iter("testcase")
                if c.find("failure") is not None]
    assert "sparsity_pruned" in failures
