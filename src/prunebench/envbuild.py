"""The two environments of ``prunebench upgrade``: an interpreter given, or one built with uv.

A side's spec is one of:

- an interpreter (``/path/to/python``) or a virtual environment's folder: used as it is,
  and it must import prunebench;
- a TensorFlow minor version (``2.20``) or ``nightly``: built from ``requirements/`` of
  this checkout, as ``make install`` and tox build theirs;
- a requirements file (``requirements/tf2.21.txt``, or one of your own);
- pins (``'tensorflow-model-optimization==0.8.1 tf-keras==2.21.*'``): installed with
  prunebench, whose own requirements choose the rest.

Built environments live in ``ENVS_DIR/<side>-<name>-<digest>``: the digest covers the
spec, the requirements file's text and prunebench's pyproject.toml, so a changed pin is a
new folder and an unchanged one is reused. Each side has its own folder (A and B of
the same spec are built twice: an A/A compares two separately built environments).
A folder is finished when its stamp file is there, written last: an interrupted build
is made again. Both sides run the same prunebench, only the stack under it differs:
run from a checkout, it goes in editable from that checkout; installed (a user's project),
as ``prunebench==<the running version>`` from the package index, or what ``--prunebench``
names (a wheel, a path).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from prunebench.errors import UsageError

#: The interpreter minor version of built environments (every TF 2.15-nightly supports it).
PYTHON_VERSION = "3.11"
#: What a finished built environment holds: its spec and the commands that built it.
STAMP = ".prunebench-env.json"
#: tfmot, installed without dependencies where the requirements file says two steps.
TFMOT = "tensorflow-model-optimization==0.8.1"
#: A build: uv resolving TensorFlow and its ~40 dependencies, from the cache or the index.
BUILD_TIMEOUT_S = 1800
_PINS = re.compile(r"[=<>~!@ ]")


@dataclass(frozen=True)
class Spec:
    """What a side asks for: ``kind`` is 'python', 'requirements' or 'pins'."""

    text: str
    kind: str
    value: str

    def slug(self) -> str:
        base = Path(self.value).stem if self.kind == "requirements" else self.text
        return re.sub(r"[^A-Za-z0-9.]+", "_", base).strip("_")[:40] or "env"


def checkout() -> Path:
    """Return the checkout prunebench runs from, or raise UsageError: builds install it."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file() or not (root / "requirements").is_dir():
        raise UsageError("building a side's environment needs a prunebench checkout (its "
                         "requirements/ and pyproject.toml); give an interpreter instead")
    return root


def parse(text: str, root: Path | None = None) -> Spec:
    """Return what ``text`` names, or raise UsageError saying why it names nothing."""
    path = Path(text).expanduser()
    if path.is_dir() and (path / "bin" / "python").exists():
        return Spec(text, "python", str(path / "bin" / "python"))
    if path.is_file() and os.access(path, os.X_OK) and path.suffix != ".txt":
        return Spec(text, "python", str(path))
    if path.suffix == ".txt":
        if not path.is_file():
            raise UsageError(f"no requirements file {text}")
        return Spec(text, "requirements", str(path.resolve()))
    if re.fullmatch(r"\d+\.\d+|nightly", text):
        root = root or checkout()
        name = "tf-nightly.txt" if text == "nightly" else f"tf{text}.txt"
        found = root / "requirements" / name
        if not found.is_file():
            known = sorted(p.stem.removeprefix("tf").replace("-", "")
                           for p in (root / "requirements").glob("tf*.txt"))
            raise UsageError(f"no requirements for TensorFlow {text} (known: {', '.join(known)})")
        return Spec(text, "requirements", str(found))
    if _PINS.search(text):
        return Spec(text, "pins", text)
    raise UsageError(f"{text!r} is not an interpreter, a venv, a requirements file, a TF "
                     "version (2.21, nightly) or pins ('pkg==1.2 other==3.4')")


