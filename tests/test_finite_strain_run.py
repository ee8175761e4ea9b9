"""Finite-strain explicit runs: kinematics refusals, energy conservation, the step recomputed at every state,
and the inverted-element stop."""

import json
import math

import numpy as np
import pytest
import torch

import fem
import snsurrogate
from fem import generate
from fem.hyperelastic import NeoHookean
from fem.step_control import InversionError

LAW = NeoHookean(0.5, 20.0, 1e-9)  # MPa, t/mm^3


def test_a_law_of_the_other_kind_is_refused_with_the_reason():
    mesh = generate.rectangle(2.0, 1.0, 2, 1)
    with pytest.raises(fem.InputError, match="kinematics = 'finite' needs a finite-strain law"):
        fem.ExplicitSolver(mesh, fem.LinearElastic(1.0, 0.3, 1.0, "plane_strain"), kinematics="finite")
    with pytest.raises(fem.InputError, match="kinematics = 'small' with a finite-strain law"):
        fem.ExplicitSolver(mesh, LAW, kinematics="small")
    with pytest.raises(fem.InputError, match="1-D bar"):
        fem.ExplicitSolver(generate.line(1.0, 4), LAW)


def vibration(element="quad4", amplitude=8000.0):
    """A free block given a shear-like velocity field: no supports, no loads."""
    mesh = generate.rectangle(4.0, 2.0, 6, 3, element=element) if element in ("quad4", "tri3") else \
        generate.box(2.0, 1.0, 1.0, 2, 2, 2, element=element)
    X = mesh.points[:, : mesh.dim]
    field = np.zeros_like(X)
    field[:, 0] = amplitude * np.sin(np.pi * X[:, 1] / X[:, 1].max())
    field[:, 1] = -0.5 * amplitude * np.sin(np.pi * X[:, 0] / X[:, 0].max())
    return mesh, fem.InitialVelocity(field=field)


@pytest.mark.parametrize("element", ["quad4", "tri3", "hex8"])
def test_neo_hookean_vibration_conserves_energy_at_large_strain(element):
    mesh, iv = vibration(element)
    solver = fem.ExplicitSolver(mesh, LAW, initial_velocity=iv)
    r = solver.run(t_end=8e-5, dt="auto")
    s = r.summary()
    assert r.stable and s["energy_monitor"] == "potential"
    assert s["energy_drift"] < 1e-3
    assert 0 < s["dt_min"] <= s["dt_max"]
    assert s["dt_controlling"]["element"] in range(mesh.n_cells)
    # the strains are large (the step adapts): the largest principal stretch departs from 1 by > 10 %
    F = solver.internal_force(torch.as_tensor(r.u.reshape(-1)))[1].reshape(-1, 3, 3)
    stretch = torch.linalg.svdvals(F)
    assert float((stretch - 1).abs().max()) > 0.1


def test_every_step_is_below_the_safety_times_the_certified_step_at_its_state():
    mesh, iv = vibration("quad4")
    solver = fem.ExplicitSolver(mesh, LAW, initial_velocity=iv)

    steps = []
    original = solver.step

    def step(s):
        cert = solver._control.certified(s.eps).dt if solver._control else math.inf
        dt = s.dt
        out = original(s)
        steps.append((dt, cert))
        return out

    solver.step = step
    solver.run(t_end=1e-4, dt="auto")
    ratios = [dt / c for dt, c in steps[1:]]
    assert max(ratios) <= solver._control.safety * (1 + 1e-9)
    assert min(ratios) >= 0.5 * solver._control.safety  # it adapts to the state, not to a fixed fraction


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the energy check sees the crush first
def test_an_inverted_element_stops_the_run_at_the_last_stable_state(tmp_path):
    mesh = generate.rectangle(2.0, 2.0, 2, 2)
    bcs = [fem.Fixed(mesh.select_nodes("bottom"), ("x", "y")),
           fem.Velocity(mesh.select_nodes("top"), ("y",), (-4.0e5,))]
    solver = fem.ExplicitSolver(mesh, LAW, bcs)
    writer = fem.OutputWriter(tmp_path, mesh)
    with pytest.raises(InversionError, match=r"element \d+ (inverted|is collapsing)") as info:
        solver.run(t_end=1e-4, dt="auto", writer=writer)
    assert info.value.element in range(mesh.n_cells) and info.value.time > 0 and info.value.cause == "inversion"
    assert (tmp_path / "history.csv").is_file() and len(writer.frames) >= 2  # the last stable state is written


def plate_case(material, kinematics=None, end=2e-4):
    mesh = {"generate": "rectangle", "size": [10.0, 2.0], "divisions": [8, 2]}
    if kinematics:
        mesh["kinematics"] = kinematics
    return {"units": {"length": "mm", "time": "s", "stress": "MPa"}, "mesh": mesh, "material": material,
            "boundary": [{"name": "clamp", "type": "fixed", "nodes": {"group": "left"}},
                         {"name": "pull", "type": "velocity", "nodes": {"group": "right"}, "components": ["x"],
                          "value": [2.5e4]}],
            "time": {"end": end}, "output": {"frames": 4}}


