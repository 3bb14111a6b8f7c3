"""Frozen, validated configuration: a bad value fails here, in milliseconds, not after training."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, replace

from prunebench.errors import UsageError

#: whole_model: every layer with prunable weights (under the task's policy); partial: the
#: task's partial layers; hidden_dense: the seed task's name for its partial layer.
SCOPES = ("whole_model", "partial", "hidden_dense")
SCHEDULES = ("constant", "polynomial")
#: magnitude: tfmot's prune_low_magnitude; random: a fixed random mask (the control).
METHODS = ("magnitude", "random")
#: none: float model (its TFLite int8 is post-training dynamic range); pqat: tfmot's
#: pruning-preserving quantization-aware training after pruning.
QUANTIZATIONS = ("none", "pqat")

#: tfmot's own default: ConstantSparsity(0.5, begin_step=0, frequency=100).
DEFAULT_TARGET_SPARSITY = 0.5
DEFAULT_PRUNING_FREQUENCY = 100
#: The seed's mini-batch size (Keras' default) and validation split.
DEFAULT_BATCH_SIZE = 32
DEFAULT_VALIDATION_SPLIT = 0.2


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise UsageError(message)


def validate_sparsity(value: object, what: str = "sparsity") -> float:
    """Return ``value`` as a float if it is a sparsity in [0, 1), else raise UsageError."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"{what} must be a number in [0, 1), got {value!r}")
    number = float(value)
    _require(math.isfinite(number) and 0.0 <= number < 1.0,
             f"{what} must be in [0, 1), got {value!r}")
    return number


def validate_seed(value: object) -> int:
    """Return ``value`` as a seed if it is a non-negative integer, else raise UsageError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"seed must be a non-negative integer, got {value!r}")
    _require(0 <= value < 2**31, f"seed must be a non-negative integer below 2**31, got {value}")
    return value


#: The seed tutorial's task (prunebench.tasks.friedman1): what an experiment runs on when
#: its record predates tasks.
SEED_TASK = "friedman1"


@dataclass(frozen=True)
class DataConfig:
    """The seed's data: make_friedman1 and a fixed train/test split."""

    n_samples: int = 10_000
    n_features: int = 10
    test_size: float = 0.33
    data_seed: int = 0
    split_seed: int = 42

    def __post_init__(self) -> None:
        _require(self.n_samples >= 20, f"n_samples must be at least 20, got {self.n_samples}")
        # make_friedman1 uses only the first 5 features; fewer cannot describe the target.
        _require(self.n_features >= 5, f"n_features must be at least 5, got {self.n_features}")
        _require(0.0 < self.test_size < 1.0, f"test_size must be in (0, 1), got {self.test_size}")


@dataclass(frozen=True)
class TrainConfig:
    """One call of ``model.fit``: its budget and early stopping."""

    epochs: int
    patience: int
    batch_size: int = DEFAULT_BATCH_SIZE
    validation_split: float = DEFAULT_VALIDATION_SPLIT
    restore_best_weights: bool = True
    #: What the model is compiled with when its task owns that (tasks.Training): its
    #: optimizer and loss, described; '' for prunebench's own (adam, the kind's loss).
    compiled_with: str = ""
    #: The task's own callbacks, by class name.
    callbacks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _require(self.epochs >= 1, f"epochs must be at least 1, got {self.epochs}")
        _require(self.patience >= 1, f"patience must be at least 1, got {self.patience}")
        _require(self.batch_size >= 1, f"batch_size must be at least 1, got {self.batch_size}")
        _require(0.0 < self.validation_split < 1.0,
                 f"validation_split must be in (0, 1), got {self.validation_split}")


