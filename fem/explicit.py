"""Explicit dynamics: central differences (velocity Verlet) with lumped mass.

Semi-discrete equations ``M a + f_int(u) + alpha M v = f_ext(t)``. One step (``n -> n+1``):

.. math::

    v_{n+1/2} = v_n + \\tfrac{dt}{2} a_n, \\qquad u_{n+1} = u_n + dt\\, v_{n+1/2},

    a_{n+1} = M^{-1} (f_{ext}(t_{n+1}) - f_{int}(u_{n+1})) - \\alpha v_{n+1/2}, \\qquad
    v_{n+1} = v_{n+1/2} + \\tfrac{dt}{2} a_{n+1}

with kinematic conditions imposed on ``v`` and ``a`` (fixed: zero; prescribed velocity: the value at
``t_{n+1/2}`` for the displacement update and at ``t_{n+1}`` for ``v``). The internal force is one
batched material call over all integration points and one scatter-add (:mod:`fem.kinematics`).

Energy accounting (every step, ``stability.md`` §5), all [energy unit = force x length]:

- kinetic ``W_kin = 1/2 v_{n-1/2}^T M v_{n+1/2}``: the central-difference form, which the scheme
  conserves exactly for a linear undamped system below the critical step (so ``E/E_0`` stays at
  1.000) and which grows without bound above it. The integer-step ``1/2 v_n^T M v_n`` would differ
  from it by a factor up to ``1/(1 - (omega dt/2)^2)`` in the highest modes (constrained nodes included);
- internal ``W_int += 1/2 (f_int,n + f_int,n+1) . du`` (work of stress on strain increments);
- external ``W_ext += 1/2 (f_ext,n + f_ext,n+1 + R_n + R_n+1) . du`` with the reactions
  ``R = M (v_{n+1/2} - v_{n-1/2}) / dt + f_int - f_ext`` at the constrained dofs;
- damping ``W_damp += alpha dt/2 v_{n-1/2}^T M (v_{n-1/2} + v_{n-3/2})``;
- balance error ``|W_kin + W_int + W_damp - W_kin,0 - W_ext| / max(W_kin, |W_int|, |W_ext|, W_kin,0)``,
  the denominator taken as its largest value so far. Above 1 % a warning is issued. A non-finite
  value, or a kinetic or internal energy whose magnitude reaches ``runaway`` (default 1000) times the
  energy put in (initial kinetic plus external work), stops the run with an
  :class:`~fem.errors.InstabilityError`. Below the critical step a mode's strain energy stays below
  ``1 / (1 - (omega dt / 2)^2)`` times its share of the input (25 at 0.98 dt_crit, 1000 at 0.9995), while
  above it the strain energy grows exponentially even though the central-difference balance still
  closes (checked every 10 steps on the CPU, 50 on a GPU).
"""

from __future__ import annotations

import math
import time as _time
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from . import boundary as bnd
from .errors import InputError, InstabilityError
from .kinematics import Geometry, InternalForce, geometry
from .mass import lumped_mass
from .materials import Material

