"""Verification of the explicit solver against analytic answers (stability.md §6)."""

import numpy as np
import pytest
import scipy.linalg
import torch

from fem import ExplicitSolver, Fixed, InitialVelocity, LinearElastic, Traction, Velocity, generate
from fem.element_matrices import assemble, geometric_matrices, stiffness_matrices
from fem.errors import InstabilityError
from fem.kinematics import geometry, strain
from fem.mass import lumped_mass

E, RHO = 200e3, 7.85e-9  # MPa, t/mm^3: steel in mm-t-s-N units


def bar_problem(n=100, length=100.0, v0=10.0):
    mesh = generate.line(length, n)
    mat = LinearElastic(E, density=RHO, mode="1d")
    return mesh, mat, ExplicitSolver(mesh, mat, [Velocity(mesh.select_nodes("left"), ("x",), (v0,))])


def test_dalembert_at_courant_number_one_to_round_off():
    """Impact at the left end of a bar: u(x, t) = v0 (t - x/c)+ at the nodes, and sigma = -rho c v0."""
    mesh, _, solver = bar_problem()
    c, h, v0 = np.sqrt(E / RHO), 1.0, 10.0
    result = solver.run(60 * h / c, h / c)
    assert result.steps == 60
    exact = v0 * np.maximum(result.t_end - mesh.points[:, 0] / c, 0.0)
    assert np.abs(result.u[:, 0] - exact).max() <= 1e-12 * v0 * result.t_end
    _, _, sig = solver.internal_force(torch.as_tensor(result.u.reshape(-1)))
    behind = sig[:55, 0, 0].numpy()  # elements the front has passed
    assert np.allclose(behind, -RHO * c * v0, rtol=1e-10)
    assert np.allclose(sig[62:, 0, 0].numpy(), 0.0)  # ahead of the front: undisturbed
    assert result.energy_error < 1e-10


def test_fixed_free_bar_frequencies_within_half_a_percent():
    length, n = 1000.0, 50
    mesh = generate.line(length, n)
    mat = LinearElastic(E, density=RHO, mode="1d")
    geom = geometry(mesh)
    C = mat.tangent(torch.zeros(1, 1)).expand(n, 1, 1, 1).double()
    K = assemble(geom, stiffness_matrices(geom, C)).toarray()[1:, 1:]  # node 0 fixed
    M = np.diag(lumped_mass(geom, RHO).numpy()[1:])
    omega = np.sqrt(scipy.linalg.eigh(K, M, eigvals_only=True)[:3])
    c = np.sqrt(E / RHO)
    exact = (2 * np.arange(1, 4) - 1) * np.pi * c / (2 * length)
    assert np.allclose(omega, exact, rtol=5e-3)
    assert np.all(omega < exact)  # lumped mass under-estimates


def measured_frequency(t, u):
    """Angular frequency from the zero crossings of a signal that starts at zero going up."""
    s = np.sign(u[1:])
    idx = np.flatnonzero(s[1:] != s[:-1]) + 1  # indices into u[1:]
    crossings = []
    for i in idx:
        t0, t1, u0, u1 = t[i], t[i + 1], u[i], u[i + 1]
        crossings.append(t0 - u0 * (t1 - t0) / (u1 - u0))
    half_periods = np.diff(np.concatenate(([0.0], crossings)))
    return np.pi / np.mean(half_periods)


@pytest.mark.parametrize("element, n", [("quad4", 32), ("tri3", 32)])
def test_sliding_wall_box_p_mode_2d(element, n):
    """u.n = 0 on all walls, initial velocity sin(pi x / a): P mode omega = c_p pi / a, within 1 %."""
    a = 100.0
    mesh = generate.rectangle(a, a, n, n, element=element)
    mat = LinearElastic(E, 0.3, RHO, mode="plane_strain")
    walls = [Fixed(mesh.select_nodes(g), (comp,), name=g)
             for g, comp in (("left", "x"), ("right", "x"), ("bottom", "y"), ("top", "y"))]
    v0 = np.zeros((mesh.n_nodes, 2))
    v0[:, 0] = np.sin(np.pi * mesh.points[:, 0] / a)
    solver = ExplicitSolver(mesh, mat, walls, InitialVelocity(field=v0))
    c_p = np.sqrt(mat.p_wave_modulus / RHO)
    omega = c_p * np.pi / a
    dt = 0.5 * (a / n) / c_p
    probe = int(np.argmin(np.linalg.norm(mesh.points - [a / 2, a / 2], axis=1)))
    result = solver.run(2.6 * 2 * np.pi / omega, dt, probes=[probe])
    measured = measured_frequency(result.history["time"], result.history[f"u{probe}_x"])
    assert measured == pytest.approx(omega, rel=0.01)
    assert result.energy_error < 1e-9


