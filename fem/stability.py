"""The stable time step of the explicit solver, certified from the material's Lipschitz bound.

Implements ``stability.md`` §1-§4. For a material whose tangent is certified, ``||C_t(eps)||_2 <= L``,
lumped mass ``M`` and the geometric matrix ``G = sum_e G_e`` (the stiffness with ``C = I``),

.. math::  \\omega_{max}^2 = \\lambda_{max}(K_t, M) \\le L\\, \\lambda_{max}(G, M),
           \\qquad dt_{crit} = 2 / \\omega_{max}.

Bounds, cheapest first (each a :class:`Bound` with its method and whether it is certified):

- ``element``: ``dt = 2 / sqrt(L max_e g_e)``, ``g_e = lambda_max(M_e^{-1/2} G_e M_e^{-1/2})`` by batched
  ``eigvalsh`` (element eigenvalue inequality; exact ``h sqrt(rho/L)`` for bar2). Certified.
- ``nodal`` (Gershgorin): ``dt = 2 / sqrt(L max_i sum_j |G_ij| / m_i)`` over the assembled ``G``. Certified.
- ``global``: ``lambda_max(M^{-1/2} A M^{-1/2})`` by Lanczos (``scipy.sparse.linalg.eigsh``). A converged
  *estimate*: Lanczos approaches ``lambda_max`` from below, so its ``dt`` can be slightly too large.
- ``global_certified``: that estimate proved by an inertia check (a Cholesky factorization of ``mu I - M^{-1/2} A
  M^{-1/2}`` with positive pivots) plus a rounding margin (:mod:`fem.inertia`). Certified; falls back (``where``
  says why) when the factor would exceed the memory budget.

Every bound is in the material's metric (:mod:`fem.metric`): ``L G`` in the Euclidean metric
(``||C_t||_2 <= L``), or the stiffness ``K_bar`` assembled from the law's certified constant bound
``C_t <= C_bar`` (``material.stiffness_bound``): a linear law's own stiffness (``K_t = K``: the certified
global step is then the exact one) or a fitted law's ``alpha C_0``. The element and nodal bounds read ``G_e``
and ``G`` as ``K_bar_e`` and ``K_bar`` there.
- ``true``: ``lambda_max`` of the symmetric part of ``M^{-1/2} K_t M^{-1/2}``, with ``K_t`` assembled from
  the material's actual tangent (automatic differentiation) at a given state. The reference for
  tests and tightness, not a bound over future states.

The certified step is the largest certified bound. ``dt_auto = safety x (sqrt(1 + xi^2) - xi)
x dt_certified``, with ``xi`` the fraction of critical damping in the highest mode; the damping
reduction and the safety factor are reported separately. The default safety (:func:`default_safety`) is
``LINEAR_SAFETY`` (0.9) for a law with a constant tangent (``material.linear``), whose central-difference
energy is conserved exactly below the critical step, and ``NONLINEAR_SAFETY`` for every other law: the
certificate covers the linearised system only, and the nonlinear stability study
(``benchmarks/nonlinear_stability.py``, ``docs/nonlinear-stability.md``) measured true-energy drifts above
1 % over 20,000 steps down to small fractions of the certified step.

At the state where ``dt_true`` is computed, the tangent is checked against the certificate
(``||C_t||_2 <= L`` at every integration point; a violation raises :class:`CertificateError`), and
its symmetry defect ``max ||C_t - C_t^T|| / ||C_t||`` and the smallest eigenvalue of its symmetric
part are reported: a non-symmetric (non-conservative) or softening tangent can grow at *any* time
step, which no ``dt`` cures, so these are reported beside the steps, never folded into them: for such a
tangent the linearised growth rate of the assembled, unsymmetrized ``K_t`` (:mod:`fem.growth`) is
computed too, and the ``true`` bound says it covers the symmetric part only.

Units: ``dt`` in the time unit of the consistent system (``sqrt(mass / (stress x length))``), ``L`` in
stress unit per unit strain.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

from . import bound_kernels
from .element_matrices import (
    assemble,
    assembled_stiffness,
    chunks,
    geometric_matrices,
    stiffness_matrices,
    sub_geometry,
)
from .errors import CertificateError, InputError
from .growth import Growth, growth_notes
from .inertia import MAX_BYTES, certify_largest, scaled
from .kinematics import Geometry, geometry, strain
from .mass import element_masses, lumped_mass
from .metric import EUCLIDEAN, Metric, metric_of, metric_ratios


@dataclass
class Bound:
    """One time-step bound: ``dt`` [time], how it was obtained, and whether it is a certificate."""

    method: str
    dt: float
    certified: bool
    where: str = ""
    seconds: float = 0.0


@dataclass
class TangentCheck:
    """The tangent at a state, against the certificate.

    Attributes
    ----------
    max_norm
        Largest ``||C_t||_2`` over the integration points [stress unit].
    ratio
        ``max_norm / L`` (certified: at most 1).
    symmetry_defect
        ``max ||C_t - C_t^T||_2 / ||C_t||_2`` [-]; 0 for a law derived from an energy.
    min_eigenvalue
        Smallest eigenvalue of the symmetric part of ``C_t`` over the points [stress unit]; negative
        means softening, which grows at any time step.
    metric_ratio
        With a stiffness metric (:mod:`fem.metric`): the largest ``lambda_max(C_bar^{-1/2} C_t C_bar^{-1/2})``
        over the points (certified: at most 1); ``None`` in the Euclidean metric.
    """

    max_norm: float
    ratio: float
    symmetry_defect: float
    min_eigenvalue: float
    metric_ratio: float | None = None

    @property
    def softening(self) -> bool:
        return self.min_eigenvalue < 0

    @property
    def non_symmetric(self) -> bool:
        return self.symmetry_defect > 1e-6


@dataclass
class StabilityReport:
    """Every time-step bound of one model, with the factors that turn the certified one into ``dt_auto``."""

    lipschitz_bound: float
    certified_by: str
    bounds: dict[str, Bound]
    safety: float
    damping_ratio: float
    damping_factor: float
    tangent: TangentCheck | None = None
    notes: list[str] = field(default_factory=list)
    growth: Growth | None = None
    metric: str = EUCLIDEAN

    def _dt(self, name: str) -> float | None:
        b = self.bounds.get(name)
        return None if b is None else b.dt

    @property
    def dt_element(self) -> float | None:
        return self._dt("element")

    @property
    def dt_nodal(self) -> float | None:
        return self._dt("nodal")

    @property
    def dt_global(self) -> float | None:
        return self._dt("global")

    @property
    def dt_global_certified(self) -> float | None:
        """The certified global step [time] (inertia check, :mod:`fem.inertia`), None when not computed or when
        it fell back (``bounds["global_certified"].where`` says why)."""
        b = self.bounds.get("global_certified")
        return b.dt if b is not None and b.certified else None

    @property
    def dt_true(self) -> float | None:
        return self._dt("true")

    @property
    def dt_certified(self) -> float:
        """The largest certified bound [time]."""
        return max(b.dt for b in self.bounds.values() if b.certified)

    @property
    def certified_method(self) -> str:
        return max((b for b in self.bounds.values() if b.certified), key=lambda b: b.dt).method

    @property
    def dt_auto(self) -> float:
        """``safety x damping factor x dt_certified`` [time]: what ``dt = "auto"`` uses."""
        return self.safety * self.damping_factor * self.dt_certified

    def steps(self, t_end: float, dt: float) -> int:
        """Number of steps of ``dt`` to reach ``t_end`` (:func:`n_steps`)."""
        return n_steps(t_end, dt)

    def to_dict(self) -> dict:
        out = {
            "lipschitz_bound": self.lipschitz_bound,
            "certified_by": self.certified_by,
            "dt_element": self.dt_element,
            "dt_nodal": self.dt_nodal,
            "dt_global": self.dt_global,
            "dt_global_certified": self.dt_global_certified,
            "metric": self.metric,
            "dt_true": self.dt_true,
            "dt_certified": self.dt_certified,
            "certified_method": self.certified_method,
            "safety": self.safety,
            "damping_ratio": self.damping_ratio,
            "damping_factor": self.damping_factor,
            "dt_auto": self.dt_auto,
            "bounds": {k: asdict(b) for k, b in self.bounds.items()},
            "tangent": None if self.tangent is None else asdict(self.tangent),
            "notes": list(self.notes),
            "growth_rate": None if self.growth is None else self.growth.growth_rate,
            "symmetry_defect": None if self.growth is None else self.growth.symmetry_defect,
            "min_eigenvalue": None if self.growth is None else self.growth.min_real_eigenvalue,
        }
        if self.dt_true:
            out["ratios_to_dt_true"] = {k: b.dt / self.dt_true for k, b in self.bounds.items()}
        return out


def n_steps(t_end: float, dt: float) -> int:
    """Number of steps of size ``dt`` [time] the solver takes to reach ``t_end`` [time]: ``ceil(t_end / dt)``
    (at least 1; a last step that overshoots ``t_end`` by less than ``1e-9 dt`` is not taken)."""
    return max(1, int(math.ceil(t_end / dt - 1e-9)))


def damping_ratio(alpha: float, dt_certified: float) -> float:
    """``xi = alpha dt / 4``: the fraction of critical damping that mass-proportional damping ``alpha``
    [1/time] gives the highest certified frequency ``omega = 2 / dt_certified`` (``xi = alpha / (2 omega)``)."""
    return float(alpha) * float(dt_certified) / 4.0


def damping_factor(xi: float) -> float:
    """``sqrt(1 + xi^2) - xi``: the reduction of the stable step by a fraction ``xi`` of critical damping."""
    if not (math.isfinite(xi) and xi >= 0):
        raise InputError(f"the damping ratio must be a non-negative number, got {xi!r}", "damping")
    return math.sqrt(1 + xi * xi) - xi


def _mass_dofs(geom: Geometry, density: float) -> np.ndarray:
    return lumped_mass(geom, density).repeat_interleave(geom.dim).cpu().numpy()


def element_eigenvalues(geom: Geometry, chunk: int = 65536, metric: Metric | None = None) -> torch.Tensor:
    """``g_e`` for unit density, ``(n_el,)``: batched ``eigvalsh`` of ``M_e^{-1/2} A_e M_e^{-1/2}``.

    ``A_e`` is the element geometric matrix ``G_e`` [1/length^2 after the mass scaling] in the Euclidean metric
    (``metric`` None or Euclidean), else the element stiffness of the metric's constant matrix
    (``sum_q w|J| B^T C_bar B``, :mod:`fem.metric`); ``M_e`` the element's own lumped masses per unit density.
    For a bar element of length ``h``, ``g_e = 4 / h^2``, so the element step is exactly ``h sqrt(rho / L)``.
    """
    out = torch.empty(geom.cells.shape[0], dtype=geom.wdetJ.dtype, device=geom.wdetJ.device)
    for sel in chunks(geom.cells.shape[0], chunk):
        sub = sub_geometry(geom, sel)
        A = _element_matrices(sub, metric)
        s = element_masses(sub, 1.0).repeat_interleave(geom.dim, dim=1).rsqrt()  # (e, n_dof_el)
        out[sel] = torch.linalg.eigvalsh(A * s[:, :, None] * s[:, None, :])[:, -1]
    return out


def _element_matrices(geom: Geometry, metric: Metric | None) -> torch.Tensor:
    """``G_e`` (Euclidean metric) or ``K_e`` of the metric's constant matrix, ``(n_el, k, k)``."""
    if metric is None or metric.euclidean:
        return geometric_matrices(geom)
    return stiffness_matrices(geom, metric.tangents(*geom.wdetJ.shape, geom.wdetJ.dtype, geom.wdetJ.device))


