"""Regressions injected from outside prunebench into a process from its start.

With this folder on PYTHONPATH, Python imports this file at start-up. ``INJECT=KIND:STRENGTH``
picks one regression of the fault catalogue (fault_catalogue.py beside this file, which
lists every kind and what its STRENGTH means); without INJECT nothing is touched. The
fault is applied right after Python first imports the module it lives in (tfmot, tf-keras,
the TFLite converter, LiteRT), never inside prunebench.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys

KIND, _, _STRENGTH = os.environ.get("INJECT", "").partition(":")
STRENGTH = float(_STRENGTH) if _STRENGTH else 0.0


def after_import(module_name, patch):
    """Call ``patch(module)`` right after ``module_name`` is first executed."""

    class Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != module_name:
                return None
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(name)
            original = spec.loader.exec_module

            def exec_module(module):
                original(module)
                patch(module)

            spec.loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, Finder())


if KIND:
    _HERE = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, _HERE)
    try:
        import fault_catalogue
    except ImportError as exc:  # site.py would print it and go on, uninjected: stop instead
        sys.exit(f"INJECT: no fault catalogue (fault_catalogue.py) beside {_HERE} or on "
                 f"PYTHONPATH: {exc}")

    fault = fault_catalogue.get(KIND)
    after_import(fault.module,
                 lambda module: fault.apply(module, STRENGTH, fault_catalogue.Permanent()))
