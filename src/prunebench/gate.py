"""Judge a run record against a baseline: seeds paired, environments compared, every line kept.

The baseline's section for the run's seeds is read as a record and judged through the one
judge (``judge.judge``), as ``prunebench upgrade`` judges its side B against side A. In
the baseline's own environment (TensorFlow, tf-keras, tfmot, numpy, LiteRT, h5py and the
CPU type all equal) every figure is judged seed by seed in the ``same`` band. Where any of
them differ, each task's seeds are first asked whether they reproduce (its unpruned
model's quality figures within the same band on every seed: another host that computes
the same numbers): then still seed by seed, sharply; else its quality figures over the
seeds against their minimum effects and the rest in the ``cross`` band. ``--tolerance``
forces a band. Timing is judged only on the CPU type the baseline was made on (model
name, family, model, stepping and SIMD features: ``cpu_id``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prunebench import baseline as baselines
from prunebench import judge
from prunebench.compare import REGIMES, Line, Thresholds, judge_timing
from prunebench.errors import UsageError
from prunebench.record import TIMING_SAMPLE, RunRecord, is_busy, tf_minor

#: What must be equal for the ``same`` band: (label, how to read it from an environment).
ENVIRONMENT_KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("tensorflow", ("tf",)),
    ("tf-keras", ("packages", "tf-keras")),
    ("tfmot", ("packages", "tensorflow-model-optimization")),
    ("numpy", ("packages", "numpy")),
    ("ai-edge-litert", ("packages", "ai-edge-litert")),
    ("h5py", ("packages", "h5py")),
    ("cpu", ("cpu",)),
    ("cpu_id", ("cpu_id",)),
)


def _read(env: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    value: Any = env
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


#: What must be equal for timing to be judged at all: ratios move between CPU types.
CPU_KEYS = ("cpu", "cpu_id")


def same_cpu(run: Mapping[str, Any], base: Mapping[str, Any]) -> bool:
    """Return whether two environments ran on one CPU type (model name, cpu_id)."""
    return all(run.get(key) == base.get(key) for key in CPU_KEYS)


def environment_differences(run: Mapping[str, Any], base: Mapping[str, Any],
                            other: str = "baseline") -> list[str]:
    """Return 'name run-value (baseline base-value)' for every figure-deciding difference;
    ``other`` names the reference ('A' for an upgrade's or an A/B's side A)."""
    return [f"{label} {_read(run, keys)} ({other} {_read(base, keys)})"
            for label, keys in ENVIRONMENT_KEYS if _read(run, keys) != _read(base, keys)]


@dataclass
class Judgement:
    """Every judged line of a gate, the band used and why, and what could not be judged."""

    lines: list[Line]
    regime: str
    differences: list[str]
    notes: list[str] = field(default_factory=list)


def _matched_section(record: RunRecord, document: Mapping[str, Any], path: Path,
                     other_tf: bool) -> dict[str, Any]:
    """Return the baseline section the record can be judged against, or raise UsageError."""
    minor = tf_minor(record.environment)
    if str(document["tf_minor"]) != minor and not other_tf:
        raise UsageError(f"results are from TF {minor} but {path} is the baseline of "
                         f"TF {document['tf_minor']}")
    section = baselines.profile_section(dict(document), record.profile, path)
    refresh = baselines.UPDATE_COMMAND.format(profile=record.profile)
    missing = sorted(set(record.seeds) - {int(s) for s in section["seeds"]})
    if missing:
        raise UsageError(f"{path} has no seed {', '.join(map(str, missing))} to pair with "
                         f"(it holds seeds {section['seeds']}); check with those seeds")
    for name, info in record.experiments.items():
        stored = section["experiments"].get(name, {}).get("digest")
        if stored is not None and stored != info.get("digest"):
            raise UsageError(f"{name} is configured differently from {path} "
                             f"(digest {info.get('digest')} vs {stored}); refresh: {refresh}")
    return section


def gate(record: RunRecord, document: Mapping[str, Any], path: Path, thresholds: Thresholds,
         *, regime: str | None = None, other_tf: bool = False,
         known_only: bool = False, same_session: bool = False, timing: bool = True
         ) -> Judgement:
    """Return the judgement of ``record`` against the baseline ``document`` read from ``path``.

    ``regime`` forces a band ('same' or 'cross'); None picks it from the environments.
    ``other_tf`` allows a baseline of another TF minor version. Experiments the baseline
    lacks raise UsageError, unless ``known_only`` (then they are left out, and said so).
    ``same_session``: the document was made in this session beside the run
    (``baseline.session_reference``), so both shared the machine's load: a reference timed
    busy is judged too, every experiment at the busy margins. ``timing`` False: the time
    ratios are not judged (``check --no-timing``), with a note.
    """
    section = _matched_section(record, document, path, other_tf)
    base_env = section.get("environment", {})
    differences = environment_differences(record.environment, base_env)
    notes: list[str] = []
    old_format = bool(section.get("old_format"))
    if old_format:
        notes.append(f"timing not judged: {path} is an old-format baseline, without timing "
                     f"samples; remake it: {baselines.UPDATE_COMMAND.format(profile=record.profile)}")
    chosen = regime or ("cross" if differences else "same")
    if chosen not in REGIMES:
        raise UsageError(f"unknown tolerance {chosen!r}; one of {REGIMES}")
    held = section["experiments"]
    names = _judged_names(record, section, path, known_only, notes)
    if not names:  # every experiment refused by tfmot: those refusals are the judgement
        reference = baselines.as_record(section, record.profile, [], record.seeds, record.task_of)
        reference.experiments = {n: {} for n in held}
        refusals = judge.refusal_lines(reference, record, notes, ("the baseline", "the run"))
        return Judgement(refusals, chosen, differences, notes)
    judged, busy = _timing_notes(record, section, path, names, thresholds, timing,
                                 same_session, notes)
    timed = _timed(record, section["experiments"], names if judged else [], busy, thresholds,
                   notes)
    reference = baselines.as_record(section, record.profile, names, record.seeds, record.task_of)
    # What the baseline ran, judged or not: an experiment refused now that it ran regressed.
    reference.experiments.update({n: {} for n in held if n not in reference.experiments})
    if regime is not None:
        mode = {"same": "paired", "cross": "cross"}[chosen]
    else:
        mode = "auto" if differences else "paired"
    # The tests over seeds (where seeds do not reproduce) and the timing tests share the
    # family-wise false-alarm rate: half each when both are there.
    found = judge.judge(reference, record.only([*names, *record.refused]), thresholds, mode,
                        alpha_share=0.5 if timed else 1.0, labels=("the baseline", "the run"),
                        power=True)
    over_seeds = any(line.limit.startswith("over seeds") for line in found.lines)
    alpha = thresholds.family_alpha * (0.5 if over_seeds else 1.0) / max(1, len(timed))
    timing_lines = [judge_timing(timer, exp, stored, current, alpha)
                    for exp, timer, current, stored in timed]
    if mode == "auto":
        reproduced = [t for t, (same, _) in found.reproduction.items() if same]
        chosen = ("same" if len(reproduced) == len(found.reproduction) else
                  "over seeds" if not reproduced else "same/over seeds")
        notes.extend(f"{task}: {'seeds reproduce' if same else 'seeds do not reproduce'}: {why}"
                     for task, (same, why) in found.reproduction.items())
    return Judgement(found.lines + timing_lines, chosen, differences, notes + found.notes)


def _judged_names(record: RunRecord, section: Mapping[str, Any], path: Path, known_only: bool,
                  notes: list[str]) -> list[str]:
    """Return the record's experiments the baseline holds ([] when every one was refused);
    one it lacks raises UsageError unless ``known_only`` (then it is said in ``notes``)."""
    held = section["experiments"]
    names = record.experiment_names()
    unknown = [n for n in names if n not in held]
    if unknown and not known_only:
        raise_unknown(unknown, section, path, record.profile)
    if unknown:
        notes.append(f"not in the baseline, not judged: {', '.join(unknown)}")
    names = [n for n in names if n in held]
    if not names and not record.refused:
        raise UsageError(f"{path} holds none of the experiments run ({', '.join(unknown)}): "
                         "nothing to judge")
    return names


def _timing_notes(record: RunRecord, section: Mapping[str, Any], path: Path, names: list[str],
                  thresholds: Thresholds, timing: bool, same_session: bool, notes: list[str]
                  ) -> tuple[bool, set[str]]:
    """Return whether the time ratios are judged against ``section`` and which experiments
    were timed busy (judged at the busy margins); say why in ``notes``."""
    base_env = section.get("environment", {})
    old_format = bool(section.get("old_format"))
    cpu_matches = same_cpu(record.environment, base_env)
    stored_kinds = section.get(baselines.TIMING_SAMPLE_KEY)
    # Paths added later (tflite_sparse) are absent from older baselines' kinds, not other.
    same_kind = isinstance(stored_kinds, dict) and all(
        TIMING_SAMPLE.get(path) == kind for path, kind in stored_kinds.items())
    base_load = section.get(baselines.LOAD_KEY)
    base_busy = is_busy(base_load, base_env.get("cores"))
    judged = (timing and cpu_matches and not old_format and same_kind
              and (same_session or not base_busy))
    busy = set(names) if same_session and base_busy else record.busy_experiments() & set(names)
    if not timing:
        notes.append("timing not judged: --no-timing")
        return judged, busy
    if base_busy and cpu_matches and same_kind and not same_session:
        notes.append(f"timing not judged: the baseline was timed on a busy machine (1-minute load "
                     f"{base_load:.2f} on {base_env.get('cores')} cores), where the Keras ratio "
                     "reads low; remake it on a quiet machine")
    if same_session and base_busy:
        notes.append(f"the session's reference was timed on a busy machine (1-minute load "
                     f"{base_load:.2f}): every experiment judged at the busy margins")
    elif busy:
        widened = ", ".join(f"{t.metric} x{t.busy_margin:g}" for t in thresholds.timing
                            if t.busy_margin and t.busy_margin != t.margin)
        notes.append(f"this run was timed on a busy machine (1-minute load up to "
                     f"{record.max_load():.2f}; {len(busy)} of {len(names)} experiments): a "
                     "neighbour moves the Keras ratio both ways, so it can hide a slowdown"
                     + (f"; slower margins there: {widened}" if widened else "")
                     + "; time alone, or both sides at once with prunebench ab")
    if not old_format and not same_kind:
        notes.append(f"timing not judged: {path} holds timing samples of another kind "
                     f"({stored_kinds}, not {TIMING_SAMPLE}); remake "
                     f"it: {baselines.UPDATE_COMMAND.format(profile=record.profile)}")
    elif not cpu_matches and not old_format:
        notes.append("timing not judged: the baseline was made on another CPU type (model, "
                     "family or SIMD features; see cpu_id): time both environments "
                     "interleaved with prunebench ab")
    return judged, busy


def _timed(record: RunRecord, held: Mapping[str, Any], names: list[str], busy: set[str],
           thresholds: Thresholds, notes: list[str]) -> list[tuple[str, Any, list, list]]:
    """Return (experiment, timer, run's samples, baseline's samples) for each time ratio
    judged; a ratio without samples on one side is said in ``notes``."""
    timed = []
    for name in names:
        for timer in thresholds.timing:
            current = record.pooled_ratios(name, timer.path)
            stored = [v for ratios in held[name].get("timing", {}).get(timer.path, {}).values()
                      for v in ratios]
            if not current and not stored:
                continue  # a path this experiment does not have (tflite_sparse)
            if len(current) >= 2 and len(stored) >= 2:
                timed.append((name, timer.for_busy_run() if name in busy else timer, current,
                              stored))
            else:
                notes.append(f"{name}.{timer.metric} not judged: no block samples in the "
                             f"{'run' if len(current) < 2 else 'baseline'}")
    return timed


def raise_unknown(unknown: list[str], section: Mapping[str, Any], path: Path, profile: str) -> None:
    """Raise the UsageError for experiments a baseline section does not hold."""
    held = ", ".join(section["experiments"])
    raise UsageError(f"{path} has no experiment {', '.join(repr(n) for n in unknown)} "
                     f"(it holds {held}); name those, or make them: "
                     f"{baselines.UPDATE_COMMAND.format(profile=profile)}")


def refuse_before_running(planned: RunRecord, document: Mapping[str, Any], path: Path, *,
                          other_tf: bool = False, known_only: bool = False) -> None:
    """Raise UsageError now for whatever would stop ``gate`` judging a run after training.

    ``planned``: a record of the experiments and seeds about to run, without results. The
    baseline's profile, seeds, configuration digests and experiments are checked in
    milliseconds, before anything trains; experiments tfmot refused when the baseline was
    made are tried again, as ``gate`` judges their refusal.
    """
    section = _matched_section(planned, document, path, other_tf)
    tried_again = section.get(baselines.REFUSED_KEY, {})
    unknown = [n for n in planned.experiments if n not in section["experiments"]
               and n not in tried_again]
    if unknown and not known_only:
        raise_unknown(unknown, section, path, planned.profile)
