"""The training loop: an Adam phase and an L-BFGS phase, and the one early-stopping loop they share.

:func:`train` runs the phases of :attr:`FitOptions.optimizer <snsurrogate.training.FitOptions.optimizer>`
(``adam``, ``lbfgs``, or ``adam+lbfgs``: Adam, then an L-BFGS polish from the best Adam state). Each phase
only says how one epoch steps (:class:`_Phase`); :func:`_run_phase` keeps the best validation state,
stops early after ``patience`` epochs without improvement, and stops with a warning on a non-finite or
exploding loss (a :class:`~snsurrogate.errors.TrainingError` when the first phase never improved on the
initial weights). Losses are the MSE of the scaled stress ``sigma / s_sigma``.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from tqdm.auto import tqdm

from .errors import TrainingError
from .network import StressNetwork

if TYPE_CHECKING:
    from .training import FitOptions

__all__ = ["Split", "TrainingLog", "train"]


@dataclass
class TrainingLog:
    """What happened during training (losses are MSE of the scaled stress)."""

    epochs_run: int
    best_epoch: int
    best_loss: float
    stop_reason: str
    history: list[tuple[int, float, float]]  # (epoch, train loss, validation loss), scaled units


@dataclass(frozen=True)
class Split:
    """Training and validation points: strain ``(n, d_in)`` and scaled stress ``(n, d_out)`` tensors."""

    x_tr: torch.Tensor
    y_tr: torch.Tensor
    x_va: torch.Tensor
    y_va: torch.Tensor


# offer(val_loss, train_loss): called by a step while the network holds the weights that val_loss is of
Offer = Callable[[float, float], None]


@dataclass(frozen=True)
class _Phase:
    """One optimizer's part of training.

    Attributes
    ----------
    name : str
        ``"Adam"`` or ``"L-BFGS"`` (in the stop reason of a two-phase fit).
    epochs : int
        Epoch budget.
    step : callable
        ``step(offer) -> (train loss, validation loss)``: one epoch; calls ``offer`` once.
    evaluates_first : bool
        The step evaluates the weights before updating them (full-batch Adam), so the state offered at
        epoch 1 is the initial one.
    """

    name: str
    epochs: int
    step: Callable[[Offer], tuple[float, float]]
    evaluates_first: bool = False


def train(net: StressNetwork, split: Split, opts: FitOptions) -> TrainingLog:
    """Train ``net`` in place (to its best validation state) by the phases of ``opts.optimizer``.

    Parameters
    ----------
    net
        The network, on the device and in the dtype of ``split``.
    split
        Training and validation points.
    opts
        ``optimizer``, ``epochs``, ``polish_epochs``, ``lr``, ``batch_size``, ``patience``, ``seed`` and
        ``progress`` are used.

    Returns
    -------
    TrainingLog
        Over all phases: epochs run, best epoch (counted across phases), best validation loss, the stop
        reason (``"Adam: ...; L-BFGS: ..."`` for two phases) and the loss history.
    """
    phases: list[Callable[[], _Phase]] = []
    if opts.optimizer in ("adam", "adam+lbfgs"):
        phases.append(lambda: _adam_phase(net, split, opts.epochs, opts.lr, opts.batch_size, opts.seed))
    if opts.optimizer == "lbfgs":
        phases.append(lambda: _lbfgs_phase(net, split, opts.epochs))
    if opts.optimizer == "adam+lbfgs":
        phases.append(lambda: _lbfgs_phase(net, split, opts.polish_epochs))
    logs: list[TrainingLog] = []
    best_loss = math.inf
    names = []
    for make in phases:
        phase = make()  # after the previous phase: its optimizer starts from the best state so far
        logs.append(_run_phase(net, phase, patience=opts.patience, best_loss=best_loss, progress=opts.progress))
        best_loss = logs[-1].best_loss
        names.append(phase.name)
    if len(logs) == 1:
        return logs[0]
    offset, best_epoch = 0, 0
    for log in logs:
        if log.best_epoch != 0:
            best_epoch = offset + log.best_epoch
        offset += log.epochs_run
    return TrainingLog(offset, best_epoch, min(log.best_loss for log in logs),
                       "; ".join(f"{name}: {log.stop_reason}" for name, log in zip(names, logs, strict=True)),
                       [h for log in logs for h in log.history])


def _scaled_loss(net: StressNetwork, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """MSE of the scaled stress; ``y`` is scaled, the network returns stress in stress units."""
    return torch.mean((net(x) * (1.0 / net.arch.stress_scale) - y) ** 2)


def _validate(net: StressNetwork, split: Split, offer: Offer, train_loss: float) -> float:
    """Validation loss of the current weights in eval mode (the training loss without validation points)."""
    net.eval()
    with torch.no_grad():
        if len(split.x_va) > 0:
            val_loss = float(_scaled_loss(net, split.x_va, split.y_va))
        else:
            val_loss = float(_scaled_loss(net, split.x_tr, split.y_tr))
    offer(val_loss, train_loss)
    return val_loss


def _adam_phase(net: StressNetwork, split: Split, epochs: int, lr: float, batch_size: int | None,
                seed: int) -> _Phase:
    """Adam with cosine learning-rate decay, over mini-batches in a seeded order or full batches."""
    x_tr, y_tr, x_va, y_va = split.x_tr, split.y_tr, split.x_va, split.y_va
    n_tr, has_val = len(x_tr), len(x_va) > 0
    bs = n_tr if batch_size is None and n_tr <= 4096 else (batch_size or 1024)
    bs = max(1, min(bs, n_tr))
    gen = torch.Generator(device="cpu").manual_seed(seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs, eta_min=lr * 0.01)
    inv_scale = 1.0 / net.arch.stress_scale
    x_all = torch.cat((x_tr, x_va)) if bs >= n_tr else None

    def full_batch(offer: Offer) -> tuple[float, float]:
        # One forward over [train; validation]: the validation loss of the current weights comes with
        # the training loss, and the weights are offered (kept if the best so far) before the update.
        opt.zero_grad(set_to_none=True)
        pred = net(x_all) * inv_scale
        loss = torch.mean((pred[:n_tr] - y_tr) ** 2)
        with torch.no_grad():
            val_loss = float(torch.mean((pred[n_tr:] - y_va) ** 2)) if has_val else float(loss)
        train_loss = float(loss.detach())
        offer(val_loss, train_loss)
        loss.backward()
        opt.step()
        sched.step()
        return train_loss, val_loss

    def mini_batches(offer: Offer) -> tuple[float, float]:
        total = 0.0
        order = torch.randperm(n_tr, generator=gen).to(x_tr.device)
        for start in range(0, n_tr, bs):
            idx = order[start:start + bs]
            opt.zero_grad(set_to_none=True)
            loss = _scaled_loss(net, x_tr[idx], y_tr[idx])
            loss.backward()
            opt.step()
            total += float(loss.detach()) * (min(start + bs, n_tr) - start)
        sched.step()
        train_loss = total / n_tr
        return train_loss, _validate(net, split, offer, train_loss)

    if bs >= n_tr:
        return _Phase("Adam", epochs, full_batch, evaluates_first=True)
    return _Phase("Adam", epochs, mini_batches)


def _lbfgs_phase(net: StressNetwork, split: Split, epochs: int) -> _Phase:
    """Full-batch L-BFGS, five iterations with a strong-Wolfe line search per epoch."""
    opt = torch.optim.LBFGS(net.parameters(), lr=1.0, max_iter=5, history_size=20, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        loss = _scaled_loss(net, split.x_tr, split.y_tr)
        loss.backward()
        return loss

    def step(offer: Offer) -> tuple[float, float]:
        if net.spectral:
            with torch.no_grad():  # advance the power iteration outside the closure
                net(split.x_tr[:1])
            net.eval()  # fixed sigma vectors inside the line search: a deterministic objective
        train_loss = float(opt.step(closure).detach())
        return train_loss, _validate(net, split, offer, train_loss)

    return _Phase("L-BFGS", epochs, step)


def _run_phase(net: StressNetwork, phase: _Phase, *, patience: int | None, best_loss: float,
               progress: bool) -> TrainingLog:
    """Run one phase: keep the best validation state, stop early, stop with a warning on divergence.

    ``best_loss`` is the best validation loss of an earlier phase (``inf`` for the first one): a phase
    keeps its starting state unless it improves on it, and only a first phase that diverges before
    improving on the initial weights raises a :class:`TrainingError`.
    """
    patience = patience if patience is not None else max(200, phase.epochs // 4)
    best = (best_loss, 0, copy.deepcopy(net.state_dict()))
    candidate: list[dict | None] = [None]

    def offer(val_loss: float, train_loss: float) -> None:
        if val_loss < best[0] * (1 - 1e-6) and math.isfinite(train_loss):
            candidate[0] = copy.deepcopy(net.state_dict())

    history: list[tuple[int, float, float]] = []
    first_loss = None
    stop_reason = f"reached the epoch budget ({phase.epochs})"
    bar = tqdm(range(1, phase.epochs + 1), desc="fit", unit="epoch", disable=not progress, mininterval=0.5,
               leave=False)
    epoch = 0
    for epoch in bar:
        net.train()
        candidate[0] = None
        train_loss, val_loss = phase.step(offer)
        if first_loss is None:
            first_loss = max(train_loss, 1e-30)
        history.append((epoch, train_loss, val_loss))
        if not (math.isfinite(train_loss) and math.isfinite(val_loss)) or train_loss > 1e4 * first_loss:
            finite = math.isfinite(train_loss) and math.isfinite(val_loss)
            what = "loss exploded" if finite else "non-finite loss"
            stop_reason = f"diverged at epoch {epoch} ({what}); kept the best model, from epoch {best[1]}"
            # evaluating before the update, the state of epoch 1 is the initial, untrained one; a later
            # phase (best_loss given) falls back to the state it started from
            if not math.isfinite(best_loss) and best[1] < (2 if phase.evaluates_first else 1):
                raise TrainingError(
                    f"training diverged at epoch {epoch} ({what}) before improving on the initial weights; "
                    "try a smaller learning rate (--lr) or --float64"
                )
            warnings.warn(f"training {stop_reason}", RuntimeWarning, stacklevel=4)  # _run_phase, train, fit, the caller
            break
        if candidate[0] is not None:
            best = (val_loss, epoch, candidate[0])
        elif epoch - best[1] >= patience:
            stop_reason = f"early stop: no validation improvement for {patience} epochs"
            break
        if progress and epoch % 25 == 0:
            bar.set_postfix(loss=f"{train_loss:.3e}", val=f"{val_loss:.3e}", best=f"{best[0]:.3e}", refresh=False)
    bar.close()
    net.load_state_dict(best[2])
    net.eval()
    return TrainingLog(epoch, best[1], best[0], stop_reason, history)
