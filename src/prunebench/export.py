"""Exports of a stripped model: the HDF5 file the seed measures, and a TFLite flatbuffer."""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prunebench import kerasenv
from prunebench.metrics import zipped_size

KERAS_FILE = "model.h5"


@dataclass(frozen=True)
class Exported:
    """Where the stripped model went and how big it is, raw and ZIP_DEFLATED."""

    keras_path: Path
    keras_bytes: int
    keras_zip_bytes: int
    tflite: bytes

    @property
    def tflite_bytes(self) -> int:
        return len(self.tflite)

    @property
    def tflite_zip_bytes(self) -> int:
        return zipped_size(self.tflite, "model.tflite")


@contextlib.contextmanager
def _quiet_stderr() -> Any:
    """Silence the C++ converter's log lines, which go straight to file descriptor 2."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def to_tflite(model: Any) -> bytes:
    """Return a float TFLite flatbuffer converted from a (stripped) Keras model."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    with _quiet_stderr(), contextlib.redirect_stdout(io.StringIO()):
        return bytes(converter.convert())


def export(model: Any, directory: Path) -> Exported:
    """Return the sizes of ``model`` saved (without optimizer) as HDF5 and converted to TFLite."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / KERAS_FILE
    with warnings.catch_warnings():
        # HDF5 is "legacy" to Keras, but it is the file the seed saves and measures.
        warnings.filterwarnings("ignore", message="You are saving your model as an HDF5 file")
        model.save(path, include_optimizer=False, save_format="h5")
    payload = path.read_bytes()
    return Exported(
        keras_path=path,
        keras_bytes=len(payload),
        keras_zip_bytes=zipped_size(payload, KERAS_FILE),
        tflite=to_tflite(model),
    )


def load(path: Path) -> Any:
    """Return the Keras model saved at ``path`` with ``load_model``, as the seed loads it.

    Not compiled: it was saved without optimizer, and only predicts.
    """
    return kerasenv.keras().models.load_model(path, compile=False)
