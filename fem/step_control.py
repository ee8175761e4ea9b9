"""The time step of a finite-strain run, recomputed at every state, and the inverted-element stop.

At each step the certified step of the linearised system at the current state is
``dt_cert(F) = 2 / sqrt(max_e a_e g_e / ρ)`` (:func:`fem.finite_strain.state_time_step`), and the next step is

.. math::

    \\Delta t_{n+3/2} = \\min\\big(s\\, \\Delta t_{cert}(F_{n+1}),\\ \\gamma\\, \\Delta t_{n+1/2},
                          \\ t_{end} - t_{n+1}\\big)

with the safety ``s`` (:func:`fem.stability.default_safety`: the nonlinear one) and a growth limit
``γ = 1.1`` (the step shrinks at once, grows slowly), as explicit codes recompute their step every increment.
Central differences with a variable step: ``u_{n+1} = u_n + Δt_{n+1/2} v_{n+1/2}``,
``v_{n+3/2} = v_{n+1/2} + (Δt_{n+1/2} + Δt_{n+3/2})/2 · a_{n+1}``.

What this certifies: each step is below the critical step of the system linearised at the state where it
starts. It does not promise bounded energy over a long nonlinear run (``docs/nonlinear-stability.md``); the
true-energy monitor watches that.
"""

from __future__ import annotations

import math

import torch

from .errors import InstabilityError
from .finite_strain import gradient_factors, state_time_step
from .principal import det3

#: Largest ratio of one step to the previous one.
GROWTH = 1.1
#: Most rows of the recorded step history (thinned by halves beyond it).
HISTORY = 500
#: A run stops when the certified step falls below this fraction of the first one (an element collapsing).
COLLAPSE = 1e-6


class InversionError(InstabilityError):
    """An element turned inside out (``det F <= 0`` at an integration point), or is collapsing (its certified
    step fell below :data:`COLLAPSE` times the first step): the run stops there."""

    cause = "inversion"


class StepControl:
    """Chooses each step of a finite-strain run and records ``dt_min``, ``dt_max`` and where the smallest
    certified step was controlled. ``material`` has ``tangent_bound(F (n, 3, 3)) -> (n,)``; steps [time]."""

    def __init__(self, geom, material, safety: float, growth: float = GROWTH, alpha: float = 0.0) -> None:
        self.factors = gradient_factors(geom)
        self.alpha = float(alpha)
        self.material, self.density = material, float(material.density)
        self.safety, self.growth = float(safety), float(growth)
        self.n_el = geom.cells.shape[0]
        self.dt_min, self.dt_max = math.inf, 0.0
        self.first: float | None = None
        self.where: dict = {}
        self.history: list[tuple[float, float]] = []  # (t, dt), thinned to at most HISTORY rows
        self._every = 1

    def certified(self, F: torch.Tensor, bound: torch.Tensor | None = None):
        """The :class:`fem.finite_strain.StateStep` at deformation gradients ``F (n_el, n_qp, 9)`` (``bound``:
        ``a(F_q)`` already computed with the stress, ``(n_el, n_qp)``)."""
        a = self.material.tangent_bound(F.reshape(-1, 3, 3)).view(self.n_el, -1) if bound is None else bound
        return state_time_step(a, self.factors, self.density)

    def next_dt(self, F: torch.Tensor, dt: float | None, t: float, t_end: float | None, step: int = 0,
                bound: torch.Tensor | None = None) -> float:
        """The next step after a state at time ``t`` (``dt``: the previous step; ``None`` at the start);
        :class:`InversionError` when the certified step collapses."""
        st = self.certified(F, bound)
        xi = self.alpha * st.dt / 4.0  # mass-proportional damping: the factor of fem.stability.damping_factor
        new = self.safety * (math.sqrt(1.0 + xi * xi) - xi) * st.dt
        if dt is not None:
            new = min(new, self.growth * dt)
        self.first = new if self.first is None else self.first
        if not (math.isfinite(new) and new > COLLAPSE * self.first):
            raise InversionError(f"element {st.element} is collapsing at step {step}, t = {t:.6g}: its certified step "
                                 f"{st.dt:.3g} fell below {COLLAPSE:g} x the first step (a(F) = {st.a_element:.3g}); "
                                 "the mesh cannot follow this deformation (refine it, or check the loading)",
                                 step=step, time=t, dt=dt or 0.0, history={}, element=st.element)
        if st.dt * self.safety <= self.dt_min:
            self.where = {"element": st.element, "time": t, "a_element": st.a_element, "dt_certified": st.dt}
        self.dt_min, self.dt_max = min(self.dt_min, new), max(self.dt_max, new)
        if step % self._every == 0:
            self.history.append((t, new))
            if len(self.history) >= 2 * HISTORY:  # keep every other row and record half as often
                self.history, self._every = self.history[::2], 2 * self._every
        if t_end is not None:  # land on t_end without a sliver of a last step (not counted in dt_min)
            left = t_end - t
            new = left if left <= new * (1 + 1e-9) else min(new, 0.5 * left) if left < 2 * new else new
        return new

    def summary(self) -> dict:
        """``dt_min``, ``dt_max`` [time], ``dt_controlling`` (element, time, its ``a_e`` [stress], its step) and
        ``dt_history`` (``time``, ``dt`` lists, at most :data:`HISTORY` x 2 rows)."""
        times, steps = zip(*self.history) if self.history else ((), ())
        return {"dt_min": self.dt_min, "dt_max": self.dt_max, "dt_controlling": dict(self.where),
                "dt_history": {"time": list(times), "dt": list(steps)},
                "dt_rule": f"min({self.safety:g} x certified state step, {self.growth:g} x previous step), "
                           "recomputed every step"}