def element_bound(geom: Geometry, density: float, metric: Metric) -> Bound:
    """Element eigenvalue bound (certified) and the controlling element."""
    t0 = time.perf_counter()
    if bound_kernels.usable(geom):
        g, e = bound_kernels.largest_element_eigenvalue(
            geom, metric.matrix, lambda index: element_eigenvalues(sub_geometry(geom, index), metric=metric))
    else:
        lam = element_eigenvalues(geom, metric=metric)
        e = int(torch.argmax(lam))
        g = float(lam[e])
    return Bound("element", 2.0 / math.sqrt(metric.scale * g / density), True, f"element {e}",
                 time.perf_counter() - t0)


def nodal_bound(geom: Geometry, density: float, metric: Metric, A: sp.csr_matrix | None) -> Bound:
    """Gershgorin bound of the assembled matrix ``A`` (or, without it, assembled row by row by the compiled
    kernel of :mod:`fem.bound_kernels`) and the controlling node."""
    t0 = time.perf_counter()
    if A is None and bound_kernels.usable(geom):
        rows = bound_kernels.nodal_row_sums(geom, metric.matrix, density)
    else:
        if A is None:
            A = assembled_geometric(geom, metric=metric)
        rows = np.asarray(abs(A).sum(axis=1)).ravel() / _mass_dofs(geom, density)
    i = int(np.argmax(rows))
    return Bound("nodal", 2.0 / math.sqrt(metric.scale * rows[i]), True, f"node {i // geom.dim}",
                 time.perf_counter() - t0)


