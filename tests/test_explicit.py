"""Verification of the explicit solver against analytic answers (stability.md §6)."""

import numpy as np
import pytest
import scipy.linalg
import torch

from fem import ExplicitSolver, Fixed, InitialVelocity, LinearElastic, Traction, Velocity, generate
from fem.boundary import Amplitude
from fem.element_matrices import assemble, geometric_matrices, stiffness_matrices
from fem.errors import InputError, InstabilityError
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


# -- the refactored run: dt = "auto", step(), observers ---------------------------------------------------
def test_auto_dt_is_the_chosen_time_step_and_the_bar_is_stable():
    from fem.stability import n_steps
    from fem.time_step import choose_time_step

    mesh, mat, solver = bar_problem()
    chosen = choose_time_step(mesh, mat, dt="auto", safety=0.9, alpha=solver.damping, geom=solver.geom)
    result = solver.run(2e-5)
    assert result.dt == chosen.dt
    assert result.steps == n_steps(2e-5, chosen.dt)
    assert result.time_step is not None and result.time_step.dt == chosen.dt
    assert result.dt_method == chosen.method and result.dt_method.startswith("auto")
    assert result.summary()["dt_method"] == result.dt_method
    assert result.stable and result.energy_error < 1e-9
    assert solver.run(2e-5, "auto", safety=0.5).dt == pytest.approx(chosen.dt * 0.5 / 0.9, rel=1e-12)


def test_auto_dt_includes_the_damping_reduction():
    from fem.time_step import choose_time_step

    mesh = generate.rectangle(4.0, 2.0, 4, 2, element="quad4")
    mat = LinearElastic(E, 0.3, RHO, mode="plane_strain")
    solver = ExplicitSolver(mesh, mat, [Fixed(mesh.select_nodes("left"))], damping=1e6)
    chosen = choose_time_step(mesh, mat, alpha=1e6, geom=solver.geom)
    assert chosen.damping_ratio > 0
    result = solver.run(1e-6)
    assert result.dt == chosen.dt and "damping" in result.dt_method


def test_a_numeric_dt_is_used_as_given_even_above_the_certified_step():
    _, _, solver = bar_problem()
    dt = 3.0 * solver.time_step("auto").dt
    result = solver.run(2 * dt, dt, runaway=1e30, energy_warn=1e30)  # not refused: the case layer checks steps
    assert result.dt == dt and result.steps == 2 and result.dt_method == "user" and result.time_step is None
    for bad in (0.0, -1.0, float("nan"), "fast"):
        with pytest.raises(InputError):
            solver.run(1e-5, bad)


def test_steps_by_hand_give_the_state_of_run():
    mesh = generate.rectangle(40.0, 10.0, 8, 2, element="quad4", jitter=0.1)
    mat = LinearElastic(E, 0.3, RHO, mode="plane_stress")
    load = Traction(mesh.select_nodes("right"), ("x",), (50.0,), Amplitude((0.0, 1e-5), (0.0, 1.0)))
    push = Velocity(mesh.select_nodes("top")[-2:], ("y",), (-100.0,), Amplitude((0.0, 1e-5), (0.0, 1.0)))
    solver = ExplicitSolver(mesh, mat, [Fixed(mesh.select_nodes("left")), load, push], damping=1e4)
    dt = solver.time_step().dt
    result = solver.run(57 * dt, dt)
    state = solver.initial_state(dt)
    buffers = {id(getattr(state, k)) for k in ("u", "v", "a", "v_half", "v_prev", "v_old")}
    for _ in range(57):
        solver.step(state)
    assert state.step == 57 and state.t == 57 * dt
    assert {id(getattr(state, k)) for k in ("u", "v", "a", "v_half", "v_prev", "v_old")} == buffers  # no new ones
    assert np.array_equal(state.u.view(-1, 2).numpy(), result.u)
    assert np.array_equal(state.v.view(-1, 2).numpy(), result.v)
    reactions = torch.zeros_like(state.u)
    reactions[solver.bc.constrained] = state.react
    assert np.array_equal(reactions.view(-1, 2).numpy(), result.reactions)