ENERGY_KEYS = ("time", "kinetic", "internal", "external", "damping")


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

    def summary(self) -> dict:
        """JSON-ready summary (``steps``, ``dt``, ``t_end``, ``stable``, ``energy_error``, ``wall_seconds``)."""
        return {
            "steps": self.steps,
            "dt": self.dt,
            "t_end": self.t_end,
            "stable": self.stable,
            "energy_error": self.energy_error,
            "wall_seconds": self.wall_seconds,
            "steps_per_second": self.steps / self.wall_seconds if self.wall_seconds > 0 else None,
            "warnings": list(self.warnings),
        }


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
    dtype, device
        float64 on the CPU by default; ``device="cuda"`` runs on a GPU.
    """

    def __init__(self, mesh, material: Material, conditions=(), initial_velocity=None, *, damping: float = 0.0,
                 section: float = 1.0, dtype=torch.float64, device="cpu") -> None:
        from .kinematics import VOIGT_SIZE

        if material.n_voigt != VOIGT_SIZE[mesh.dim]:
            raise InputError(
                f"material: a {mesh.dim}-D mesh needs a law with {VOIGT_SIZE[mesh.dim]} strain components, "
                f"this one has {material.n_voigt}"
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
        self._force = InternalForce(self.geom, material)
        n_dof = mesh.n_nodes * mesh.dim
        self.v0 = torch.zeros(n_dof, dtype=dtype, device=self.device)
        if initial_velocity is not None:
            iv = initial_velocity
            if iv.field is not None:
                fld = np.asarray(iv.field, dtype=float)
                if fld.shape != (mesh.n_nodes, mesh.dim):
                    want = (mesh.n_nodes, mesh.dim)
                    raise InputError(f"initial velocity field must have shape {want}, got {fld.shape}")
                self.v0 = torch.as_tensor(fld.reshape(-1), dtype=dtype, device=self.device)
            else:
                value = np.asarray(iv.value, dtype=float)
                if value.shape != (mesh.dim,):
                    raise InputError(f"initial velocity: expected {mesh.dim} components, got {value.tolist()}")
                v0 = self.v0.view(mesh.n_nodes, mesh.dim)
                v0[torch.as_tensor(np.asarray(iv.nodes, dtype=np.int64), device=self.device)] = torch.as_tensor(
                    value, dtype=dtype, device=self.device)

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

    def _acceleration(self, f_ext, f_int, inv_m, v_damp, t, out) -> torch.Tensor:
        """``a = M^{-1} (f_ext - f_int) - alpha v_damp`` with the kinematic conditions, into ``out``."""
        torch.sub(f_ext, f_int, out=out).mul_(inv_m)
        if v_damp is not None:
            out.sub_(v_damp, alpha=self.damping)
        out[self.bc.fixed] = 0.0
        if self.bc.vel_dofs.numel():
            out[self.bc.vel_dofs] = self._prescribed(t, rate=True)
        return out

    def _half_step(self, v_half: torch.Tensor, t_half: float) -> torch.Tensor:
        """Impose the kinematic conditions on a half-step velocity at time ``t_half``."""
        v_half[self.bc.fixed] = 0.0
        if self.bc.vel_dofs.numel():
            v_half[self.bc.vel_dofs] = self._prescribed(t_half)
        return v_half

    def _reactions(self, v_before, v_after, dt, f_int, f_ext) -> torch.Tensor:
        """Support reactions ``M (v_{n+1/2} - v_{n-1/2}) / dt + f_int - f_ext`` on the constrained dofs only."""
        c = self._cons
        return self._m_cons * (v_after[c] - v_before[c]) / dt + f_int[c] - f_ext[c]

    def _prescribed(self, t: float, rate: bool = False) -> torch.Tensor:
        """Prescribed velocities (or their time derivatives) at ``t`` on ``bc.vel_dofs``."""
        out = self.bc.vel_values.clone()
        for pos, amp in self.bc.vel_groups:
            out[pos] *= amp.rate(t) if rate else amp(t)
        return out

    # -- the time loop -------------------------------------------------------------------------
    def run(self, t_end: float, dt: float, *, writer=None, output_every: int | None = None,
            n_frames: int | None = None, progress: bool = False,
            energy_warn: float = 0.01, runaway: float = 1000.0, history_points: int = 20000,
            probes=None) -> Result:
        """Integrate from ``t = 0`` to ``t_end`` [time] with step ``dt`` [time].

        ``writer`` (e.g. :class:`fem.output.OutputWriter`) receives a frame at the start, then every
        ``output_every`` steps, or ``n_frames`` frames evenly spaced in steps (the last at the end;
        default 20), and the energy history. ``probes``: node indices whose
        displacements are recorded in the history (keys ``u<node>_<x|y|z>``). Raises
        :class:`~fem.errors.InstabilityError` (after writing what was computed) when the run blows up.
        """
        if not (math.isfinite(t_end) and t_end > 0):
            raise InputError(f"t_end must be a positive number, got {t_end!r}", "t_end")
        if not (math.isfinite(dt) and dt > 0):
            raise InputError(f"dt must be a positive number or 'auto', got {dt!r}", "dt")
        n_steps = max(1, int(math.ceil(t_end / dt - 1e-9)))
        if output_every is not None:
            frame_steps = set(range(output_every, n_steps + 1, output_every)) | {n_steps}
        else:
            k = min(n_frames or 20, n_steps)
            frame_steps = {math.ceil(i * n_steps / k) for i in range(1, k + 1)}
        record = max(1, n_steps // history_points)
        bc, m, alpha = self.bc, self.m_dof, self.damping
        fixed, vdofs = bc.fixed, bc.vel_dofs
        check_every = 10 if self.device.type == "cpu" else 50  # each check reads scalars back
        dim = self.mesh.dim
        probe_dofs, probe_names = None, []
        if probes is not None:
            nodes = np.asarray(probes, dtype=np.int64).reshape(-1)
            if nodes.size and (nodes.min() < 0 or nodes.max() >= self.mesh.n_nodes):
                raise InputError(f"probe nodes must be in 0..{self.mesh.n_nodes - 1}, got {nodes.tolist()}")
            probe_dofs = torch.as_tensor((nodes[:, None] * dim + np.arange(dim)).reshape(-1), device=self.device)
            probe_names = [f"u{n}_{'xyz'[k]}" for n in nodes for k in range(dim)]

        # Every vector the loop touches is allocated here; a step only writes into them.
        u, v, a, scratch = (torch.zeros_like(m) for _ in range(4))
        f_int, f_int_new = torch.zeros_like(m), torch.zeros_like(m)
        f_ext, f_ext_new = torch.zeros_like(m), torch.zeros_like(m)
        inv_m = 1.0 / m
        v.copy_(self.v0)
        v[fixed] = 0.0
        if vdofs.numel():
            v[vdofs] = self._prescribed(0.0)
        _, eps, sig = self.internal_force(u, f_int)
        self.external_force(0.0, f_ext)
        self._acceleration(f_ext, f_int, inv_m, None, 0.0, a)
        v_prev = v - 0.5 * dt * a  # v_{-1/2}
        v_half = self._half_step(v + 0.5 * dt * a, 0.5 * dt)  # v_{1/2}
        v_next = torch.zeros_like(m)
        react = self._reactions(v_prev, v_half, dt, f_int, f_ext)
        cons_n = self._cons.numel()

        w_int = w_ext = w_damp = torch.zeros((), dtype=self.dtype, device=self.device)
        kin0 = 0.5 * torch.dot(torch.mul(v_prev, m, out=scratch), v_half)
        rows = [(0.0, kin0, w_int, w_ext, w_damp)]
        probe_rows = [u[probe_dofs].clone()] if probe_dofs is not None else None
        scale, worst, warned, messages = 0.0, 0.0, False, []
        if writer is not None:
            writer.frame(0, 0.0, u, v, eps, sig)
        bar = tqdm(total=n_steps, desc="simulate", unit="step", disable=not progress, mininterval=0.5, leave=False)
        t0_wall = _time.perf_counter()
        step, t = 0, 0.0
        try:
            for step in range(1, n_steps + 1):
                t_new = step * dt
                u.add_(v_half, alpha=dt)  # du = dt v_{n-1/2}
                _, eps, sig = self.internal_force(u, f_int_new)
                if bc.loads:
                    self.external_force(t_new, f_ext_new)
                else:
                    f_ext_new.copy_(f_ext)
                self._acceleration(f_ext_new, f_int_new, inv_m, v_half if alpha else None, t_new, a)
                torch.add(v_half, a, alpha=0.5 * dt, out=v)  # v_n
                if vdofs.numel():
                    v[vdofs] = self._prescribed(t_new)
                self._half_step(torch.add(v_half, a, alpha=dt, out=v_next), t_new + 0.5 * dt)  # v_{n+1/2}
                react_new = self._reactions(v_half, v_next, dt, f_int_new, f_ext_new)
                # energies: trapezoidal work over du = dt v_{n-1/2}
                w_int = w_int + 0.5 * dt * (torch.dot(f_int, v_half) + torch.dot(f_int_new, v_half))
                w_ext = w_ext + 0.5 * dt * (torch.dot(f_ext, v_half) + torch.dot(f_ext_new, v_half))
                if cons_n:
                    w_ext = w_ext + 0.5 * dt * torch.dot(react + react_new, v_half[self._cons])
                torch.mul(v_half, m, out=scratch)
                if alpha:
                    w_damp = w_damp + 0.5 * alpha * dt * (torch.dot(scratch, v_half) + torch.dot(scratch, v_prev))
                kin = 0.5 * torch.dot(scratch, v_next)
                f_int, f_int_new = f_int_new, f_int
                f_ext, f_ext_new = f_ext_new, f_ext
                v_prev, v_half, v_next = v_half, v_next, v_prev
                react, t = react_new, t_new
                if step % record == 0 or step == n_steps:
                    rows.append((t, kin, w_int, w_ext, w_damp))
                    if probe_rows is not None:
                        probe_rows.append(u[probe_dofs].clone())
                if step % check_every == 0 or step == n_steps:
                    k, wi, we, wd, k0 = (float(x) for x in (kin, w_int, w_ext, w_damp, kin0))
                    if not all(math.isfinite(x) for x in (k, wi, we)):
                        raise self._instability("non-finite energy", step, t, dt, rows, eps)
                    scale = max(scale, abs(k), abs(wi), abs(we), abs(k0))
                    err = abs(k + wi + wd - k0 - we) / scale if scale > 0 else 0.0
                    worst = max(worst, err)
                    if err > energy_warn and not warned:
                        warned = True
                        msg = (f"energy balance off by {100 * err:.2g} % at step {step} (t = {t:.6g}): above "
                               f"{100 * energy_warn:g} %; the time step may be too large")
                        messages.append(msg)
                        warnings.warn(msg, RuntimeWarning, stacklevel=2)
                    # In a stable run |W_kin|, |W_int| <= the energy put in. Above the critical step the
                    # central-difference balance still closes (an algebraic identity) while the strain
                    # energy grows and the kinetic form turns negative: test the magnitudes, not the balance.
                    put_in = abs(k0) + max(we, 0.0)
                    if put_in > 0 and max(abs(k), abs(wi)) > runaway * put_in:
                        raise self._instability(
                            f"runaway energy: {max(abs(k), abs(wi)):.6g} is "
                            f"{max(abs(k), abs(wi)) / put_in:.3g} times the energy put in", step, t, dt, rows, eps)
                if writer is not None and step in frame_steps:
                    writer.frame(step, t, u, v, eps, sig)
                    writer.history(_history(rows, probe_rows, probe_names))
                if progress and step % 100 == 0:
                    bar.update(100)
                    bar.set_postfix(t=f"{t:.4g}", refresh=False)
        except InstabilityError:
            if writer is not None:
                if torch.isfinite(u).all() and torch.isfinite(v).all():
                    writer.frame(step, t, u, v, eps, sig)
                writer.history(_history(rows, probe_rows, probe_names))
            raise
        finally:
            bar.close()
        wall = _time.perf_counter() - t0_wall
        history = _history(rows, probe_rows, probe_names)
        reactions = torch.zeros_like(m)
        reactions[self._cons] = react
        return Result(n_steps, dt, t, True, worst, wall, history, u.view(-1, dim).cpu().numpy(),
                      v.view(-1, dim).cpu().numpy(), reactions.view(-1, dim).cpu().numpy(), messages)

    def _instability(self, what, step, t, dt, rows, eps) -> InstabilityError:
        norms = torch.nan_to_num(eps, nan=float("inf")).norm(dim=-1).amax(dim=1)
        element = int(torch.argmax(norms)) if norms.numel() else None
        hist = _history(rows)
        return InstabilityError(
            f"unstable at step {step} (t = {t:.6g}, dt = {dt:.6g}): {what}; largest strain in element {element}. "
            "The time step is probably above the critical one: use dt = 'auto' or a smaller dt",
            step=step, time=t, dt=dt, history=hist, element=element,
        )


def _history(rows, probe_rows=None, probe_names=()) -> dict[str, np.ndarray]:
    arr = np.array([[float(x) for x in row] for row in rows])
    out = {k: arr[:, i] for i, k in enumerate(ENERGY_KEYS)}
    if probe_rows:
        values = torch.stack(probe_rows).cpu().numpy()
        out.update({name: values[:, i] for i, name in enumerate(probe_names)})
    return out


def energy_balance_error(history: dict[str, np.ndarray]) -> np.ndarray:
    """Relative balance error at each recorded point (denominator: the running maximum scale)."""
    k, wi, we, wd = history["kinetic"], history["internal"], history["external"], history["damping"]
    k0 = k[0]
    scale = np.maximum.accumulate(np.maximum.reduce([k, np.abs(wi), np.abs(we), np.full_like(k, k0)]))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale > 0, np.abs(k + wi + wd - k0 - we) / scale, 0.0)