@dataclass(frozen=True)
class PruneConfig:
    """What ``prune_low_magnitude`` wraps and with which schedule."""

    scope: str
    target_sparsity: float = DEFAULT_TARGET_SPARSITY
    schedule: str = "constant"
    initial_sparsity: float = 0.0
    begin_step: int = 0
    #: PolynomialDecay's last step; -1: the end of the ramp (``ramp_fraction`` of the fit).
    end_step: int = -1
    #: The share of the fine-tune's epochs the polynomial ramp takes; early stopping
    #: waits for its end, so a stopped fit is never short of the target.
    ramp_fraction: float = 0.5
    frequency: int = DEFAULT_PRUNING_FREQUENCY
    method: str = "magnitude"
    #: (m, n): m zeros in every n consecutive input weights (tfmot's sparsity_m_by_n).
    m_by_n: tuple[int, int] | None = None
    #: (height, width) blocks of tfmot's block sparsity over a kernel (in, out); implies
    #: ``sparse_tflite``.
    block_size: tuple[int, int] | None = None
    #: Also convert with Optimize.EXPERIMENTAL_SPARSITY and time that flatbuffer.
    sparse_tflite: bool = False

    @property
    def converts_sparse(self) -> bool:
        return self.sparse_tflite or self.block_size is not None

    def __post_init__(self) -> None:
        _require(self.scope in SCOPES, f"unknown pruning scope {self.scope!r}; one of {SCOPES}")
        _require(self.schedule in SCHEDULES,
                 f"unknown pruning schedule {self.schedule!r}; one of {SCHEDULES}")
        _require(self.method in METHODS, f"unknown pruning method {self.method!r}; one of {METHODS}")
        validate_sparsity(self.target_sparsity, "target sparsity")
        validate_sparsity(self.initial_sparsity, "initial sparsity")
        _require(self.begin_step >= 0, f"begin_step must be >= 0, got {self.begin_step}")
        _require(self.frequency >= 1, f"frequency must be >= 1, got {self.frequency}")
        _require(0.0 < self.ramp_fraction <= 1.0,
                 f"ramp_fraction must be in (0, 1], got {self.ramp_fraction}")
        if self.schedule == "polynomial":
            _require(self.end_step == -1 or self.end_step > self.begin_step,
                     f"polynomial schedule needs end_step > begin_step, got {self.end_step}")
            _require(self.initial_sparsity <= self.target_sparsity,
                     "initial sparsity must not exceed the target sparsity")
        if self.m_by_n is not None:
            m, n = self.m_by_n
            _require(0 < m < n, f"m_by_n must be (m, n) with 0 < m < n, got {self.m_by_n}")
            _require(self.method == "magnitude", "m_by_n pruning is tfmot's: method magnitude")
        if self.block_size is not None:
            _require(len(self.block_size) == 2 and min(self.block_size) >= 1,
                     f"block_size must be (height, width) >= 1, got {self.block_size}")
            _require(self.method == "magnitude" and self.m_by_n is None,
                     "block sparsity is tfmot's magnitude pruning, not m_by_n")


@dataclass(frozen=True)
class TimingConfig:
    """How inference is timed: warm-up calls, then ``repeats`` blocks of ``number`` calls."""

    warmup: int = 3
    # Gated figures take the minimum over blocks: more blocks, more chances for one
    # undisturbed block when the machine is oversubscribed (a block is ~10-25 ms).
    repeats: int = 15
    number: int = 20
    #: model.predict costs ~30 ms of framework overhead a call (~110 ms over friedman1's
    #: 3,300 rows on a slower host): fewer calls suffice, in fewer blocks, for a figure that
    #: is shown and never gated (with 15 blocks it was 40% of an experiment's measuring).
    predict_number: int = 2
    predict_repeats: int = 5

    def __post_init__(self) -> None:
        _require(min(self.repeats, self.number, self.predict_number, self.predict_repeats) >= 1,
                 "timing repeats and numbers must be at least 1")


@dataclass(frozen=True)
class Profile:
    """A training budget: ``full`` is the seed's, ``quick`` the same code path, smaller."""

    name: str
    base_train: TrainConfig
    prune_train: TrainConfig
    data: DataConfig = field(default_factory=DataConfig)
    timing: TimingConfig = field(default_factory=TimingConfig)


