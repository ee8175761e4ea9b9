"""Explicit dynamics: central differences (velocity Verlet) with lumped mass.

Semi-discrete equations ``M a + f_int(u) + alpha M v = f_ext(t)``. One step (``n -> n+1``):

.. math::

    v_{n+1/2} = v_n + \\tfrac{dt}{2} a_n, \\qquad u_{n+1} = u_n + dt\\, v_{n+1/2},

    a_{n+1} = M^{-1} (f_{ext}(t_{n+1}) - f_{int}(u_{n+1})) - \\alpha v_{n+1/2}, \\qquad
    v_{n+1} = v_{n+1/2} + \\tfrac{dt}{2} a_{n+1}

with kinematic conditions imposed on ``v`` and ``a`` (fixed: zero; prescribed velocity: the value at
``t_{n+1/2}`` for the displacement update and at ``t_{n+1}`` for ``v``). The internal force is one
batched material call over all integration points and one scatter-add (:mod:`fem.kinematics`).

A run (:meth:`ExplicitSolver.run`) is a short loop over :meth:`ExplicitSolver.step`, which advances a :class:`State`
in place; around it, the energy ledger (:mod:`fem.energy`: works, balance, history, runaway and non-finite
detection), the frame schedule and the observers that hear about frames, history, progress and instabilities
(:mod:`fem.schedule`; :class:`fem.output.OutputWriter`). The step: :func:`fem.time_step.choose_time_step`.
"""

from __future__ import annotations

import math
import numbers
import time as _time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from . import boundary as bnd
from .energy import ENERGY_KEYS, EnergyLedger, energy_balance_error
from .errors import InputError, InstabilityError, counted
from .finite_strain import FiniteStrainForce
from .fused import small_strain_force
from .kinematics import Geometry, geometry
from .mass import lumped_mass
from .materials import Material
from .result import MONITOR_NOTES, Result
from .schedule import MAX_SECONDS, MAX_STEPS, Observers, ProgressBar, RunPlan, Schedule, format_duration, progress_every
from .stability import default_safety, n_steps
from .step_control import InversionError, StepControl, TimeFrames, check_inversion
from .time_step import TimeStep, choose_time_step


@dataclass(eq=False)
class State:
    """The state of a run after step ``step`` (``t = step dt``), with the buffers the next step writes.

    All vectors are flat ``(n_dof,)`` tensors on the solver's device, except the reactions
    ``(n_cons,)`` on the constrained dofs (``solver.bc.constrained``: fixed, then prescribed velocity).

    Attributes
    ----------
    u, v, a
        Displacement [length], velocity [length/time], acceleration [length/time^2] at ``t_n``.
    v_half, v_prev, v_old
        ``v_{n+1/2}``, ``v_{n-1/2}``, ``v_{n-3/2}`` [length/time] (``v_old`` is overwritten by the next step).
    f_int, f_int_prev
        Internal force [force] at steps ``n`` and ``n-1`` (the latter is overwritten by the next step).
    f_ext, f_ext_prev
        External force [force] at steps ``n`` and ``n-1``.
    react, react_prev
        Support reactions [force] at steps ``n`` and ``n-1``, ``(n_cons,)``.
    eps, sig
        Strain [-] and stress [stress] at ``u_n``, ``(n_el, n_qp, n_voigt)`` (the material's buffers); in a
        finite-strain run the deformation gradient ``F`` and the nominal stress ``P``, ``(n_el, n_qp, 9)``.
    dt, t, step, dt_prev
        The next time step [time], time [time], step number, the step that led here [time].
    """

    u: torch.Tensor
    v: torch.Tensor
    a: torch.Tensor
    v_half: torch.Tensor
    v_prev: torch.Tensor
    v_old: torch.Tensor
    f_int: torch.Tensor
    f_int_prev: torch.Tensor
    f_ext: torch.Tensor
    f_ext_prev: torch.Tensor
    react: torch.Tensor
    react_prev: torch.Tensor
    eps: torch.Tensor
    sig: torch.Tensor
    dt: float
    t: float = 0.0
    step: int = 0
    _r_tmp: torch.Tensor | None = field(default=None, repr=False)
    dt_prev: float | None = None  # the step that led to this state (None: dt); differs from dt when adapted

    def __post_init__(self) -> None:
        if self.dt_prev is None:
            self.dt_prev = self.dt


