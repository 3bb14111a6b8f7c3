"""The task seam: the registry, declared prunable weights, and every zoo task end to end (smoke)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest

from conftest import skip_known_refusals
from prunebench import (
    baseline,
    compare,
    config,
    data,
    experiments,
    export,
    gate,
    html_report,
    kerasenv,
    parallel,
    pipeline,
    pruning,
    record,
    runners,
    tasks,
)
from prunebench.errors import UsageError
from prunebench.tasks import friedman1

ROOT = Path(__file__).resolve().parents[1]
ZOO = experiments.ZOO
EXAMPLE = "cancer_conv1d"


def test_every_builtin_task_is_registered_with_its_three_experiments():
    registered = tasks.all_tasks()
    assert set(tasks.BUILTIN) <= set(registered)
    for name in ZOO:
        names = [e.name for e in experiments.task_experiments(registered[name])]
        assert names[:3] == [f"{name}/unpruned", f"{name}/whole_model", f"{name}/partial"]
        assert all(experiments.get_experiment(n).task == name for n in names)


@pytest.mark.parametrize("path", sorted((ROOT / "baselines").rglob("tf*.json")),
                         ids=lambda p: str(p.relative_to(ROOT / "baselines")))
def test_every_committed_baseline_holds_the_digests_its_experiments_have_today(path):
    """A change to an experiment's configuration, or to what the digest covers, would make
    every check against that baseline refuse: the registry must still name and digest what
    each committed baseline holds (friedman1's bare names and digests among them)."""
    document = baseline.load(path)
    for profile, section in document["profiles"].items():
        for name, held in section["experiments"].items():
            if held.get("digest") is None:
                continue  # old-format sections kept no digest
            found = config.run_digest(experiments.get_experiment(name), config.get_profile(profile))
            assert found == held["digest"], f"{path}: {profile} {name}"
    assert document["profiles"], path


def test_resolve_puts_each_tasks_unpruned_first():
    chosen = [e.name for e in experiments.resolve(["digits_cnn/partial", "whole_model"])]
    assert chosen == ["digits_cnn/unpruned", "digits_cnn/partial", "unpruned", "whole_model"]


def test_an_experiments_name_says_its_task():
    for name in ("digits_cnn/partial", "whole_model", "cancer_conv1d/unpruned"):
        assert experiments.task_named(name) == experiments.get_experiment(name).task


def test_unknown_task_experiment_names_what_the_task_has():
    with pytest.raises(UsageError, match="digits_cnn/partial"):
        experiments.get_experiment("digits_cnn/nosuch")


def test_a_task_needs_its_unpruned_experiment():
    with pytest.raises(UsageError, match="unpruned"):
        tasks.Task(name="broken", description="", load_data=friedman1.load_data,
                   build_model=lambda d: None, experiments=(experiments.REGISTRY["whole_model"],))


def _task(**given):
    base = dict(name="mine", description="", load_data=friedman1.load_data,
                build_model=friedman1.TASK.build_model, kind="regression")
    return tasks.Task(**{**base, **given})


@pytest.mark.parametrize("given, said", [
    ({"groups": {"few": ("unpruned", "nosuch")}}, r"group 'few' \['nosuch'\] are not its own"),
    ({"groups": {"partial": ("unpruned",)}}, r"\['partial'\] name both a group and an experiment"),
    ({"gated": ("unpruned", "whole_90")}, r"gated experiments \['whole_90'\] are not its own"),
])
def test_a_tasks_groups_and_gated_are_its_own_experiments(given, said):
    with pytest.raises(UsageError, match=said):
        _task(**given)


def test_only_the_seeds_task_has_bare_names():
    with pytest.raises(UsageError, match="only the built-in friedman1 is the seed's task"):
        tasks.register(_task(seed=True))
    groups = _task(groups={"two": ("unpruned", "partial")})
    assert groups.qualified("two") == "mine/two" and friedman1.TASK.qualified("sweep") == "sweep"


def test_the_seeds_catalogue_is_its_task_modules_and_no_other_module_names_it():
    """friedman1 is a task like the others: its experiments and groups come from its
    module, and outside the registry nothing asks whether a task is the default one."""
    assert experiments.GROUPS["sweep"] == tuple(friedman1.TASK.groups["sweep"])
    assert [e.name for e in experiments.task_experiments(friedman1.TASK)] == [
        e.name for e in friedman1.TASK.experiments]
    src = ROOT / "src" / "prunebench"
    naming = [f"{path.relative_to(src)}:{number}" for path in src.rglob("*.py")
              if path.parent.name != "tasks"
              for number, line in enumerate(path.read_text().splitlines(), 1)
              if "tasks.DEFAULT" in line
              or ('"friedman1"' in line and not line.startswith("SEED_TASK = "))]
    assert naming == [], naming  # the name's one source: config.SEED_TASK


@pytest.mark.parametrize("layout, shape", [("flat", (64,)), ("flat784", (784,)),
                                           ("image", (8, 8, 1)), ("rgb", (8, 8, 3)),
                                           ("rows", (8, 8)), ("tokens", (64,))])
def test_digits_layouts_have_their_shapes(layout, shape):
    found = data.digits(config.DataConfig(n_samples=200), layout)
    assert found.x_train.shape[1:] == shape and found.x_train.dtype == np.float32
    assert set(np.unique(found.y_test)) <= set(range(10))
    if layout == "tokens":  # one id per (position, level): within the embedding's vocabulary
        assert found.x_train.max() < data.DIGITS_SIDE**2 * data.DIGITS_LEVELS


def _model(name):
    task = tasks.get(name)
    return task, task.build_model(task.load_data(config.DataConfig(n_samples=200)))


def test_declared_weights_follow_tfmots_prune_registry():
    expected = {
        "digits_cnn": {"conv1/kernel", "conv2/kernel", "output/kernel"},
        "digits_lstm": {"lstm/kernel", "lstm/recurrent_kernel", "output/kernel"},
        "digits_embedding": {"embedding/embeddings", "output/kernel"},
        "digits_attention": {"embed/kernel", "attention/query_dense/kernel",
                             "attention/key_dense/kernel", "attention/value_dense/kernel",
                             "attention/output_dense/kernel", "output/kernel"},
        "digits_mobilenet": {"stem/kernel", "pw1/kernel", "pw2/kernel", "output/kernel"},
    }
    for name, keys in expected.items():
        _, model = _model(name)
        assert set(tasks.declared_weights(model)) == keys, name


@pytest.mark.parametrize("name", [*ZOO, EXAMPLE])
def test_a_task_builds_the_same_model_config_every_time(name):
    # Keras names unnamed layers by a per-process counter ('input_2', 'input_4'): a saved
    # model's size then depends on what ran before it in the process. Every layer is named.
    first, second = _model(name)[1].get_config(), _model(name)[1].get_config()
    assert first == second


def _kept_flatbuffers(folder: Path, prefix: str = "") -> dict[str, bytes]:
    """Return the TFLite files a run kept in ``folder`` (``keep_dir``), by name."""
    return {path.name: path.read_bytes() for path in folder.glob(f"{prefix}*.tflite")}


def test_a_units_files_do_not_depend_on_what_its_process_built_before(smoke_profile, tmp_path):
    """MultiHeadAttention builds its Softmax and Dropout without names, which Keras numbers
    by how many of them the process built before ('softmax_6'), and the number reaches the
    TFLite flatbuffer: in a process pool digits_attention's int8 zip moved by up to 10 bytes
    with what the worker had run. Every unit starts Keras's names afresh."""
    task = tasks.get("digits_attention")
    chosen = experiments.resolve(["digits_attention/whole_model"])

    def flatbuffers(where):
        runners.run(chosen, [0], smoke_profile, keep_dir=where)
        return _kept_flatbuffers(where)

    first = flatbuffers(tmp_path / "first")
    data = task.load_data(smoke_profile.data)
    for _ in range(12):  # what a worker may have built before: softmax_1 .. softmax_12
        task.build(data)
    again = flatbuffers(tmp_path / "again")
    assert sorted(again) == sorted(first) and len(first) == 4  # 2 experiments, float and int8
    assert [name for name in first if again[name] != first[name]] == []


def test_a_worker_prunes_a_base_named_as_its_training_named_it(smoke_profile, tiny_data, tmp_path):
    """A worker of a pool or of Dask builds the seed's trained model again from its weights
    before pruning it, and a pruned copy keeps its base's layer names. A user's layers
    built without names took the worker's count ('dense_7'), into the flatbuffers: built as
    train_base built them, the worker's files are the serial run's."""
    keras = kerasenv.keras()

    def unnamed(data):
        return keras.Sequential([keras.layers.Input(shape=data.x_train.shape[1:]),
                                 keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])

    task = tasks.Task(name="unnamed", description="a user's model, its layers unnamed",
                      load_data=friedman1.load_data, build_model=unnamed, kind="regression")
    unpruned, whole = [e for e in experiments.task_experiments(task)
                       if e.name.endswith(("/unpruned", "/whole_model"))]
    tasks.register(task)
    try:
        pipeline.run_seed(task, [unpruned, whole], 0, smoke_profile, tiny_data,
                          keep_dir=tmp_path / "serial")
        base, fit = pipeline.train_base(task, 0, tiny_data, smoke_profile)
        for _ in range(3):  # what the worker built before
            unnamed(tiny_data)
        parallel._pruned_task(whole, 0, base.get_weights(), fit, smoke_profile, None,
                              tmp_path / "worker", [])
    finally:
        tasks._REGISTERED.pop(task.name)
    serial, worker = (_kept_flatbuffers(tmp_path / side, "unnamed-whole_model-")
                      for side in ("serial", "worker"))
    assert sorted(worker) == sorted(serial) and len(serial) == 2  # float and int8
    assert [name for name in serial if worker[name] != serial[name]] == []


def test_mobilenet_is_pruned_under_the_xnnpack_policy_on_its_pointwise_convs_only():
    task, model = _model("digits_mobilenet")
    prune = config.PruneConfig(scope="whole_model")
    wrapped = pruning.apply_pruning(model, prune, task.partial_layers, task.pruning_policy)
    assert pruning.wrapped_layers(wrapped) == {"pw1", "pw2"}
    assert task.scoped_layers(model, "whole_model") == ["pw1", "pw2"]


def test_int8_sparsity_reads_weights_only_not_an_embeddings_int8_activation():
    # The embedding lookup's int8 output (1, 64, 16) is an activation: its memory is
    # whatever the allocator gave, and once made int8 sparsity differ between processes.
    from prunebench import export, inference

    _, model = _model("digits_embedding")
    flatbuffer = export.to_tflite(model, int8=True)
    sparsity, tensors = inference.tflite_weight_sparsity(flatbuffer)
    assert tensors == 1  # the 1088 x 16 table; the Dense kernel (160 weights) stays float
    assert inference.tflite_weight_sparsity(flatbuffer) == (sparsity, tensors)


def test_partial_scope_without_layers_is_refused():
    _, model = _model("digits_cnn")
    with pytest.raises(ValueError, match="partial layers"):
        pruning.apply_pruning(model, config.PruneConfig(scope="partial"))


@pytest.mark.parametrize("name", ZOO)
def test_zoo_task_runs_end_to_end_and_reaches_its_sparsity(name, smoke_profile, tmp_path):
    task = tasks.get(name)
    chosen = experiments.resolve([f"{name}/{e}" for e in task.gated])
    skip_known_refusals(pipeline.refusals(chosen, smoke_profile), task)
    results = runners.run(chosen, [0], smoke_profile)
    assert [r.experiment for r in results] == [e.name for e in chosen]
    rec = record.from_run(chosen, [0], smoke_profile, results)
    assert rec.tasks() == [name] and {r["task"] for r in rec.results} == {name}
    page = html_report.write([rec], tmp_path).read_text()  # the report: a section per task
    assert (tmp_path / f"{name}-accuracy.png").is_file() and f"{name}: accuracy" in page
    if name == "digits_wide_mlp":
        assert (tmp_path / f"{name}-sparse.png").is_file() and "sparse inference" in page
    unpruned = results[0].metrics
    rows = len(task.load_data(smoke_profile.data).y_test)
    for result in results:
        m = result.metrics
        assert abs(m["sparsity_pruned"] - m["target_sparsity"]) <= 0.01, result.experiment
        assert result.invariants["reload_matches"], result.invariants
        assert result.invariants["tflite_vs_keras_max_diff"] < 1e-3, result.invariants
        # Accuracy counts whole test rows; the float flatbuffer predicts as Keras does (its
        # outputs within 1e-3), so at most a near-tie row may flip between the two.
        assert (m["accuracy"] * rows) == pytest.approx(round(m["accuracy"] * rows)), m["accuracy"]
        assert abs(m["tflite_accuracy"] - m["accuracy"]) <= 1 / rows, result.experiment
        # Related to the same seed's unpruned model, by definition.
        assert m["accuracy_vs_unpruned"] == pytest.approx(m["accuracy"] / unpruned["accuracy"])
        if result.experiment.endswith("block_90"):
            # Every Dense kernel stored sparse, none densified: the sparse kernel runs.
            assert m["tflite_sparse_tensors"] == 3 and m["tflite_densify_ops"] == 0
            assert "DENSIFY" not in result.invariants["tflite_sparse_ops"]
            assert m["tflite_sparse_bytes"] < m["tflite_bytes"] / 4


def test_example_task_is_installed_and_found_by_its_entry_point():
    found = {point.name for point in entry_points(group=tasks.ENTRY_POINT_GROUP)}
    assert EXAMPLE in found, "pip install --no-deps -e examples/prunebench-example-task"
    task = tasks.get(EXAMPLE)
    assert baseline.default_path("2.21", task).is_file()  # committed beside the task


def _cli(*args: str, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([sys.executable, "-m", "prunebench.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=600, env=env)


def test_a_task_spec_that_cannot_be_imported_is_one_line_exit_2():
    done = _cli("list", "--task", "no_such_module:TASK")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "no_such_module" in done.stderr


def test_a_task_spec_registers_a_task_for_one_command():
    done = _cli("list", "--task", "spec_task:TASK", pythonpath=ROOT / "tests" / "data")
    assert done.returncode == 0, done.stderr
    assert "task spec_task" in done.stdout and "spec_task/partial" in done.stdout


def test_a_keras3_model_is_refused_in_one_line_naming_the_fix_before_training(tmp_path):
    from importlib.metadata import PackageNotFoundError, version

    try:
        if int(version("keras").split(".")[0]) < 3:
            pytest.skip("Keras 3 is not installed here (TF < 2.16)")
    except PackageNotFoundError:
        pytest.skip("Keras 3 is not installed here")
    done = _cli("run", "--task", "keras3_task:TASK", "--experiments", "keras3_task",
                "--profile", "smoke", "--out", str(tmp_path / "r.json"),
                pythonpath=ROOT / "tests" / "data")
    assert done.returncode == 2, done.stdout + done.stderr
    message = done.stderr.strip()
    assert message.count("\n") == 0 and "of keras 3." in message, message
    assert "build it with prunebench.kerasenv.keras() (tf_keras)" in message
    assert not (tmp_path / "r.json").exists()


def _two_kernel_task() -> tasks.Task:
    """A task whose custom layer holds two kernels and tells tfmot (``PrunableLayer``) to
    prune only the first: a user's layer tfmot's registry does not know."""
    keras, tfmot = kerasenv.keras(), kerasenv.tfmot()

    @keras.utils.register_keras_serializable(package="prunebench_tests")
    class TwoKernels(keras.layers.Layer, tfmot.sparsity.keras.PrunableLayer):
        def build(self, input_shape):
            width = int(input_shape[-1])
            self.kernel_a = self.add_weight(name="kernel_a", shape=(width, 32))
            self.kernel_b = self.add_weight(name="kernel_b", shape=(width, 32))

        def call(self, x):
            return keras.activations.relu(x @ self.kernel_a) + x @ self.kernel_b

        def get_prunable_weights(self):
            return [self.kernel_a]

    def build(data):
        return keras.Sequential([keras.layers.Input(shape=data.x_train.shape[1:], name="input"),
                                 TwoKernels(name="two"),
                                 keras.layers.Dense(1, name="output")], name="two_kernels")

    return tasks.Task(name="two_kernels", description="a custom PrunableLayer",
                      load_data=friedman1.load_data, build_model=build, kind="regression",
                      partial_layers=("two",))


def test_a_custom_prunable_layer_counts_only_the_weights_it_declares(smoke_profile, tiny_data):
    task = _two_kernel_task()
    model = task.build(tiny_data)
    assert set(tasks.declared_weights(model)) == {"two/kernel_a", "output/kernel"}
    assert task.scoped_layers(model, "whole_model") == ["two", "output"]
    chosen = [e for e in experiments.task_experiments(task)
              if e.name.endswith(("/unpruned", "/partial"))]
    tasks.register(task)
    try:
        unpruned, partial = pipeline.run_seed(task, chosen, 0, smoke_profile, tiny_data)
    finally:
        tasks._REGISTERED.pop(task.name)
    # tfmot pruned kernel_a to the target and left kernel_b dense: counted over kernel_a
    # alone, the sparsity is the target; counting kernel_b too would halve it.
    m = partial.metrics
    assert abs(m["sparsity_pruned"] - m["target_sparsity"]) <= 0.01, m
    assert unpruned.metrics["sparsity_pruned"] == 0.0


def _trained_friedman1(tiny_data):
    """A friedman1 MLP trained here, as a user's own training would leave it."""
    model = tasks.get("friedman1").build(tiny_data)
    tasks.get("friedman1").compile(model)
    kerasenv.seed_everything(7)
    model.fit(tiny_data.x_train, tiny_data.y_train, epochs=2, batch_size=32, verbose=0)
    return model


@pytest.mark.parametrize("form", ["h5", "keras", "savedmodel", "callable"])
def test_a_task_starts_from_the_trained_model_it_is_given(form, tiny_data, tmp_path):
    trained = _trained_friedman1(tiny_data)
    where = {"h5": tmp_path / "m.h5", "keras": tmp_path / "m.keras",
             "savedmodel": tmp_path / "saved"}.get(form)
    if where is not None:
        trained.save(where)
    start = (lambda data: trained) if form == "callable" else where
    task = dataclasses.replace(tasks.get("friedman1"), start=start)
    model = task.started(tiny_data)
    np.testing.assert_allclose(model.predict(tiny_data.x_test, verbose=0),
                               trained.predict(tiny_data.x_test, verbose=0), atol=1e-6)
    assert model.optimizer is not None  # compiled, ready to fine-tune
    label = task.start_label()
    assert ("<lambda>" in label) if form == "callable" else (str(where) in label and "sha256:" in label)


def test_seeds_of_a_started_task_vary_the_pruning_only_and_say_where_they_started(
        smoke_profile, tiny_data, tmp_path):
    _trained_friedman1(tiny_data).save(tmp_path / "mine.h5")
    task = dataclasses.replace(tasks.get("friedman1"), start=tmp_path / "mine.h5")
    chosen = experiments.resolve(["unpruned", "whole_model"])
    runs = [pipeline.run_seed(task, chosen, seed, smoke_profile, tiny_data) for seed in (0, 1)]
    unpruned = [run[0].metrics for run in runs]
    assert unpruned[0]["epochs_run"] == 0 and unpruned[0]["mse"] == unpruned[1]["mse"]
    assert all(r.start.startswith(f"{tmp_path / 'mine.h5'} sha256:") for run in runs for r in run)
    pruned = runs[0][1].metrics
    assert pruned["epochs_run"] > 0
    assert abs(pruned["sparsity_pruned"] - pruned["target_sparsity"]) <= 0.01


def test_a_missing_start_is_one_line(tiny_data, tmp_path):
    task = dataclasses.replace(tasks.get("friedman1"), start=tmp_path / "gone.h5")
    with pytest.raises(UsageError, match=r"no trained model at .*gone\.h5"):
        task.started(tiny_data)


def test_a_task_that_owns_its_training_fits_with_it_and_the_record_says_so(smoke_profile,
                                                                              tiny_data):
    """SGD with momentum, batch 16, 3 epochs unpruned and 2 fine-tuning, a callback of its
    own: what every model.fit got, and what the results and digests say."""
    keras = kerasenv.keras()
    seen: list[dict] = []

    class Spy(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append({"epochs": self.params["epochs"], "steps": self.params["steps"],
                         "optimizer": self.model.optimizer.get_config()})

    training = tasks.Training(optimizer=lambda: keras.optimizers.SGD(momentum=0.9),
                              batch_size=16, epochs={"smoke": (3, 2)}, callbacks=lambda: [Spy()])
    task = tasks.register(_task(name="sgd_mlp", training=training,
                                partial_layers=friedman1.TASK.partial_layers))
    try:
        chosen = experiments.resolve(["sgd_mlp/unpruned", "sgd_mlp/whole_model"])
        unpruned, pruned = pipeline.run_seed(task, chosen, 0, smoke_profile, tiny_data)
        rec = record.from_run(chosen, [0], smoke_profile, [unpruned, pruned])
    finally:
        tasks._REGISTERED.pop("sgd_mlp")
    steps = data.array_steps(len(tiny_data.x_train), 16,
                                    smoke_profile.base_train.validation_split)
    assert [(s["epochs"], s["steps"]) for s in seen] == [(3, steps), (2, steps)]
    assert all(s["optimizer"]["name"] == "SGD" and s["optimizer"]["momentum"] == 0.9 for s in seen)
    said = rec.results[0]["training"]
    assert (said["epochs"], said["batch_size"]) == (3, 16)
    assert said["compiled_with"] == "optimizer SGD(momentum=0.9)"
    assert list(said["callbacks"]) == ["Spy"] and rec.results[1]["training"]["epochs"] == 2
    assert unpruned.metrics["epochs_run"] <= 3 and pruned.metrics["epochs_run"] <= 2
    # Its digests are its own: a baseline of prunebench's training is not taken for it.
    default = record.from_run(experiments.resolve(["unpruned"]), [0], smoke_profile, [])
    assert rec.experiments["sgd_mlp/unpruned"]["digest"] == unpruned.digest
    assert unpruned.digest != default.experiments["unpruned"]["digest"]


def _top2(y_true, y_pred) -> float:
    """Top-2 accuracy of (n, classes) probabilities."""
    best_two = np.argsort(y_pred, axis=1)[:, -2:]
    return float(np.mean([label in row for label, row in zip(y_true, best_two, strict=True)]))


@pytest.mark.long
def test_a_tasks_own_figure_is_measured_recorded_and_judged(smoke_profile, tmp_path):
    """A top-2 accuracy of the task's own: computed on every model, kept in the baseline,
    identical on a clean run, and a regression when it falls beyond its same band."""
    own = tasks.Quality("top2", "higher", compute=_top2, same=compare.Band(abs=0.001),
                        cross=compare.Band(abs=0.02))
    task = tasks.register(dataclasses.replace(tasks.get("digits_cnn"), name="top2_cnn",
                                              figures=(own,)))
    try:
        chosen = experiments.resolve(["top2_cnn/unpruned"])
        data_ = task.load_data(smoke_profile.data)
        results = [r for seed in range(baseline.MIN_SEEDS)
                   for r in pipeline.run_seed(task, chosen, seed, smoke_profile, data_,
                                              keep_dir=tmp_path / "kept")]
        rec = record.from_run(chosen, list(range(baseline.MIN_SEEDS)), smoke_profile, results)
        kept = export.load(tmp_path / "kept" / "top2_cnn-unpruned-seed0.h5")
        expected = _top2(data_.y_test, kept.predict(data_.x_test, verbose=0))
        assert results[0].metrics["top2"] == pytest.approx(expected)
        assert results[0].metrics["top2"] >= results[0].metrics["accuracy"]
        path = tmp_path / "baseline.json"
        baseline.update(path, rec)
        thresholds = compare.load_thresholds().with_figures(
            *tasks.figure_thresholds(["top2_cnn"]))
        clean = gate.gate(rec, baseline.load(path), path, thresholds)
        [line] = [ln for ln in clean.lines if ln.metric == "top2"]
        assert line.verdict is compare.Verdict.OK and "identical on every seed" in line.limit
        for result in rec.results:  # every seed's top-2 accuracy a point lower
            result["metrics"]["top2"] -= 0.01
        [line] = [ln for ln in gate.gate(rec, baseline.load(path), path, thresholds).lines
                  if ln.metric == "top2"]
        assert line.verdict is compare.Verdict.REGRESSION
    finally:
        tasks._REGISTERED.pop("top2_cnn")


def test_a_figure_without_compute_or_named_as_a_built_in_is_refused():
    for figure in (tasks.Quality("auc", "higher"), tasks.Quality("accuracy", "higher", compute=_top2)):
        with pytest.raises(UsageError, match="needs a compute of its own"):
            dataclasses.replace(tasks.get("digits_cnn"), name="bad", figures=(figure,))


def _batched(x, y, rows):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((x, y)).batch(rows)


def test_a_task_may_train_on_a_tf_data_pipeline(smoke_profile):
    """Training batches from tf.data (4 rows, its own length), validation from another; the
    test set stays arrays. Pruning's schedule counts the pipeline's batches."""
    digits = tasks.get("digits_cnn")

    def load(config_):
        arrays = digits.load_data(config_)
        held = len(arrays.x_train) // 5
        return data.Dataset(None, None, arrays.x_test, arrays.y_test,
                            train=_batched(arrays.x_train[held:], arrays.y_train[held:], 4),
                            validation=_batched(arrays.x_train[:held], arrays.y_train[:held], 64))

    task = tasks.register(dataclasses.replace(
        digits, name="tfdata_cnn", load_data=load,
        build_model=lambda d: digits.build_model(dataclasses.replace(d, x_train=d.x_test))))
    try:
        loaded = task.load_data(smoke_profile.data)
        chosen = experiments.resolve(["tfdata_cnn/unpruned", "tfdata_cnn/whole_model"])
        unpruned, pruned = pipeline.run_seed(task, chosen, 0, smoke_profile, loaded)
    finally:
        tasks._REGISTERED.pop("tfdata_cnn")
    assert loaded.steps_per_epoch(32, 0.2) == int(loaded.train.cardinality()) > 100
    assert 1 <= pruned.metrics["epochs_run"] <= smoke_profile.prune_train.epochs
    assert abs(pruned.metrics["sparsity_pruned"] - pruned.metrics["target_sparsity"]) <= 0.01
    assert unpruned.metrics["accuracy"] * len(loaded.y_test) == pytest.approx(
        round(unpruned.metrics["accuracy"] * len(loaded.y_test)))
    # A pipeline of unknown length cannot set pruning's schedule: one line.
    endless = dataclasses.replace(loaded, train=loaded.train.filter(lambda x, y: True))
    with pytest.raises(UsageError, match="no known, finite length"):
        endless.steps_per_epoch(32, 0.2)


def test_a_start_is_hashed_once_and_again_when_it_changes(tmp_path, monkeypatch):
    start = tmp_path / "m.h5"
    start.write_bytes(b"first weights")
    task = dataclasses.replace(tasks.get("friedman1"), start=start)
    reads = []
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self) or real(self))
    first = task.start_label()
    assert task.start_label() == first and len(reads) == 1  # every result records it: read once
    start.write_bytes(b"other weights, longer")
    assert task.start_label() != first and len(reads) == 2
    assert first == f"{start} sha256:{hashlib.sha256(b'first weights').hexdigest()[:16]}"
