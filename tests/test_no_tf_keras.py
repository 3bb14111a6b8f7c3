"""TensorFlow >= 2.16 without tf-keras: prunebench refuses in one line with exit code 2.

Meaningful only where tf-keras is missing: tox's py311-notfkeras environment.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from prunebench import kerasenv

pytestmark = pytest.mark.skipif(
    # tf_keras from any distribution (tf-keras, tf-keras-nightly) counts as installed.
    bool(kerasenv.providers("tf_keras"))
    or kerasenv.parse_minor(kerasenv.tf_version() or "0.0") < (2, 16),
    reason="needs TF >= 2.16 without tf-keras: tox -e py311-notfkeras",
)


@pytest.mark.parametrize("args", [["run", "--profile", "smoke"], ["env"], ["check"]])
def test_refuses_with_one_line_naming_tf_keras(tmp_path, args):
    done = subprocess.run([sys.executable, "-m", "prunebench.cli", *args], capture_output=True,
                          text=True, cwd=tmp_path, timeout=300, check=False)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "pip install 'tf-keras~=2.16.0'" in lines[0]
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.iterdir()), "nothing may be written"
