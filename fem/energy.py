"""The energy ledger of an explicit run: works, balance, history and runaway detection.

All energies in [energy unit = force x length], times in [time]. After each step ``n`` of
:meth:`fem.explicit.ExplicitSolver.step` (``du = dt v_{n-1/2}``):

- kinetic ``W_kin = 1/2 v_{n-1/2}^T M v_{n+1/2}``: the central-difference form, which the scheme
  conserves exactly for a linear undamped system below the critical step (so ``E/E_0`` stays at
  1.000) and which grows without bound above it. The integer-step ``1/2 v_n^T M v_n`` would differ
  from it by a factor up to ``1/(1 - (omega dt/2)^2)`` in the highest modes (constrained nodes included);
- internal ``W_int += 1/2 (f_int,n-1 + f_int,n) . du`` (work of stress on strain increments);
- external ``W_ext += 1/2 (f_ext,n-1 + f_ext,n + R_n-1 + R_n) . du`` with the reactions
  ``R = M (v_{n+1/2} - v_{n-1/2}) / dt + f_int - f_ext`` at the constrained dofs;
- damping ``W_damp += alpha dt/2 v_{n-1/2}^T M (v_{n-1/2} + v_{n-3/2})``;
- balance error ``|W_kin + W_int + W_damp - W_kin,0 - W_ext| / max(W_kin, |W_int|, |W_ext|, W_kin,0)``,
  the denominator taken as its largest value so far. Above ``energy_warn`` (default 1 %) a warning is
  issued once. A non-finite value, or a kinetic or internal energy whose magnitude reaches ``runaway``
  (default 1000) times the energy put in (initial kinetic plus external work), raises an
  :class:`~fem.errors.InstabilityError`. Below the critical step a mode's strain energy stays below
  ``1 / (1 - (omega dt / 2)^2)`` times its share of the input (25 at 0.98 dt_crit, 1000 at 0.9995), while
  above it the strain energy grows exponentially even though the central-difference balance still
  closes. The check reads scalars back from the device, so it runs every ``check_every`` steps (10 on
  the CPU, 50 on a GPU) and at the last step.

**True-energy monitor.** The balance above closes by construction (the central-difference identities),
so it cannot see a nonlinear law pumping energy into the mesh below the linearised critical step. When
the material has a strain energy (``material.energy``, see :mod:`fem.materials`), the ledger replaces the
trapezoidal internal work by the change of the stored energy ``Psi_n = sum_q w_q |J_q| psi(eps_q(u_n))``:

    e_n = W_kin,n + (Psi_n - Psi_0) + W_damp,n - W_kin,0 - W_ext,n,
    drift_n = |e_n| / S_n,  S_n = running max of max(|W_kin|, |Psi - Psi_0|, |W_int|, |W_ext|, W_kin,0).

For a linear law ``e_n`` is zero to rounding (the trapezoidal rule is exact for linear forces, and
``W_kin`` in this form is the energy that central differences conserve), so the monitor raises no
false alarm from the highest modes' bounded oscillation; for a nonlinear law ``e_n`` is the
accumulated quadrature error of ``int f . du``, which is what grows when the scheme pumps energy. It
warns once above ``energy_warn`` (1 %) and stops above ``energy_stop`` (10 %, as industrial codes do;
``None``: never). ``Psi`` is evaluated at the check steps only (one extra material call every
``check_every`` steps). Without an energy the monitor is ``"work"``: the drift is the balance error,
which only the runaway test makes useful.

The works are accumulated on the device in preallocated 0-d tensors and the recorded rows in a
preallocated ``(n_records, 4)`` tensor: a step allocates nothing here.
"""

from __future__ import annotations

import math
import warnings
from typing import Protocol

import numpy as np
import torch

from .errors import InstabilityError

ENERGY_KEYS = ("time", "kinetic", "internal", "external", "damping")


