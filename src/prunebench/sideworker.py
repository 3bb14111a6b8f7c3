"""One unit of ``prunebench upgrade``: one task's experiments, one seed, in one side's interpreter.

Run as ``python -m prunebench.sideworker UNIT_JSON OUT_DIR`` under the interpreter and
environment variables of one side. It trains, prunes, fine-tunes, strips, converts and
measures with that side's own TensorFlow, tf-keras, tfmot and LiteRT, and writes into
``OUT_DIR`` the run's record (``record.json``) and its kept models with their timed
inputs (``models/``, ``abtest.MANIFEST``), so the side's timing workers later time
models the side produced itself. With a ``start`` in the unit, side A saves the
unpruned model it trained and side B fine-tunes from that model instead of its own
(``prunebench upgrade --start shared``); B's own unpruned model is still trained, and
reported, as the evidence of whether training reproduces. The parent renames ``OUT_DIR`` into the journal only
when this process has exited 0: a unit is there whole or not at all.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any


def main(argv: list[str]) -> int:
    unit, out = json.loads(Path(argv[0]).read_text()), Path(argv[1])
    from prunebench import (
        abtest,
        config,
        experiments,
        kerasenv,
        pipeline,
        project,
        record,
        runners,
        tasks,
    )
    from prunebench.upgrade import MODELS, RECORD

    kerasenv.prepare_environment()
    project.current()  # the user's project folder importable, as in the command's process
    for spec in unit.get("task_specs", []):
        tasks.load_spec(spec)
    chosen = experiments.resolve(unit["experiments"], unit.get("sparsity"))
    profile = config.get_profile(unit["profile"])
    seed = int(unit["seed"])
    refused = pipeline.refusals(chosen, profile)
    accepted = [e for e in chosen if e.name not in refused]
    kept = out / "kept"
    start = unit.get("start")
    if start is None:
        results = runners.run(accepted, [seed], profile, keep_dir=kept) if accepted else []
    else:
        results = from_start(accepted, seed, profile, kept, Path(start["dir"]), start["mode"])
    if accepted:
        abtest.save_models(kept, accepted, seed, profile, out / MODELS)
    record.save(record.from_run(chosen, [seed], profile, results, refused), out / RECORD)
    return 0


def from_start(chosen: list[Any], seed: int, profile: Any, kept: Path, folder: Path,
               mode: str) -> list[Any]:
    """Return the results of ``chosen`` fine-tuned from one trained unpruned model per task.

    ``mode`` 'save': train it, as a run does, and save it (HDF5) with its fit into
    ``folder``; 'load': fine-tune from the model side A saved there, so B's pruning and
    fine-tuning start where A's did. B still trains its own unpruned model of the seed and
    reports it as the task's unpruned result: it is the evidence, independent of pruning,
    of whether training reproduces between the sides (``judge.reproduction``); judged by
    the fine-tunes themselves, a regression in B's pruning would pass for a stack that
    does not reproduce.
    """
    from prunebench import export, pipeline, train

    results = []
    for task, experiments in pipeline.by_task(chosen):
        data = task.load_data(profile.data)
        where = folder / task.name
        own, own_fit = pipeline.train_base(task, seed, data, profile)
        if mode == "load":  # as a task's own trained start is loaded: one implementation
            base = task.started(data, where / "base.h5")
            fit = train.TrainResult(**json.loads((where / "fit.json").read_text()))
        else:
            base, fit = own, own_fit
            where.mkdir(parents=True, exist_ok=True)
            export.save_h5(base, where / "base.h5")
            (where / "fit.json").write_text(json.dumps(asdict(fit)))
        unpruned, pruned = experiments[0], experiments[1:]
        results.append(pipeline.run_experiment(task, unpruned, seed, own, own_fit, data,
                                               profile, keep_dir=kept))
        results += [pipeline.run_experiment(task, e, seed, base, fit, data, profile,
                                            keep_dir=kept) for e in pruned]
    pipeline.relate_to_unpruned(results)
    return results


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
