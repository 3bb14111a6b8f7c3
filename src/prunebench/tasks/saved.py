"""A trained model a task starts from, loaded with the Keras tfmot prunes."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prunebench import kerasenv
from prunebench.errors import UsageError


def load_trained(path: Path, said: str) -> Any:
    """Return the model saved at ``path`` (``.h5``, ``.keras``, a SavedModel folder), loaded
    with ``kerasenv.keras()``, uncompiled; a UsageError starting with ``said`` when there is
    none, it does not load, or Keras 3 saved it (tfmot prunes tf-keras models)."""
    if not path.exists():
        raise UsageError(f"{said}: no trained model at {path}")
    saved_by = _keras_version_of(path)
    if saved_by is not None and int(saved_by.split(".")[0]) >= 3:
        raise UsageError(f"{said}: {path} was saved by Keras {saved_by} (`import keras`), "
                         "whose models tfmot cannot prune: build and save it with "
                         "prunebench.kerasenv.keras() (tf_keras)")
    try:
        return kerasenv.keras().models.load_model(path, compile=False)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"{said}: cannot load the trained model {path}: {first}") from None


def _keras_version_of(path: Path) -> str | None:
    """Return the Keras version a ``.keras`` file records (its metadata.json), else None."""
    import json
    import zipfile

    if path.suffix != ".keras" or not zipfile.is_zipfile(path):
        return None
    with zipfile.ZipFile(path) as archive:
        if "metadata.json" not in archive.namelist():
            return None
        return str(json.loads(archive.read("metadata.json")).get("keras_version", "")) or None


def start_label(start: str | Path | Callable[..., Any] | None) -> str:
    """Return where every seed starts: '' (from scratch), a file or folder with its SHA-256,
    or a callable's name."""
    if start is None:
        return ""
    if callable(start):
        return f"{start.__module__}.{getattr(start, '__qualname__', start)}"
    path = Path(start)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    stamps = tuple((f.as_posix(), f.stat().st_size, f.stat().st_mtime_ns) if f.is_file()
                   else (f.as_posix(), -1, -1) for f in files)
    return f"{path} sha256:{_digest(path.as_posix(), stamps)}"


@functools.lru_cache(maxsize=32)
def _digest(root: str, stamps: tuple[tuple[str, int, int], ...]) -> str:
    """The SHA-256 of a start's files (their paths inside a folder, then their bytes), read
    once per (path, size, mtime) of each: every result of a run records it."""
    path = Path(root)
    sha = hashlib.sha256()
    for name, size, _ in stamps:
        file = Path(name)
        sha.update(file.relative_to(path).as_posix().encode() if path.is_dir() else b"")
        sha.update(file.read_bytes() if size >= 0 else b"")
    return sha.hexdigest()[:16]

