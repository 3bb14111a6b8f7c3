"""How much of a zipped model file is format, not weights: the seed's MLP with every weight 0.

Prints the zipped bytes of the HDF5 file, the float TFLite and the int8 TFLite of the
same architecture with all weights zero (the floor no pruning can go under), next to the
bytes the weights themselves take raw (float32 and int8).

    python scripts/size_floor.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from prunebench import export, kerasenv
from prunebench.metrics import zipped_size
from prunebench.tasks.friedman1 import build_model


def main() -> None:
    kerasenv.keras()
    model = build_model(10)
    params = model.count_params()
    model.set_weights([np.zeros_like(w) for w in model.get_weights()])
    with tempfile.TemporaryDirectory() as tmp:
        exported = export.export(model, Path(tmp))
    print(f"all-zero model, {params} weights (float32 payload {params * 4} bytes, "
          f"int8 payload ~{params} bytes):")
    print(f"  HDF5 zipped        {exported.keras_zip_bytes:>6} bytes (raw {exported.keras_bytes})")
    print(f"  TFLite float zipped {exported.tflite_zip_bytes:>5} bytes (raw {exported.tflite_bytes})")
    print(f"  TFLite int8 zipped {exported.tflite_int8_zip_bytes:>6} bytes "
          f"(raw {exported.tflite_int8_bytes})")
    print(f"  (zip of an empty payload: {zipped_size(b'', 'model.tflite')} bytes)")


if __name__ == "__main__":
    main()