@dataclass(frozen=True)
class ExperimentConfig:
    """One named experiment: unpruned when ``prune`` is None."""

    name: str
    description: str
    prune: PruneConfig | None = None
    quantize: str = "none"
    #: The task (model family) it runs on: prunebench.tasks.
    task: str = SEED_TASK

    def __post_init__(self) -> None:
        _require(self.quantize in QUANTIZATIONS,
                 f"unknown quantization {self.quantize!r}; one of {QUANTIZATIONS}")
        _require(self.quantize == "none" or self.prune is not None,
                 "quantization-aware training is run on a pruned experiment")

    def with_sparsity(self, target: float) -> ExperimentConfig:
        """Return a copy pruned to ``target`` instead (unpruned stays unpruned)."""
        if self.prune is None:
            return self
        return replace(self, prune=replace(self.prune, target_sparsity=target))


def experiment_from_dict(raw: dict[str, object]) -> ExperimentConfig:
    """Return the ExperimentConfig a record stored with ``dataclasses.asdict``."""
    fields = dict(raw)
    prune = fields.get("prune")
    if isinstance(prune, dict):
        prune = dict(prune)
        for key in ("m_by_n", "block_size"):
            if prune.get(key) is not None:
                prune[key] = tuple(prune[key])
        fields["prune"] = PruneConfig(**prune)
    return ExperimentConfig(**fields)  # type: ignore[arg-type]


PROFILES: dict[str, Profile] = {
    # The seed's budget: 300 epochs / patience 30 unpruned, 100 / patience 10 pruned.
    "full": Profile(
        name="full",
        base_train=TrainConfig(epochs=300, patience=30),
        prune_train=TrainConfig(epochs=100, patience=10),
    ),
    # Same data and code path, a budget that fits a CI run; MSE is higher, sparsity the same.
    "quick": Profile(
        name="quick",
        base_train=TrainConfig(epochs=40, patience=10),
        prune_train=TrainConfig(epochs=10, patience=5),
        timing=TimingConfig(repeats=15, number=20),
    ),
    # Plumbing only, for tests: a few epochs on 1,000 rows; its figures mean nothing.
    # tfmot first updates masks at step ``frequency`` (100): small batches get there.
    "smoke": Profile(
        name="smoke",
        base_train=TrainConfig(epochs=3, patience=2),
        prune_train=TrainConfig(epochs=2, patience=2, batch_size=4),
        data=DataConfig(n_samples=1_000),
        timing=TimingConfig(warmup=1, repeats=2, number=2, predict_number=1, predict_repeats=2),
    ),
}


def get_profile(name: str) -> Profile:
    """Return the named profile, or raise UsageError listing the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise UsageError(f"unknown profile {name!r}; one of {sorted(PROFILES)}") from None


def run_digest(experiment: ExperimentConfig, profile: Profile) -> str:
    """Return the digest that identifies a run of ``experiment`` under ``profile``.

    Timing repeats change only the precision of the time figures, not what is trained
    or measured, so they are left out: raising them keeps baselines comparable.
    """
    return digest(experiment, profile.data, profile.base_train, profile.prune_train)


#: Options added after baselines were first recorded, with their defaults: left out of a
#: digest while at the default, so adding them did not orphan the stored baselines.
LATER_OPTIONS: dict[str, object] = {
    "method": "magnitude", "m_by_n": None, "ramp_fraction": 0.5, "quantize": "none",
    "block_size": None, "sparse_tflite": False, "task": SEED_TASK,
    "compiled_with": "", "callbacks": (),
}


def _digestible(value: object) -> object:
    if isinstance(value, dict):
        return {k: _digestible(v) for k, v in value.items()
                if not (k in LATER_OPTIONS and v == LATER_OPTIONS[k])}
    return value


def digest(*configs: object) -> str:
    """Return a short stable hash of dataclass configs: equal configs give equal digests."""
    raw = [_digestible(asdict(c)) for c in configs]  # type: ignore[call-overload]
    payload = json.dumps(raw, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]
