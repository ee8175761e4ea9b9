"""Nonlinear stability study: does the true energy stay bounded at a fraction of the certified step?

The certificate bounds the *linearised* system at every state (``dt_cert = 2 / omega_max`` with
``omega_max^2 <= L lambda_max(G, M)``). Whether a long nonlinear run at ``f x dt_cert`` keeps its energy
is a different question; this study measures it. Each run is a small mesh with a random initial velocity
field (no loads, so the exact energy ``1/2 v^T M v + sum_q w_q psi(eps_q)`` is constant), integrated by
central differences for ``--steps`` steps (default 20,000) at ``dt = f x dt_cert`` where ``dt_cert`` is
what ``dt = "auto"`` multiplies by its safety factor (the largest of the element, nodal and certified global
bounds, in the law's metric: ``C_t <= C_bar`` where the law has a stiffness bound, :mod:`fem.metric`;
:func:`fem.time_step.choose_time_step`). Its drift is measured exactly as the solver's true-energy monitor
does (:mod:`fem.energy`):

    drift = max_n |E_n - E_0| / S_n,  E_n = 1/2 v_{n-1/2}^T M v_{n+1/2} + Psi(u_n),
    S_n = running max of max(|W_kin|, Psi, E_0),

every ``--check-every`` steps (the test ``tests/test_nonlinear_study.py`` checks it against
:class:`fem.ExplicitSolver`'s ``energy_drift``).

Randomized over (one run each):

- elements bar2, tri3, quad4, tet4, hex8; uniform and distorted meshes (interior nodes moved by up to 20 %
  (2-D) or 15 % (3-D) of the spacing, and a random element size gradation in 1-D); free or with one face fixed;
- initial velocity: i.i.d. normal per free dof, scaled so that ``|eps|`` reaches about ``a x`` the law's
  strain scale (``a`` in ``AMPLITUDES``: far below, at, and far beyond the range where the law is
  nonlinear; for fitted laws the scale is the data's largest strain);
- law classes (``d`` = 1, 3, 6; ``psi = 1/2 eps^T A eps + sum_k c_k^2 phi(w_k^T eps / c_k + b_k)`` with
  ``0 <= phi'' <= 1``, the package's potential form, so ``m I <= C_t <= L I`` with ``L = ||[A^1/2; W]||_2^2``
  and ``m = lambda_min(A)``, both exact):

  ``linear``      phi = 0 (control: the linear system, no drift expected);
  ``step``        phi'' a unit step: a piecewise-LINEAR stress law (the tangent jumps, like ReLU or
                  GroupSort networks);
  ``ramp``        the package's ``ramp`` curvature (piecewise-linear tangent);
  ``smoothstep``  the package's default curvature (C^1 tangent);
  ``algebraic``   the package's smooth (C^inf) curvature;
  ``softening``   phi = log cosh (phi'' = sech^2): convex, its stiffness falls from L at eps = 0 with amplitude;
  ``stiffening``  phi = u^2/2 - log cosh u (phi'' = tanh^2): convex, its stiffness rises to L with amplitude;
  ``fitted-*``    laws fitted by :func:`snsurrogate.fit` to the bundled data with the defaults
                  (potential laws in 1-D, plane strain and 3-D; the 1-D default GroupSort MLP, whose energy
                  is the exact line integral of its stress along the ray, by Gauss-Legendre quadrature).

  Random laws draw ``m / ||A||`` from ``{0, 0.1, 0.5}`` (is ``m > 0`` enough to remove any growth?).

All runs of one (element, law class) are one union mesh stepped together, with one material call per step
and a per-run time step (independent runs on disjoint dofs, so nothing couples them); each process has one
torch thread and ``--workers`` processes share the groups.

    python benchmarks/nonlinear_stability.py [--out out/nonlinear_stability] [--steps 20000] [--workers 2]
    python benchmarks/nonlinear_stability.py --quick      # a 2-minute smoke run

Writes ``runs.csv`` (one row per run), ``table.md`` (fraction of runs with drift > 1 % per law class and
step fraction) and ``summary.json`` to ``--out``; prints the table and the largest fraction at which no run
drifted more than 1 %.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fem import Mesh, generate  # noqa: E402
from fem.kinematics import StrainForce, geometry  # noqa: E402
from fem.mass import lumped_mass  # noqa: E402
from fem.stability import critical_time_step  # noqa: E402
from snsurrogate.potential import curvature_terms  # noqa: E402

SCRIPT = "python benchmarks/nonlinear_stability.py"
ELEMENTS = {"bar2": 1, "tri3": 2, "quad4": 2, "tet4": 3, "hex8": 3}
VOIGT = {1: 1, 2: 3, 3: 6}
RANDOM_LAWS = ("linear", "step", "ramp", "smoothstep", "algebraic", "softening", "stiffening")
FITTED = {  # law key -> (dimension, data file, fit keyword arguments, read keyword arguments)
    "fitted-cubic-potential": (1, "synthetic_cubic_1d.csv", {"law": "potential"},
                               {"strain": ["strain"], "stress": ["stress_MPa"]}),
    "fitted-cubic-mlp": (1, "synthetic_cubic_1d.csv", {}, {"strain": ["strain"], "stress": ["stress_MPa"]}),
    "fitted-plane-potential": (2, "synthetic_plane_strain.csv", {},
                               {"strain": ["exx", "eyy", "gxy"], "stress": ["sxx_MPa", "syy_MPa", "sxy_MPa"]}),
    "fitted-3d-potential": (3, "synthetic_3d.csv", {},
                            {"strain": ["exx", "eyy", "ezz", "gyz", "gxz", "gxy"],
                             "stress": ["sxx_MPa", "syy_MPa", "szz_MPa", "syz_MPa", "sxz_MPa", "sxy_MPa"]}),
}
FRACTIONS = (0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 0.9)
#: The bounds ``dt = "auto"`` takes its certified step from on these small meshes (:func:`fem.choose_time_step`).
CERTIFIED = ("element", "nodal", "global_certified")
AMPLITUDES = (0.1, 1.0, 10.0, 100.0)
M_FRACTIONS = (0.0, 0.1, 0.5)
DRIFT_LIMIT = 0.01  # the monitor's warning level: 1 %
DEAD = 1e3  # a run whose energy grew this many times over is stopped (recorded as drift >= 1)


# -- laws ----------------------------------------------------------------------------------------------
def _phi(u: torch.Tensor, profile: str, order: int) -> torch.Tensor:
    """``phi`` (order 0), ``phi'`` (1) or ``phi''`` (2) of a curvature profile with ``0 <= phi'' <= 1``."""
    if profile in ("ramp", "smoothstep", "algebraic"):
        return curvature_terms(u, profile, min(order, 2))[-1] if order else curvature_terms(u, profile, 0)[0]
    if profile == "step":
        r = torch.relu(u)
        return (0.5 * r * r, r, (u > 0).to(u))[order]
    th = torch.tanh(u)
    logcosh = torch.abs(u) + torch.log1p(torch.exp(-2.0 * torch.abs(u))) - math.log(2.0)
    if profile == "softening":
        return (logcosh, th, 1.0 - th * th)[order]
    if profile == "stiffening":
        return (0.5 * u * u - logcosh, u - th, th * th)[order]
    raise ValueError(f"unknown profile {profile!r}")


