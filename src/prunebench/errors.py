"""The one exception type that the CLI turns into a one-line message and exit code 2."""

from __future__ import annotations


class UsageError(Exception):
    """Bad input or an environment prunebench cannot work in; the message is shown as is."""


EXIT_USAGE = 2
