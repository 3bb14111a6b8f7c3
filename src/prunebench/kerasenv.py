"""Which Keras prunebench builds models with: the only module that knows about tf-keras.

tfmot 0.8 works with Keras 2 only. TensorFlow <= 2.15 bundles Keras 2 as ``tf.keras``;
TensorFlow >= 2.16 bundles Keras 3, and Keras 2 comes from the separate ``tf-keras``
package, selected by ``TF_USE_LEGACY_KERAS=1`` *before* TensorFlow is first imported.
A model built with any other Keras than tfmot's is rejected by ``prune_low_magnitude``,
so every other module gets its Keras from :func:`keras` here.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from types import ModuleType

from prunebench import quiet
from prunebench.errors import UsageError

LEGACY_KERAS_ENV = "TF_USE_LEGACY_KERAS"
#: Set before TensorFlow starts, unless already set: hide GPUs (CPU figures only) and its C++
#: logs but FATAL, as the command line's filter does (quiet.DEFAULT_MIN_LEVEL). Child
#: processes inherit it as if the user had set it: at 2, TF 2.15's three ERROR-level
#: "Unable to register cuDNN factory" lines reached every command a test ran.
RUNTIME_ENV = {"CUDA_VISIBLE_DEVICES": "-1", quiet.LEVEL_ENV: str(quiet.DEFAULT_MIN_LEVEL)}
#: One intra-op and one inter-op thread: steadier timings, and determinism across runs.
THREADS_ENV = "PRUNEBENCH_THREADS"
DEFAULT_THREADS = 1
#: The first TensorFlow minor version whose bundled Keras is Keras 3.
KERAS3_FROM = (2, 16)


def dist_version(dist: str) -> str | None:
    """Return the installed version of distribution ``dist``, or None."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


@cache
def _module_map() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())


def providers(module: str) -> list[tuple[str, str]]:
    """Return (distribution, version) of every installed distribution holding ``module``.

    Read from the distributions' file lists, without importing anything: ``tensorflow``
    comes from tensorflow, tensorflow-cpu or tf-nightly alike, ``tf_keras`` from tf-keras or
    tf-keras-nightly. Two entries for one module means two packages wrote over each other.
    """
    found = []
    for dist in dict.fromkeys(_module_map().get(module, [])):
        version = dist_version(dist)
        if version is not None:
            found.append((dist.replace("_", "-").lower(), version))
    return found


def _one(module: str, what: str) -> tuple[str, str] | None:
    """Return the one (distribution, version) providing ``module``, or None; refuse two."""
    found = providers(module)
    if len({version for _, version in found}) > 1:
        listed = ", ".join(f"{dist} {version}" for dist, version in found)
        raise UsageError(f"two {what} installations in one environment ({listed}): "
                         f"pip uninstall all but one")
    return found[0] if found else None


def tf_version() -> str | None:
    """Return the version of the TensorFlow that ``import tensorflow`` loads, without importing it."""
    found = _one("tensorflow", "TensorFlow")
    return found[1] if found else None


def parse_minor(version: str) -> tuple[int, int]:
    """Return (major, minor) of a version string such as '2.21.0' or '2.15.0.post1'."""
    parts = version.split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        raise UsageError(f"cannot read a TensorFlow version from {version!r}") from None


def is_prerelease(version: str) -> bool:
    """Return whether ``version`` is a dev (nightly) or rc build: '2.23.0.dev20261026', '2.22.0rc1'."""
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version).is_prerelease
    except InvalidVersion:
        raise UsageError(f"cannot read a TensorFlow version from {version!r}") from None


@dataclass(frozen=True)
class KerasPlan:
    """How Keras 2 is obtained for the installed TensorFlow."""

    tf: str
    tf_keras: str | None
    needs_tf_keras: bool
    tf_dist: str = "tensorflow"
    tf_keras_dist: str | None = None

    @property
    def source(self) -> str:
        if not self.needs_tf_keras:
            return "tf.keras (bundled)"
        return f"{self.tf_keras_dist or 'tf-keras'} {self.tf_keras} (TF_USE_LEGACY_KERAS=1)"


def _keras_install_hint(tf: str) -> str:
    if "dev" in tf:
        return "pip install --no-deps tf-keras-nightly (see requirements/tf-nightly.txt)"
    major, minor = parse_minor(tf)
    return f"pip install 'tf-keras~={major}.{minor}.0'"


