"""One side of ``prunebench ab``: time saved models in this interpreter, write the samples.

Run as ``python -m prunebench.abworker MODELS_DIR OUT_JSON PROFILE [CPU]`` under the
interpreter and environment of one side. The models and each one's inputs come from the
parent (``abtest.MANIFEST``), so both sides time the same weights; each side converts to
TFLite with its own TensorFlow. CPU: the one the worker pins itself to before TensorFlow
starts its threads (``abtest.timing_cpu``; ``-`` or none: not pinned); the CPUs it ran on
are written with its samples.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from prunebench import config, export, inference, kerasenv, record
from prunebench.abtest import MANIFEST, NOT_PINNED, allowed_cpus


def main(argv: list[str]) -> int:
    models_dir, out, profile_name = Path(argv[0]), Path(argv[1]), argv[2]
    cpu = argv[3] if len(argv) > 3 else NOT_PINNED
    if cpu != NOT_PINNED:
        os.sched_setaffinity(0, {int(cpu)})
    kerasenv.prepare_environment()
    import numpy as np

    profile = config.get_profile(profile_name)
    samples = {}
    for name, files in json.loads((models_dir / MANIFEST).read_text()).items():
        model = export.load(models_dir / files["model"])
        flatbuffer = export.to_tflite(model)
        samples[name] = inference.time_ratios(model, flatbuffer, np.load(models_dir / files["x"]),
                                              profile.timing)
    record.write_json_atomic(out, {"environment": record.environment(), "samples": samples,
                                   "cpus": allowed_cpus()})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