def test_simulate_runs_a_neo_hookean_case_with_the_step_at_every_state(tmp_path):
    import meshio

    import snsurrogate

    case = plate_case({"type": "neo_hookean", "mu": 0.5, "kappa": 50.0, "density": 1e-9})
    res = snsurrogate.simulate(case, tmp_path / "run", progress=False)
    s = res.summary
    assert s["stable"] and s["kinematics"] == "finite" and s["energy_monitor"] == "potential"
    assert 0 < s["dt_min"] <= s["dt_max"] and s["dt_controlling"]["element"] in range(16)
    assert len(s["dt_history"]["time"]) == len(s["dt_history"]["dt"]) > 10
    assert s["units"]["dt_min"] == "s"
    frame = meshio.read(sorted((tmp_path / "run" / "frames").glob("*.vtu"))[-1])
    stretch = frame.cell_data["principal_stretch"][0]
    # the right edge moved 5 mm of 10: a mean stretch of 1.5 along the strip (dynamic, so not uniform)
    assert np.median(stretch[:, 2]) == pytest.approx(1.5, rel=0.15) and stretch.max() < 3
    assert set(frame.cell_data) >= {"deformation_gradient", "nominal_stress", "cauchy_stress"}


def test_a_small_strain_law_in_a_finite_strain_case_is_refused_at_the_key():
    import snsurrogate

    case = plate_case({"type": "linear", "E": 1.0, "nu": 0.3, "density": 1e-9}, kinematics="finite")
    with pytest.raises(snsurrogate.CaseFileError, match=r"\[mesh\] kinematics: kinematics = 'finite' needs"):
        snsurrogate.simulate(case, "unused", progress=False)


def test_small_amplitude_motion_is_the_linearised_law_s():
    """At small amplitude the finite-strain run follows the linear elastic law of the same moduli (Lamé λ = κ,
    shear μ): the same waves at the same speed, to first order in the amplitude."""
    mu, kappa, rho = 0.5, 20.0, 1e-9
    lam = kappa
    E, nu = mu * (3 * lam + 2 * mu) / (lam + mu), lam / (2 * (lam + mu))
    mesh = generate.rectangle(20.0, 2.0, 20, 2)
    c = math.sqrt((lam + 2 * mu) / rho)
    bcs = [fem.Fixed(mesh.select_nodes("right"), ("x", "y")),
           fem.Velocity(mesh.select_nodes("left"), ("x",), (1e-4 * c,))]
    t_end = 0.6 * 20.0 / c  # the front is past the middle, not yet reflected
    dt = 0.2 * 1.0 / c
    lin = fem.ExplicitSolver(mesh, fem.LinearElastic(E, nu, rho, "plane_strain"), bcs).run(t_end=t_end, dt=dt)
    fin = fem.ExplicitSolver(mesh, NeoHookean(mu, kappa, rho), bcs).run(t_end=t_end, dt=dt)
    scale = np.abs(lin.u).max()
    assert scale > 0 and np.abs(fin.u - lin.u).max() <= 2e-3 * scale
    moved = np.abs(lin.u[:, 0]) > 1e-3 * scale
    X = mesh.points[:, 0]
    assert 0.1 * 20.0 < X[moved].max() < 0.8 * 20.0  # a wave travelling in, not yet at the far end


def test_stability_command_reports_a_finite_strain_case(tmp_path, capsys):
    """`snsurrogate stability` on a neo-Hookean case: the certified step at F = I against the true one, which at
    the reference state equals the small-strain step of the linearised law (Lamé κ, μ)."""
    import json

    from snsurrogate.cli import main

    case = tmp_path / "nh.toml"
    case.write_text('[mesh]\ngenerate = "rectangle"\nsize = [10.0, 2.0]\ndivisions = [8, 2]\n[material]\n'
                    'type = "neo_hookean"\nmu = 0.5\nkappa = 50.0\ndensity = 1e-9\n[[boundary]]\nname = "clamp"\n'
                    'type = "fixed"\nnodes = { group = "left" }\n[time]\nend = 1e-5\n')
    assert main(["stability", str(case), "--json", str(tmp_path / "s.json")]) == 0
    out = capsys.readouterr().out
    assert "finite strain" in out and "recomputed at every state" in out
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["kinematics"] == "finite" and doc["dt_element"] <= doc["dt_true_reference"]
    mu, lam = 0.5, 50.0
    E, nu = mu * (3 * lam + 2 * mu) / (lam + mu), lam / (2 * (lam + mu))
    mesh = generate.rectangle(10.0, 2.0, 8, 2)
    left = mesh.select_nodes("left")
    clamped = np.concatenate([2 * left, 2 * left + 1])
    lin = fem.critical_time_step(mesh, fem.LinearElastic(E, nu, 1e-9, "plane_strain"), methods=("element", "true"),
                                 constrained=clamped)
    assert doc["dt_true_reference"] == pytest.approx(lin.dt_true, rel=1e-5)  # the linearisation at F = I


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("dt", ["auto", 2e-7])
def test_an_inverted_element_in_simulate_gives_a_consistent_unstable_summary(tmp_path, dt):
    """A crushed block through ``simulate``, adaptive or at a constant step: the summary says unstable, where and
    when, with the energy balance of the recorded history (the stop raised inside a step carries it too)."""
    case = {"units": {"length": "mm", "time": "s", "stress": "MPa"},
            "mesh": {"generate": "rectangle", "size": [2.0, 2.0], "divisions": [2, 2], "kinematics": "finite"},
            "material": {"type": "neo_hookean", "mu": 1.0, "kappa": 50.0, "density": 1e-9},
            "boundary": [{"name": "base", "type": "fixed", "nodes": {"group": "bottom"}},
                         {"name": "crush", "type": "velocity", "nodes": {"group": "top"}, "components": ["y"],
                          "value": [-4.0e5]}],
            "time": {"end": 1e-4, "dt": dt, "allow_unsafe_dt": dt != "auto"}, "output": {"frames": 4}}
    s = snsurrogate.simulate(case, tmp_path / "run", progress=False).summary
    assert s["stable"] is False and s["unstable_at"]["time"] > 0 and s["unstable_at"]["cause"] == "inversion"
    assert s["energy_error"] is None or s["energy_error"] >= 0
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["stable"] is False
