"""A task registered with --task spec_task:TASK (tests/data on PYTHONPATH), not by entry point."""

from __future__ import annotations

from functools import partial

from prunebench.data import digits
from prunebench.tasks import Task
from prunebench.tasks.digits_wide_mlp import build

TASK = Task(name="spec_task", description="the wide MLP again, registered by a spec",
            load_data=partial(digits, layout="flat"), build_model=build,
            partial_layers=("hidden2",))
