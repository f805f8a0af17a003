"""DP-SGD with the private *record* as the unit: the one place it is wired.

Both DP stages (train-generator, train-reward) call `train_dp`. The mechanism is Opacus'
own: Poisson sampling by `UniformWithReplacementSampler`, per-example clipping and
Gaussian noise by `DPOptimizer`, and `RDPAccountant` stepped by the optimizer's hook on
every step really taken (empty batches included, which are pure-noise steps).

Opacus clips per batch *row*. A record of the reward proxy is several rows (each pair's
chosen and rejected sequence), so the rows' per-sample gradients from `GradSampleModule`
are summed per record before `DPOptimizer` sees them: `p.grad_sample` holds exactly one
gradient per record, and one record is clipped once to C however many rows it has
(docs/design.md#dp-sgd-per-record).

Sampling rate and step count follow docs/job-contract.md, the same two formulas the
TypeScript privacy planner uses, so the plan and this job's accountant agree.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import torch
from opacus.accountants import RDPAccountant
from opacus.grad_sample import GradSampleModule
from opacus.optimizers import DPOptimizer
from opacus.utils.uniform_sampler import UniformWithReplacementSampler

from .checkpoints import load_state, restore_parameters, save_state

R = TypeVar("R")


def sample_rate(batch_size: int, records: int) -> float:
    """q = min(1, batchSize / records) (docs/job-contract.md)."""
    if records < 1 or batch_size < 1:
        raise ValueError("records and batch size must be positive")
    return min(1.0, batch_size / records)


def planned_steps(epochs: int, batch_size: int, records: int) -> int:
    """steps = epochs · ceil(records / batchSize) (docs/job-contract.md)."""
    if epochs < 1:
        raise ValueError("epochs must be positive")
    return epochs * math.ceil(records / batch_size)


@dataclass(frozen=True)
class RecordBatch:
    """A Poisson batch of records laid out as model rows.

    `row_record[j]` is the index (0..n_records-1) of the record that row j belongs to;
    every record of the batch owns at least one row.
    """

    inputs: dict[str, torch.Tensor]
    row_record: torch.Tensor
    n_records: int
    tokens: int
    # Targets kept apart from `inputs` so the model is not asked to compute its own loss.
    labels: torch.Tensor | None = None
    # [pairs, 2]: the (chosen, rejected) row of each preference pair, for the reward proxy.
    pair_rows: torch.Tensor | None = None

    def to(self, device: torch.device) -> RecordBatch:
        return RecordBatch(
            inputs={k: v.to(device) for k, v in self.inputs.items()},
            row_record=self.row_record.to(device),
            n_records=self.n_records,
            tokens=self.tokens,
            labels=None if self.labels is None else self.labels.to(device),
            pair_rows=None if self.pair_rows is None else self.pair_rows.to(device),
        )


# The loss of each record of a batch, [n_records], computed by running the model's rows.
RecordLosses = Callable[[torch.nn.Module, RecordBatch], torch.Tensor]


@dataclass(frozen=True)
class DPSettings:
    batch_size: int
    epochs: int
    learning_rate: float
    noise_multiplier: float
    clip_norm: float
    delta: float
    # The sampler's and the noise's randomness. None (what every job passes) draws it from
    # the OS's entropy: the run config's `seed` is stored in the synthesis zone, and noise
    # that can be replayed from it protects nothing. Only unit tests fix it.
    mechanism_seed: int | None = None

    def __post_init__(self) -> None:
        if self.noise_multiplier < 0:
            raise ValueError("noise multiplier must be >= 0")
        if self.clip_norm <= 0:
            raise ValueError("clip norm must be > 0")
        if not 0 < self.delta < 1:
            raise ValueError("delta must lie in (0, 1)")


@dataclass
class DPResult:
    records: int
    sample_rate: float
    # A training starts with no step taken, hence ε = 0; `train_dp` sets both when it ends.
    steps: int = 0
    epsilon: float = 0.0
    losses: list[float] = field(default_factory=list)
    tokens: int = 0
    seconds: float = 0.0


def _mechanism_generator(seed: int | None, *, offset: int, device: torch.device | None = None) -> torch.Generator:
    """A generator on `device` (None: torch's default, the CPU), seeded from OS entropy unless a test fixes `seed`."""
    generator = torch.Generator(device=device)
    return generator.manual_seed(secrets.randbits(63) if seed is None else seed + offset)


def trainable_parameters(model: torch.nn.Module) -> list[torch.nn.Parameter]:
    return [p for p in model.parameters() if p.requires_grad]


def parameters_device(params: Sequence[torch.nn.Parameter]) -> torch.device:
    """The one device all trainable parameters live on.

    Opacus draws each parameter's noise on that parameter's device with the optimizer's
    single generator, and torch refuses a generator of another device (a CPU generator
    for CUDA noise). One generator can serve only one device, so parameters spread over
    several devices are refused here rather than mid-step.
    """
    devices = {p.device for p in params}
    if len(devices) != 1:
        found = ", ".join(sorted(str(d) for d in devices)) or "none"
        raise ValueError(f"DP-SGD needs every trainable parameter on one device, found: {found}")
    return devices.pop()


def _inputs_to_fp32(_module: torch.nn.Module, args: tuple) -> tuple:
    return tuple(a.float() if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in args)


def train_in_fp32(model: torch.nn.Module) -> list[torch.utils.hooks.RemovableHandle]:
    """Casts every trainable parameter to fp32; the frozen base keeps its dtype.

    Per-record norms, clipping and noise are computed in the trainable parameters' dtype, and in
    bf16 a clipped record can measure above C (1.0024·C on the tiny model of test_dp's bf16
    test), which the accountant's sensitivity C does not cover. PEFT lifts LoRA weights to fp32
    itself but leaves its `modules_to_save` copy of the reward head in the base's dtype. A
    module whose own weights were cast gets its (bf16) inputs cast too, so its matmul runs in
    fp32 and Opacus records fp32 activations. The hooks stay: the model must keep working after.
    """
    handles = []
    for module in model.modules():
        own = [p for p in module.parameters(recurse=False) if p.requires_grad and p.dtype != torch.float32]
        if not own:
            continue
        for p in own:
            p.data = p.data.float()
        handles.append(module.register_forward_pre_hook(_inputs_to_fp32))
    return handles


def sum_rows_per_record(row_grads: torch.Tensor, row_record: torch.Tensor, n_records: int) -> torch.Tensor:
    """[rows, *shape] per-row gradients → [n_records, *shape] per-record gradients."""
    out = torch.zeros((n_records, *row_grads.shape[1:]), dtype=row_grads.dtype, device=row_grads.device)
    return out.index_add(0, row_record.to(row_grads.device), row_grads)


class DPTrainer:
    """One DP-SGD step at a time over record batches; `train_dp` drives it.

    Kept as an object so tests can look at the per-record gradients and Opacus' clipped
    sums between steps.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        *,
        record_losses: RecordLosses,
        settings: DPSettings,
        records: int,
        optimizer_factory: Callable[[list[torch.nn.Parameter], float], torch.optim.Optimizer] | None = None,
    ):
        if not trainable_parameters(model):
            raise ValueError("model has no trainable parameters (LoRA not attached?)")
        train_in_fp32(model)
        self.params = trainable_parameters(model)
        self.device = parameters_device(self.params)
        self.sample_rate = sample_rate(settings.batch_size, records)
        self.record_losses = record_losses
        # loss_reduction="sum": the row gradients Opacus records are then exactly the
        # gradients of each row's share of the summed per-record losses. Opacus' defaults do the
        # rest: batch-first rows, and the strict check that refuses modules mixing the records of
        # a batch (batch norm); test_dp checks both.
        self.module = GradSampleModule(model, loss_reduction="sum")
        make_optimizer = optimizer_factory or (lambda ps, lr: torch.optim.Adam(ps, lr=lr))
        # The noise is drawn where the gradients are; the sampler below stays on the CPU.
        noise_generator = _mechanism_generator(settings.mechanism_seed, offset=1, device=self.device)
        self.optimizer = DPOptimizer(
            make_optimizer(self.params, settings.learning_rate),
            noise_multiplier=settings.noise_multiplier,
            max_grad_norm=settings.clip_norm,
            # Averaging (Opacus' default reduction) by the *expected* batch keeps the noise scale
            # independent of the sampled batch size, as Poisson sampling requires.
            expected_batch_size=min(settings.batch_size, records),
            generator=noise_generator,
        )
        self.accountant = RDPAccountant()
        self.optimizer.attach_step_hook(self.accountant.get_optimizer_hook_fn(sample_rate=self.sample_rate))
        self.steps = 0

    def record_gradients(self, batch: RecordBatch | None) -> torch.Tensor | None:
        """Forward/backward one batch and leave one gradient per record in p.grad_sample.

        Returns the per-record losses (detached), or None for an empty batch.
        """
        self.optimizer.zero_grad(set_to_none=True)  # pragma: no mutate (frees, not zeroes: see bench/mutation)
        if batch is None or batch.n_records == 0:
            for p in self.params:
                p.grad_sample = torch.zeros((0, *p.shape), dtype=p.dtype, device=p.device)
            return None
        losses = self.record_losses(self.module, batch)
        if losses.shape != (batch.n_records,):
            raise ValueError(f"record_losses returned shape {tuple(losses.shape)}, want ({batch.n_records},)")
        losses.sum().backward()
        for p in self.params:
            if p.grad_sample is None:
                # A trainable tensor the batch never reached still needs a zero row per
                # record so Opacus' per-record norm spans all parameters.
                p.grad_sample = torch.zeros((batch.n_records, *p.shape), dtype=p.dtype, device=p.device)
            elif isinstance(p.grad_sample, list):
                raise RuntimeError("gradient accumulation across backward passes is not supported under DP")
            else:
                p.grad_sample = sum_rows_per_record(p.grad_sample, batch.row_record, batch.n_records)
        return losses.detach()

    def step(self, batch: RecordBatch | None) -> torch.Tensor | None:
        losses = self.record_gradients(batch)
        self.optimizer.step()
        self.steps += 1
        return losses

    def epsilon(self, delta: float) -> float:
        return float(self.accountant.get_epsilon(delta)) if self.steps else 0.0

    def close(self) -> None:
        """Remove Opacus' hooks so the wrapped model can be saved and used plainly."""
        self.module._close()


def train_dp(
    model: torch.nn.Module,
    records: Sequence[R],
    *,
    make_batch: Callable[[list[R]], RecordBatch],
    record_losses: RecordLosses,
    settings: DPSettings,
    optimizer_factory: Callable[[list[torch.nn.Parameter], float], torch.optim.Optimizer] | None = None,
    checkpoint_dir: Path | None = None,
    checkpoint_every: int = 50,  # pragma: no mutate (how often a spot job saves; see bench/mutation/README.md)
) -> DPResult:
    """DP-SGD over `records` for epochs·ceil(N/B) Poisson steps; returns ε and losses.

    With `checkpoint_dir` (a managed-spot job), the state after every `checkpoint_every`
    steps is kept there and a restarted job continues from it: see `_resume`.

    The model is trained in place (its trainable parameters only); Opacus' hooks are
    removed before returning.
    """
    n = len(records)
    steps = planned_steps(settings.epochs, settings.batch_size, n)
    trainer = DPTrainer(
        model, record_losses=record_losses, settings=settings, records=n, optimizer_factory=optimizer_factory
    )
    result = DPResult(records=n, sample_rate=trainer.sample_rate)
    # What must match for a checkpoint to be this training's. The key names are written and
    # compared by this code only, so renaming one changes nothing (bench/mutation/README.md).
    fingerprint = {
        "records": n,  # pragma: no mutate
        "steps": steps,  # pragma: no mutate
        "sampleRate": trainer.sample_rate,  # pragma: no mutate
        "noiseMultiplier": settings.noise_multiplier,  # pragma: no mutate
        "clipNorm": settings.clip_norm,  # pragma: no mutate
    }
    if checkpoint_dir is not None:
        _resume(checkpoint_dir, trainer, result, fingerprint)
    sampler = UniformWithReplacementSampler(
        num_samples=n,
        sample_rate=trainer.sample_rate,
        generator=_mechanism_generator(settings.mechanism_seed, offset=0),
        steps=steps - trainer.steps,
    )
    model.train()
    started = time.perf_counter()
    try:
        for indices in sampler:
            batch = make_batch([records[i] for i in indices]).to(trainer.device) if indices else None
            losses = trainer.step(batch)
            if losses is not None:
                result.losses.append(float(losses.mean()))
                result.tokens += batch.tokens
            if checkpoint_dir is not None and trainer.steps % checkpoint_every == 0 and trainer.steps < steps:
                _save_checkpoint(checkpoint_dir, trainer, result, fingerprint)
    finally:
        trainer.close()
    result.seconds = time.perf_counter() - started
    result.steps = trainer.steps
    result.epsilon = trainer.epsilon(settings.delta)
    return result


CHECKPOINT_FILE = "dp-state.pt"


def _save_checkpoint(directory: Path, trainer: DPTrainer, result: DPResult, fingerprint: dict) -> None:
    """The state after `trainer.steps` steps: trainable weights, optimizer moments, the
    accountant's history and the losses. Private-zone data, synced to the private bucket only."""
    save_state(
        directory,
        CHECKPOINT_FILE,
        fingerprint,
        {
            "steps": trainer.steps,
            "trainable": [p.detach().cpu().clone() for p in trainer.params],
            "optimizer": trainer.optimizer.original_optimizer.state_dict(),
            "accountant": list(trainer.accountant.history),
            "losses": list(result.losses),
            "tokens": result.tokens,
        },
    )


def _resume(directory: Path, trainer: DPTrainer, result: DPResult, fingerprint: dict) -> None:
    """Continues an interrupted job from its last checkpoint, if it left one.

    Privacy: the released model is a function of the checkpointed state and the steps
    taken after it. Steps the interrupted attempt took after its last checkpoint are
    lost and redone with fresh noise; their result never leaves the job, so the
    accountant counts only the steps that the final model went through.
    """
    state = load_state(directory, CHECKPOINT_FILE, fingerprint)
    if state is None:
        return
    restore_parameters(trainer.params, state["trainable"])
    trainer.optimizer.original_optimizer.load_state_dict(state["optimizer"])
    trainer.accountant.history = list(state["accountant"])
    trainer.steps = int(state["steps"])
    result.losses = list(state["losses"])
    result.tokens = int(state["tokens"])


def dp_metrics(stage: str, settings: DPSettings, result: DPResult) -> dict:
    """metrics.json of a DP training, exactly the keys of docs/job-contract.md.

    `losses` are statistics of private data without DP: they stay in the private zone
    (Release copies ε and the plan's figures, never these).
    """
    epsilon = result.epsilon if math.isfinite(result.epsilon) else None  # σ = 0: no guarantee
    return {
        "stage": stage,
        "records": result.records,
        "epochs": settings.epochs,
        "steps": result.steps,
        "sampleRate": result.sample_rate,
        "noiseMultiplier": settings.noise_multiplier,
        "clipNorm": settings.clip_norm,
        "delta": settings.delta,
        "epsilon": epsilon,
        "accountant": "rdp",
        "losses": result.losses,
        "lossFirst": result.losses[0] if result.losses else None,
        "lossLast": result.losses[-1] if result.losses else None,
        "tokensPerSecond": result.tokens / result.seconds if result.seconds > 0 else 0.0,
        "seconds": result.seconds,
    }
