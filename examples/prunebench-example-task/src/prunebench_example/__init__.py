"""An external prunebench task: see task.py and the README beside pyproject.toml."""
