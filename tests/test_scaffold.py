"""prunebench init: a folder with a trained model and its data becomes a gated project."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from prunebench import cli, kerasenv, project

ROOT = Path(__file__).resolve().parents[1]


def _digits() -> dict[str, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        (x / 16.0).reshape(-1, 8, 8, 1), y, test_size=0.3, random_state=0, stratify=y)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def _trained_cnn(arrays: dict[str, np.ndarray]):
    """A small convolutional model trained here, as a user's training leaves it."""
    keras = kerasenv.keras()
    layers = keras.layers
    kerasenv.seed_everything(0)
    model = keras.Sequential([layers.Input(shape=(8, 8, 1), name="input"),
                              layers.Conv2D(4, 3, activation="relu", name="conv"),
                              layers.Flatten(name="flat"),
                              layers.Dense(24, activation="relu", name="hidden"),
                              layers.Dense(10, activation="softmax", name="output")], name="cnn")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(arrays["x_train"], arrays["y_train"], epochs=2, verbose=0)
    return model


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A user's folder with a trained model (cnn.h5) and its data (digits.npz), worked in."""
    arrays = _digits()
    np.savez(tmp_path / "digits.npz", **arrays)
    _trained_cnn(arrays).save(tmp_path / "cnn.h5")
    monkeypatch.chdir(tmp_path)
    project._current.cache_clear()
    yield tmp_path
    project._current.cache_clear()


INIT = ["init", "--model", "cnn.h5", "--data", "digits.npz", "--kind", "classification"]


def test_init_writes_a_task_of_the_trained_model_its_settings_and_a_workflow(folder, capsys):
    assert cli.main(INIT) == 0, capsys.readouterr().err
    said = capsys.readouterr().out
    written = {"prunebench_task.py", "pyproject.toml", ".github/workflows/prunebench.yml",
               ".github/actions/prunebench/action.yml"}
    assert all(f"wrote {name}" in said for name in written), said
    assert "partial prunes 'hidden'" in said  # the largest prunable layer (24 x 64 + ...)
    assert (folder / "pyproject.toml").read_text() == (
        '[tool.prunebench]\ntasks = ["prunebench_task:TASK"]\n')
    action = (folder / ".github/actions/prunebench/action.yml").read_text()
    assert action == (ROOT / "action.yml").read_text()  # the repository's own action
    workflow = (folder / ".github/workflows/prunebench.yml").read_text()
    assert "uses: ./.github/actions/prunebench" in workflow and "cnn's pruned models" in workflow
    # The task it wrote, as every command finds it: from the project's [tool.prunebench].
    from prunebench import running, tasks

    [name] = running.configured_tasks()
    task = tasks.get(name)
    try:
        assert (name, task.kind, task.partial_layers) == ("cnn", "classification", ("hidden",))
        data = task.load_data(None)
        assert data.x_train.shape[1:] == (8, 8, 1) and data.y_test.dtype == np.int32
        model = task.started(data)
        assert [layer.name for layer in model.layers] == ["conv", "flat", "hidden", "output"]
        assert task.start_label().startswith(f"{folder / 'cnn.h5'} sha256:")
    finally:
        tasks._REGISTERED.pop(name)


def test_a_second_init_refuses_to_overwrite_and_force_does(folder, capsys):
    assert cli.main(INIT) == 0
    module = folder / "prunebench_task.py"
    module.write_text("# edited by the user\n")
    assert cli.main(INIT) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "already exist: --force overwrites them" in err
    assert module.read_text() == "# edited by the user\n"
    assert cli.main([*INIT, "--force"]) == 0 and "TASK = Task(" in module.read_text()
    # The table is there already, naming this task: not appended twice.
    assert (folder / "pyproject.toml").read_text().count("[tool.prunebench]") == 1


@pytest.mark.parametrize(("change", "fragment"), [
    ("no_y_test", "digits.npz has no y_test"),
    ("model_keras3", "saved by Keras 3"),
    ("table_exists", "has a [tool.prunebench] table already"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_is_written(folder, capsys, change, fragment):
    args = list(INIT)
    if change == "no_y_test":
        arrays = dict(np.load(folder / "digits.npz"))
        del arrays["y_test"]
        np.savez(folder / "digits.npz", **arrays)
    elif change == "model_keras3":
        keras3 = pytest.importorskip("keras")
        if int(keras3.__version__.split(".")[0]) < 3:
            pytest.skip("needs Keras 3 installed beside tf-keras")
        keras3.Sequential([keras3.Input((8, 8, 1)), keras3.layers.Flatten(),
                           keras3.layers.Dense(10)]).save(folder / "k3.keras")
        args[2] = "k3.keras"
    else:
        (folder / "pyproject.toml").write_text('[tool.prunebench]\ntasks = ["other:TASK"]\n')
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and fragment in err and err.startswith("prunebench: error:")
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before


def test_the_packaged_action_is_the_repositorys_and_names_its_inputs():
    import yaml

    packaged = (ROOT / "src" / "prunebench" / "action.yml").read_text()
    assert packaged == (ROOT / "action.yml").read_text()
    action = yaml.safe_load(packaged)
    assert set(action["inputs"]) == {"profile", "python-version", "prunebench", "install",
                                     "args", "working-directory"}
    assert all(spec.get("description") for spec in action["inputs"].values())
    assert json.dumps(action["runs"]["using"]) == '"composite"'


def test_a_project_pinning_its_stack_gets_the_upgrade_verdict_on_pull_requests(folder, capsys):
    import yaml

    assert cli.main(INIT) == 0
    jobs = yaml.safe_load((folder / ".github/workflows/prunebench.yml").read_text())["jobs"]
    assert set(jobs) == {"gate"}  # nothing pins the stack: no upgrade to judge
    (folder / "requirements.txt").write_text(f"tensorflow=={kerasenv.tf_version()}\n")
    assert cli.main([*INIT, "--force"]) == 0
    jobs = yaml.safe_load((folder / ".github/workflows/prunebench.yml").read_text())["jobs"]
    upgrade = jobs["upgrade"]
    assert upgrade["if"] == "github.event_name == 'pull_request'"
    [said] = [s["run"] for s in upgrade["steps"] if "prunebench upgrade" in s.get("run", "")]
    assert '--from "$RUNNER_TEMP/before.txt" --to requirements.txt' in said
    assert any("origin/${{ github.base_ref }}:requirements.txt" in s.get("run", "")
               for s in upgrade["steps"])
