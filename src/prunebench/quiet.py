"""A quiet terminal: TensorFlow's C++ log lines held back, everything else shown.

TensorFlow and LiteRT write their C++ logs straight to file descriptor 2, in absl's format
("E0000 00:00:1795772104.672851   25446 cuda_platform.cc:52] failed call to cuInit ...") or
LiteRT's ("INFO: Created TensorFlow Lite XNNPACK delegate for CPU."). Before absl's logging
is initialised TensorFlow ignores TF_CPP_MIN_LOG_LEVEL, and the cuInit line is ERROR-level,
so no setting of it keeps a plain run quiet.

``hold_back_cpp_logs`` therefore points descriptor 2 at a pipe whose reader drops those
lines below a severity and passes every other byte on, while Python's ``sys.stderr`` keeps
writing to the real terminal (warnings, logging, the progress display: nothing of Python's
goes through the filter). Worker processes inherit the filtered descriptor.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Callable

#: The severity below which C++ lines are dropped, when the user sets none: only FATAL shows.
DEFAULT_MIN_LEVEL = 3
LEVEL_ENV = "TF_CPP_MIN_LOG_LEVEL"
#: absl: severity letter, MMDD, time, thread id, file:line]
ABSL_LINE = re.compile(rb"^([IWEF])\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [^\]\s]+:\d+\] ")
#: TensorFlow <= 2.20's own format: date, time, severity letter, file:line]
TF_LINE = re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: ([IWEF]) [^\]\s]+:\d+\] ")
#: LiteRT's own logger, and absl's one-line notice before it is initialised.
PLAIN_LINE = re.compile(rb"^(INFO|WARNING|ERROR): ")
SEVERITY = {b"I": 0, b"W": 1, b"E": 2, b"F": 3, b"INFO": 0, b"WARNING": 1, b"ERROR": 2}
#: Keras says the first on every model it rebuilds for an experiment (metrics are built at
#: fit); TensorFlow the second when predict() meets its fifth new model of a run (every
#: experiment's model is new, by design: each traces its own predict function once).
KERAS_NOISE = ("Compiled the loaded model, but the compiled metrics have yet to be built",
               "triggered tf.function retracing")


def severity(line: bytes) -> int | None:
    """Return the severity of a C++ log line (0 INFO .. 3 FATAL), or None for any other line."""
    found = ABSL_LINE.match(line) or TF_LINE.match(line) or PLAIN_LINE.match(line)
    return SEVERITY[found.group(1)] if found else None


def user_min_level(environ: dict[str, str] | os._Environ[str] = os.environ) -> int:
    """Return the severity from which C++ lines are shown: the user's TF_CPP_MIN_LOG_LEVEL, or 3."""
    raw = environ.get(LEVEL_ENV, "")
    return int(raw) if raw.isdigit() else DEFAULT_MIN_LEVEL


class _KerasNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(noise in message for noise in KERAS_NOISE)


def hold_back_cpp_logs(min_level: int) -> Callable[[], None]:
    """Filter descriptor 2 from now on; return the function that restores it and drains the pipe.

    When Python's stderr is not descriptor 2 (a caller captures it, as pytest's capsys does),
    nothing is changed: the returned function does nothing.
    """
    try:
        ours = sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        ours = False
    if not ours:
        return lambda: None
    sys.stderr.flush()
    terminal = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    # Python keeps the real terminal (and its isatty), line-buffered as stderr is.
    python_stderr = sys.stderr
    sys.stderr = open(terminal, "w", buffering=1, encoding=python_stderr.encoding,  # noqa: SIM115
                      errors="backslashreplace", closefd=False)

    def pump() -> None:
        with open(read_end, "rb", buffering=0) as pipe:
            for line in iter(pipe.readline, b""):
                level = severity(line)
                if level is None or level >= min_level:
                    os.write(terminal, line)

    thread = threading.Thread(target=pump, name="prunebench-cpp-log-filter", daemon=True)
    thread.start()
    tf_logger = logging.getLogger("tensorflow")
    tf_logger.addFilter(_KerasNoise())
    tf_logger.setLevel(logging.WARNING)  # "Assets written to: /tmp/..." per TFLite conversion

    def restore() -> None:
        sys.stderr.flush()
        os.dup2(terminal, 2)  # closes the pipe's last write end held here: the pump sees EOF
        thread.join(timeout=5)
        sys.stderr = python_stderr

    return restore
