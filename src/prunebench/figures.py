"""Every figure a result records, in one place: its unit, which way is better, its label.

measure makes these and no others (a task's own ``Quality`` figures beside them), records
carry their units, the thresholds judge them in their direction, the report's columns and
the HTML report label and format them, and asv tracks the ones named ``asv`` here. asv
counts a rise as a regression, so a figure where higher is better is tracked as its
complement (``1 - fraction``) or its reciprocal (``1 / ratio``): the ``asv_value``.
"""

from __future__ import annotations

from dataclasses import dataclass

from prunebench.errors import UsageError

DIRECTIONS = ("lower", "higher")
UNIT_NAMES = ("y", "y^2", "fraction", "ratio", "count", "bytes", "ms", "s", "nats", "bool")


@dataclass(frozen=True)
class Figure:
    """One recorded figure."""

    name: str
    unit: str
    #: "lower" or "higher" where the gate judges it; None where it only describes a run.
    better: str | None
    #: Its column header (terminal and HTML report).
    label: str
    fmt: str = ".4f"
    #: The asv benchmark ``track_<asv>`` that tracks it, or None.
    asv: str | None = None

    def __post_init__(self) -> None:
        if self.unit not in UNIT_NAMES:
            raise ValueError(f"figure {self.name}: unit {self.unit!r} is not one of {UNIT_NAMES}")
        if self.better not in (None, *DIRECTIONS):
            raise ValueError(f"figure {self.name}: better must be one of {DIRECTIONS}")

    def asv_value(self, value: float) -> float:
        """Return ``value`` as asv tracks it: lower is better."""
        if self.better != "higher":
            return value
        return 1.0 - value if self.unit == "fraction" else 1.0 / value


_ALL = (
    Figure("mse", "y^2", "lower", "test MSE", asv="mse"),
    Figure("mae", "y", "lower", "test MAE"),
    Figure("mse_vs_unpruned", "ratio", "lower", "MSE vs unpruned", ".2f", asv="mse_vs_unpruned"),
    Figure("accuracy", "fraction", "higher", "test accuracy", asv="error"),
    Figure("loss", "nats", "lower", "test loss", asv="loss"),
    Figure("accuracy_vs_unpruned", "ratio", "higher", "accuracy vs unpruned", ".3f"),
    Figure("tflite_mse", "y^2", "lower", "TFLite MSE"),
    Figure("tflite_accuracy", "fraction", "higher", "TFLite accuracy"),
    Figure("tflite_int8_mse", "y^2", "lower", "int8 MSE", asv="tflite_int8_mse"),
    Figure("tflite_int8_accuracy", "fraction", "higher", "int8 accuracy"),
    Figure("tflite_sparse_mse", "y^2", "lower", "sparse TFLite MSE"),
    Figure("tflite_sparse_accuracy", "fraction", "higher", "sparse TFLite accuracy"),
    Figure("target_sparsity", "fraction", None, "target sparsity", "g"),
    Figure("sparsity_pruned", "fraction", "higher", "sparsity of pruned layers",
           asv="density_pruned"),
    Figure("density_pruned", "fraction", None, "density of pruned layers"),
    Figure("sparsity_kernels", "fraction", None, "sparsity of declared weights"),
    Figure("sparsity_all", "fraction", "higher", "sparsity all weights", asv="density"),
    Figure("params", "count", None, "params", ",.0f"),
    Figure("nonzero_params", "count", None, "non-zero / params", ",.0f"),
    Figure("keras_bytes", "bytes", None, "HDF5 bytes", ",.0f"),
    Figure("keras_zip_bytes", "bytes", "lower", "HDF5 zip bytes", ",.0f", asv="keras_zip_bytes"),
    Figure("wrapped_bytes", "bytes", None, "wrapped HDF5 bytes", ",.0f"),
    Figure("wrapped_zip_bytes", "bytes", None, "wrapped HDF5 zip bytes", ",.0f"),
    Figure("tflite_bytes", "bytes", None, "TFLite bytes", ",.0f"),
    Figure("tflite_zip_bytes", "bytes", "lower", "TFLite zip bytes", ",.0f",
           asv="tflite_zip_bytes"),
    Figure("tflite_int8_bytes", "bytes", None, "int8 bytes", ",.0f"),
    Figure("tflite_int8_zip_bytes", "bytes", "lower", "int8 zip bytes", ",.0f",
           asv="tflite_int8_zip_bytes"),
    Figure("tflite_int8_sparsity", "fraction", "higher", "int8 kernel sparsity",
           asv="int8_density"),
    Figure("tflite_int8_tensors", "count", None, "int8 tensors", ".0f"),
    Figure("m_by_n_ok", "bool", "higher", "2:4 holds", ".0f"),
    Figure("keras_ms", "ms", None, "Keras ms", ".3f"),
    Figure("keras_predict_ms", "ms", None, "Keras predict ms", ".3f"),
    Figure("tflite_ms", "ms", None, "TFLite ms", ".3f"),
    Figure("tflite_int8_ms", "ms", None, "int8 ms", ".3f"),
    Figure("reference_ms", "ms", None, "reference ms", ".3f"),
    Figure("keras_time_ratio", "ratio", "lower", "Keras / ref", ".2f"),
    Figure("tflite_time_ratio", "ratio", "lower", "TFLite / ref", ".2f"),
    Figure("train_s", "s", None, "train s", ".1f"),
    Figure("epochs_run", "count", None, "epochs", ".0f"),
    Figure("tflite_sparse_tensors", "count", "higher", "sparse tensors", ".0f"),
    Figure("tflite_densify_ops", "count", "lower", "DENSIFY ops", ".0f"),
    Figure("tflite_sparse_bytes", "bytes", None, "sparse TFLite bytes", ",.0f"),
    Figure("tflite_sparse_ms", "ms", None, "sparse ms", ".3f"),
    Figure("tflite_builtin_ms", "ms", None, "dense built-in ms", ".3f"),
    Figure("tflite_sparse_builtin_ms", "ms", None, "sparse built-in ms", ".3f"),
    Figure("sparse_speedup", "ratio", "higher", "speed-up vs XNNPACK", ".2f",
           asv="sparse_over_dense"),
    Figure("sparse_speedup_builtin", "ratio", "higher", "speed-up vs built-in", ".2f"),
)

#: Every figure by name.
FIGURES: dict[str, Figure] = {f.name: f for f in _ALL}
#: Each figure's unit, as every record carries them.
UNITS: dict[str, str] = {f.name: f.unit for f in _ALL}


def get(name: str) -> Figure:
    """Return the named figure, or raise UsageError naming it."""
    try:
        return FIGURES[name]
    except KeyError:
        raise UsageError(f"no figure {name!r}; one of {', '.join(FIGURES)}") from None