class ExplicitSolver:
    """An explicit dynamics model: mesh, material, conditions, damping, ready to run.

    Parameters
    ----------
    mesh
        A :class:`fem.mesh.Mesh` (lengths in the user's unit).
    material
        Any :class:`fem.materials.Material` whose ``n_voigt`` fits the mesh dimension.
    conditions
        Boundary conditions from :mod:`fem.boundary` (``Fixed``, ``Velocity``, ``NodalForce``, ``Traction``).
    initial_velocity
        :class:`fem.boundary.InitialVelocity` or ``None``.
    damping
        Mass-proportional damping coefficient ``alpha`` [1/time].
    section
        Bar cross-section [length^2] (1-D) or thickness [length] (2-D).
    kinematics
        ``"small"`` (Voigt strain -> stress) or ``"finite"`` (total Lagrangian, ``F -> P``,
        :mod:`fem.finite_strain`); ``None``: what the material is (``finite_strain`` attribute). A law of one
        kind in a run of the other is refused with the reason.
    dtype, device
        float64 on the CPU by default; ``device="cuda"`` runs on a GPU.
    kernel
        Small-strain internal force: ``"auto"``, ``"compiled"`` (numba, CPU) or ``"torch"`` (:mod:`fem.fused`).
    """

    def __init__(self, mesh, material: Material, conditions=(), initial_velocity=None, *, damping: float = 0.0,
                 section: float = 1.0, dtype=torch.float64, device="cpu", kinematics: str | None = None,
                 kernel: str = "auto") -> None:
        from .kinematics import VOIGT_SIZE

        self.finite = finite_kinematics(material, kinematics, mesh.dim)
        if not self.finite and material.n_voigt != VOIGT_SIZE[mesh.dim]:
            raise InputError(
                f"material: a {mesh.dim}-D mesh needs a law with {counted(VOIGT_SIZE[mesh.dim], 'strain component')}, "
                f"this one has {material.n_voigt}", "material"
            )
        if not (math.isfinite(damping) and damping >= 0):
            raise InputError(f"damping must be a non-negative number, got {damping!r}")
        self.mesh, self.material, self.damping = mesh, material, float(damping)
        self.dtype, self.device = dtype, torch.device(device)
        self.geom: Geometry = geometry(mesh, section=section, dtype=dtype, device=self.device)
        self.mass = lumped_mass(self.geom, material.density)  # (n_nodes,)
        self.m_dof = self.mass.repeat_interleave(mesh.dim)  # (n_dof,)
        self.bc = bnd.build(mesh, conditions, section=section, dtype=dtype, device=self.device)
        self._cons = self.bc.constrained
        self._m_cons = self.m_dof[self._cons]
        self._inv_m = 1.0 / self.m_dof
        self._vel_factor = torch.ones_like(self.bc.vel_values)  # buffers of _prescribed
        self._vel_buf = torch.empty_like(self.bc.vel_values)
        self._force = FiniteStrainForce(self.geom, material) if self.finite else small_strain_force(
            self.geom, material, kernel)
        self._control: StepControl | None = None
        self._t_end: float | None = None
        self.v0 = bnd.initial_velocity(mesh, initial_velocity, dtype=dtype, device=self.device)

    # -- forces --------------------------------------------------------------------------------
    def internal_force(self, u: torch.Tensor, out: torch.Tensor | None = None):
        """``(f_int (n_dof,), strain (n_el, n_qp, n_voigt), stress)`` at displacement ``u (n_dof,)``.

        ``strain`` and ``stress`` live in buffers that the next call overwrites (clone to keep them).
        """
        f = torch.empty_like(self.m_dof) if out is None else out
        eps, sig = self._force(u, f)
        return f, eps, sig

    def external_force(self, t: float, out: torch.Tensor | None = None) -> torch.Tensor:
        """``f_ext(t)`` [force], ``(n_dof,)``: the sum of every load vector times its amplitude."""
        f = torch.zeros_like(self.m_dof) if out is None else out.zero_()
        for vec, amp in self.bc.loads:
            a = amp(t)
            if a != 0.0:
                f.add_(vec, alpha=a)
        return f

    # -- one step ------------------------------------------------------------------------------
    def initial_state(self, dt: float) -> State:
        """The state at ``t = 0`` for steps of ``dt`` [time], with every buffer a step needs.

        ``v_0`` is the initial velocity with the kinematic conditions, ``a_0`` from the forces at
        ``u = 0``, ``v_{-1/2} = v_0 - dt/2 a_0`` and ``v_{1/2} = v_0 + dt/2 a_0`` (conditions at ``dt/2``).
        """
        m, bc = self.m_dof, self.bc
        u, v, a, v_old, f_int_prev, f_ext_prev = (torch.zeros_like(m) for _ in range(6))
        n_cons = self._cons.numel()
        react, react_prev, r_tmp = (torch.zeros(n_cons, dtype=m.dtype, device=m.device) for _ in range(3))
        v.copy_(self.v0)
        v[bc.fixed] = 0.0
        if bc.vel_dofs.numel():
            v[bc.vel_dofs] = self._prescribed(0.0)
        f_int, eps, sig = self.internal_force(u)
        f_ext = self.external_force(0.0)
        self._acceleration(f_ext, f_int, None, 0.0, a)
        v_prev = v - 0.5 * dt * a  # v_{-1/2}
        v_half = self._half_step(v + 0.5 * dt * a, 0.5 * dt)  # v_{1/2}
        s = State(u, v, a, v_half, v_prev, v_old, f_int, f_int_prev, f_ext, f_ext_prev, react, react_prev,
                  eps, sig, float(dt), 0.0, 0, _r_tmp=r_tmp)
        self._reactions(v_prev, v_half, s, f_int, f_ext, out=react)
        return s

    def step(self, s: State) -> State:
        """Advance ``s`` by one step ``n -> n+1`` in place (and return it).

        Writes ``u_{n+1}``, the forces, ``a_{n+1}``, ``v_{n+1}``, ``v_{n+3/2}`` and the reactions into the
        state's spare buffers, then rotates them so that ``s`` describes step ``n+1`` (``*_prev``: step
        ``n``). No tensor is allocated beyond what the material returns.
        """
        bc, dt = self.bc, s.dt
        n = s.step + 1
        t_new = s.t + dt if self._control is not None else n * dt
        s.u.add_(s.v_half, alpha=dt)  # du = dt v_{n+1/2}
        f_int, f_ext = s.f_int_prev, s.f_ext_prev  # spare buffers for step n+1
        _, s.eps, s.sig = self.internal_force(s.u, f_int)
        dt_next = self._finite_checks(s, n, t_new, dt, f_int) if self.finite else dt
        if bc.loads:
            self.external_force(t_new, f_ext)
        else:
            f_ext.copy_(s.f_ext)
        self._acceleration(f_ext, f_int, s.v_half if self.damping else None, t_new, s.a)
        torch.add(s.v_half, s.a, alpha=0.5 * dt, out=s.v)  # v_{n+1}
        if bc.vel_dofs.numel():
            s.v.index_copy_(0, bc.vel_dofs, self._prescribed(t_new))
        gap = 0.5 * (dt + dt_next)  # t_{n+3/2} - t_{n+1/2}
        self._half_step(torch.add(s.v_half, s.a, alpha=gap, out=s.v_old), t_new + 0.5 * dt_next)  # v_{n+3/2}
        self._reactions(s.v_half, s.v_old, s, f_int, f_ext, out=s.react_prev, interval=gap)
        s.f_int, s.f_int_prev = f_int, s.f_int
        s.f_ext, s.f_ext_prev = f_ext, s.f_ext
        s.v_old, s.v_prev, s.v_half = s.v_prev, s.v_half, s.v_old
        s.react, s.react_prev = s.react_prev, s.react
        s.step, s.t, s.dt_prev, s.dt = n, t_new, dt, dt_next
        return s

    def _finite_checks(self, s: State, n: int, t: float, dt: float, f_int: torch.Tensor) -> float:
        """The next step (adaptive) after checking for inverted or collapsing elements; on one, ``s`` is left at
        the last stable state ``u_n`` (its forces recomputed) and :class:`fem.step_control.InversionError` raised."""
        force = self._force
        try:
            check_inversion(s.eps, n, t, dt, {}, force.det)
            return dt if self._control is None else self._control.next_dt(s.eps, dt, t, self._t_end, n, force.bound)
        except InversionError:
            s.u.sub_(s.v_half, alpha=dt)
            _, s.eps, s.sig = self.internal_force(s.u, f_int)
            raise

    def _acceleration(self, f_ext, f_int, v_damp, t, out) -> torch.Tensor:
        """``a = M^{-1} (f_ext - f_int) - alpha v_damp`` with the kinematic conditions, into ``out``."""
        torch.sub(f_ext, f_int, out=out).mul_(self._inv_m)
        if v_damp is not None:
            out.sub_(v_damp, alpha=self.damping)
        out.index_fill_(0, self.bc.fixed, 0.0)
        if self.bc.vel_dofs.numel():
            out.index_copy_(0, self.bc.vel_dofs, self._prescribed(t, rate=True))
        return out

    def _half_step(self, v_half: torch.Tensor, t_half: float) -> torch.Tensor:
        """Impose the kinematic conditions on a half-step velocity at time ``t_half``."""
        v_half.index_fill_(0, self.bc.fixed, 0.0)
        if self.bc.vel_dofs.numel():
            v_half.index_copy_(0, self.bc.vel_dofs, self._prescribed(t_half))
        return v_half

    def _reactions(self, v_before, v_after, s: State, f_int, f_ext, out, interval: float | None = None) -> torch.Tensor:
        """Support reactions ``M (v_{n+1/2} - v_{n-1/2}) / interval + f_int - f_ext`` on the constrained dofs
        (``interval``: the time between the two half steps, ``dt`` by default), into ``out`` ``(n_cons,)``."""
        c, tmp = self._cons, s._r_tmp
        if not c.numel():
            return out
        torch.index_select(v_after, 0, c, out=out).sub_(torch.index_select(v_before, 0, c, out=tmp))
        out.mul_(self._m_cons).div_(s.dt if interval is None else interval)
        out.add_(torch.index_select(f_int, 0, c, out=tmp))
        return out.sub_(torch.index_select(f_ext, 0, c, out=tmp))

    def _prescribed(self, t: float, rate: bool = False) -> torch.Tensor:
        """Prescribed velocities (or their time derivatives) at ``t`` on ``bc.vel_dofs``, in a buffer that
        the next call overwrites."""
        factor = self._vel_factor
        for pos, amp in self.bc.vel_groups:
            factor.index_fill_(0, pos, amp.rate(t) if rate else amp(t))
        return torch.mul(self.bc.vel_values, factor, out=self._vel_buf)

    # -- the run -------------------------------------------------------------------------------
    def time_step(self, dt: float | str = "auto", safety: float | None = None) -> TimeStep | None:
        """The step of a run: ``"auto"`` by :func:`fem.time_step.choose_time_step` (this mesh, material,
        geometry and damping); a number [time] is used as given (``None`` is returned for it)."""
        if isinstance(dt, str):
            return choose_time_step(self.mesh, self.material, dt=dt, safety=safety, alpha=self.damping,
                                    geom=self.geom)
        if not (isinstance(dt, numbers.Real) and math.isfinite(dt) and dt > 0):
            raise InputError(f"dt must be a positive number or 'auto', got {dt!r}", "dt")
        return None

    def plan(self, t_end: float, dt: float, *, budget: float = 0.02, most: int = 20) -> RunPlan:
        """The steps of a run to ``t_end`` [time] with steps of ``dt`` [time] and the wall time of a step [s],
        measured on real steps from the initial state (one to warm up, then until ``budget`` seconds or ``most``
        steps; the energy ledger included; an instability ends the probe: the run reports it). The solver is left
        as it was."""
        n, s = n_steps(t_end, dt), self.initial_state(dt)
        ledger = EnergyLedger(self.m_dof, self._cons, dt=dt, alpha=self.damping, n_records=1)
        ledger.start(s)
        sync = torch.cuda.synchronize if self.device.type == "cuda" else (lambda: None)
        t0, k = _time.perf_counter(), -1  # step -1 warms up
        with np.errstate(all="ignore"):
            try:
                while k < min(most, n):
                    self.step(s)
                    ledger.update(s)
                    sync()
                    t0, k = t0 if k >= 0 else _time.perf_counter(), k + 1
                    if _time.perf_counter() - t0 >= budget and k > 0:
                        break
            except InstabilityError:
                pass
        return RunPlan(n, float(dt), (_time.perf_counter() - t0) / max(k, 1))

    def run(self, t_end: float, dt: float | str = "auto", *, safety: float | None = None, writer=None,
            observers: Sequence[object] = (), output_every: int | None = None, n_frames: int | None = None,
            progress: bool = False, energy_warn: float = 0.01, energy_stop: float | None = 0.1,
            runaway: float = 1000.0,
            history_points: int = 20000, probes=None, max_steps: int | None = MAX_STEPS,
            progress_every: int | None = None) -> Result:
        """Integrate from ``t = 0`` to ``t_end`` [time] in :func:`fem.stability.n_steps` steps.

        Parameters
        ----------
        t_end
            Final time [time].
        dt
            Time step [time], used as given, or ``"auto"``: ``safety`` x damping factor x the certified
            step (:meth:`time_step`); ``safety=None`` (default): :func:`fem.stability.default_safety` (0.9 for
            a linear law, :data:`fem.stability.NONLINEAR_SAFETY` for any other).
        writer, observers
            A :class:`fem.output.OutputWriter` and/or other observers (:class:`fem.schedule.Observer`): a
            frame at step 0, then at the steps of the :class:`fem.schedule.Schedule` (``output_every``, or
            ``n_frames`` evenly spaced, the last at the end; default 20), each followed by the history.
        progress
            Show a tqdm progress bar (:class:`fem.schedule.ProgressBar`).
        progress_every
            Steps between progress calls (default 100; :func:`progress_every` of a :meth:`plan`'s step time
            makes slow steps update the bar about 5 times a second).
        energy_warn, energy_stop, runaway, history_points
            See :class:`fem.energy.EnergyLedger` (the true-energy monitor of a law with an energy: warn
            above ``energy_warn``, stop above ``energy_stop``, ``None``: never) and :class:`fem.schedule.Schedule`.
        probes
            Node indices whose displacements are recorded in the history (keys ``u<node>_<x|y|z>``).
        max_steps
            Refuse a run of more steps (:data:`MAX_STEPS`, 10^8); ``None``: no limit.

        Raises
        ------
        fem.errors.InstabilityError
            When the run blows up, after the observers got the last finite frame and the history.
        """
        if not (isinstance(t_end, numbers.Real) and math.isfinite(t_end) and t_end > 0):
            raise InputError(f"t_end must be a positive number, got {t_end!r}", "t_end")
        chosen = None if self.finite else self.time_step(dt, safety)
        dt = self._finite_dt(dt, safety, t_end) if self.finite else chosen.dt if chosen is not None else float(dt)
        planned = n_steps(t_end, dt)
        if max_steps is not None and planned > max_steps:
            raise InputError(f"t_end = {t_end:g} in steps of dt = {dt:.4g} is {planned:,} steps, more than the "
                             f"limit of {max_steps:,}: check t_end and dt (or allow it: max_steps=None)", "t_end")
        schedule = Schedule(planned, output_every, n_frames, history_points)
        probe_dofs, probe_names = self._probes(probes)
        ledger = EnergyLedger(self.m_dof, self._cons, dt=dt, alpha=self.damping, n_records=schedule.n_records,
                              energy_warn=energy_warn, runaway=runaway, probe_dofs=probe_dofs,
                              probe_names=probe_names, stored_energy=self._stored_energy_fn(),
                              energy_stop=energy_stop)
        extra = ([writer] if writer is not None else []) + list(observers)
        listeners = Observers(extra + ([ProgressBar()] if progress else []), progress_every)
        s = self.initial_state(dt)
        ledger.start(s)
        try:
            listeners.start(schedule.n_steps, dt)
            listeners.frame(0, 0.0, s.u, s.v, s.eps, s.sig)
            t0_wall = _time.perf_counter()
            self._loop(s, schedule, ledger, listeners, TimeFrames(schedule, t_end) if self._control else None)
            wall = _time.perf_counter() - t0_wall
        finally:
            listeners.close()
            self._t_end = None
        reactions = torch.zeros_like(self.m_dof)
        reactions[self._cons] = s.react
        dim = self.mesh.dim
        control = self._control.summary() if self._control is not None else None
        method = chosen.method if chosen is not None else "auto: certified step at every state" if control else "user"
        return Result(s.step, control["dt_min"] if control else dt, s.t, True, ledger.worst, wall, ledger.history(),
                      s.u.view(-1, dim).cpu().numpy(), s.v.view(-1, dim).cpu().numpy(),
                      reactions.view(-1, dim).cpu().numpy(), ledger.messages, method, chosen, ledger.drift,
                      ledger.monitor, control)

    def step_control_summary(self) -> dict | None:
        """``dt_min``, ``dt_max``, ``dt_controlling`` and ``dt_history`` of the last adaptive finite-strain run
        (:class:`fem.step_control.StepControl`), or None."""
        return None if self._control is None else self._control.summary()

    def _finite_dt(self, dt: float | str, safety: float | None, t_end: float) -> float:
        """The first step of a finite-strain run: ``"auto"`` starts a :class:`fem.step_control.StepControl`
        (the step at every state); a number is used as given, for the whole run."""
        self._control = None
        self._force.with_bound = False
        if not isinstance(dt, str):
            self.time_step(dt)  # checks the number
            return float(dt)
        if dt != "auto":
            raise InputError(f"dt must be a positive number or 'auto', got {dt!r}", "dt")
        self._control = StepControl(self.geom, self.material, default_safety(self.material) if safety is None
                                    else safety, alpha=self.damping)
        self._force.with_bound = True
        _, F0, _ = self.internal_force(torch.zeros_like(self.m_dof))
        self._t_end = float(t_end)
        return self._control.next_dt(F0, None, 0.0, t_end)

    def stored_energy(self, eps: torch.Tensor) -> torch.Tensor:
        """``Psi = sum_q w_q |J_q| psi(eps_q)`` [energy], a 0-d tensor, for strain ``eps (n_el, n_qp, n_voigt)``
        (the material's ``energy``; the same quadrature and section as the internal force); in a finite-strain
        run ``eps`` is ``F`` and the energy the material's ``strain_energy(F)`` per undeformed volume."""
        if self.finite:
            psi = self.material.strain_energy(eps.reshape(-1, 3, 3))
        else:
            psi = self.material.energy(eps.reshape(-1, eps.shape[-1]))
        return torch.dot(psi.reshape(-1).to(self.geom.wdetJ.dtype), self.geom.wdetJ.reshape(-1))

    def _stored_energy_fn(self):
        """``state -> Psi`` when the material has an energy, else None (the ``"work"`` monitor)."""
        if getattr(self.material, "strain_energy" if self.finite else "energy", None) is None:
            return None
        return lambda s: self.stored_energy(s.eps)

    def _loop(self, s: State, schedule: Schedule, ledger: EnergyLedger, listeners: Observers,
              by_time: TimeFrames | None = None) -> None:
        """The time-step loop: step, energies, history rows, checks, frames, progress; with ``by_time`` (an
        adaptive step) it runs to the end time and writes frames at times instead of steps."""
        n, check_every, every = schedule.n_steps, ledger.check_every, listeners.progress_every
        frames, progress = listeners.wants_frames, listeners.wants_progress
        try:
            while (not by_time.done(s.t)) if by_time is not None else s.step < n:
                self.step(s)
                ledger.update(s)
                last = by_time.done(s.t) if by_time is not None else s.step == n
                if schedule.records(s.step) or last:
                    ledger.record(s)
                if s.step % check_every == 0 or last:
                    ledger.check(s, stacklevel=4)  # warnings point at the caller of run
                if frames and (by_time.due(s.t) if by_time is not None else schedule.is_frame(s.step)):
                    listeners.frame(s.step, s.t, s.u, s.v, s.eps, s.sig)
                    listeners.history(ledger.history())
                if progress and s.step % every == 0:
                    listeners.progress(s.step, s.t)
        except InstabilityError as exc:
            exc.history = exc.history or ledger.history()  # a stop raised inside a step has no history of its own
            if frames:
                if torch.isfinite(s.u).all() and torch.isfinite(s.v).all():
                    listeners.frame(s.step, s.t, s.u, s.v, s.eps, s.sig)
                listeners.history(ledger.history())
            listeners.instability(exc)
            raise

    def _probes(self, probes) -> tuple[torch.Tensor | None, list[str]]:
        """Probe node indices -> their dofs and history keys ``u<node>_<x|y|z>``."""
        if probes is None:
            return None, []
        dim = self.mesh.dim
        nodes = np.asarray(probes, dtype=np.int64).reshape(-1)
        if nodes.size and (nodes.min() < 0 or nodes.max() >= self.mesh.n_nodes):
            raise InputError(f"probe nodes must be in 0..{self.mesh.n_nodes - 1}, got {nodes.tolist()}")
        dofs = torch.as_tensor((nodes[:, None] * dim + np.arange(dim)).reshape(-1), device=self.device)
        return dofs, [f"u{n}_{'xyz'[k]}" for n in nodes for k in range(dim)]