def energy_balance_error(history: dict[str, np.ndarray]) -> np.ndarray:
    """Relative balance error at each recorded point (denominator: the running maximum scale).

    Parameters
    ----------
    history
        ``kinetic``, ``internal``, ``external``, ``damping`` arrays ``(n_records,)`` [energy].

    Returns
    -------
    numpy.ndarray
        ``(n_records,)`` [-]; 0 where the scale is still 0.
    """
    k, wi, we, wd = history["kinetic"], history["internal"], history["external"], history["damping"]
    k0 = k[0]
    scale = np.maximum.accumulate(np.maximum.reduce([k, np.abs(wi), np.abs(we), np.full_like(k, k0)]))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale > 0, np.abs(k + wi + wd - k0 - we) / scale, 0.0)


class State(Protocol):
    """What the ledger reads of the solver's state after step ``n`` (:class:`fem.explicit.State`)."""

    u: torch.Tensor  # (n_dof,) displacement at t_n [length]
    v_half: torch.Tensor  # (n_dof,) v_{n+1/2} [length/time]
    v_prev: torch.Tensor  # (n_dof,) v_{n-1/2}
    v_old: torch.Tensor  # (n_dof,) v_{n-3/2}
    f_int: torch.Tensor  # (n_dof,) internal force at steps n [force]
    f_int_prev: torch.Tensor  # and n-1
    f_ext: torch.Tensor  # (n_dof,) external force at steps n [force]
    f_ext_prev: torch.Tensor  # and n-1
    react: torch.Tensor  # (n_cons,) support reactions at steps n [force]
    react_prev: torch.Tensor  # and n-1
    eps: torch.Tensor  # (n_el, n_qp, n_voigt) strain at u_n [-]
    dt: float
    t: float
    step: int