class Recorder:
    """An observer that records every call."""

    def __init__(self):
        self.calls = []

    def start(self, n_steps, dt):
        self.calls.append(("start", n_steps, dt))

    def frame(self, step, t, u, v, eps, sig):
        self.calls.append(("frame", step, t, bool(torch.isfinite(u).all())))

    def history(self, history):
        self.calls.append(("history", len(history["time"])))

    def progress(self, step, t):
        self.calls.append(("progress", step))

    def instability(self, error):
        self.calls.append(("instability", error.step))

    def close(self):
        self.calls.append(("close",))


def test_an_observer_sees_frames_in_order_and_progress():
    _, _, solver = bar_problem()
    dt = solver.time_step().dt
    rec, partial = Recorder(), type("OnlyFrames", (), {"frame": lambda self, *a: seen.append(a[0])})()
    seen = []
    result = solver.run(250 * dt * (1 - 1e-12), dt, observers=[rec, partial], n_frames=5)
    names = [c[0] for c in rec.calls]
    assert names[0] == "start" and rec.calls[0][1:] == (250, dt) and names[-1] == "close"
    frames = [c[1] for c in rec.calls if c[0] == "frame"]
    assert frames == [0, 50, 100, 150, 200, 250] == seen
    assert [c[1] for c in rec.calls if c[0] == "progress"] == [100, 200]
    histories = [c[1] for c in rec.calls if c[0] == "history"]
    assert len(histories) == 5 and histories[-1] == len(result.history["time"]) == 251
    assert "instability" not in names


def test_an_observer_hears_of_an_instability_after_the_last_frame_and_the_history():
    solver = random_velocity_problem(seed=1)
    dt = 1.05 * critical_time_step(solver)
    rec = Recorder()
    with pytest.raises(InstabilityError) as info:
        solver.run(3000 * dt, dt, observers=[rec], n_frames=3000)
    step = info.value.step
    names = [c[0] for c in rec.calls]
    assert names[-4:] == ["frame", "history", "instability", "close"] or names[-3:] == [
        "history", "instability", "close"]
    assert rec.calls[-2] == ("instability", step)
    frames = [c[1] for c in rec.calls if c[0] == "frame"]
    assert frames == sorted(frames) and frames[0] == 0 and frames[-1] <= step


def test_the_writer_gets_the_history_and_a_last_frame_when_a_run_blows_up(tmp_path):
    from fem import OutputWriter

    solver = random_velocity_problem(seed=1)
    dt = 1.05 * critical_time_step(solver)
    writer = OutputWriter(tmp_path, solver.mesh)
    with pytest.raises(InstabilityError) as info:
        solver.run(3000 * dt, dt, writer=writer, n_frames=2)
    rows = [ln for ln in (tmp_path / "history.csv").read_text().splitlines() if not ln.startswith("#")]
    assert len(rows) - 1 == len(info.value.history["time"])
    assert writer.frames[0][0] == 0.0 and (tmp_path / "results.pvd").is_file()


def fem_imports(module: str) -> set[str]:
    """The fem modules that ``fem.<module>`` imports, directly or through other fem modules (not the
    package ``__init__``, which imports everything), from the source (any import, also inside functions)."""
    import ast
    from pathlib import Path

    import fem

    root, seen, todo = Path(fem.__file__).parent, set(), [module]
    while todo:
        name = todo.pop()
        for node in ast.walk(ast.parse((root / f"{name}.py").read_text())):
            found = []
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level == 1:
                    found = [base] if base else [a.name for a in node.names]
                elif base.startswith("fem."):
                    found = [base[4:]]
            elif isinstance(node, ast.Import):
                found = [a.name[4:] for a in node.names if a.name.startswith("fem.")]
            for f in found:
                f = f.split(".")[0]
                if f not in seen and (root / f"{f}.py").is_file():
                    seen.add(f)
                    todo.append(f)
    return seen


def test_output_does_not_import_explicit():
    deps = fem_imports("output")
    assert {"energy", "schedule", "atomic", "meshfiles"} <= deps
    assert "explicit" not in deps
    assert "energy" in fem_imports("explicit")  # the walker does see imports


def test_energy_balance_error_is_still_importable_from_explicit():
    from fem import energy, explicit

    assert explicit.energy_balance_error is energy.energy_balance_error
    assert explicit.ENERGY_KEYS is energy.ENERGY_KEYS
