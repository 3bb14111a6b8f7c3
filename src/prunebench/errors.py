"""The one exception type that the CLI turns into a one-line message and exit code 2."""

from __future__ import annotations


class UsageError(Exception):
    """Bad input or an environment prunebench cannot work in; the message is shown as is."""


#: Exit statuses of every command (``prunebench --help`` lists them).
EXIT_OK = 0
#: check, matrix, ab: a figure regressed (or improved, under --strict).
EXIT_REGRESSION = 1
#: Bad input, or nothing could be judged: a one-line message, no traceback, no half-written file.
EXIT_USAGE = 2
#: run: tfmot refused to prune a layer of some experiment's model; the rest ran and the
#: record lists the refusal. Not a regression (nothing was judged), not bad input.
EXIT_REFUSED = 3
#: upgrade: no figure of B is worse, but some could not be decided over the seeds run (the
#: verdict says how many more seeds would likely decide each). Not a pass.
EXIT_INCONCLUSIVE = 4
