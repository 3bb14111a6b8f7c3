"""The quiet terminal: C++ log lines held back, Python's warnings and errors shown."""

from __future__ import annotations

import subprocess
import sys

import pytest

from prunebench import quiet

CUINIT = (b"E0000 00:00:1795772104.672851   25446 cuda_platform.cc:52] failed call to cuInit: "
          b"INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)\n")


@pytest.mark.parametrize(("line", "level"), [
    (CUINIT, 2),
    (b"I0000 00:00:1795772102.434630   25446 port.cc:153] oneDNN custom operations are on.\n", 0),
    (b"W0000 00:00:1.5 7 x.cc:1] w\n", 1),
    (b"2026-11-27 12:10:05.917329: E tensorflow/core/framework/node_def_util.cc:680] NodeDef "
     b"mentions attribute use_unbounded_threadpool\n", 2),
    (b"F1127 09:30:40.000001 7 check.cc:9] fatal\n", 3),
    (b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n", 0),
    (b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n", 1),
    (b"UserWarning: something Python said\n", None),
    (b"prunebench: error: unknown profile 'x'\n", None),
    (b"Error 0000 not a log line] at all\n", None),
])
def test_severity_of_lines(line, level):
    assert quiet.severity(line) == level


def test_user_level_is_respected_and_defaults_to_fatal_only():
    assert quiet.user_min_level({}) == 3
    assert quiet.user_min_level({"TF_CPP_MIN_LOG_LEVEL": "0"}) == 0
    assert quiet.user_min_level({"TF_CPP_MIN_LOG_LEVEL": "junk"}) == 3


SCRIPT = """
import os, sys, warnings
from prunebench import quiet
restore = quiet.hold_back_cpp_logs(int(sys.argv[1]))
os.write(2, CUINIT)                                        # what TensorFlow's C++ writes
os.write(2, b"a C library's own line\\n")
warnings.warn("a Python warning reaches the user")        # Python's stderr: not filtered
import logging; logging.basicConfig(level=logging.INFO)
logging.getLogger("tensorflow").warning(
    "Compiled the loaded model, but the compiled metrics have yet to be built. x")
logging.getLogger("tensorflow").warning(
    "%d out of the last %d calls to %s triggered tf.function retracing. Tracing is expensive",
    5, 12, "<function predict_function>")
logging.getLogger("tensorflow").info("Assets written to: /tmp/x/assets")
logging.getLogger("tensorflow").warning("a TensorFlow warning")
print("stderr still a terminal:", sys.stderr.isatty(), file=sys.stderr)
restore()
os.write(2, b"after restore\\n")
""".replace("CUINIT", repr(CUINIT))


@pytest.mark.parametrize("min_level", [3, 2])
def test_cpp_lines_are_held_back_and_everything_else_passes(min_level):
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(min_level)], capture_output=True,
                          check=True)
    err = done.stderr.decode()
    assert ("cuInit" in err) == (min_level <= 2)
    assert "a C library's own line" in err
    assert "UserWarning: a Python warning reaches the user" in err
    assert "Compiled the loaded model" not in err and "Assets written" not in err
    assert "retracing" not in err
    assert "a TensorFlow warning" in err
    assert "stderr still a terminal: False" in err  # a pipe here; a tty stays a tty
    assert err.rstrip().endswith("after restore")


def test_a_captured_python_stderr_is_left_alone(capsys):
    restore = quiet.hold_back_cpp_logs(3)
    print("to the capture", file=sys.stderr)
    restore()
    assert "to the capture" in capsys.readouterr().err
