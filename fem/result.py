"""What a run of :class:`fem.explicit.ExplicitSolver` produced: :class:`Result` and its JSON summary."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .time_step import TimeStep

MONITOR_NOTES = {
    "potential": "true energy: kinetic + stored strain energy - external work + damping work; warns at "
                 "energy_warn (1 %), stops at energy_stop (10 %)",
    "work": "the law has no energy: the drift is the central-difference work balance, which closes by "
            "construction and so only catches gross blow-up (through the runaway test); a weaker check",
}


@dataclass
class Result:
    """What a run produced.

    Attributes
    ----------
    steps, dt, t_end
        Number of steps, time step [time], final time [time].
    stable
        False when the run was stopped by an instability.
    energy_error
        Largest relative energy-balance error seen [-].
    wall_seconds
        Wall time of the time-step loop [s].
    history
        ``time``, ``kinetic``, ``internal``, ``external``, ``damping`` arrays [time, energy] at the
        recorded steps.
    u, v
        Final nodal displacement [length] and velocity [length/time], ``(n_nodes, dim)`` numpy arrays.
    reactions
        Final support reactions [force] at the constrained dofs (zero elsewhere), ``(n_nodes, dim)``.
    warnings
        Messages issued during the run.
    dt_method
        How ``dt`` was chosen: ``"user"`` or the ``"auto: ..."`` description of :class:`fem.stability.TimeStep`.
    time_step
        The :class:`fem.stability.TimeStep` of an ``"auto"`` step (bounds, safety, damping), else ``None``.
    energy_drift
        Largest relative drift of the true energy [-] (``energy_monitor == "potential"``), or the largest
        balance error (``"work"``: a law without an energy; that balance closes by construction, so it
        only catches gross blow-up) (:class:`fem.energy.EnergyLedger`).
    energy_monitor
        ``"potential"`` or ``"work"``.
    step_control
        A finite-strain run with ``dt = "auto"``: ``dt_min``, ``dt_max`` [time], ``dt_controlling`` (the element,
        time and ``a_e`` of the smallest certified step) and the rule (:class:`fem.step_control.StepControl`);
        ``dt`` is then ``dt_min``. ``None`` for a fixed step.
    """

    steps: int
    dt: float
    t_end: float
    stable: bool
    energy_error: float
    wall_seconds: float
    history: dict[str, np.ndarray]
    u: np.ndarray
    v: np.ndarray
    reactions: np.ndarray
    warnings: list[str] = field(default_factory=list)
    dt_method: str = "user"
    time_step: TimeStep | None = None
    energy_drift: float = 0.0
    energy_monitor: str = "work"
    step_control: dict | None = None

    def summary(self) -> dict:
        """JSON-ready summary (``steps``, ``dt``, ``dt_method``, ``t_end``, ``stable``, ``energy_error``,
        ``wall_seconds``, ``steps_per_second``, ``warnings``, ``energy_drift``, ``energy_monitor``,
        ``energy_monitor_note``)."""
        return {
            "steps": self.steps,
            "dt": self.dt,
            "dt_method": self.dt_method,
            "t_end": self.t_end,
            "stable": self.stable,
            "energy_error": self.energy_error,
            "wall_seconds": self.wall_seconds,
            "steps_per_second": self.steps / self.wall_seconds if self.wall_seconds > 0 else None,
            "warnings": list(self.warnings),
            "energy_drift": self.energy_drift,
            "energy_monitor": self.energy_monitor,
            "energy_monitor_note": MONITOR_NOTES[self.energy_monitor],
            **(self.step_control or {}),
        }


__all__ = ["MONITOR_NOTES", "Result"]
