"""Beyond the seed: the sweep registry, random masks, 2:4, PQAT, parallel runs, the report."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from prunebench import (
    cli,
    config,
    data,
    experiments,
    html_report,
    html_tables,
    kerasenv,
    metrics,
    pruning,
    record,
    runners,
)
from prunebench.errors import UsageError
from prunebench.tasks import friedman1


def test_sweep_group_is_four_sparsities_two_schedules_two_scopes():
    chosen = experiments.resolve(["sweep"])
    assert chosen[0].name == experiments.UNPRUNED
    grid = {(e.prune.scope, e.prune.schedule, e.prune.target_sparsity) for e in chosen[1:]}
    assert grid == {(scope, schedule, target) for scope in ("whole_model", "hidden_dense")
                    for schedule in config.SCHEDULES for target in friedman1.SWEEP_SPARSITIES}
    assert len(chosen) == 17


def test_groups_name_registered_experiments_and_mix_with_names():
    for group, names in experiments.GROUPS.items():
        assert set(names) <= set(experiments.REGISTRY), group
    chosen = [e.name for e in experiments.resolve(["structured", "whole_model", "unpruned"])]
    assert chosen == ["unpruned", "whole_2by4", "dense_2by4", "whole_model"]
    with pytest.raises(UsageError, match="unknown experiment 'sweeps'"):
        experiments.resolve(["sweeps"])


def test_every_registry_entry_has_one_family_and_a_unique_curve_point():
    points = {(experiments.family(e), e.prune.target_sparsity if e.prune else 0.0)
              for e in experiments.REGISTRY.values()}
    assert len(points) == len(experiments.REGISTRY)


def test_a_later_option_set_changes_the_digest():
    # That every committed baseline's digests still match: test_tasks.py.
    quick = config.get_profile("quick")
    changed = config.ExperimentConfig("x", "", config.PruneConfig("whole_model", method="random"))
    same = config.ExperimentConfig("x", "", config.PruneConfig("whole_model"))
    assert config.run_digest(changed, quick) != config.run_digest(same, quick)


@pytest.mark.parametrize("kwargs, message", [
    ({"m_by_n": (4, 2)}, "0 < m < n"),
    ({"m_by_n": (2, 4), "method": "random"}, "method magnitude"),
    ({"method": "lottery"}, "unknown pruning method"),
    ({"ramp_fraction": 0.0}, "ramp_fraction"),
])
def test_bad_prune_options_are_refused(kwargs, message):
    with pytest.raises(UsageError, match=message):
        config.PruneConfig(scope="whole_model", **kwargs)


def test_pqat_needs_a_pruned_experiment_and_a_known_scheme():
    with pytest.raises(UsageError, match="pruned experiment"):
        config.ExperimentConfig("q", "", quantize="pqat")
    with pytest.raises(UsageError, match="unknown quantization"):
        config.ExperimentConfig("q", "", config.PruneConfig("whole_model"), quantize="int4")


def test_polynomial_end_step_lands_on_the_pruning_grid():
    poly = config.PruneConfig("whole_model", schedule="polynomial", target_sparsity=0.875)
    steps = data.array_steps(6700, 32, 0.2)
    assert steps == 168  # the quick and full profiles' fine-tune
    resolved = pruning.resolve_end_step(poly, steps, epochs=10)
    assert resolved.end_step == 800  # 5 ramp epochs = 840 steps, last multiple of 100
    assert pruning.ramp_epochs(poly, 10) == 5
    constant = config.PruneConfig("whole_model")
    assert pruning.resolve_end_step(constant, steps, 10) is constant
    assert pruning.ramp_epochs(constant, 10) == 0


def test_is_m_by_n_reads_groups_along_the_input_axis():
    kernel = np.ones((8, 3))
    assert not metrics.is_m_by_n(kernel, 2, 4)
    kernel[[0, 1, 4, 5], :] = 0.0  # two zeros in each group of four inputs, every output
    assert metrics.is_m_by_n(kernel, 2, 4)
    assert not metrics.is_m_by_n(kernel.T, 2, 4)  # along outputs it is not 2:4
    short = np.ones((10, 2))
    short[[0, 1, 4, 5], :] = 0.0
    assert metrics.is_m_by_n(short, 2, 4)  # the last two inputs: a padded group


def test_is_m_by_n_agrees_with_tfmot():
    kerasenv.tfmot()
    import tensorflow as tf
    from tensorflow_model_optimization.python.core.sparsity.keras import pruning_utils

    rng = np.random.default_rng(0)
    for _ in range(20):
        kernel = rng.normal(size=(12, 5)).astype(np.float32)
        mask = pruning_utils.generate_m_by_n_mask(tf.constant(kernel.T), (2, 4)).numpy().T
        for candidate in (kernel, kernel * mask):
            assert metrics.is_m_by_n(candidate, 2, 4) == bool(
                pruning_utils.is_pruned_m_by_n(tf.constant(candidate), (2, 4)))


def test_pareto_front_keeps_only_undominated_points():
    points = [(100, 5.0), (200, 3.0), (150, 6.0), (300, 3.5), (400, 1.0)]
    assert html_report.pareto_front(points) == [(100, 5.0), (200, 3.0), (400, 1.0)]


PQAT = kerasenv.pqat_supported()
needs_pqat = pytest.mark.skipif(not PQAT, reason="tfmot's PQAT fails on TF 2.15 (see kerasenv)")
BEYOND = ["whole_poly_87.5", "dense_random_75", "whole_2by4",
          *(["whole_pqat_87.5"] if PQAT else [])]


#: The tests of one smoke run of BEYOND: one worker runs them, after one training.
SHARES_THE_RUN = pytest.mark.xdist_group("beyond-run")


@pytest.fixture(scope="module")
def kept_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("kept")


@pytest.fixture(scope="module")
def beyond_run(smoke_profile, kept_dir):
    chosen = experiments.resolve(BEYOND)
    results = runners.run(chosen, [0], smoke_profile, keep_dir=kept_dir)
    return record.from_run(chosen, [0], smoke_profile, results)


@SHARES_THE_RUN
def test_kept_models_are_named_after_dotted_experiments(beyond_run, kept_dir):
    for name in ["unpruned", *BEYOND]:
        for suffix in (".h5", ".tflite", ".int8.tflite"):
            assert (kept_dir / f"{name}-seed0{suffix}").is_file(), (name, suffix)


def _figures(rec, name):
    return next(r["metrics"] for r in rec.results if r["experiment"] == name)


@SHARES_THE_RUN
def test_polynomial_schedule_reaches_its_target(beyond_run):
    figures = _figures(beyond_run, "whole_poly_87.5")
    # tfmot rounds each layer's pruned count to whole weights: 1/128 of the output kernel.
    assert abs(figures["sparsity_pruned"] - 0.875) <= 1 / 128


@SHARES_THE_RUN
def test_random_control_reaches_its_sparsity_exactly(beyond_run):
    figures = _figures(beyond_run, "dense_random_75")
    assert figures["sparsity_pruned"] == 0.75
    assert figures["sparsity_kernels"] < 0.75  # the output layer is untouched


def test_random_masks_are_seeded_and_exact():
    model = friedman1.build_model(10)
    layers = [friedman1.HIDDEN_LAYER]  # the scope's layers, as the task gives them
    prune = config.PruneConfig("hidden_dense", target_sparsity=0.75, method="random")
    first = pruning.random_masks(model, layers, prune, seed=0)
    again = pruning.random_masks(model, layers, prune, seed=0)["hidden"]
    other = pruning.random_masks(model, layers, prune, seed=1)["hidden"]
    assert list(first) == ["hidden"]  # the scope: the hidden layer only
    assert first["hidden"].shape == (10, 128) and np.count_nonzero(first["hidden"] == 0) == 960
    np.testing.assert_array_equal(first["hidden"], again)
    assert not np.array_equal(first["hidden"], other)


@SHARES_THE_RUN
def test_2by4_is_verified_on_the_stripped_weights(beyond_run):
    figures = _figures(beyond_run, "whole_2by4")
    assert figures["m_by_n_ok"] == 1.0
    # The hidden kernel has 10 inputs: its last group of two is padded, so kept whole:
    # 0.4 there, 0.5 on the 128-input output kernel.
    assert figures["target_sparsity"] == pytest.approx((0.4 * 1280 + 0.5 * 128) / 1408)
    assert figures["sparsity_pruned"] >= figures["target_sparsity"]


def test_m_by_n_sparsity_counts_the_padded_last_group():
    assert metrics.m_by_n_sparsity([(8, 3)], 2, 4) == 0.5
    assert metrics.m_by_n_sparsity([(10, 128)], 2, 4) == 0.4
    assert metrics.m_by_n_sparsity([(11, 1)], 2, 4) == pytest.approx(5 / 11)  # 3 left: 1 goes
    assert metrics.m_by_n_sparsity([(10, 128), (128, 1)], 2, 4) == pytest.approx(576 / 1408)


@pytest.mark.skipif(PQAT, reason="PQAT runs on this TensorFlow")
def test_pqat_is_refused_before_training_where_tfmot_cannot_do_it(smoke_profile):
    with pytest.raises(UsageError, match=r"PQAT experiments need TensorFlow >= 2\.16"):
        runners.run(experiments.resolve(["whole_pqat_50"]), [0], smoke_profile)


@SHARES_THE_RUN
@needs_pqat
def test_pqat_keeps_sparsity_through_int8(beyond_run):
    figures = _figures(beyond_run, "whole_pqat_87.5")
    assert figures["tflite_int8_tensors"] == 2  # both kernels quantized
    assert figures["tflite_int8_sparsity"] >= 0.87
    assert figures["tflite_int8_bytes"] < figures["tflite_bytes"]
    assert np.isfinite(figures["tflite_int8_mse"])


@SHARES_THE_RUN
def test_post_training_int8_keeps_the_zeros(beyond_run):
    figures = _figures(beyond_run, "whole_poly_87.5")
    # Dynamic range quantizes tensors of 1,024+ weights: the hidden kernel, not the output.
    assert figures["tflite_int8_tensors"] == 1
    assert figures["tflite_int8_sparsity"] >= 0.87
    assert figures["tflite_int8_zip_bytes"] < figures["tflite_zip_bytes"]


@pytest.mark.long
def test_parallel_run_gives_the_serial_figures(smoke_profile):
    """Seed 0's unpruned model trained in one worker process, its two pruned experiments in
    two: every deterministic figure as in this process (test_cli's slow test: two whole
    command-line runs)."""
    chosen = experiments.resolve(["whole_model", "dense_random_50"])
    keys = ("mse", "mae", "sparsity_pruned", "sparsity_all", "tflite_bytes", "tflite_zip_bytes",
            "tflite_int8_zip_bytes", "epochs_run", "mse_vs_unpruned")
    serial, parallel = (runners.run(chosen, [0], smoke_profile, jobs=jobs) for jobs in (1, 2))
    assert ([(r.experiment, r.seed, {k: r.metrics[k] for k in keys}) for r in serial]
            == [(r.experiment, r.seed, {k: r.metrics[k] for k in keys}) for r in parallel])
    # TF 2.15's bundled Keras writes HDF5 files whose zipped size can move by a byte with
    # what the process did before (7,333 vs 7,332 in tox py311-tf215); tf-keras did not.
    for one, other in zip(serial, parallel, strict=True):
        assert abs(one.metrics["keras_zip_bytes"] - other.metrics["keras_zip_bytes"]) <= 2


@SHARES_THE_RUN
def test_report_writes_page_plots_and_summary(beyond_run, tmp_path):
    path = tmp_path / "rec.json"
    record.save(beyond_run, path)
    assert cli.main(["report", str(path), "--out", str(tmp_path / "report")]) == 0
    page = (tmp_path / "report" / "index.html").read_text()
    for _, title, _, _ in html_report.PLOTS:
        assert title in page
    for png in ("mse_vs_sparsity.png", "pareto.png", "sizes.png", "inference.png"):
        header = (tmp_path / "report" / png).read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", header[16:24])
        assert width > 300 and height > 200
    for name in BEYOND:
        assert f"<td>{name}</td>" in page
    assert "no baseline" in page  # the smoke profile has none: nothing judged, and said so
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary[beyond_run.environment["tf"]]["whole_2by4"]["family"] == "whole 2:4"
    assert "side by side" not in page  # one environment: one section


@SHARES_THE_RUN
def test_report_shows_versions_side_by_side_and_never_pools_them(beyond_run, tmp_path):
    nightly = record.RunRecord(**{**beyond_run.__dict__, "environment": {
        **beyond_run.environment, "tf": "2.99.0.dev20990101"}})  # newer than any TF in use
    nightly.results = [{**r, "metrics": {**r["metrics"], "mse": 2 * r["metrics"]["mse"]}}
                       for r in beyond_run.results]
    paths = [tmp_path / "stable.json", tmp_path / "nightly.json"]
    record.save(beyond_run, paths[0])
    record.save(nightly, paths[1])
    assert cli.main(["report", *map(str, paths), "--out", str(tmp_path / "report")]) == 0
    page = (tmp_path / "report" / "index.html").read_text()
    stable = beyond_run.environment["tf"]
    assert "Environments side by side" in page
    assert page.index(f"<h2>TF {stable}</h2>") < page.index("<h2>TF 2.99.0.dev20990101</h2>")
    assert " worse</td>" in page  # nightly's doubled MSE, against the version before it
    assert (tmp_path / "report" / "tf2.99.0.dev20990101-pareto.png").exists()
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert set(summary) == {stable, "2.99.0.dev20990101"}
    assert summary[stable]["whole_2by4"]["seeds"] == len(beyond_run.seeds)  # not pooled


def _in_another_environment(rec, mse_factor=1.0, **variables):
    """Return a copy of ``rec`` made with other environment variables, its MSE scaled."""
    other = record.RunRecord(**{**rec.__dict__, "environment": {
        **rec.environment, "variables": {**rec.environment.get("variables", {}), **variables}}})
    other.results = [{**r, "metrics": {**r["metrics"], "mse": mse_factor * r["metrics"]["mse"]}}
                     for r in rec.results]
    return other


@SHARES_THE_RUN
def test_report_shows_two_runs_of_one_version_side_by_side_the_worse_one_marked(beyond_run,
                                                                               tmp_path):
    """Issue 22's reproduction: a clean run and one with a regression injected through
    PYTHONPATH, same TF: both on the page, none of their results dropped or merged."""
    injected = _in_another_environment(beyond_run, 1.25, PYTHONPATH="scripts/inject")
    paths = [tmp_path / "clean.json", tmp_path / "noise.json"]
    record.save(beyond_run, paths[0])
    record.save(injected, paths[1])
    assert cli.main(["report", *map(str, paths), "--out", str(tmp_path / "report")]) == 0
    page = (tmp_path / "report" / "index.html").read_text()
    tf = beyond_run.environment["tf"]
    assert "Environments side by side" in page
    assert page.index(f"<h2>TF {tf} (a)</h2>") < page.index(f"<h2>TF {tf} (b)</h2>")
    differs = [p for p in page.split("<p>") if p.startswith("<b>This environment differs")]
    assert len(differs) == 2 and "PYTHONPATH=scripts/inject" in differs[1]  # at the top of each
    assert "PYTHONPATH=scripts/inject" not in differs[0]
    assert "clean.json" in page and "noise.json" in page
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert set(summary) == {f"{tf} (a)", f"{tf} (b)"}
    for name in BEYOND:  # every experiment of both, each from its own record's seeds
        clean, noisy = summary[f"{tf} (a)"][name], summary[f"{tf} (b)"][name]
        assert clean["seeds"] == noisy["seeds"] == len(beyond_run.seeds)
        assert noisy["mse"] == pytest.approx(1.25 * clean["mse"])
        assert f"{html_tables.fmt(noisy['mse'], 'mse')} worse</td>" in page, name


@SHARES_THE_RUN
def test_report_refuses_two_records_of_one_environment_holding_the_same_seed(beyond_run,
                                                                            tmp_path, capsys):
    paths = [tmp_path / "first.json", tmp_path / "again.json"]
    for path in paths:
        record.save(beyond_run, path)
    assert cli.main(["report", *map(str, paths), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"{paths[0]} and {paths[1]} both hold" in err and "from one environment" in err
    assert not (tmp_path / "out" / "index.html").exists()


@SHARES_THE_RUN
def test_report_pools_records_of_one_environment_with_other_seeds_and_says_so(beyond_run,
                                                                             tmp_path):
    seed = beyond_run.seeds[0]
    later = record.RunRecord(**{**beyond_run.__dict__, "seeds": [seed + 100]})
    later.results = [{**r, "seed": seed + 100} for r in beyond_run.results if r["seed"] == seed]
    paths = [tmp_path / "one.json", tmp_path / "more.json"]
    record.save(beyond_run, paths[0])
    record.save(later, paths[1])
    assert cli.main(["report", *map(str, paths), "--out", str(tmp_path / "report")]) == 0
    page = (tmp_path / "report" / "index.html").read_text()
    assert "side by side" not in page and f"({paths[0]}, {paths[1]})" in page
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    tf = beyond_run.environment["tf"]
    assert summary[tf]["whole_2by4"]["seeds"] == len(beyond_run.seeds) + 1


def test_report_verdicts_are_coloured():
    line = html_report.compare.Line(html_report.compare.Verdict.REGRESSION, "whole_model", "mse",
                                    2.0, 1.0, "<= 1.5")
    table = html_tables.verdict_table([line], [])
    assert html_report.VERDICT_COLOURS["regression"] in table and "whole_model" in table


@SHARES_THE_RUN
def test_report_refuses_mixed_profiles(beyond_run, tmp_path, capsys):
    other = record.RunRecord(profile="full", seeds=[0], experiments={}, results=[])
    paths = []
    for i, rec in enumerate((beyond_run, other)):
        paths.append(tmp_path / f"r{i}.json")
        record.save(rec, paths[-1])
    assert cli.main(["report", *map(str, paths), "--out", str(tmp_path / "out")]) == 2
    assert "different profiles" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["run", "--jobs", "0"], "jobs must be a positive integer"),
    (["run", "--experiments", "nope"], "unknown experiment 'nope'"),
])
def test_bad_run_options_exit_2(argv, message, capsys):
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err


@SHARES_THE_RUN
def test_side_by_side_compares_the_seeds_every_version_has(beyond_run, tmp_path):
    # The stable record gains a seed 1 whose MSE is 10x: its median moves, seed 0 does not.
    stable = record.RunRecord(**{**beyond_run.__dict__, "seeds": [0, 1], "results": [
        *beyond_run.results,
        *({**r, "seed": 1, "metrics": {**r["metrics"], "mse": 10 * r["metrics"]["mse"]}}
          for r in beyond_run.results)]})
    nightly = record.RunRecord(**{**beyond_run.__dict__, "environment": {
        **beyond_run.environment, "tf": "2.99.0.dev20990101"}})
    paths = [tmp_path / "stable.json", tmp_path / "nightly.json"]
    record.save(stable, paths[0])
    record.save(nightly, paths[1])
    assert cli.main(["report", *map(str, paths), "--out", str(tmp_path / "report")]) == 0
    page = (tmp_path / "report" / "index.html").read_text()
    assert "Medians over the seeds every environment has (0)" in page
    assert " better</td>" not in page and " worse</td>" not in page
