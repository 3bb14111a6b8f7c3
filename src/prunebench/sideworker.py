"""One unit of ``prunebench upgrade``: one task's experiments, one seed, in one side's interpreter.

Run as ``python -m prunebench.sideworker UNIT_JSON OUT_DIR`` under the interpreter and
environment variables of one side. It trains, prunes, fine-tunes, strips, converts and
measures with that side's own TensorFlow, tf-keras, tfmot and LiteRT, and writes into
``OUT_DIR`` the run's record (``record.json``) and its kept models with their timed
inputs (``models/``, ``abtest.MANIFEST``), so the side's timing workers later time
models the side produced itself. The parent renames ``OUT_DIR`` into the journal only
when this process has exited 0: a unit is there whole or not at all.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    unit, out = json.loads(Path(argv[0]).read_text()), Path(argv[1])
    from prunebench import abtest, config, experiments, kerasenv, pipeline, record, runners, tasks
    from prunebench.upgrade import MODELS, RECORD

    kerasenv.prepare_environment()
    for spec in unit.get("task_specs", []):
        tasks.load_spec(spec)
    chosen = experiments.resolve(unit["experiments"], unit.get("sparsity"))
    profile = config.get_profile(unit["profile"])
    seed = int(unit["seed"])
    refused = pipeline.refusals(chosen, profile)
    accepted = [e for e in chosen if e.name not in refused]
    kept = out / "kept"
    results = runners.run(accepted, [seed], profile, keep_dir=kept) if accepted else []
    if accepted:
        abtest.save_models(kept, accepted, seed, profile, out / MODELS)
    record.save(record.from_run(chosen, [seed], profile, results, refused), out / RECORD)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