def check_inversion(F: torch.Tensor, step: int, t: float, dt: float, history: dict,
                    det: torch.Tensor | None = None) -> None:
    """Raise :class:`InversionError` when ``det F <= 0`` anywhere in ``F (n_el, n_qp, 9)`` (``det``: already
    computed, ``(n_el, n_qp)``)."""
    jac = det3(F.reshape(-1, 3, 3)).view(F.shape[0], -1) if det is None else det
    if float(jac.min()) > 0:  # one reduction per step; the element only when there is one
        return
    worst = torch.nan_to_num(jac, nan=-math.inf).amin(dim=1)
    e = int(torch.argmin(worst))
    raise InversionError(f"element {e} inverted (det F = {float(worst[e]):.3g} <= 0) at step {step}, t = {t:.6g}: "
                         "the mesh cannot follow this deformation (refine it, or check the loading)",
                         step=step, time=t, dt=dt, history=history, element=e)




def finite_time_step(geom, material, *, dt: float | str = "auto", safety: float | None = None, alpha: float = 0.0,
                     allow_unsafe: bool = False):
    """The :class:`fem.stability.TimeStep` of a finite-strain run: the certified step at the reference state
    (``F = I``; element bound of :func:`fem.finite_strain.state_time_step`) with the safety and damping factors;
    with ``dt = "auto"`` the run recomputes it at every state (:class:`StepControl`). A user ``dt`` above it is
    refused unless ``allow_unsafe`` (as :func:`fem.time_step.choose_time_step`)."""
    from .errors import InputError
    from .stability import Bound, StabilityReport, damping_factor, damping_ratio, default_safety
    from .time_step import TimeStep

    safety = default_safety(material) if safety is None else float(safety)
    eye = torch.eye(3, dtype=geom.wdetJ.dtype, device=geom.wdetJ.device).expand(geom.cells.shape[0], 3, 3)
    ctl = StepControl(geom, material, safety, alpha=alpha)
    st = ctl.certified(eye.reshape(geom.cells.shape[0], 1, 9).expand(-1, 1, 9).contiguous())
    xi = damping_ratio(alpha, st.dt)
    bound = Bound("element", st.dt, True, f"element {st.element} at the reference state (F = I); recomputed at "
                                          "every state of an 'auto' run")
    report = StabilityReport(st.a_max, material.certified_by, {"element": bound}, safety, xi, damping_factor(xi))
    if dt == "auto":
        return TimeStep(report.dt_auto, f"auto: {safety:g} x certified element step at every state "
                                        "(finite strain; recomputed each step)", report, xi)
    if isinstance(dt, str):
        raise InputError(f"dt must be a positive number or 'auto', got {dt!r}", "dt")
    chosen = TimeStep(float(dt), "user (fixed; not recomputed)", report, xi)
    limit = report.damping_factor * report.dt_certified
    if dt > limit:
        msg = (f"dt = {dt:.6g} is {dt / limit:.3g} times the certified stable step {limit:.6g} at the reference "
               "state, and the step only shrinks as rubber stiffens")
        if not allow_unsafe:
            raise InputError(f"{msg}: the run is not guaranteed stable. Use dt = 'auto'", "dt")
        chosen.unsafe = True
        chosen.warnings.append(msg + "; running anyway because the unsafe step was allowed")
    return chosen


class TimeFrames:
    """Frames at evenly spaced times of an adaptive run (its step count is not known in advance): as many as
    the step ``schedule`` planned from the first step, the last at ``t_end`` [time]."""

    def __init__(self, schedule, t_end: float) -> None:
        k = max(1, len(schedule.frames))
        self.times = [t_end * i / k for i in range(1, k + 1)]
        self.t_end, self._next = float(t_end), 0

    def done(self, t: float) -> bool:
        return t >= self.t_end * (1 - 1e-12)

    def due(self, t: float) -> bool:
        """Whether a frame is due at time ``t`` (at most one per step; later ones are caught up next steps)."""
        if self._next < len(self.times) and (t >= self.times[self._next] * (1 - 1e-12) or self.done(t)):
            self._next += 1
            return True
        return False


__all__ = ["COLLAPSE", "GROWTH", "InversionError", "StepControl", "TimeFrames", "check_inversion", "finite_time_step"]
