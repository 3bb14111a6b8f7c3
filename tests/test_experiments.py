"""The experiment registry: names, order, overrides."""

from __future__ import annotations

import pytest

from prunebench import experiments
from prunebench.errors import UsageError


def test_canonical_three_in_order():
    assert [e.name for e in experiments.resolve(None)] == ["unpruned", "whole_model", "dense_only"]


def test_unpruned_always_runs_first_because_the_others_fine_tune_it():
    chosen = experiments.resolve(["dense_only", "unpruned"])
    assert [e.name for e in chosen] == ["unpruned", "dense_only"]
    assert [e.name for e in experiments.resolve(["whole_model"])] == ["unpruned", "whole_model"]


def test_unknown_experiment_names_the_groups_and_where_to_look():
    with pytest.raises(UsageError, match=r"unknown experiment 'nope'; groups: canonical, sweep.*"
                                         r"prunebench list"):
        experiments.resolve(["nope"])


def test_sparsity_override_leaves_unpruned_alone():
    chosen = experiments.resolve(None, sparsity=0.75)
    assert chosen[0].prune is None
    assert {e.prune.target_sparsity for e in chosen[1:]} == {0.75}


def test_scopes_are_the_seeds_two_pruned_variants():
    assert experiments.get_experiment("whole_model").prune.scope == "whole_model"
    assert experiments.get_experiment("dense_only").prune.scope == "hidden_dense"