def uv() -> str:
    """Return the uv executable, or raise UsageError naming how to get it."""
    found = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if not Path(found).is_file():
        raise UsageError("building an environment needs uv: pip install uv (or give "
                         "interpreters: --from /path/to/python)")
    return found


def source(given: str | None = None) -> tuple[list[str], str]:
    """Return (the pip arguments that install prunebench into a side, what identifies them).

    ``given`` (``--prunebench``): a requirement, a wheel or a path. Otherwise this
    checkout, editable, when prunebench runs from one; else the running version from the
    package index.
    """
    if given:
        found = Path(given).expanduser()
        if found.exists():
            return [str(found.resolve())], f"{found.resolve()} {_file_digest(found)}"
        return [given], given
    try:
        root = checkout()
    except UsageError:
        from prunebench import __version__

        return [f"prunebench=={__version__}"], f"prunebench=={__version__}"
    return ["-e", str(root)], (root / "pyproject.toml").read_text()


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10] if path.is_file() else "folder"


def digest(spec: Spec, identity: str) -> str:
    parts = [spec.kind, spec.value, identity]
    if spec.kind == "requirements":
        parts.append(Path(spec.value).read_text())
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:10]


def install_commands(spec: Spec, venv: Path, prunebench: Sequence[str]) -> list[list[str]]:
    """Return the uv commands that fill ``venv`` for ``spec``, with ``prunebench`` (pip
    arguments: ``source``).

    A requirements file that lists tf-keras-nightly (requirements/tf-nightly.txt) is
    installed in two steps, the second without dependencies, for the reason it gives.
    """
    # --compile-bytecode: pip's default, not uv's; without .pyc files (none are written where
    # PYTHONDONTWRITEBYTECODE is set) every process of the side compiles TensorFlow again.
    pip = [uv(), "pip", "install", "--quiet", "--compile-bytecode",
           "--python", str(venv / "bin" / "python")]
    if spec.kind == "pins":
        return [[*pip, *spec.value.split(), *prunebench]]
    text = Path(spec.value).read_text()
    if re.search(r"^tf-keras-nightly\b", text, re.MULTILINE):
        return [[*pip, "-r", spec.value], [*pip, "--no-deps", TFMOT, *prunebench]]
    return [[*pip, "-r", spec.value, *prunebench]]


def build(spec: Spec, side: str, envs_dir: Path, say: Callable[[str], None] = print,
          prunebench: str | None = None) -> str:
    """Return the interpreter of ``spec`` for ``side``, building its environment if needed
    (``prunebench``: what installs prunebench there, as ``source`` reads it)."""
    if spec.kind == "python":
        return spec.value
    installs, identity = source(prunebench)
    folder = (envs_dir / f"{side}-{spec.slug()}-{digest(spec, identity)}").absolute()
    if (folder / STAMP).is_file():
        say(f"side {side}: {spec.text}: reusing {folder}")
        return str(folder / "bin" / "python")
    shutil.rmtree(folder, ignore_errors=True)  # an interrupted build: no stamp
    folder.parent.mkdir(parents=True, exist_ok=True)
    commands = [[uv(), "venv", "--quiet", "--seed", "--python", PYTHON_VERSION, str(folder)],
                *install_commands(spec, folder, installs)]
    say(f"side {side}: {spec.text}: building {folder} with uv")
    for command in commands:
        try:
            done = subprocess.run(command, capture_output=True, text=True,
                                  timeout=BUILD_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise UsageError(f"side {side}: building {spec.text} took over "
                             f"{BUILD_TIMEOUT_S} s") from None
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise UsageError(f"side {side}: building {spec.text} failed: {last}")
    # Written last: a folder without it is an interrupted build, made again next time.
    (folder / STAMP).write_text(json.dumps({"spec": spec.text, "kind": spec.kind,
                                            "value": spec.value, "commands": commands}, indent=1))
    return str(folder / "bin" / "python")