class EnergyLedger:
    """Works, recorded history and instability checks of one run.

    Parameters
    ----------
    mass
        Lumped mass per dof ``(n_dof,)`` [mass].
    constrained
        Constrained dof indices ``(n_cons,)`` (fixed, then prescribed velocity), as in ``State.react``.
    dt
        Time step [time].
    alpha
        Mass-proportional damping coefficient [1/time].
    n_records
        Rows to preallocate: the initial one plus every recorded step.
    energy_warn
        Relative balance error above which a warning is issued (once) [-].
    runaway
        Ratio of ``max(|W_kin|, |W_int|)`` to the energy put in that stops the run [-].
    check_every
        Steps between checks; ``None``: 10 on the CPU, 50 elsewhere.
    probe_dofs, probe_names
        Dofs whose displacement is recorded with each row ``(n_probe,)``, and their history keys.

    Attributes
    ----------
    worst : float
        Largest work-balance error seen at a check [-].
    drift : float
        Largest true-energy drift (``monitor == "potential"``), else the balance error [-].
    monitor : str
        ``"potential"`` (the material has an energy) or ``"work"``.
    messages : list of str
        Warnings issued.
    """

    def __init__(self, mass: torch.Tensor, constrained: torch.Tensor, *, dt: float, alpha: float, n_records: int,
                 energy_warn: float = 0.01, runaway: float = 1000.0, check_every: int | None = None,
                 probe_dofs: torch.Tensor | None = None, probe_names: list[str] | tuple[str, ...] = (),
                 stored_energy=None, energy_stop: float | None = 0.1) -> None:
        self.m, self.cons, self.dt, self.alpha = mass, constrained, float(dt), float(alpha)
        self.energy_warn, self.runaway = energy_warn, runaway
        self.check_every = check_every or (10 if mass.device.type == "cpu" else 50)
        self.probe_dofs, self.probe_names = probe_dofs, list(probe_names)
        zeros = [torch.zeros((), dtype=mass.dtype, device=mass.device) for _ in range(7)]
        self.kin0, self.kin, self.w_int, self.w_ext, self.w_damp, self._d1, self._d2 = zeros
        self._scratch = torch.zeros_like(mass)
        n_cons = constrained.numel()
        self._r_sum = torch.zeros(n_cons, dtype=mass.dtype, device=mass.device)
        self._v_cons = torch.zeros_like(self._r_sum)
        self._rows = torch.zeros((n_records, 4), dtype=mass.dtype, device=mass.device)
        n_probe = 0 if probe_dofs is None else probe_dofs.numel()
        self._probes = torch.zeros((n_records, n_probe), dtype=mass.dtype, device=mass.device)
        self._times: list[float] = []
        self.scale, self.worst, self.warned, self.messages = 0.0, 0.0, False, []
        self.stored_energy, self.energy_stop = stored_energy, energy_stop
        self.monitor = "potential" if stored_energy is not None else "work"
        self.psi0, self.true_scale, self.drift = 0.0, 0.0, 0.0

    # -- accumulation --------------------------------------------------------------------------
    def start(self, s: State) -> None:
        """Initial kinetic energy ``1/2 v_{-1/2}^T M v_{1/2}`` and the first row, from the state at step 0."""
        torch.dot(torch.mul(s.v_prev, self.m, out=self._scratch), s.v_half, out=self.kin0).mul_(0.5)
        self.kin.copy_(self.kin0)
        if self.stored_energy is not None:
            self.psi0 = float(self.stored_energy(s))
        self.record(s)

    def update(self, s: State) -> None:
        """Add the works of the step that led to ``s`` and set the kinetic energy (no read-back)."""
        # du = dt v_{n-1/2}, with the step that led to s (an adaptive run varies it)
        half_dt, v, scratch = 0.5 * getattr(s, "dt_prev", self.dt), s.v_prev, self._scratch
        self._trapezoid(self.w_int, s.f_int_prev, s.f_int, v, half_dt)
        self._trapezoid(self.w_ext, s.f_ext_prev, s.f_ext, v, half_dt)
        if self.cons.numel():
            torch.add(s.react_prev, s.react, out=self._r_sum)
            torch.index_select(v, 0, self.cons, out=self._v_cons)
            self.w_ext.add_(torch.dot(self._r_sum, self._v_cons, out=self._d1).mul_(half_dt))
        torch.mul(v, self.m, out=scratch)
        if self.alpha:
            self._trapezoid(self.w_damp, scratch, scratch, v, self.alpha * half_dt, s.v_old)
        torch.dot(scratch, s.v_half, out=self.kin).mul_(0.5)

    def _trapezoid(self, acc, a, b, v, factor, w=None) -> None:
        """``acc += factor * (a . v + b . w)`` (``w = v`` by default), in the 0-d buffers."""
        torch.dot(a, v, out=self._d1)
        torch.dot(b, v if w is None else w, out=self._d2)
        acc.add_(self._d1.add_(self._d2).mul_(factor))

    def record(self, s: State) -> None:
        """Append a row ``(t, W_kin, W_int, W_ext, W_damp)`` and the probe displacements."""
        i = len(self._times)
        if i >= self._rows.shape[0]:  # an adaptive run took more steps than planned: grow the buffers
            self._rows = torch.cat((self._rows, torch.zeros_like(self._rows)))
            self._probes = torch.cat((self._probes, torch.zeros_like(self._probes)))
        torch.stack((self.kin, self.w_int, self.w_ext, self.w_damp), out=self._rows[i])
        if self.probe_dofs is not None:
            torch.index_select(s.u, 0, self.probe_dofs, out=self._probes[i])
        self._times.append(s.t)

    # -- read-back -----------------------------------------------------------------------------
    def history(self, probes: bool = True) -> dict[str, np.ndarray]:
        """The recorded rows: ``time`` and the energies ``(n,)`` float64, and with ``probes`` the
        displacements ``u<node>_<x|y|z>`` [length]."""
        n = len(self._times)
        rows = self._rows[:n].to(torch.float64).cpu().numpy()
        out = {"time": np.array(self._times, dtype=np.float64)}
        out.update({k: rows[:, i].copy() for i, k in enumerate(ENERGY_KEYS[1:])})
        if probes and self.probe_dofs is not None:
            values = self._probes[:n].cpu().numpy()
            out.update({name: values[:, i].copy() for i, name in enumerate(self.probe_names)})
        return out

    def check(self, s: State, stacklevel: int = 2) -> None:
        """Read the energies back: track the worst balance error, warn once above ``energy_warn``,
        raise :class:`~fem.errors.InstabilityError` on a non-finite or runaway energy."""
        k, wi, we, wd, k0 = (float(x) for x in (self.kin, self.w_int, self.w_ext, self.w_damp, self.kin0))
        if not all(math.isfinite(x) for x in (k, wi, we)):
            raise self.instability("non-finite energy", s)
        self.scale = max(self.scale, abs(k), abs(wi), abs(we), abs(k0))
        err = abs(k + wi + wd - k0 - we) / self.scale if self.scale > 0 else 0.0
        self.worst = max(self.worst, err)  # the work balance (closes by construction)
        if self.stored_energy is not None:
            dpsi = float(self.stored_energy(s)) - self.psi0
            if not math.isfinite(dpsi):
                raise self.instability("non-finite strain energy", s)
            self.true_scale = max(self.true_scale, self.scale, abs(dpsi))
            err = abs(k + dpsi + wd - k0 - we) / self.true_scale if self.true_scale > 0 else 0.0
        self.drift = max(self.drift, err)
        what = "true energy (kinetic + strain energy - work)" if self.stored_energy is not None else "energy balance"
        if err > self.energy_warn and not self.warned:
            self.warned = True
            msg = (f"{what} off by {100 * err:.2g} % at step {s.step} (t = {s.t:.6g}): above "
                   f"{100 * self.energy_warn:g} %; the time step may be too large for this nonlinear law")
            self.messages.append(msg)
            warnings.warn(msg, RuntimeWarning, stacklevel=stacklevel + 1)
        if self.stored_energy is not None and self.energy_stop is not None and err > self.energy_stop:
            raise self.instability(
                f"the true energy drifted by {100 * err:.3g} % (limit energy_stop = {100 * self.energy_stop:g} %)", s,
                cause="energy_drift",
                hint="the certified step bounds the linearised system at every state, which does not guarantee "
                     "bounded energy for a nonlinear law: lower the safety factor or dt")
        # In a stable run |W_kin|, |W_int| <= the energy put in. Above the critical step the
        # central-difference balance still closes (an algebraic identity) while the strain
        # energy grows and the kinetic form turns negative: test the magnitudes, not the balance.
        put_in = abs(k0) + max(we, 0.0)
        big = max(abs(k), abs(wi))
        if put_in > 0 and big > self.runaway * put_in:
            raise self.instability(f"runaway energy: {big:.6g} is {big / put_in:.3g} times the energy put in", s)

    def instability(self, what: str, s: State, hint: str | None = None, cause: str = "blow-up") -> InstabilityError:
        """The error for an instability at state ``s``, located at the element of largest strain."""
        norms = torch.nan_to_num(s.eps, nan=float("inf")).norm(dim=-1).amax(dim=1)
        element = int(torch.argmax(norms)) if norms.numel() else None
        exc = InstabilityError(
            f"unstable at step {s.step} (t = {s.t:.6g}, dt = {s.dt:.6g}): {what}; largest strain in element "
            f"{element}. " + (hint or "The time step is probably above the critical one: use dt = 'auto' or a "
                              "smaller dt"),
            step=s.step, time=s.t, dt=s.dt, history=self.history(probes=False), element=element,
        )
        exc.energy_drift, exc.energy_monitor, exc.cause = self.drift, self.monitor, cause
        return exc