def assembled_geometric(geom: Geometry, chunk: int = 65536, metric: Metric | None = None) -> sp.csr_matrix:
    """The assembled geometric matrix ``G`` (``n_dof x n_dof``, CSR), or the stiffness of the metric's constant
    matrix (``metric`` not Euclidean), built in element chunks."""
    parts = [assemble(sub_geometry(geom, sel), _element_matrices(sub_geometry(geom, sel), metric))
             for sel in chunks(geom.cells.shape[0], chunk)]
    return sum(parts[1:], parts[0]).tocsr()


def _largest_eigenvalue(A: sp.spmatrix, tol: float = 1e-8) -> float:
    """``lambda_max`` of a symmetric sparse matrix (dense for small ones, Lanczos otherwise)."""
    n = A.shape[0]
    if n <= 600:
        return float(np.linalg.eigvalsh(A.toarray())[-1])
    return float(spla.eigsh(A, k=1, which="LA", tol=tol, return_eigenvectors=False, ncv=min(n, 40))[0])


def global_bound(A: sp.csr_matrix, mass: np.ndarray, scale: float, free=None, tol: float = 1e-8,
                 what: str = "") -> tuple[Bound, float]:
    """Lanczos estimate of ``lambda_max(M^{-1/2} A M^{-1/2})`` and its step ``2 / sqrt(scale lambda)``: an
    estimate, not a certificate. Returns the bound and ``lambda``."""
    t0 = time.perf_counter()
    lam = _largest_eigenvalue(scaled(A, mass, free), tol)
    return Bound("global", 2.0 / math.sqrt(scale * lam), False, f"Lanczos (scipy eigsh){what}",
                 time.perf_counter() - t0), lam


