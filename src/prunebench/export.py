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
    #: int8 weights: post-training dynamic range, or the converted QAT model.
    tflite_int8: bytes
    #: Converted with Optimize.EXPERIMENTAL_SPARSITY, when the experiment asks for it.
    tflite_sparse: bytes | None = None

    @property
    def tflite_bytes(self) -> int:
        return len(self.tflite)

    @property
    def tflite_zip_bytes(self) -> int:
        return zipped_size(self.tflite, "model.tflite")

    @property
    def tflite_int8_bytes(self) -> int:
        return len(self.tflite_int8)

    @property
    def tflite_int8_zip_bytes(self) -> int:
        return zipped_size(self.tflite_int8, "model.tflite")


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


def to_tflite(model: Any, int8: bool = False, sparse: bool = False) -> bytes:
    """Return a TFLite flatbuffer converted from a (stripped) Keras model.

    ``int8``: the converter's default optimization, which is dynamic-range int8 weights
    for a float model and full int8 for a quantization-aware-trained one. ``sparse``:
    Optimize.EXPERIMENTAL_SPARSITY, float weights stored in TFLite's sparse format.
    """
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif sparse:
        converter.optimizations = [tf.lite.Optimize.EXPERIMENTAL_SPARSITY]
    with _quiet_stderr(), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        # A QAT model carries its own ranges: the converter's call for statistics is moot.
        warnings.filterwarnings("ignore", message="Statistics for quantized inputs")
        return bytes(converter.convert())


def save_h5(model: Any, path: Path) -> bytes:
    """Save ``model`` without optimizer as HDF5 (the seed's format); return the file's bytes."""
    with warnings.catch_warnings():
        # HDF5 is "legacy" to Keras, but it is the file the seed saves and measures.
        warnings.filterwarnings("ignore", message="You are saving your model as an HDF5 file")
        model.save(path, include_optimizer=False, save_format="h5")
    return path.read_bytes()


def export(model: Any, directory: Path, int8_source: Any = None, sparse: bool = False) -> Exported:
    """Return the sizes of ``model`` saved (without optimizer) as HDF5 and converted to TFLite.

    The int8 flatbuffer is converted from ``int8_source`` (a QAT model) when given, else
    from ``model`` by post-training quantization. ``sparse``: also a sparse flatbuffer.
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / KERAS_FILE
    payload = save_h5(model, path)
    return Exported(
        keras_path=path,
        keras_bytes=len(payload),
        keras_zip_bytes=zipped_size(payload, KERAS_FILE),
        tflite=to_tflite(model),
        tflite_int8=to_tflite(model if int8_source is None else int8_source, int8=True),
        tflite_sparse=to_tflite(model, sparse=True) if sparse else None,
    )


def kept_path(directory: Path, experiment: str, seed: int, suffix: str) -> Path:
    """Return where a run keeps ``experiment``'s model of ``seed`` with ``suffix``.

    Not ``with_suffix``: experiment names such as ``whole_const_87.5`` contain dots.
    """
    return directory / f"{experiment.replace('/', '-')}-seed{seed}{suffix}"


def zipped_h5_size(model: Any, directory: Path) -> tuple[int, int]:
    """Return (raw, zipped) bytes of ``model`` saved as HDF5, e.g. still pruning-wrapped."""
    directory.mkdir(parents=True, exist_ok=True)
    payload = save_h5(model, directory / "wrapped.h5")
    return len(payload), zipped_size(payload, KERAS_FILE)


def load(path: Path) -> Any:
    """Return the Keras model saved at ``path`` with ``load_model``, as the seed loads it.

    Not compiled: it was saved without optimizer, and only predicts.
    """
    return kerasenv.keras().models.load_model(path, compile=False)