__all__ = ["ENERGY_KEYS", "MAX_SECONDS", "MAX_STEPS", "MONITOR_NOTES", "ExplicitSolver", "Result", "RunPlan", "State",
           "energy_balance_error", "finite_kinematics", "format_duration", "progress_every"]


def finite_kinematics(material, kinematics: str | None, dim: int) -> bool:
    """Whether the run is finite-strain, refusing a law of the other kind (module docstring of the solver)."""
    law = bool(getattr(material, "finite_strain", False))
    if kinematics not in (None, "small", "finite"):
        raise InputError(f"kinematics must be 'small' or 'finite', got {kinematics!r}", "kinematics")
    if kinematics == "finite" and not law:
        raise InputError("kinematics = 'finite' needs a finite-strain law (P(F): a hyperelastic law such as "
                         "neo-Hookean, Ogden or one fitted to test modes); this law maps small strain to stress, so "
                         "under large rotations it gives stress without strain", "kinematics")
    if kinematics == "small" and law:
        raise InputError("kinematics = 'small' with a finite-strain law: the law needs the deformation gradient; "
                         "use kinematics = 'finite' (the default for this law)", "kinematics")
    if law and dim == 1:
        raise InputError("a finite-strain law on a 1-D bar: the bar is already total Lagrangian; fit a 1-D law "
                         "(stretch - 1 -> nominal stress) for bars", "kinematics")
    return law

