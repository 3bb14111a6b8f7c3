"""The environment a result records: interpreter, packages, Keras, CPU type, load, git sha.

What makes two results comparable or not (``gate.environment_differences``, the gate's
bands) is read from here, once per process.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from prunebench import kerasenv
from prunebench.errors import UsageError

#: A machine is busy while timing when its 1-minute load average reaches its cores minus
#: this: a run alone loads one core (~1.0-1.3 on this 2-core machine), one beside a second
#: prunebench run ~2.
BUSY_SLACK = 0.5


def is_busy(load: float | None, cores: object) -> bool:
    """Return whether ``load`` (a 1-minute load average) means a busy machine of ``cores``."""
    return load is not None and isinstance(cores, int) and load >= cores - BUSY_SLACK



#: Distributions whose versions decide the figures.
PACKAGES = ("tensorflow", "tf-keras", "tensorflow-model-optimization", "numpy",
            "scikit-learn", "ai-edge-litert", "h5py", "prunebench")
#: CPU features that pick the kernels of oneDNN, OpenBLAS and XNNPACK: two hosts with the
#: same model name but other features train to other figures and time in other ratios.
SIMD_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl",
              "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8", "amx_tile", "asimd", "sve")


#: Environment variables that change what a run computes or which code it runs; a record
#: keeps those set. PYTHONPATH brings in code (a sitecustomize that patches a library: two
#: runs of one stack that differ in it are two environments, never pooled by a report).
FIGURE_VARIABLES = ("PYTHONPATH", "TF_ENABLE_ONEDNN_OPTS", "TF_USE_LEGACY_KERAS",
                    "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                    "TF_NUM_INTEROP_THREADS", "TF_DETERMINISTIC_OPS", "XLA_FLAGS",
                    "OPENBLAS_CORETYPE")


def _variables() -> dict[str, str]:
    """Return the FIGURE_VARIABLES set here, and where a sitecustomize module came from."""
    found = {key: os.environ[key] for key in FIGURE_VARIABLES if key in os.environ}
    site = getattr(sys.modules.get("sitecustomize"), "__file__", None)
    if site:
        found["sitecustomize"] = str(site)
    return found


def _cpuinfo() -> dict[str, str]:
    """Return the first processor's fields of /proc/cpuinfo ({} where there is none)."""
    fields: dict[str, str] = {}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return fields
    for line in text.split("\n\n")[0].splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    return fields


def _cpu_model(info: dict[str, str]) -> str:
    return info.get("model name") or platform.processor() or platform.machine()


def _cpu_id(info: dict[str, str]) -> str:
    """Return vendor, family, model, stepping and SIMD features: which host type this is."""
    ident = " ".join(f"{key} {info[key]}" for key in ("vendor_id", "cpu family", "model",
                                                         "stepping") if key in info)
    flags = set((info.get("flags") or info.get("Features") or "").split())
    simd = " ".join(flag for flag in SIMD_FLAGS if flag in flags)
    return f"{ident or platform.machine()}; {simd or 'no SIMD flags read'}"


def _git_sha() -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=5, check=False, cwd=Path(__file__).parent)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def environment() -> dict[str, Any]:
    """Return what produced a result: interpreter, package versions, Keras source, CPU, git sha."""
    info = _cpuinfo()
    packages = {dist: kerasenv.dist_version(dist) for dist in PACKAGES}
    # What `import tensorflow` / `import tf_keras` load, whichever distribution holds them
    # (tensorflow-cpu, tf-nightly, tf-keras-nightly): the versions really in use.
    distributions: dict[str, str | None] = {"tensorflow": None, "tf-keras": None}
    for name, module in (("tensorflow", "tensorflow"), ("tf-keras", "tf_keras")):
        found = kerasenv.providers(module)
        if found:
            distributions[name], packages[name] = found[0]
    try:
        keras_source = kerasenv.plan().source
    except UsageError as exc:
        keras_source = f"unusable: {exc}"
    return {
        "python": platform.python_version(),
        "packages": packages,
        "distributions": distributions,
        "tf": packages["tensorflow"],
        "keras": keras_source,
        "cpu": _cpu_model(info),
        "cpu_id": _cpu_id(info),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "git_sha": _git_sha(),
        "variables": _variables(),
    }


def tf_minor(env: dict[str, Any]) -> str:
    """Return 'X.Y' of the TensorFlow an environment block names."""
    major, minor = kerasenv.parse_minor(str(env.get("tf")))
    return f"{major}.{minor}"


