"""When a run writes frames and records history, and who hears about it: the schedule and the observers.

:class:`Schedule` decides, from the number of steps, which steps write a frame (every ``output_every``
steps, or ``n_frames`` evenly spaced in steps, the last at the end; default 20) and which record a
history row (every ``record``-th step and the last, at most about ``history_points`` rows).

An observer of a run (:class:`Observer`) is any object with some of the methods ``start``, ``frame``,
``history``, ``progress``, ``instability`` and ``close``; :class:`fem.output.OutputWriter` is one, the
progress bar (:class:`ProgressBar`) another. :class:`Observers` calls those that an object has.

Before a run, its size: :class:`RunPlan` (steps, step, the measured wall time of a step, from
:meth:`fem.explicit.ExplicitSolver.plan`), the limits of an absurd run (:data:`MAX_STEPS`,
:data:`MAX_SECONDS`) and the progress cadence that keeps a bar of slow steps moving (:func:`progress_every`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch

from .errors import InputError, InstabilityError

DEFAULT_FRAMES = 20


MAX_STEPS = 100_000_000
"""Most steps a run takes unless allowed more (``run(..., max_steps=None)``): far beyond any explicit run of
this solver's size (a 2,000-element plate runs about 10^4 to 10^6 steps); more is almost always an end
time or a ``dt`` in the wrong unit."""
MAX_SECONDS = 24 * 3600.0
"""Longest estimated wall time [s] of a run that :meth:`RunPlan.too_long` accepts: a day."""


def format_duration(seconds: float) -> str:
    """``"12 s"``, ``"5.3 min"``, ``"3.2 h"``, ``"10.2 days"``, ``"3.1e+04 years"``."""
    if not math.isfinite(seconds):
        return "forever"
    for limit, unit, size in ((90.0, "s", 1.0), (5400.0, "min", 60.0), (129600.0, "h", 3600.0),
                              (3.15576e9, "days", 86400.0)):
        if seconds < limit:
            return f"{seconds / size:.2g} {unit}" if seconds < 10 * size else f"{seconds / size:.3g} {unit}"
    return f"{seconds / 3.15576e7:.2g} years"


@dataclass(frozen=True)
class RunPlan:
    """The size of a run before it starts: steps, step and the measured cost of a step.

    Attributes
    ----------
    n_steps, dt
        Planned steps and time step [time].
    seconds_per_step
        Wall time of one step [s], measured on a few real steps (:meth:`ExplicitSolver.plan`).
    """

    n_steps: int
    dt: float
    seconds_per_step: float

    @property
    def seconds(self) -> float:
        """Estimated wall time of the steps [s] (frame writing not included)."""
        return self.n_steps * self.seconds_per_step

    def describe(self, time_unit: str = "time unit") -> str:
        """``planned 4,399,577,551 steps of dt = 2.27e-10 s: about 10 days at 0.0002 s/step``."""
        return (f"planned {self.n_steps:,} steps of dt = {self.dt:.4g} {time_unit}: about "
                f"{format_duration(self.seconds)} at {self.seconds_per_step:.2g} s/step")

    def too_long(self, max_steps: int | None = MAX_STEPS, max_seconds: float | None = MAX_SECONDS) -> str | None:
        """Why the run is refused (more than ``max_steps`` steps, or estimated above ``max_seconds``), or ``None``."""
        why = []
        if max_steps is not None and self.n_steps > max_steps:
            why.append(f"more than {max_steps:,} steps")
        if max_seconds is not None and self.seconds > max_seconds:
            why.append(f"longer than {format_duration(max_seconds)}")
        return " and ".join(why) or None


def progress_every(seconds_per_step: float, target: float = 0.2) -> int:
    """Steps between progress calls for steps of ``seconds_per_step`` [s]: about ``target`` seconds of steps,
    at least 1 and at most :attr:`Observers.progress_every` (100)."""
    if not (math.isfinite(seconds_per_step) and seconds_per_step > 0):
        return Observers.progress_every
    return max(1, min(Observers.progress_every, int(target / seconds_per_step)))


class Schedule:
    """Frame and history steps of a run of ``n_steps`` steps (step 0, the initial state, is always written).

    Parameters
    ----------
    n_steps
        Number of steps (>= 1).
    output_every
        A frame every this many steps, plus the last; overrides ``n_frames``.
    n_frames
        Number of frames after the initial one, evenly spaced in steps, the last at the end (``None`` or 0:
        20; at most ``n_steps``).
    history_points
        About the most history rows kept: a row every ``max(1, n_steps // history_points)`` steps and at
        the last step.

    Attributes
    ----------
    frames : frozenset of int
        The steps (1..n_steps) that write a frame.
    record : int
        Steps between history rows.
    n_records : int
        Rows the history holds at the end, the initial one included.
    """

    def __init__(self, n_steps: int, output_every: int | None = None, n_frames: int | None = None,
                 history_points: int = 20000) -> None:
        if n_steps < 1:
            raise InputError(f"a run needs at least one step, got {n_steps}", "t_end")
        for name, value, least in (("output_every", output_every, 1), ("n_frames", n_frames, 0)):
            if value is not None and not (isinstance(value, (int, np.integer)) and value >= least):
                raise InputError(f"{name} must be a positive integer, got {value!r}", name)
        if not (isinstance(history_points, (int, np.integer)) and history_points >= 1):
            raise InputError(f"history_points must be a positive integer, got {history_points!r}", "history_points")
        self.n_steps = n = int(n_steps)
        if output_every is not None:
            frames = set(range(output_every, n + 1, output_every)) | {n}
        else:
            k = min(n_frames or DEFAULT_FRAMES, n)
            frames = {math.ceil(i * n / k) for i in range(1, k + 1)}
        self.frames = frozenset(frames)
        self.record = max(1, n // history_points)
        self.n_records = 1 + n // self.record + (1 if n % self.record else 0)

    def is_frame(self, step: int) -> bool:
        """Whether ``step`` writes a frame."""
        return step in self.frames

    def records(self, step: int) -> bool:
        """Whether ``step`` records a history row."""
        return step % self.record == 0 or step == self.n_steps


class Observer:
    """The observer protocol of :meth:`fem.explicit.ExplicitSolver.run`, with do-nothing defaults.

    Subclassing is optional: the run calls only the methods an object has.
    """

    def start(self, n_steps: int, dt: float) -> None:
        """Before the first step: ``n_steps`` steps of ``dt`` [time]."""

    def frame(self, step: int, t: float, u: torch.Tensor, v: torch.Tensor, eps: torch.Tensor,
              sig: torch.Tensor) -> None:
        """The state at ``step`` / time ``t`` [time]: at step 0, at each frame step of the :class:`Schedule`,
        and at the step of an instability if ``u`` and ``v`` are finite.

        ``u`` [length], ``v`` [length/time]: flat ``(n_dof,)``; ``eps`` [-], ``sig`` [stress]:
        ``(n_el, n_qp, n_voigt)``. The tensors are the solver's buffers: copy what you keep.
        """

    def history(self, history: dict[str, np.ndarray]) -> None:
        """The energy history so far (see :class:`fem.energy.EnergyLedger`), after each frame after step 0
        and before an instability is raised."""

    def progress(self, step: int, t: float) -> None:
        """Every :attr:`Observers.progress_every` steps (100, or what the run was given)."""

    def instability(self, error: InstabilityError) -> None:
        """The run is about to raise ``error`` (after the last finite frame and the history)."""

    def close(self) -> None:
        """The run ended, normally or not."""


EVENTS = ("start", "frame", "history", "progress", "instability", "close")


class Observers:
    """Calls an event on every observer that has a method of that name (the do-nothing defaults of
    :class:`Observer` are skipped), in the order given."""

    progress_every = 100
    """Steps between two progress calls (default; ``Observers(..., progress_every)`` sets fewer for slow steps)."""

    def __init__(self, observers: Iterable[object], progress_every: int | None = None) -> None:
        observers = list(observers)
        if progress_every is not None:
            if not (isinstance(progress_every, (int, np.integer)) and progress_every >= 1):
                raise InputError(f"progress_every must be a positive integer, got {progress_every!r}",
                                 "progress_every")
            self.progress_every = int(progress_every)
        self._calls = {e: [getattr(o, e) for o in observers if _overrides(o, e)] for e in EVENTS}
        self.wants_frames = bool(self._calls["frame"] or self._calls["history"])
        self.wants_progress = bool(self._calls["progress"])

    def start(self, n_steps: int, dt: float) -> None:
        for fn in self._calls["start"]:
            fn(n_steps, dt)

    def frame(self, step: int, t: float, u, v, eps, sig) -> None:
        for fn in self._calls["frame"]:
            fn(step, t, u, v, eps, sig)

    def history(self, history: dict[str, np.ndarray]) -> None:
        for fn in self._calls["history"]:
            fn(history)

    def progress(self, step: int, t: float) -> None:
        for fn in self._calls["progress"]:
            fn(step, t)

    def instability(self, error: InstabilityError) -> None:
        for fn in self._calls["instability"]:
            fn(error)

    def close(self) -> None:
        """Close every observer, even if one of them fails (the first error is raised afterwards)."""
        failed = None
        for fn in self._calls["close"]:
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - closed the others first
                failed = failed or exc
        if failed is not None:
            raise failed


def _overrides(obj: object, event: str) -> bool:
    """Whether ``obj`` has a method ``event`` other than the do-nothing default of :class:`Observer`."""
    return callable(getattr(obj, event, None)) and getattr(type(obj), event, None) is not getattr(Observer, event)


class ProgressBar(Observer):
    """A tqdm progress bar over the steps of a run (shown at the start, then updated at each progress call,
    redrawn at most every half second; shows ``t``)."""

    def __init__(self, desc: str = "simulate") -> None:
        self.desc, self.bar = desc, None

    def start(self, n_steps: int, dt: float) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=n_steps, desc=self.desc, unit="step", mininterval=0.5, miniters=1, leave=False)

    def progress(self, step: int, t: float) -> None:
        self.bar.update(step - self.bar.n)
        self.bar.set_postfix(t=f"{t:.4g}", refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
