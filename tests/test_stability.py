"""The certified time-step bounds of ``fem.stability`` (stability.md §1-§5).

Certified bounds (element, nodal) must never exceed the true critical step, for every element type,
distorted meshes, linear, nonlinear and learned laws at random states; the true step must be a real
threshold of the explicit solver; certificate violations, softening and non-symmetric tangents must
be reported, and the engineering-Voigt convention must be the one used throughout.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch

from fem import ExplicitSolver, Fixed, HardeningCubic, InitialVelocity, LinearElastic, Mesh, generate
from fem.element_matrices import assemble, geometric_matrices, stiffness_matrices
from fem.errors import CertificateError, InstabilityError
from fem.kinematics import geometry, strain, strain_operator
from fem.mass import lumped_mass
from fem.stability import LINEAR_SAFETY, NONLINEAR_SAFETY, critical_time_step, default_safety
from fem.time_step import choose_time_step
from snsurrogate.material import as_material
from snsurrogate.model import SurrogateModel
from snsurrogate.network import Architecture, StressNetwork, freeze

E, RHO = 200e3, 7.85e-9  # MPa, t/mm^3 (steel, mm-t-s-N units)


# -- helpers ---------------------------------------------------------------------------------------
class MatrixMaterial:
    """A linear law ``sigma = C eps`` with a given (possibly non-symmetric or indefinite) Voigt matrix ``C``
    and a stated bound ``L`` (default ``||C||_2``)."""

    certified_strain = None
    certified_by = "the test's stated bound"

    def __init__(self, C, density: float = 1.0, lipschitz_bound: float | None = None) -> None:
        self.C = torch.as_tensor(np.asarray(C, dtype=float), dtype=torch.float64)
        self.n_voigt = self.C.shape[0]
        self.density = float(density)
        norm = float(torch.linalg.matrix_norm(self.C, 2))
        self.lipschitz_bound = norm if lipschitz_bound is None else float(lipschitz_bound)

    def stress(self, eps: torch.Tensor) -> torch.Tensor:
        return eps @ self.C.to(eps.dtype).T

    def tangent(self, eps: torch.Tensor) -> torch.Tensor:
        return self.C.to(eps.dtype).expand(eps.shape[0], -1, -1)


def tensor_strain_norm(eps: torch.Tensor) -> torch.Tensor:
    """``sqrt(eps:eps)`` from engineering Voigt vectors ``(..., n_voigt)`` (shears halved, counted twice)."""
    nv = eps.shape[-1]
    if nv == 1:
        return eps[..., 0].abs()
    n_normal = {3: 2, 6: 3}[nv]
    return torch.sqrt((eps[..., :n_normal] ** 2).sum(-1) + 0.5 * (eps[..., n_normal:] ** 2).sum(-1))


def spectral_network_material(rng: np.random.Generator, d: int, activation: str, density: float):
    """A random spectrally normalized network (random widths, gains, scales, biases, power-iteration state)
    frozen, wrapped as a :class:`SurrogateModel` and as a fem material."""
    n_hidden = int(rng.integers(1, 3))
    hidden = tuple(int(2 * rng.integers(2, 7)) for _ in range(n_hidden))
    gains = tuple(float(g) for g in np.exp(rng.normal(0.0, 0.7, n_hidden + 1)))
    s_eps = float(10 ** rng.uniform(-4, -1))
    s_sig = float(10 ** rng.uniform(0, 3))
    net = StressNetwork(Architecture(d, d, hidden, activation, s_eps, s_sig, gains), spectral=True).double()
    with torch.no_grad():
        for lin in net.linears:
            lin.parametrizations.weight.original.mul_(float(np.exp(rng.normal(0.0, 0.5))))
            lin.bias.normal_(0.0, float(rng.uniform(0.1, 1.5)))
    net.train()
    for _ in range(int(rng.integers(1, 5))):  # training-mode passes move the power iteration
        net(torch.randn(4, d, dtype=torch.float64) * s_eps)
    model = SurrogateModel(freeze(net, project=bool(rng.integers(0, 2))), {})
    return as_material(model, density), s_eps


def random_mesh(rng: np.random.Generator, element: str):
    """A small jittered mesh of ``element`` (a few to ~100 elements) and a random section."""
    seed = int(rng.integers(0, 2**31))
    if element == "bar2":
        n = int(rng.integers(2, 25))
        h = 10 ** rng.uniform(-2, 1)
        mesh = generate.line(n * h, n)
        pts = mesh.points.copy()
        pts[1:-1, 0] += rng.uniform(-0.4, 0.4, n - 1) * h
        return Mesh(pts, mesh.cells, "bar2"), float(10 ** rng.uniform(-1, 1))
    if element in ("tri3", "quad4"):
        nx, ny = (int(k) for k in rng.integers(1, 7, 2))
        lx, ly = (float(x) for x in 10 ** rng.uniform(-1, 1, 2))
        jitter = float(rng.uniform(0.0, 0.24))
        mesh = generate.rectangle(lx, ly, nx, ny, element=element, jitter=jitter, seed=seed)
        return mesh, float(10 ** rng.uniform(-1, 1))
    counts = [int(k) for k in rng.integers(1, 4 if element == "hex8" else 3, 3)]
    lengths = [float(x) for x in 10 ** rng.uniform(-1, 1, 3)]
    jitter = float(rng.uniform(0.0, 0.16))
    return generate.box(*lengths, *counts, element=element, jitter=jitter, seed=seed), 1.0


def random_state(rng, mesh, section, size: float, norm=tensor_strain_norm) -> np.ndarray:
    """A random displacement field scaled so that the largest integration-point strain norm is ``size``."""
    u = rng.normal(size=(mesh.n_nodes, mesh.dim))
    eps = strain(geometry(mesh, section=section), torch.as_tensor(u))
    return u * (size / float(norm(eps).max()))


MODES = {1: ("1d",), 2: ("plane_strain", "plane_stress"), 3: ("3d",)}
HARDENING_MODE = {1: "1d", 2: "plane_strain", 3: "3d"}
N_VOIGT = {1: 1, 2: 3, 3: 6}
FAMILIES = ("linear", "hardening", "network-groupsort", "network-tanh")
ELEMENTS = ("bar2", "tri3", "quad4", "tet4", "hex8")


def random_case(rng, element: str, family: str):
    mesh, section = random_mesh(rng, element)
    dim = mesh.dim
    density = float(10 ** rng.uniform(-9, 1))
    state = None
    if family == "linear":
        mode = MODES[dim][int(rng.integers(len(MODES[dim])))]
        mat = LinearElastic(float(10 ** rng.uniform(0, 5)), float(rng.uniform(0.0, 0.45)), density, mode=mode)
        if rng.random() < 0.5:
            state = random_state(rng, mesh, section, 1e-3)
        label = f"LinearElastic {mode} E={mat.E:.4g} nu={mat.nu:.3f}"
    elif family == "hardening":
        eps_h = float(rng.uniform(0.01, 0.1))
        eps_max = eps_h * float(rng.uniform(0.3, 3.0))
        mat = HardeningCubic(float(10 ** rng.uniform(0, 5)), eps_h, eps_max, float(rng.uniform(0.0, 0.45)),
                             density, mode=HARDENING_MODE[dim])
        fraction = float(rng.uniform(0.3, 0.999))  # inside the certified strain range
        state = random_state(rng, mesh, section, fraction * eps_max)
        label = f"HardeningCubic {mat.mode} eps_max={eps_max:.3g}, state at {fraction:.3f} eps_max"
    else:
        activation = family.split("-")[1]
        mat, s_eps = spectral_network_material(rng, N_VOIGT[dim], activation, density)
        state = random_state(rng, mesh, section, s_eps * float(10 ** rng.uniform(-1, 1)))
        label = f"SN network {activation} d={N_VOIGT[dim]}"
    return mesh, section, mat, state, label


# -- 1. bar2 closed form -----------------------------------------------------------------------------
@pytest.mark.parametrize("h", [0.01, 1.0, 37.5])
@pytest.mark.parametrize("rho, young", [(RHO, E), (1.0, 1.0), (2.7e-9, 70e3), (1200.0, 3.0e-3)])
def test_bar2_element_step_is_h_sqrt_rho_over_l(h, rho, young):
    n = 12
    mesh = generate.line(n * h, n)
    for section in (1.0, 0.37):  # the cross-section cancels out
        report = critical_time_step(mesh, LinearElastic(young, density=rho, mode="1d"), section=section)
        exact = h * math.sqrt(rho / young)
        assert report.dt_element == pytest.approx(exact, rel=1e-13)
        # uniform free-free bar, lumped mass: the zig-zag mode is exact, so every bound is sharp
        for name in ("nodal", "global", "true"):
            assert report.bounds[name].dt == pytest.approx(exact, rel=1e-10), name
    # a nonlinear certified law: the same formula with L
    hard = HardeningCubic(young, 0.05, 0.08, density=rho, mode="1d")
    assert critical_time_step(mesh, hard, methods=("element",)).dt_element == pytest.approx(
        h * math.sqrt(rho / hard.lipschitz_bound), rel=1e-13)


def test_bar2_non_uniform_the_smallest_element_controls_and_is_named():
    rng = np.random.default_rng(7)
    for trial in range(6):
        n = int(rng.integers(3, 40))
        lengths = rng.uniform(0.5, 2.0, n)
        smallest = int(rng.integers(n))
        lengths[smallest] = 0.1 + 0.3 * rng.random()  # strictly the shortest
        x = np.concatenate(([0.0], np.cumsum(lengths)))
        mesh = Mesh(x[:, None], np.stack([np.arange(n), np.arange(1, n + 1)], -1), "bar2")
        rho, young = float(10 ** rng.uniform(-9, 3)), float(10 ** rng.uniform(-2, 6))
        report = critical_time_step(mesh, LinearElastic(young, density=rho, mode="1d"))
        h_min = float(np.diff(x).min())
        assert report.dt_element == pytest.approx(h_min * math.sqrt(rho / young), rel=1e-12), trial
        assert report.bounds["element"].where == f"element {smallest}"
        assert report.bounds["element"].certified and report.bounds["nodal"].certified
        assert not report.bounds["global"].certified and not report.bounds["true"].certified
        assert report.dt_element <= report.dt_true * (1 + 1e-9)


# -- 2. hundreds of random cases ---------------------------------------------------------------------
def test_certified_bounds_never_exceed_the_true_step_in_hundreds_of_random_cases():
    """Every element type x {linear (all modes), hardening cubic inside its certified range, random SN
    networks (GroupSort, tanh)} on jittered meshes at random states: element, nodal <= true; element,
    nodal <= global (Lanczos tolerance); global <= true; ||C_t|| <= L at every point."""
    rng = np.random.default_rng(20240601)
    torch.manual_seed(20240601)
    failures, count, finite, covered = [], 0, 0, {}
    for rep in range(12):
        for element in ELEMENTS:
            for family in FAMILIES:
                if element in ("tet4", "hex8") and family == "linear" and rep % 2:
                    continue  # keep the 3-D cases few enough for the time budget
                mesh, section, mat, state, label = random_case(rng, element, family)
                report = critical_time_step(mesh, mat, section=section, state=state)
                count += 1
                covered[(element, family)] = covered.get((element, family), 0) + 1
                where = f"case {count}: {element} ({mesh.n_cells} cells), {label}"
                dt_true, dt_global = report.dt_true, report.dt_global
                finite += math.isfinite(dt_true)  # inf: a law with no positive stiffness at that state
                for name in ("element", "nodal"):
                    dt = report.bounds[name].dt
                    if not (report.bounds[name].certified and dt <= dt_true * (1 + 1e-9)):
                        failures.append(f"{where}: {name} {dt:.6g} > true {dt_true:.6g}")
                    if not dt <= dt_global * (1 + 1e-6):
                        failures.append(f"{where}: {name} {dt:.6g} > global {dt_global:.6g}")
                if not dt_global <= dt_true * (1 + 1e-6):
                    failures.append(f"{where}: global {dt_global:.6g} > true {dt_true:.6g}")
                if not report.tangent.ratio <= 1 + 1e-12:  # two eigen-solvers' round-off on ||C|| = L
                    failures.append(f"{where}: tangent ratio {report.tangent.ratio!r} > 1")
                if not report.dt_certified == max(report.dt_element, report.dt_nodal):
                    failures.append(f"{where}: dt_certified is not the larger certified bound")
    assert not failures, "\n".join(failures[:20])
    assert count >= 200 and finite >= 200
    assert len(covered) == len(ELEMENTS) * len(FAMILIES) and min(covered.values()) >= 5


# -- 3. the true step is a real threshold of the solver ----------------------------------------------
def _random_velocity_solver(seed: int = 0, n: int = 8):
    mesh = generate.rectangle(80.0, 80.0, n, n, element="quad4", jitter=0.2, seed=seed)
    mat = LinearElastic(E, 0.3, RHO, mode="plane_strain")
    v0 = np.random.default_rng(seed).normal(size=(mesh.n_nodes, 2))
    return ExplicitSolver(mesh, mat, [Fixed(mesh.select_nodes("left"))], InitialVelocity(field=v0))


def _energies(solver, dt: float, steps: int) -> dict[str, np.ndarray]:
    """The energy history of a run divided by the initial kinetic energy (every step is recorded; up to
    the step where the run was stopped, if it was)."""
    try:
        history = solver.run(steps * dt * (1 - 1e-12), dt, runaway=1e30, energy_warn=1e9).history
    except InstabilityError as err:  # non-finite values: the run stopped, its history is kept
        history = err.history
    e0 = history["kinetic"][0]
    return {k: history[k] / e0 for k in ("kinetic", "internal")}


def test_dt_true_is_the_stability_threshold_of_the_central_difference_solver():
    solver = _random_velocity_solver()
    report = critical_time_step(solver.mesh, solver.material, constrained=solver.bc.constrained.numpy())
    # dt_true is the constrained system's critical step (dense check, as in tests/test_explicit.py)
    geom, n_el = solver.geom, solver.mesh.n_cells
    C = solver.material.tangent(torch.zeros(1, 3, dtype=torch.float64)).expand(n_el, 4, 3, 3)
    K = assemble(geom, stiffness_matrices(geom, C)).toarray()
    free = np.setdiff1d(np.arange(K.shape[0]), solver.bc.constrained.numpy())
    m = solver.m_dof.numpy()[free]
    lam = np.linalg.eigvalsh(K[np.ix_(free, free)] / np.sqrt(np.outer(m, m)))[-1]
    assert report.dt_true == pytest.approx(2 / math.sqrt(lam), rel=1e-10)
    assert report.dt_certified < report.dt_true

    below = _energies(solver, 0.98 * report.dt_true, 3000)
    assert len(below["kinetic"]) == 3001
    assert np.abs(below["kinetic"] + below["internal"] - 1).max() <= 1e-6
    # bounded, not only balanced: below dt_crit the invariant 1/2 v_{n-1/2}'M v_{n+1/2} + 1/2 u'Ku is
    # positive definite, and mode by mode the strain energy is at most E_0 / (1 - (omega dt / 2)^2)
    assert below["internal"].max() <= 1 / (1 - 0.98**2)

    above = _energies(solver, 1.02 * report.dt_true, 400)
    # kinetic + internal is conserved by the scheme's energy accounting even here (an algebraic identity
    # of central differences), so growth shows in the strain energy, while the kinetic form turns negative
    grown = np.flatnonzero(above["internal"] > 1e3)
    assert grown.size and grown[0] <= 300  # within a few hundred steps
    assert above["kinetic"][grown[0]] < -1e2


# -- 4. a spectrally normalized network at dt_auto ---------------------------------------------------
def _conservative_network_material(density: float):
    """A plane SN network ``sigma = s W2 tanh(g W1 eps / s_eps + b)`` with ``W2 = W1^T`` before
    normalization: after freezing, the tangent is ``c W1^T diag(tanh') W1``, symmetric positive definite
    (a hyperelastic, softening-free law), so an explicit run may only fail through the time step."""
    torch.manual_seed(5)
    arch = Architecture(3, 3, (16,), "tanh", strain_scale=1e-3, stress_scale=200.0, gains=(1.0, 1.0))
    net = StressNetwork(arch, spectral=True).double()
    with torch.no_grad():
        net.linears[1].parametrizations.weight.original.copy_(net.linears[0].parametrizations.weight.original.T)
    net.train()
    for _ in range(5):
        net(torch.randn(8, 3, dtype=torch.float64) * 1e-3)
    return as_material(SurrogateModel(freeze(net), {}), density)


def test_spectral_network_runs_stably_at_dt_auto():
    mat = _conservative_network_material(RHO)
    mesh = generate.rectangle(80.0, 80.0, 8, 8, element="quad4", jitter=0.2, seed=3)
    c = math.sqrt(mat.lipschitz_bound / RHO)
    v0 = np.random.default_rng(3).normal(size=(mesh.n_nodes, 2)) * 3e-3 * c  # strains of a few s_eps
    solver = ExplicitSolver(mesh, mat, [Fixed(mesh.select_nodes("left"))], InitialVelocity(field=v0))
    report = critical_time_step(mesh, mat, safety=0.9, constrained=solver.bc.constrained.numpy())
    assert report.dt_auto == pytest.approx(0.9 * report.dt_certified, rel=1e-15)
    assert report.tangent.min_eigenvalue > 0 and not report.tangent.non_symmetric and not report.notes

    result = solver.run(2000 * report.dt_auto * (1 - 1e-12), report.dt_auto)
    assert result.stable and result.steps == 2000
    assert result.energy_error < 1e-3
    h = result.history
    assert np.all(np.isfinite(h["kinetic"])) and h["kinetic"].max() <= 1.001 * h["kinetic"][0]
    eps = strain(solver.geom, torch.as_tensor(result.u))
    assert float(eps.abs().max()) < 0.1  # bounded: a few strain scales, no growth

    # the same set-up does grow above the (linearised) critical step: small velocities, 1.3 x dt_true
    small = ExplicitSolver(mesh, mat, [Fixed(mesh.select_nodes("left"))], InitialVelocity(field=v0 * 1e-6))
    above = _energies(small, 1.3 * report.dt_true, 300)
    assert above["internal"].max() > 1e3


# -- 5. certificate violations are errors -------------------------------------------------------------
def test_a_tangent_above_its_stated_bound_raises_naming_the_point():
    mesh = generate.rectangle(2.0, 1.0, 4, 2, element="quad4", jitter=0.1)
    mat = LinearElastic(E, 0.3, RHO, mode="plane_strain")
    critical_time_step(mesh, mat)  # the true bound: no error
    mat.lipschitz_bound *= 0.5
    with pytest.raises(CertificateError, match=r"integration point \d+"):
        critical_time_step(mesh, mat)


def test_hardening_cubic_beyond_its_certified_strain_raises_naming_the_point():
    eps_h, eps_max = 0.05, 0.08
    # 1-D: one element stretched beyond eps_max, the rest at rest
    mesh = generate.line(10.0, 10)
    mat = HardeningCubic(E, eps_h, eps_max, density=RHO, mode="1d")
    u = np.zeros((mesh.n_nodes, 1))
    u[7:, 0] = 1.2 * eps_max * 1.0  # element 6 (length 1) has strain 1.2 eps_max
    geom = geometry(mesh)
    worst = int(torch.argmax(strain(geom, torch.as_tensor(u)).abs().flatten()))
    with pytest.raises(CertificateError, match=rf"integration point {worst}\b"):
        critical_time_step(mesh, mat, state=u)
    critical_time_step(mesh, mat, state=u * 0.99 / 1.2)  # inside the range: no error

    # plane strain, simple shear: the deviatoric branch 2 mu (1 + 3 beta e:e) exceeds L beyond eps_max
    mesh = generate.rectangle(1.0, 1.0, 3, 3, element="quad4")
    mat = HardeningCubic(1000.0, 0.05, 0.1, 0.3, RHO, mode="plane_strain")
    for fraction, raises in ((1.5, True), (0.99, False)):
        gamma = fraction * mat.eps_max * math.sqrt(2)  # tensor norm gamma / sqrt(2)
        u = np.stack([gamma * mesh.points[:, 1], 0 * mesh.points[:, 1]], -1)
        if raises:
            with pytest.raises(CertificateError, match=r"integration point \d+"):
                critical_time_step(mesh, mat, state=u)
        else:
            assert critical_time_step(mesh, mat, state=u).tangent.ratio <= 1


# -- 6. the engineering Voigt convention ------------------------------------------------------------
def _mandel_geometric(geom):
    B = strain_operator(geom).clone()
    B[:, :, 2, :] /= math.sqrt(2)  # Mandel: sqrt(2) eps_xy = gamma_xy / sqrt(2)
    return assemble(geom, torch.einsum("eq,eqki,eqkj->eij", geom.wdetJ, B, B)).toarray()


def test_strain_operator_is_engineering_voigt():
    for element in ("quad4", "tri3"):
        mesh = generate.rectangle(2.0, 1.0, 3, 2, element=element, jitter=0.2, seed=1)
        geom = geometry(mesh)
        gamma = 0.3
        u = np.stack([gamma * mesh.points[:, 1], np.zeros(mesh.n_nodes)], -1)  # simple shear
        eps = strain(geom, torch.as_tensor(u))
        ue = torch.as_tensor(u)[geom.cells].reshape(geom.cells.shape[0], 1, -1, 1)
        via_b = (strain_operator(geom) @ ue)[..., 0]
        expected = torch.tensor([0.0, 0.0, gamma], dtype=torch.float64)
        assert torch.allclose(eps, expected.expand_as(eps), atol=1e-14)
        assert torch.allclose(via_b, expected.expand_as(via_b), atol=1e-14)


def test_tri3_element_bound_matches_a_hand_built_engineering_b():
    """``g_e = (3 / rho) ||B||_2^2`` for a constant-strain triangle with ``rho A / 3`` per node, B built here
    from the node coordinates with the engineering shear row ``[c_a, b_a]``; and the doc's closed form."""
    mesh = generate.rectangle(3.0, 2.0, 4, 3, element="tri3", jitter=0.2, seed=4)
    rho, L = 2.5, 7.0
    g_max, closed = 0.0, 0.0
    for cell in mesh.cells:
        x = mesh.points[cell]
        T = np.column_stack([x[1] - x[0], x[2] - x[0]])
        grad = np.linalg.solve(T.T, np.array([[-1.0, 1.0, 0.0], [-1.0, 0.0, 1.0]]))  # dN_a/dx, (2, 3)
        B = np.zeros((3, 6))
        B[0, 0::2], B[1, 1::2] = grad[0], grad[1]
        B[2, 0::2], B[2, 1::2] = grad[1], grad[0]
        g = 3.0 / rho * np.linalg.norm(B, 2) ** 2
        g_max = max(g_max, g)
        altitudes = 1.0 / np.linalg.norm(grad, axis=0)  # |grad N_a| = 1 / h_a
        assert g <= 6.0 / rho * np.sum(altitudes**-2.0) * (1 + 1e-12)
        closed = max(closed, 6.0 / rho * np.sum(altitudes**-2.0))
    report = critical_time_step(mesh, MatrixMaterial(np.eye(3) * L, rho), section=0.3)
    assert report.dt_element == pytest.approx(2.0 / math.sqrt(L * g_max), rel=1e-12)
    assert report.dt_element >= 2.0 / math.sqrt(L * closed)


def test_voigt_convention_matters_for_a_pure_shear_law():
    """``C = diag(0, 0, L)`` in engineering Voigt: the certified step holds; a Mandel G with the same L
    under-estimates the stiffness by up to the factor 2 of stability.md §2 and over-estimates dt."""
    L, rho = 50.0, 3.0
    mat = MatrixMaterial(np.diag([0.0, 0.0, L]), rho)
    mesh = generate.rectangle(1.0, 1.0, 6, 6, element="quad4", jitter=0.2, seed=3)
    report = critical_time_step(mesh, mat)
    assert report.tangent.ratio == pytest.approx(1.0, rel=1e-14)
    assert report.dt_element <= report.dt_true * (1 + 1e-9)
    assert report.dt_nodal <= report.dt_true * (1 + 1e-9)

    geom = geometry(mesh)
    G = assemble(geom, geometric_matrices(geom)).toarray()
    Gm = _mandel_geometric(geom)
    n_el, n_qp = geom.wdetJ.shape
    K = assemble(geom, stiffness_matrices(geom, mat.C.expand(n_el, n_qp, 3, 3))).toarray()
    # a pure-shear field (no normal strain): u'Ku = L u'Gu exactly, = 2 L u'G_mandel u (the doc's factor 2)
    u = np.stack([mesh.points[:, 1], np.zeros(mesh.n_nodes)], -1).reshape(-1)
    assert u @ K @ u == pytest.approx(L * (u @ G @ u), rel=1e-12)
    assert u @ K @ u == pytest.approx(2 * L * (u @ Gm @ u), rel=1e-12)
    # the Mandel "bound" on dt with the engineering L exceeds dt_true: not a bound
    m = lumped_mass(geom, rho).repeat_interleave(2).numpy()
    scale = 1 / np.sqrt(np.outer(m, m))
    dt_mandel = 2 / math.sqrt(L * scipy.linalg.eigvalsh(Gm * scale)[-1])
    dt_engineering = 2 / math.sqrt(L * scipy.linalg.eigvalsh(G * scale)[-1])
    assert dt_engineering == pytest.approx(report.dt_global, rel=1e-10)
    assert dt_engineering <= report.dt_true * (1 + 1e-12)
    assert dt_mandel > 1.05 * report.dt_true
    assert dt_mandel <= math.sqrt(2) * report.dt_true * (1 + 1e-12)  # at most the factor sqrt(2) in dt


# -- 7. softening and non-symmetric tangents are reported, not folded into dt ------------------------
def test_softening_and_non_symmetric_tangents_are_reported_not_folded_into_dt():
    mesh = generate.rectangle(2.0, 1.0, 4, 2, element="quad4", jitter=0.15)
    L, rho = 100.0, 2.0
    reference = critical_time_step(mesh, MatrixMaterial(np.eye(3) * L, rho))
    assert not reference.notes and reference.tangent.min_eigenvalue > 0
    assert reference.tangent.symmetry_defect == 0

    softening = MatrixMaterial(np.diag([L, 0.5 * L, -0.25 * L]), rho)
    assert softening.lipschitz_bound == pytest.approx(L)
    report = critical_time_step(mesh, softening)
    assert report.tangent.min_eigenvalue == pytest.approx(-0.25 * L)
    assert report.tangent.softening and not report.tangent.non_symmetric
    assert any("softening" in note for note in report.notes)

    skew = MatrixMaterial([[0.6 * L, 0.3 * L, 0.0], [0.0, 0.6 * L, 0.0], [0.0, 0.0, 0.4 * L]], rho, L)
    report_skew = critical_time_step(mesh, skew)
    C = skew.C.numpy()
    assert report_skew.tangent.symmetry_defect == pytest.approx(np.linalg.norm(C - C.T, 2) / np.linalg.norm(C, 2))
    assert report_skew.tangent.symmetry_defect > 0.1 and report_skew.tangent.non_symmetric
    assert any("not symmetric" in note for note in report_skew.notes)
    # dt_true uses the symmetric part of M^-1/2 K M^-1/2
    geom = geometry(mesh)
    n_el, n_qp = geom.wdetJ.shape
    K = assemble(geom, stiffness_matrices(geom, skew.C.expand(n_el, n_qp, 3, 3))).toarray()
    m = lumped_mass(geom, rho).repeat_interleave(2).numpy()
    A = 0.5 * (K + K.T) / np.sqrt(np.outer(m, m))
    assert report_skew.dt_true == pytest.approx(2 / math.sqrt(np.linalg.eigvalsh(A)[-1]), rel=1e-10)

    for r in (report, report_skew):  # the certified steps depend on L and the mesh only
        assert r.dt_element == pytest.approx(reference.dt_element, rel=1e-14)
        assert r.dt_nodal == pytest.approx(reference.dt_nodal, rel=1e-14)
        assert r.dt_auto == pytest.approx(reference.dt_auto, rel=1e-14)


# -- 8. damping and safety ---------------------------------------------------------------------------
def test_damping_and_safety_factors():
    mesh = generate.rectangle(2.0, 1.0, 5, 3, element="tri3", jitter=0.1)
    mat = LinearElastic(E, 0.25, RHO, mode="plane_stress")
    base = critical_time_step(mesh, mat, safety=1.0, methods=("element", "nodal"))
    for xi in (0.0, 0.02, 0.1, 0.5, 1.0, 3.0):
        r = critical_time_step(mesh, mat, safety=1.0, damping=xi, methods=("element", "nodal"))
        assert r.damping_factor == math.sqrt(1 + xi * xi) - xi
        assert r.dt_auto == pytest.approx(base.dt_auto * (math.sqrt(1 + xi * xi) - xi), rel=1e-15)
        assert r.dt_certified == base.dt_certified
    for safety in (0.1, 0.5, 0.9, 1.0):
        for xi in (0.0, 0.3):
            r = critical_time_step(mesh, mat, safety=safety, damping=xi, methods=("element", "nodal"))
            assert r.dt_auto == pytest.approx(safety * (math.sqrt(1 + xi * xi) - xi) * base.dt_certified,
                                              rel=1e-15)
    for bad in (0.0, -0.5, 1.5, float("nan")):
        with pytest.raises(ValueError):
            critical_time_step(mesh, mat, safety=bad, methods=("element",))
    with pytest.raises(ValueError):
        critical_time_step(mesh, mat, damping=-0.1, methods=("element",))


def test_the_default_safety_is_linear_only_for_a_declared_constant_tangent():
    """0.9 for linear elasticity (its central-difference energy is conserved below the critical step); the
    study's nonlinear factor for every other law, for a law that does not say, and for a truthy non-bool."""
    mesh = generate.rectangle(2.0, 1.0, 4, 2, element="quad4")
    linear, cubic = LinearElastic(E, 0.25, RHO, mode="plane_strain"), HardeningCubic(E, 0.01, 0.1, 0.25, RHO,
                                                                                       mode="plane_strain")
    assert 0 < NONLINEAR_SAFETY < LINEAR_SAFETY == 0.9
    assert default_safety(linear) == LINEAR_SAFETY and default_safety(cubic) == NONLINEAR_SAFETY

    class Unsaid:
        n_voigt, density, lipschitz_bound, certified_strain, certified_by = 3, RHO, 2 * E, None, "test"
        stress, tangent = linear.stress, linear.tangent

    odd = Unsaid()
    odd.linear = 1  # not True: not a declaration
    for mat in (linear, cubic, Unsaid(), odd):
        base = critical_time_step(mesh, mat, safety=1.0, methods=("element", "nodal", "global_certified"))
        chosen = choose_time_step(mesh, mat)
        assert chosen.dt == pytest.approx(default_safety(mat) * base.dt_certified, rel=1e-14)
        assert chosen.method == f"auto: {default_safety(mat):g} x certified {base.certified_method} step"
    assert default_safety(Unsaid()) == default_safety(odd) == NONLINEAR_SAFETY


# -- 9. float32 tangents: the tolerance follows the dtype ---------------------------------------------
class Float32Material(MatrixMaterial):
    """:class:`MatrixMaterial` evaluated in float32 (as a float32 network is)."""

    def tangent(self, eps: torch.Tensor) -> torch.Tensor:
        return self.C.float().expand(eps.shape[0], -1, -1)


def test_float32_tangents_at_rounding_level_above_the_bound_do_not_raise():
    from fem.stability import check_tangent

    rng = np.random.default_rng(7)
    L = 100.0
    for _ in range(40):  # 40 tight laws, float32, a few ulps above L after rounding
        Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
        s = np.sort(rng.uniform(0.1, 1.0, 3))[::-1]
        s[0] = 1.0
        C = torch.tensor(Q @ np.diag(s) @ Q.T * L * (1 + 1e-6), dtype=torch.float32).expand(5, 4, 3, 3)
        assert check_tangent(C, L).ratio > 1  # above L, by rounding only: no error
        with pytest.raises(CertificateError):
            check_tangent((C * (1 + 1e-3)), L)
        with pytest.raises(CertificateError):  # float64: the 1e-9 floor holds
            check_tangent(C.double(), L)

    mesh = generate.rectangle(2.0, 1.0, 4, 2, element="quad4")
    tight = Float32Material(np.eye(3) * L * (1 + 1e-6), 1.0, L)
    assert critical_time_step(mesh, tight).tangent.ratio > 1
    with pytest.raises(CertificateError, match=r"integration point \d+"):
        critical_time_step(mesh, Float32Material(np.eye(3) * L * (1 + 1e-3), 1.0, L))
