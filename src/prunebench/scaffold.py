"""``prunebench init``: a user's project made ready for the gate in one command.

From a trained model and its data it writes a task module that starts from that model,
names it in the project's ``[tool.prunebench]``, and adds a GitHub Actions workflow that
gates the project on a schedule and on dependency-update pull requests, through the
composite action this package carries (``action.yml``, copied into the project so the
workflow needs nothing outside it). It writes nothing when any file it would write exists
(unless ``--force``), and nothing at all when its input is bad.
"""

from __future__ import annotations

import argparse
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console

from prunebench import kerasenv, tasks
from prunebench.errors import UsageError

ACTION = Path(".github/actions/prunebench/action.yml")
WORKFLOW = Path(".github/workflows/prunebench.yml")
#: The arrays a data file holds (numpy's .npz), as prunebench.data.Dataset names them.
ARRAYS = ("x_train", "y_train", "x_test", "y_test")

MODULE = '''"""The prunebench task of {model_name}: written by `prunebench init`, yours to edit.

Every seed prunes and fine-tunes the trained model {model_file} (its `start`); the data are
the arrays of {data_file}. Its baselines: `prunebench baseline --update --profile quick`.
"""

from pathlib import Path

import numpy as np

from prunebench.data import Dataset
from prunebench.tasks import Task, Training

HERE = Path(__file__).parent


def load(config):
    """The arrays of {data_file}: float32 inputs, {labels}."""
    arrays = np.load(HERE / {data_file!r})
    return Dataset(arrays["x_train"].astype(np.float32), arrays["y_train"].astype({y_type}),
                   arrays["x_test"].astype(np.float32), arrays["y_test"].astype({y_type}))


TASK = Task(
    name={name!r},
    description="{model_name}, pruned from its trained weights",
    load_data=load,
    start=HERE / {model_file!r},
    kind={kind!r},
    # The layers the `partial` experiment prunes: the largest prunable one (of {prunable}).
    partial_layers=({partial!r},),
    # How your model trains: a new optimizer per fit, the batch size, and the epochs per
    # profile (unpruned, fine-tune); leave None what prunebench may choose.
    training=Training(
        optimizer=None,  # e.g. lambda: kerasenv.keras().optimizers.SGD(momentum=0.9)
        batch_size=None,
        epochs={{}},  # e.g. {{"quick": (1, 3), "full": (1, 20)}}
    ),
)
'''



def add_parser(sub: Any) -> None:
    init = sub.add_parser("init", help="make this folder a project gated by prunebench: a task "
                                       "module of your trained model, its settings, a workflow")
    init.add_argument("--model", type=Path, required=True, metavar="PATH",
                      help="your trained model: a .h5 or .keras file, or a SavedModel folder "
                           "(tf-keras, the Keras 2 tfmot prunes)")
    init.add_argument("--data", type=Path, required=True, metavar="FILE.npz",
                      help="its data: a numpy .npz with x_train, y_train, x_test, y_test")
    init.add_argument("--kind", choices=tasks.base.KINDS, required=True,
                      help="what it predicts: classification (integer labels) or regression")
    init.add_argument("--name", help="the task's name (default: the model file's stem)")
    init.add_argument("--module", default="prunebench_task",
                      help="the task module to write (default: prunebench_task.py)")
    init.add_argument("--requirements", type=Path, metavar="FILE",
                      help="the requirements file that pins your TensorFlow stack (default: "
                           "requirements.txt when there is one): a pull request changing it "
                           "also gets the upgrade verdict, both stacks judged on one machine")
    init.add_argument("--force", action="store_true", help="overwrite files init writes")