class RidgeLaw:
    """A family of ``R`` ridge laws, one per run, evaluated at points that each belong to one run.

    ``psi(eps) = 1/2 eps^T A eps + sum_k c_k^2 [phi(u_k) - phi(b_k) - phi'(b_k)(u_k - b_k)]``,
    ``u_k = w_k^T eps / c_k + b_k``: ``psi(0) = 0``, ``sigma(0) = 0``, ``C_t = A + sum_k phi''(u_k) w_k w_k^T``.
    Bounds of law ``r`` (exact, every strain): ``L_r = ||[A_r^1/2; W_r]||_2^2``, ``m_r = lambda_min(A_r)``.
    Dimensionless units (stress and strain scale 1, density 1). Shapes: ``A (R, d, d)``, ``W (R, K, d)``,
    ``c, b (R, K)``; strain ``(n, d)``, where point ``i`` belongs to law ``runs[i]`` (:meth:`bind`; all to
    law 0 before).
    """

    certified_strain = None
    certified_by = "exact spectral norm (ridge potential)"
    symmetric = True
    kind = "potential"
    density = 1.0

    def __init__(self, A, W, c, b, profile: str) -> None:
        t = lambda x: torch.as_tensor(np.asarray(x, dtype=float), dtype=torch.float64)  # noqa: E731
        self._A, self._W, self._c, self._b = t(A), t(W), t(c), t(b)
        self.profile, self.n_voigt = profile, self._A.shape[-1]
        self.bounds = [ridge_bounds(a, w) for a, w in zip(np.asarray(A, dtype=float), np.asarray(W, dtype=float))]
        self.lipschitz_bound = max(b[0] for b in self.bounds)
        self.tangent_lower_bound = min(b[1] for b in self.bounds)
        self.bind(None)

    def bind(self, runs) -> RidgeLaw:
        """Gather every law's parameters to the points: ``runs (n,)`` int, or ``None`` (law 0)."""
        idx = torch.zeros(1, dtype=torch.int64) if runs is None else torch.as_tensor(runs, dtype=torch.int64)
        self.A, self.W, self.c, self.b = (x[idx] for x in (self._A, self._W, self._c, self._b))
        k = self.W.shape[1]
        self._d1b = _phi(self.b, self.profile, 1) if k else self.b
        self._d0b = _phi(self.b, self.profile, 0) if k else self.b
        return self

    def _u(self, strain):
        return torch.einsum("nkd,nd->nk", self.W, strain) / self.c + self.b

    def stress(self, strain: torch.Tensor) -> torch.Tensor:
        s = torch.einsum("nde,nd->ne", self.A, strain)
        if self.W.shape[1]:
            s = s + torch.einsum("nk,nkd->nd", self.c * (_phi(self._u(strain), self.profile, 1) - self._d1b), self.W)
        return s

    def energy(self, strain: torch.Tensor) -> torch.Tensor:
        psi = 0.5 * (torch.einsum("nde,nd->ne", self.A, strain) * strain).sum(dim=1)
        if self.W.shape[1]:
            u = self._u(strain)
            ridge = _phi(u, self.profile, 0) - self._d0b - self._d1b * (u - self.b)
            psi = psi + (self.c * self.c * ridge).sum(dim=1)
        return psi

    def tangent(self, strain: torch.Tensor) -> torch.Tensor:
        c = self.A.expand(strain.shape[0], -1, -1).clone()
        if self.W.shape[1]:
            c = c + torch.einsum("nk,nkd,nke->nde", _phi(self._u(strain), self.profile, 2), self.W, self.W)
        return c