def plan() -> KerasPlan:
    """Return how Keras 2 will be obtained, or raise UsageError naming what to install."""
    found_tf = _one("tensorflow", "TensorFlow")
    if found_tf is None:
        raise UsageError("TensorFlow is not installed: pip install tensorflow")
    tf_dist, tf = found_tf
    needs = parse_minor(tf) >= KERAS3_FROM
    found_keras = _one("tf_keras", "tf-keras")
    if not needs:
        return KerasPlan(tf, found_keras[1] if found_keras else None, False, tf_dist,
                         found_keras[0] if found_keras else None)
    if found_keras is None:
        raise UsageError(f"TensorFlow {tf} ships Keras 3, which tfmot cannot prune: "
                         + _keras_install_hint(tf))
    keras_dist, tfk = found_keras
    if parse_minor(tfk) != parse_minor(tf) or ("dev" in tf) != ("dev" in tfk):
        raise UsageError(f"{tf_dist} {tf} with {keras_dist} {tfk}: tf-keras must be built for the "
                         f"same TensorFlow: {_keras_install_hint(tf)}")
    return KerasPlan(tf, tfk, True, tf_dist, keras_dist)


#: tfmot 0.8.1's quantize_apply fails on TF 2.15 (QuantizeAnnotate.from_config rebuilds the
#: wrapped layer with another Keras than its wrapper's: AssertionError in Wrapper.__init__,
#: with tf.keras and with tf-keras alike); it works from TF 2.16 with tf-keras.
PQAT_FROM = (2, 16)


def pqat_supported() -> bool:
    """Return whether tfmot's PQAT runs on the installed TensorFlow."""
    return parse_minor(plan().tf) >= PQAT_FROM


def require_pqat() -> None:
    """Raise UsageError, before any training, if tfmot's PQAT cannot run on this TensorFlow."""
    if not pqat_supported():
        raise UsageError(
            f"PQAT experiments need TensorFlow >= 2.16 with tf-keras: tfmot's quantize_apply "
            f"fails on TensorFlow {plan().tf}"
        )


def _threads() -> int:
    raw = os.environ.get(THREADS_ENV, str(DEFAULT_THREADS))
    if not raw.isdigit() or int(raw) < 1:
        raise UsageError(f"{THREADS_ENV} must be a positive integer, got {raw!r}")
    return int(raw)


def prepare_environment() -> KerasPlan:
    """Set the environment TensorFlow must see at import, without importing it; return the plan.

    Callable early (a conftest, a benchmark suite) so that any later ``import tensorflow``
    gets the Keras that tfmot uses.
    """
    resolved = plan()
    if "tensorflow" not in sys.modules:
        for name, value in RUNTIME_ENV.items():
            os.environ.setdefault(name, value)
        if resolved.needs_tf_keras:
            os.environ[LEGACY_KERAS_ENV] = "1"
    elif resolved.needs_tf_keras and os.environ.get(LEGACY_KERAS_ENV) != "1":
        raise UsageError(
            f"TensorFlow was imported before {LEGACY_KERAS_ENV}=1 was set; "
            "import prunebench before tensorflow"
        )
    return resolved


@cache
def keras() -> ModuleType:
    """Return the Keras 2 module that tfmot uses, importing TensorFlow the right way once."""
    resolved = prepare_environment()
    threads = _threads()
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass  # TensorFlow already initialised by the caller: keep its threads.
    if resolved.needs_tf_keras:
        import tf_keras

        return tf_keras
    return tf.keras


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and TensorFlow, ask TensorFlow for deterministic ops, and start
    Keras's layer names afresh.

    Keras numbers a layer built without a name by how many of its kind the process built
    before ('softmax_3'; MultiHeadAttention builds its Softmax and Dropout so), and the
    number reaches the TFLite flatbuffer. Reset here, where every unit of work starts, a
    unit's files do not depend on what its process ran before: serial, a pool, Dask.
    """
    keras().backend.reset_uids()
    keras().utils.set_random_seed(seed)
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()


def tfmot() -> ModuleType:
    """Return tensorflow_model_optimization, imported after Keras is resolved."""
    keras()
    import tensorflow_model_optimization

    return tensorflow_model_optimization