def global_certified_bound(A: sp.csr_matrix, mass: np.ndarray, scale: float, estimate: float, free, dim: int,
                           max_bytes: float, what: str) -> Bound:
    """The certified global step ``2 / sqrt(scale mu)``, ``mu >= lambda_max(A, M)`` by the inertia check of
    :mod:`fem.inertia` (a step of 0 when it was not attempted or failed: ``where`` says why)."""
    cert = certify_largest(A, mass, estimate, free=free, dim=dim, max_bytes=max_bytes)
    if cert.bound is None:
        return Bound("global_certified", 0.0, False, f"fallback: {cert.reason}", cert.seconds)
    where = (f"Cholesky of (1 + {cert.shift / estimate - 1:.0e}) x Lanczos - M^-1/2 A M^-1/2 positive definite "
             f"(try {cert.tries}), rounding margin {cert.margin / cert.bound:.1e} relative{what}")
    return Bound("global_certified", 2.0 / math.sqrt(scale * cert.bound), True, where, cert.seconds)


def tangent_at(geom: Geometry, material, u: torch.Tensor | None = None) -> torch.Tensor:
    """The material tangent at every integration point for displacement ``u`` (zero: the reference state),
    ``(n_el, n_qp, n_voigt, n_voigt)`` [stress unit]."""
    if u is None:
        u = torch.zeros(geom.n_nodes, geom.dim, dtype=geom.wdetJ.dtype, device=geom.wdetJ.device)
    eps = strain(geom, u.view(-1, geom.dim))
    flat = eps.reshape(-1, geom.n_voigt)
    C = torch.cat([material.tangent(flat[sel]) for sel in chunks(flat.shape[0], 65536)])
    return C.reshape(*eps.shape, geom.n_voigt).detach()