def ridge_stiffness_bound(A: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``C_bar = A + W^T W``: ``C_t <= C_bar`` at every strain (``phi'' <= 1``), ``||C_bar||_2 = L``."""
    return np.asarray(A, dtype=float) + np.asarray(W, dtype=float).T @ np.asarray(W, dtype=float)


def ridge_bounds(A: np.ndarray, W: np.ndarray) -> tuple[float, float]:
    """``(L, m) = (||[A^1/2; W]||_2^2, lambda_min(A))`` of one ridge law (exact: ``0 <= phi'' <= 1``)."""
    lam, q = np.linalg.eigh(A)
    root = (q * np.sqrt(np.clip(lam, 0, None))) @ q.T
    return float(np.linalg.norm(np.vstack([root, W]), 2)) ** 2, float(max(lam.min(), 0.0))


class Bounded:
    """What :func:`fem.stability.critical_time_step` needs of a law for the certified bounds only: ``L`` and,
    when positive definite, the Loewner bound ``C_bar`` (``stiffness_bound``, the metric of :mod:`fem.metric`)."""

    certified_by = "exact spectral norm"

    def __init__(self, lipschitz_bound: float, density: float, stiffness_bound=None) -> None:
        self.lipschitz_bound, self.density = lipschitz_bound, density
        self.stiffness_bound = None
        if stiffness_bound is not None:
            c = torch.as_tensor(np.asarray(stiffness_bound, dtype=float), dtype=torch.float64)
            lam = torch.linalg.eigvalsh(c)
            self.n_voigt = c.shape[0]
            self.stiffness_bound = c if float(lam[0]) > 1e-12 * float(lam[-1]) else None


def random_law(law: str, d: int, m_fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """``(A, W, c, b)`` of a random ridge law of class ``law`` in ``d`` Voigt components: ``A`` with
    eigenvalues in ``[m_fraction, 1]`` (1-D: ``max(m_fraction, 0.05)`` for nonlinear classes), ``K = 4 d``
    ridges (zero rows for ``linear``) of random directions whose stiffness sums to ``||A||``, widths
    ``c ~ U(0.2, 1)`` and onsets ``b ~ U(-1, 1)`` (0 for the softening and stiffening classes: their
    curvature is extreme at eps = 0)."""
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    if d == 1:
        lam = np.array([1.0 if law == "linear" else max(m_fraction, 0.05)])
    else:
        lam = np.concatenate([[m_fraction, 1.0], rng.uniform(m_fraction, 1.0, d - 2)])
    A = (q * lam) @ q.T
    k = 4 * d
    W = rng.standard_normal((k, d)) * rng.uniform(0.3, 1.0, (k, 1))
    W *= 0.0 if law == "linear" else math.sqrt(1.0 / np.linalg.norm(W.T @ W, 2))
    c = rng.uniform(0.2, 1.0, k)
    b = np.zeros(k) if law in ("softening", "stiffening") else rng.uniform(-1.0, 1.0, k)
    return A, W, c, b


class QuadratureEnergy:
    """A fitted 1-D law without an energy of its own, with ``psi(eps) = eps int_0^1 sigma(t eps) dt`` by
    ``n``-point Gauss-Legendre (exact for a conservative law up to the quadrature error across its kinks)."""

    def __init__(self, material, n: int = 64) -> None:
        self.material, self.n_voigt, self.density = material, material.n_voigt, material.density
        self.lipschitz_bound, self.certified_strain = material.lipschitz_bound, None
        self.certified_by, self.kind = material.certified_by, material.kind
        self.tangent_lower_bound = None
        t, w = np.polynomial.legendre.leggauss(n)
        self._t = torch.as_tensor(0.5 * (t + 1.0), dtype=torch.float64)
        self._w = torch.as_tensor(0.5 * w, dtype=torch.float64)

    def stress(self, strain):
        return self.material.stress(strain)

    def tangent(self, strain):
        return self.material.tangent(strain)

    def energy(self, strain):
        pts = strain[:, None, :] * self._t[None, :, None]  # (n, q, d)
        sig = self.material.stress(pts.reshape(-1, strain.shape[1])).reshape(pts.shape)
        return ((sig * strain[:, None, :]).sum(dim=2) * self._w).sum(dim=1)


def fitted_law(key: str, cache: Path):
    """``(material, strain scale)`` of a law fitted with the defaults (seed 0), fitted once into ``cache``;
    the scale is the data's largest strain component [-]."""
    import snsurrogate

    _, file, options, read = FITTED[key]
    data = snsurrogate.read_curves(ROOT / "data" / file, **read)
    path = cache / f"{key}.pt"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        snsurrogate.fit(data, seed=0, **options).save(path)
    mat = snsurrogate.as_material(snsurrogate.load(path), 1.0)
    return (mat if mat.energy is not None else QuadratureEnergy(mat)), float(np.abs(data.strain).max())


# -- meshes --------------------------------------------------------------------------------------------
def small_mesh(element: str, distorted: bool, rng: np.random.Generator) -> Mesh:
    """A small mesh of unit-size elements: a bar of 8-16 elements, a 3x3-5x4 rectangle or a 2x2x2-3x2x2
    box; ``distorted``: interior nodes moved up to 20 % (2-D) or 15 % (3-D) of the spacing (1-D: random
    lengths 0.3-1)."""
    if element == "bar2":
        n = int(rng.integers(8, 17))
        h = rng.uniform(0.3, 1.0, n) if distorted else np.ones(n)
        x = np.concatenate([[0.0], np.cumsum(h)])[:, None]
        return Mesh(x, np.stack([np.arange(n), np.arange(1, n + 1)], axis=1), "bar2")
    seed = int(rng.integers(1 << 30))
    jitter = 0.2 if distorted else 0.0
    if element in ("tri3", "quad4"):
        nx, ny = int(rng.integers(3, 6)), int(rng.integers(3, 5))
        return generate.rectangle(float(nx), float(ny), nx, ny, element=element, jitter=jitter, seed=seed)
    nx = int(rng.integers(2, 4))
    return generate.box(float(nx), 2.0, 2.0, nx, 2, 2, element=element, jitter=0.75 * jitter, seed=seed)


@dataclass
class Run:
    """One run of the study and its outcome (one row of ``runs.csv``)."""

    element: str
    law: str
    distorted: bool
    constrained: bool
    amplitude: float
    m_fraction: float
    fraction: float
    seed: int
    n_elements: int = 0
    dt_cert: float = math.nan
    dt: float = math.nan
    L: float = math.nan
    m: float = math.nan
    drift: float = math.nan
    energy_ratio: float = math.nan
    first_step_over: int = -1
    max_strain: float = math.nan
    steps: int = 0


def union(meshes: list[Mesh]) -> tuple[Mesh, np.ndarray, np.ndarray]:
    """One mesh of disjoint copies, with the run index of every node and every cell."""
    offs = np.cumsum([0] + [m.n_nodes for m in meshes])
    pts = np.concatenate([np.asarray(m.points, dtype=float) for m in meshes])
    cells = np.concatenate([np.asarray(m.cells) + o for m, o in zip(meshes, offs)])
    node_run = np.repeat(np.arange(len(meshes)), [m.n_nodes for m in meshes])
    cell_run = np.repeat(np.arange(len(meshes)), [m.n_cells for m in meshes])
    return Mesh(pts, cells, meshes[0].element.name), node_run, cell_run


@dataclass
class Group:
    """The union mesh of one (element, law class) and everything its runs start from.

    ``mesh`` with ``meshes[i]`` its disjoint pieces; ``law`` (one material call for every point);
    ``v0 (n_dof,)`` the initial velocity [length/time]; ``free (n_dof,)`` 1 or 0 (fixed face);
    ``fixed_nodes[i]`` the fixed nodes of run ``i`` in its own mesh; ``dof_run``, ``q_run`` the run of
    every dof and integration point; ``scales[i]`` the strain scale of run ``i``'s law [-].
    """

    runs: list
    meshes: list
    mesh: Mesh
    geom: object
    law: object
    v0: torch.Tensor
    free: torch.Tensor
    fixed_nodes: list
    dof_run: torch.Tensor
    q_run: torch.Tensor
    scales: list


def setup_group(element: str, law_key: str, runs: list[Run], cache: str) -> Group:
    """Meshes, laws, certified steps (filled into ``runs``), supports and random initial velocities."""
    dim = ELEMENTS[element]
    nv = VOIGT[dim]
    rngs = [np.random.default_rng(r.seed) for r in runs]
    meshes = [small_mesh(element, r.distorted, g) for r, g in zip(runs, rngs)]
    mesh, node_run, cell_run = union(meshes)
    geom = geometry(mesh)
    n_runs, n_q = len(runs), geom.wdetJ.shape[1]
    q_run = torch.as_tensor(np.repeat(cell_run, n_q))
    if law_key in FITTED:
        law, scale = fitted_law(law_key, Path(cache))
        bounds = [(law.lipschitz_bound, law.tangent_lower_bound)] * n_runs
        scales = [scale] * n_runs
        metrics = [getattr(law, "stiffness_bound", None)] * n_runs
    else:
        params = [random_law(law_key, nv, r.m_fraction, g) for r, g in zip(runs, rngs)]
        law = RidgeLaw(*(np.stack(p) for p in zip(*params)), "step" if law_key == "linear" else law_key)
        law.bind(q_run)
        bounds, scales = law.bounds, [1.0] * n_runs
        metrics = [ridge_stiffness_bound(p[0], p[1]) for p in params]
    for r, m, (L, lower), c_bar in zip(runs, meshes, bounds, metrics):
        rep = critical_time_step(m, Bounded(L, law.density, c_bar), safety=1.0, methods=CERTIFIED)
        r.n_elements, r.dt_cert, r.dt = m.n_cells, rep.dt_certified, r.fraction * rep.dt_certified
        r.L, r.m = L, (math.nan if lower is None else lower)
    mass = lumped_mass(geom, law.density).repeat_interleave(dim)
    dof_run = torch.as_tensor(np.repeat(node_run, dim))
    free, fixed_nodes = torch.ones_like(mass), []
    offs = np.cumsum([0] + [m.n_nodes for m in meshes])
    for i, (r, m) in enumerate(zip(runs, meshes)):
        x = np.asarray(m.points, dtype=float)[:, 0]
        nodes = np.nonzero(np.isclose(x, x.min()))[0] if r.constrained else np.zeros(0, dtype=np.int64)
        fixed_nodes.append(nodes)
        free[torch.as_tensor(((offs[i] + nodes)[:, None] * dim + np.arange(dim)).ravel())] = 0.0
    # each run's velocities from its own generator (after its mesh and law): a run is the same alone or in a group
    amp = [r.amplitude * s * math.sqrt(b[0] / law.density) for r, s, b in zip(runs, scales, bounds)]
    v0 = torch.as_tensor(np.concatenate([a * g.standard_normal(m.n_nodes * dim) for a, g, m in zip(amp, rngs, meshes)]))
    v0 *= free
    return Group(runs, meshes, mesh, geom, law, v0, free, fixed_nodes, dof_run, q_run, scales)


def integrate(g: Group, steps: int, check_every: int = 10) -> list[Run]:
    """Central differences for ``steps`` steps, every run at its own ``dt``; fills in each run's drift
    (the solver's true-energy measure), final energy ratio, first step above 1 % and largest strain."""
    runs, law, geom, dof_run, q_run = g.runs, g.law, g.geom, g.dof_run, g.q_run
    nv, n_runs, n_q = law.n_voigt, len(g.runs), geom.wdetJ.shape[1]
    mass = lumped_mass(geom, law.density).repeat_interleave(geom.dim)
    dt = torch.as_tensor([r.dt for r in runs], dtype=torch.float64)[dof_run]
    kick = dt * g.free / mass
    v = g.v0.clone()  # v_{1/2} = v_0: no force at u = 0
    u, f = torch.zeros_like(v), torch.zeros_like(v)
    sf = StrainForce(geom, buffered=True)
    w = geom.wdetJ.reshape(-1)

    def per_run(values, index):
        return torch.zeros(n_runs, dtype=torch.float64).index_add_(0, index, values)

    e0 = per_run(0.5 * mass * v * v, dof_run)
    scale_run, drift = e0.clone(), torch.zeros(n_runs, dtype=torch.float64)
    first = torch.full((n_runs,), -1, dtype=torch.int64)
    max_strain, ratio = torch.zeros(n_runs, dtype=torch.float64), torch.ones(n_runs, dtype=torch.float64)
    alive = torch.ones(n_runs, dtype=torch.bool)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n in range(1, steps + 1):
            u.addcmul_(dt, v)  # u_n = u_{n-1} + dt v_{n-1/2}
            eps = sf.strain(u).view(-1, nv)
            sf.force(law.stress(eps).view(-1, n_q, nv), f)
            if n % check_every and n != steps:
                v.addcmul_(f, kick, value=-1.0)  # v_{n+1/2} = v_{n-1/2} - dt M^-1 f_int(u_n)
                continue
            v_old = v.clone()
            v.addcmul_(f, kick, value=-1.0)
            kin = per_run(0.5 * mass * v_old * v, dof_run)  # 1/2 v_{n-1/2}^T M v_{n+1/2}
            psi = per_run(w * law.energy(eps), q_run)
            total = kin + psi
            scale_run = torch.maximum(scale_run, torch.maximum(kin.abs(), psi.abs()))
            err = (total - e0).abs() / scale_run
            bad = alive & (~torch.isfinite(total) | (total.abs() > DEAD * e0))
            err = torch.where(bad, torch.full_like(err, math.inf), torch.where(alive, err, drift))
            first[(err > DRIFT_LIMIT) & (first < 0)] = n
            drift = torch.maximum(drift, err)
            ratio = torch.where(alive, total / e0, ratio)
            norm = torch.nan_to_num(eps.abs().amax(dim=1), nan=math.inf)
            max_strain = torch.maximum(max_strain, torch.zeros_like(max_strain).index_reduce_(0, q_run, norm, "amax"))
            if bad.any():  # freeze a run that blew up: its dofs stop moving
                alive &= ~bad
                stop = ~alive[dof_run]
                dt[stop], kick[stop], v[stop], u[stop] = 0.0, 0.0, 0.0, 0.0
                ratio[bad] = math.inf
    for i, r in enumerate(runs):
        r.drift, r.energy_ratio, r.steps = float(drift[i]), float(ratio[i]), steps
        r.first_step_over, r.max_strain = int(first[i]), float(max_strain[i]) / g.scales[i]
    return runs


def run_group(element: str, law_key: str, runs: list[Run], steps: int, check_every: int, cache: str) -> list[Run]:
    """Set up and integrate every run of one (element, law class) with one torch thread."""
    torch.set_num_threads(1)
    return integrate(setup_group(element, law_key, runs, cache), steps, check_every)


# -- the study -----------------------------------------------------------------------------------------
def plan(quick: bool = False, seed: int = 0) -> dict[tuple[str, str], list[Run]]:
    """Every run, grouped by (element, law class): each configuration (mesh kind x boundary x amplitude,
    with its own random seed and ``m`` fraction) at every step fraction."""
    rng = np.random.default_rng(seed)
    fractions = (0.5, 0.9) if quick else FRACTIONS
    amplitudes = (1.0, 100.0) if quick else AMPLITUDES
    groups: dict[tuple[str, str], list[Run]] = {}
    for element, dim in ELEMENTS.items():
        laws = list(RANDOM_LAWS) + [k for k, v in FITTED.items() if v[0] == dim]
        if quick:
            laws = ["linear", "step", "smoothstep"] + ([k for k, v in FITTED.items() if v[0] == dim][:1]
                                                       if element in ("bar2", "quad4") else [])
        for law in laws:
            runs = groups.setdefault((element, law), [])
            for distorted in (False, True):
                for constrained in (False, True):
                    for a in amplitudes:
                        cfg_seed = int(rng.integers(1 << 31))
                        mf = float(rng.choice(M_FRACTIONS)) if law not in FITTED else math.nan
                        runs += [Run(element, law, distorted, constrained, a, mf, f, cfg_seed) for f in fractions]
    return groups


def _work(item):
    (element, law), runs, steps, check_every, cache = item
    t0 = time.perf_counter()
    done = run_group(element, law, runs, steps, check_every, cache)
    return element, law, done, time.perf_counter() - t0


def table(runs: list[Run], limit: float = DRIFT_LIMIT) -> tuple[str, dict]:
    """Markdown table: per law class and step fraction, runs with drift > ``limit`` / runs; and the largest
    fraction at which no run of any class exceeded it."""
    fractions = sorted({r.fraction for r in runs})
    laws = list(dict.fromkeys(r.law for r in runs))
    head = "| law class | runs per fraction | " + " | ".join(f"{f:g} x dt_cert" for f in fractions) + " |"
    lines = [head, "|" + " --- |" * (len(fractions) + 2)]
    counts: dict = {}
    for law in laws + ["all"]:
        row = [r for r in runs if law in ("all", r.law)]
        cells = []
        for f in fractions:
            sel = [r for r in row if r.fraction == f]
            over = sum(r.drift > limit for r in sel)
            counts.setdefault(law, {})[f] = (over, len(sel))
            cells.append(f"{over}/{len(sel)}" + (f" (max {max(r.drift for r in sel):.2g})" if sel else ""))
        lines.append(f"| {law} | {len(row) // max(len(fractions), 1)} | " + " | ".join(cells) + " |")
    clean = [f for f in fractions if counts["all"][f][0] == 0]
    largest = max((f for f in clean if all(g in clean for g in fractions if g < f)), default=None)
    return "\n".join(lines), {"counts": {k: {str(f): v for f, v in d.items()} for k, d in counts.items()},
                              "largest_clean_fraction": largest}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="out/nonlinear_stability", help="output folder")
    ap.add_argument("--steps", type=int, default=20000, help="steps per run (default 20000)")
    ap.add_argument("--check-every", type=int, default=10, help="steps between energy checks (solver: 10)")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="processes")
    ap.add_argument("--quick", action="store_true", help="a smoke run: few classes, 2 fractions, 2,000 steps")
    ap.add_argument("--only", nargs="*", default=None, help="law classes to run (default: all)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    steps = 2000 if args.quick and args.steps == 20000 else args.steps
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cache = str(out / "models")
    groups = plan(args.quick, args.seed)
    if args.only:
        groups = {k: v for k, v in groups.items() if k[1] in args.only}
    for key in dict.fromkeys(k[1] for k in groups):  # fit once, before the workers start
        if key in FITTED:
            fitted_law(key, Path(cache))
    items = [(k, v, steps, args.check_every, cache) for k, v in groups.items()]
    items.sort(key=lambda it: -len(it[1]) * (8 if it[0][0] == "hex8" else 1))
    t0 = time.perf_counter()
    done: list[Run] = []
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for element, law, runs, sec in pool.map(_work, items):
            done += runs
            worst = max(r.drift for r in runs)
            print(f"{element:6s} {law:24s} {len(runs):4d} runs x {steps} steps  {sec:6.1f} s  worst drift {worst:.3g}",
                  flush=True)
    wall = time.perf_counter() - t0
    tmp = out / "runs.csv.part"
    with tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(asdict(done[0])))
        writer.writeheader()
        writer.writerows(asdict(r) for r in done)
    tmp.replace(out / "runs.csv")
    md, stats = table(done)
    by_element, _ = table([Run(r.element, r.element, *(asdict(r)[k] for k in list(asdict(r))[2:])) for r in done])
    m_rows = [r for r in done if r.law not in FITTED and r.law != "linear"]
    by_m, _ = table([Run(r.element, f"m/L = {r.m_fraction:g}", *(asdict(r)[k] for k in list(asdict(r))[2:]))
                     for r in m_rows])
    by_amp, _ = table([Run(r.element, f"amplitude {r.amplitude:g}", *(asdict(r)[k] for k in list(asdict(r))[2:]))
                       for r in done])
    command = f"{SCRIPT} " + " ".join(argv if argv is not None else sys.argv[1:])
    text = (f"# Nonlinear stability study\n\n`{command.strip()}`: {len(done)} runs of {steps} steps, "
            f"{wall:.0f} s wall on {args.workers} process(es).\n\nRuns whose true energy drifted by more than "
            f"{100 * DRIFT_LIMIT:g} % (and the largest drift) per law class and step fraction:\n\n{md}\n\n"
            f"By element:\n\n{by_element}\n\nBy initial velocity amplitude (strain / law scale):\n\n{by_amp}\n\n"
            f"Random nonlinear classes by m / ||A||:\n\n{by_m}\n\nLargest fraction of dt_cert at which no run "
            f"drifted more than {100 * DRIFT_LIMIT:g} %: {stats['largest_clean_fraction']}\n")
    (out / "table.md").write_text(text)
    summary = {"command": command.strip(), "runs": len(done), "steps": steps, "wall_s": wall,
               "drift_limit": DRIFT_LIMIT, **stats}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