def cmd_init(args: argparse.Namespace, out: Console, err: Console) -> int:
    here = Path.cwd()
    model_path, data_path = _inside(here, args.model), _inside(here, args.data)
    name = args.name or model_path.stem.replace("-", "_").replace(".", "_")
    if not name.isidentifier() or not args.module.isidentifier():
        raise UsageError(f"task name {name!r} and module {args.module!r} must be identifiers: "
                         "give --name / --module")
    _check_data(data_path, args.kind)
    pyproject = here / "pyproject.toml"
    table = _project_table(pyproject, f"{args.module}:TASK")
    module = here / f"{args.module}.py"
    written = [module, here / WORKFLOW, here / ACTION]
    existing = [str(p.relative_to(here)) for p in written if p.exists()]
    if existing and not args.force:
        raise UsageError(f"{', '.join(existing)} already exist: --force overwrites them")
    prunable = _prunable_layers(model_path)
    partial = max(prunable, key=prunable.get)  # type: ignore[arg-type]
    module.write_text(MODULE.format(
        model_name=model_path.name, model_file=model_path.relative_to(here).as_posix(),
        data_file=data_path.relative_to(here).as_posix(), name=name, kind=args.kind,
        partial=partial, prunable=", ".join(prunable),
        labels="integer labels" if args.kind == "classification" else "float32 targets",
        y_type="np.int32" if args.kind == "classification" else "np.float32"))
    workflow = _workflow(name, here, args.requirements)
    for path, text in ((here / WORKFLOW, workflow), (here / ACTION, _packaged("action.yml"))):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if table:
        with pyproject.open("a") as handle:
            handle.write(table)
    say = lambda text: out.print(text, highlight=False, markup=False, soft_wrap=True)  # noqa: E731
    for path in written + ([pyproject] if table else []):
        say(f"wrote {path.relative_to(here)}")
    say(f"task {name}: starts from {model_path.name}, partial prunes {partial!r}; next: "
        "prunebench baseline --update --profile quick, then commit baselines/ and .github/")
    return 0


def _workflow(name: str, here: Path, requirements: Path | None) -> str:
    """Return the workflow for the task ``name``: with the upgrade job on pull requests
    when the project pins its stack in a requirements file, else without it."""
    text = _packaged("workflow.yml").replace("@NAME@", name)
    if requirements is None and (here / "requirements.txt").is_file():
        requirements = Path("requirements.txt")
    begin, end = text.index("  # @UPGRADE@ begin"), text.index("  # @UPGRADE@ end\n")
    if requirements is None:
        return text[:begin] + text[end + len("  # @UPGRADE@ end\n"):]
    pinned = _inside(here, requirements).relative_to(here.resolve()).as_posix()
    job = text[text.index("\n", begin) + 1:end].replace("@REQUIREMENTS@", pinned)
    return text[:begin] + job


def _packaged(name: str) -> str:
    """Return a file prunebench carries: the composite action (the repository's action.yml)
    or the workflow template."""
    return resources.files("prunebench").joinpath(name).read_text()


def _inside(here: Path, path: Path) -> Path:
    found = (here / path).resolve()
    if not found.exists():
        raise UsageError(f"no {path}")
    if not found.is_relative_to(here.resolve()):
        raise UsageError(f"{path} is outside this folder: the task module names it relative "
                         "to itself, so copy it in")
    return here.resolve() / found.relative_to(here.resolve())


def _check_data(path: Path, kind: str) -> None:
    import numpy as np

    try:
        with np.load(path) as arrays:
            missing = [a for a in ARRAYS if a not in arrays.files]
            shapes = {a: arrays[a].shape for a in ARRAYS if a in arrays.files}
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {path} as a numpy .npz: {exc}") from None
    if missing:
        raise UsageError(f"{path} has no {', '.join(missing)} (it needs {', '.join(ARRAYS)})")
    for split in ("train", "test"):
        x, y = shapes[f"x_{split}"], shapes[f"y_{split}"]
        labels = kind == "classification"
        if not x or not y or x[0] != y[0] or (labels and len(y) != 1):
            raise UsageError(f"{path}: x_{split} {x} and y_{split} {y} do not pair up row by "
                             f"row{' (labels: one integer per row)' if labels else ''}")


def _project_table(pyproject: Path, spec: str) -> str:
    """Return the ``[tool.prunebench]`` text to append ('' to leave the file as it is)."""
    if not pyproject.exists():
        return f"[tool.prunebench]\ntasks = [\"{spec}\"]\n"
    try:
        raw = tomllib.loads(pyproject.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"cannot read {pyproject}: {exc}") from None
    if "prunebench" in raw.get("tool", {}):
        if spec in raw["tool"]["prunebench"].get("tasks", []):
            return ""
        raise UsageError(f"{pyproject} has a [tool.prunebench] table already: add "
                         f"\"{spec}\" to its tasks")
    return f"\n[tool.prunebench]\ntasks = [\"{spec}\"]\n"


def _prunable_layers(path: Path) -> dict[str, int]:
    """Return {layer: prunable weights} of the model at ``path``; refuse one it cannot use."""
    kerasenv.prepare_environment()
    model = tasks.saved.load_trained(path, "--model")
    found = {layer.name: sum(int(w.numpy().size) for w in tasks.weights.prunable(layer).values())
             for layer in model.layers}
    found = {name: size for name, size in found.items() if size}
    if not found:
        raise UsageError(f"{path}: no layer tfmot can prune")
    return found

