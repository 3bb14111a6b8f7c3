"""One side of ``prunebench ab``: time saved models in this interpreter, write the samples.

Run as ``python -m prunebench.abworker MODELS_DIR OUT_JSON PROFILE`` under the interpreter
and environment of one side. The models and inputs come from the parent, so both sides
time the same weights; each side converts to TFLite with its own TensorFlow.
"""

from __future__ import annotations

import sys
from pathlib import Path

from prunebench import config, export, inference, kerasenv, record
from prunebench.abtest import MODEL_SUFFIX, X_FILE


def main(argv: list[str]) -> int:
    models_dir, out, profile_name = Path(argv[0]), Path(argv[1]), argv[2]
    kerasenv.prepare_environment()
    import numpy as np

    x = np.load(models_dir / X_FILE)
    profile = config.get_profile(profile_name)
    samples = {}
    for path in sorted(models_dir.glob(f"*{MODEL_SUFFIX}")):
        model = export.load(path)
        flatbuffer = export.to_tflite(model)
        samples[path.name[: -len(MODEL_SUFFIX)]] = inference.time_ratios(
            model, flatbuffer, x, profile.timing)
    record.write_json_atomic(out, {"environment": record.environment(), "samples": samples})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