def test_sliding_wall_box_p_mode_3d():
    a, n = 100.0, 10
    mesh = generate.box(a, a, a, n, n, n, element="hex8")
    mat = LinearElastic(E, 0.3, RHO, mode="3d")
    walls = [Fixed(mesh.select_nodes(g), (comp,), name=g) for g, comp in
             (("left", "x"), ("right", "x"), ("bottom", "y"), ("top", "y"), ("back", "z"), ("front", "z"))]
    v0 = np.zeros((mesh.n_nodes, 3))
    v0[:, 0] = np.sin(np.pi * mesh.points[:, 0] / a)
    solver = ExplicitSolver(mesh, mat, walls, InitialVelocity(field=v0))
    c_p = np.sqrt(mat.p_wave_modulus / RHO)
    omega = c_p * np.pi / a
    probe = int(np.argmin(np.linalg.norm(mesh.points - [a / 2, a / 2, a / 2], axis=1)))
    result = solver.run(1.6 * 2 * np.pi / omega, 0.5 * (a / n) / c_p, probes=[probe])
    measured = measured_frequency(result.history["time"], result.history[f"u{probe}_x"])
    assert measured == pytest.approx(omega, rel=0.01)


def critical_time_step(solver) -> float:
    """2 / omega_max from the assembled K and lumped M (dense; small meshes only)."""
    geom = solver.geom
    n_el, n_qp = geom.wdetJ.shape
    C = solver.material.tangent(torch.zeros(1, geom.n_voigt, dtype=torch.float64))
    K = assemble(geom, stiffness_matrices(geom, C.expand(n_el, n_qp, -1, -1))).toarray()
    free = np.setdiff1d(np.arange(K.shape[0]), solver.bc.fixed.numpy())
    m = solver.m_dof.numpy()[free]
    A = K[np.ix_(free, free)] / np.sqrt(np.outer(m, m))
    return 2.0 / np.sqrt(np.linalg.eigvalsh(A)[-1])


def random_velocity_problem(seed=0, n=8):
    mesh = generate.rectangle(80.0, 80.0, n, n, element="quad4", jitter=0.2, seed=seed)
    mat = LinearElastic(E, 0.3, RHO, mode="plane_strain")
    rng = np.random.default_rng(seed)
    v0 = rng.normal(size=(mesh.n_nodes, 2))
    return ExplicitSolver(mesh, mat, [Fixed(mesh.select_nodes("left"))], InitialVelocity(field=v0))


def test_energy_is_conserved_over_10000_steps_at_0_9_dt_crit():
    solver = random_velocity_problem()
    dt = 0.9 * critical_time_step(solver)
    result = solver.run(10_000 * dt * (1 - 1e-12), dt)
    assert result.steps == 10_000
    assert result.energy_error < 1e-3
    total = result.history["kinetic"] + result.history["internal"]
    assert np.abs(total / total[0] - 1).max() < 1e-9  # the central-difference energy is conserved


def test_above_the_critical_step_the_run_is_stopped_with_a_located_error():
    solver = random_velocity_problem(seed=1)
    dt = 1.05 * critical_time_step(solver)
    with pytest.raises(InstabilityError) as info:
        solver.run(3000 * dt, dt)
    err = info.value
    assert 0 < err.step < 3000 and err.dt == dt
    assert 0 <= err.element < solver.mesh.n_cells
    assert len(err.history["time"]) >= 2
    assert "unstable at step" in str(err)