def check_tangent(C: torch.Tensor, lipschitz: float, rtol: float | None = None,
                  metric: Metric | None = None) -> TangentCheck:
    """Check ``||C_t||_2 <= L`` and, with a stiffness ``metric``, ``sym(C_t) <= C_bar`` at every point (raise
    :class:`CertificateError` if not); report symmetry and softening.

    ``rtol`` (default from the dtype of ``C``, before the float64 upcast): ``max(1e-9, 256 eps)``. A
    float32 tangent from a network's forward and backward passes carries rounding of order a few hundred
    ``eps`` (``~1e-5``), so a law tight at its bound reads slightly above ``L``; ``1e-9`` is the floor
    for float64, where ``256 eps ~ 6e-14``.
    """
    if rtol is None:
        eps = torch.finfo(C.dtype).eps if C.dtype.is_floating_point else 0.0
        rtol = max(1e-9, 64 * 4 * eps)
    flat = C.reshape(-1, C.shape[-2], C.shape[-1]).double()
    norms = torch.linalg.matrix_norm(flat, 2)
    worst = int(torch.argmax(norms))
    max_norm = float(norms[worst])
    if max_norm > lipschitz * (1 + rtol):
        raise CertificateError(
            f"the tangent exceeds the certified bound: ||C_t||_2 = {max_norm:.6g} > L = {lipschitz:.6g} at "
            f"integration point {worst}; the certificate does not hold at this state (outside the certified "
            "strain range?)"
        )
    used = None
    if metric is not None and not metric.euclidean:
        ratios = metric_ratios(flat, metric)
        worst = int(torch.argmax(ratios))
        used = float(ratios[worst])
        if used > 1 + rtol:
            raise CertificateError(
                f"the tangent exceeds the certified stiffness bound: lambda_max(C_bar^-1/2 C_t C_bar^-1/2) = "
                f"{used:.6g} > 1 at integration point {worst} ({metric.name})")
    skew = torch.linalg.matrix_norm(flat - flat.transpose(1, 2), 2) / norms.clamp_min(torch.finfo(flat.dtype).tiny)
    sym_min = float(torch.linalg.eigvalsh(0.5 * (flat + flat.transpose(1, 2)))[:, 0].min())
    return TangentCheck(max_norm, max_norm / lipschitz, float(skew.max()), sym_min, used)


def true_bound(geom: Geometry, C: torch.Tensor, mass: np.ndarray, free=None, tol: float = 1e-10) -> Bound:
    """``dt_true = 2 / sqrt(lambda_max)`` of the symmetric part of ``M^{-1/2} K_t M^{-1/2}`` at a state."""
    t0 = time.perf_counter()
    K = assembled_stiffness(geom, C)
    K = 0.5 * (K + K.T)
    lam = _largest_eigenvalue(scaled(K, mass, free), tol)
    dt = math.inf if lam <= 0 else 2.0 / math.sqrt(lam)
    return Bound("true", dt, False, "tangent at the state (symmetric part)", time.perf_counter() - t0)


#: Safety factor of ``dt = "auto"`` for a law with a constant tangent (``material.linear``): as LS-DYNA's TSSFAC.
LINEAR_SAFETY = 0.9
#: Safety factor of ``dt = "auto"`` for any other law: the largest fraction of the certified step at which no
#: run of the nonlinear stability study drifted by more than 1 % in true energy over 20,000 steps
#: (``docs/nonlinear-stability.md``; ``python benchmarks/nonlinear_stability.py``).
NONLINEAR_SAFETY = 0.05


def default_safety(material) -> float:
    """The safety factor of ``dt = "auto"`` when none is given: :data:`LINEAR_SAFETY` for a material that
    declares a constant tangent (``linear = True``), else :data:`NONLINEAR_SAFETY`."""
    return LINEAR_SAFETY if getattr(material, "linear", False) is True else NONLINEAR_SAFETY


def critical_time_step(mesh, material, *, safety: float | None = None, damping: float = 0.0, section: float = 1.0,
                       methods=("element", "nodal", "global", "true"), state: torch.Tensor | None = None,
                       constrained=None, geom: Geometry | None = None, max_bytes: float = MAX_BYTES
                       ) -> StabilityReport:
    """Every time-step bound for ``material`` on ``mesh`` (see the module docstring).

    Parameters
    ----------
    mesh, material
        A :class:`fem.mesh.Mesh` and any :class:`fem.materials.Material` with a certified ``lipschitz_bound``.
    safety
        The safety factor applied to the certified step for ``dt_auto``; ``None`` (default):
        :func:`default_safety` (0.9 for a linear law, :data:`NONLINEAR_SAFETY` for any other).
    damping
        Fraction ``xi`` of critical damping in the highest mode; reduces the step by ``sqrt(1+xi^2) - xi``.
    section
        Bar cross-section [length^2] or plate thickness [length] (it cancels out of every step).
    methods
        Which of ``element``, ``nodal``, ``global``, ``global_certified`` and ``true`` to compute
        (``element``, ``nodal`` and ``global_certified`` are certified; ``global_certified`` runs ``global``).
    state
        Displacement field ``(n_nodes, dim)`` [length] where ``dt_true`` and the tangent check are
        evaluated; ``None``: the reference (undeformed) state.
    constrained
        Constrained dof numbers (fixed or prescribed): removed from the ``global`` and ``true``
        eigenproblems. The certified bounds ignore them (constraints only lower ``omega_max``).
    max_bytes
        Memory budget of the ``global_certified`` factorization [bytes]: above it, that bound falls back (its
        ``where`` says so) and the element and nodal bounds remain.
    """
    if safety is None:
        safety = default_safety(material)
    if not 0 < safety <= 1:
        raise InputError(f"safety must be in (0, 1], got {safety!r}", "safety")
    L = float(material.lipschitz_bound)
    if not (math.isfinite(L) and L > 0):
        raise InputError(f"the material's lipschitz_bound must be positive and finite, got {L!r}", "material")
    unknown = set(methods) - {"element", "nodal", "global", "global_certified", "true"}
    if unknown or not ({"element", "nodal"} & set(methods)):
        raise InputError("methods must include element or nodal, from element, nodal, global, global_certified, "
                         f"true; got {methods!r}", "methods")
    if geom is None:
        geom = geometry(mesh, section=section)
    rho = float(material.density)
    mass = _mass_dofs(geom, rho)
    free = None
    if constrained is not None and len(constrained):
        free = np.setdiff1d(np.arange(mass.size), np.asarray(constrained, dtype=np.int64))
    bounds: dict[str, Bound] = {}
    notes: list[str] = []
    metric = metric_of(material, L)
    if "element" in methods:
        bounds["element"] = element_bound(geom, rho, metric)
    want_global = "global" in methods or "global_certified" in methods
    A = assembled_geometric(geom, metric=metric) if want_global else None
    if "nodal" in methods:
        bounds["nodal"] = nodal_bound(geom, rho, metric, A)
    if want_global:
        what = "" if metric.euclidean else "; in the stiffness metric"
        bounds["global"], lam = global_bound(A, mass, metric.scale, free, what=what)
        if "global_certified" in methods:
            bounds["global_certified"] = g = global_certified_bound(A, mass, metric.scale, lam, free, geom.dim,
                                                                    max_bytes, what)
            el = bounds.get("element")
            if g.certified and el is not None and el.dt < 0.5 * g.dt:
                notes.append(f"the element bound is {el.dt / g.dt:.3g} x the certified global step: {el.where} (a "
                             "distorted or sliver element) limits it, not the mesh's critical step")
    check = growth = None
    if "true" in methods:
        u = None if state is None else torch.as_tensor(state, dtype=geom.wdetJ.dtype).reshape(-1, geom.dim)
        C = tangent_at(geom, material, u)
        check = check_tangent(C, L, metric=metric)
        bounds["true"] = true_bound(geom, C, mass, free)
        if check.non_symmetric or check.softening:
            growth = growth_notes(geom, C, mass, free, check, bounds["true"], notes)
    return StabilityReport(L, str(material.certified_by), bounds, safety, float(damping),
                           damping_factor(float(damping)), check, notes, growth, metric.name)