@pytest.mark.parametrize("maker", [
    lambda: (generate.line(10.0, 7), 2.5),
    lambda: (generate.rectangle(3.0, 2.0, 5, 4, element="quad4", jitter=0.2), 0.5),
    lambda: (generate.rectangle(3.0, 2.0, 5, 4, element="tri3", jitter=0.2), 0.5),
    lambda: (generate.box(3.0, 2.0, 1.0, 3, 3, 2, element="hex8", jitter=0.15), 1.0),
    lambda: (generate.box(3.0, 2.0, 1.0, 3, 3, 2, element="tet4", jitter=0.15), 1.0),
])
def test_lumped_mass_sums_to_rho_v_and_is_positive(maker):
    mesh, section = maker()
    geom = geometry(mesh, section=section)
    m = lumped_mass(geom, RHO)
    volume = {1: 10.0 * section, 2: 6.0 * section, 3: 6.0}[mesh.dim]
    assert float(m.sum()) == pytest.approx(RHO * volume, rel=1e-12)
    assert bool((m > 0).all())


def test_reactions_balance_the_applied_load_in_a_static_limit():
    """A plate fixed on the left, traction on the right ramped slowly with damping: reaction = -load."""
    mesh = generate.rectangle(40.0, 10.0, 8, 2, element="quad4")
    mat = LinearElastic(E, 0.3, RHO, mode="plane_stress")
    from fem.boundary import Amplitude

    p, thickness = 50.0, 2.0  # MPa, mm
    load = Traction(mesh.select_nodes("right"), ("x",), (p,), Amplitude((0.0, 2e-4), (0.0, 1.0)))
    solver = ExplicitSolver(mesh, mat, [Fixed(mesh.select_nodes("left")), load], damping=3e4, section=thickness)
    dt = 0.8 * critical_time_step(solver)
    result = solver.run(6e-4, dt)
    total = p * 10.0 * thickness  # N
    assert result.reactions[:, 0].sum() == pytest.approx(-total, rel=1e-3)
    assert abs(result.reactions[:, 1].sum()) < 1e-3 * total
    # static answer: u_x at the loaded end = p L / E for a plate in plane stress (nu only changes it near the clamp)
    assert result.u[mesh.select_nodes("right"), 0].mean() == pytest.approx(p * 40.0 / E, rel=0.05)


def test_internal_force_is_the_gradient_of_the_strain_energy():
    mesh = generate.rectangle(2.0, 1.0, 3, 2, element="quad4", jitter=0.2)
    solver = ExplicitSolver(mesh, LinearElastic(E, 0.3, RHO, mode="plane_strain"))
    u = torch.randn(mesh.n_nodes * 2, dtype=torch.float64, requires_grad=True) * 1e-3
    eps = strain(solver.geom, u.view(-1, 2))
    sig = solver.material.stress(eps.reshape(-1, 3)).reshape(eps.shape)
    energy = 0.5 * (solver.geom.wdetJ[..., None] * sig * eps).sum()
    (grad,) = torch.autograd.grad(energy, u)
    f, _, _ = solver.internal_force(u.detach())
    assert torch.allclose(f, grad, rtol=1e-10, atol=1e-12 * float(grad.abs().max()))


def test_geometric_matrix_is_the_stiffness_with_c_equal_identity():
    mesh = generate.box(1.0, 1.0, 1.0, 2, 2, 2, element="hex8", jitter=0.15)
    geom = geometry(mesh)
    n_el, n_qp = geom.wdetJ.shape
    eye = torch.eye(6, dtype=torch.float64).expand(n_el, n_qp, 6, 6)
    assert torch.allclose(geometric_matrices(geom), stiffness_matrices(geom, eye))


def test_a_dof_with_two_kinematic_conditions_is_refused():
    from fem.errors import InputError as CaseError

    mesh = generate.rectangle(2.0, 1.0, 2, 1, element="quad4")
    left = mesh.select_nodes("left")
    mat = LinearElastic(E, 0.3, RHO, mode="plane_strain")
    with pytest.raises(CaseError, match=r"'push' constrains dof .* that 'clamp' already constrains"):
        ExplicitSolver(mesh, mat, [Fixed(left, name="clamp"), Velocity(left[:1], ("x",), (1.0,), name="push")])
    # different components of the same nodes are fine
    ExplicitSolver(mesh, mat, [Fixed(left, ("x",), name="clamp"), Velocity(left, ("y",), (1.0,), name="push")])
