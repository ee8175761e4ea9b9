"""The true-energy monitor (fem.energy): exact for linear laws, catches nonlinear energy growth."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import fem
from fem.errors import InstabilityError
from fem.materials import HardeningCubic, LinearElastic
from snsurrogate.cli import main


class LogCoshRidges:
    """psi = 1/2 eps^T A eps + sum_k a_k log cosh(w_k^T eps): symmetric, convex, tangent largest at 0 (the
    issue's law). Certified L = ||A + W^T diag(a) W||_2 (sech^2 <= 1)."""

    certified_strain = None
    certified_by = "closed form"
    symmetric = True

    def __init__(self, n_voigt: int, seed: int, stiff: float = 1000.0, density: float = 1e-3) -> None:
        g = torch.Generator().manual_seed(seed)
        self.n_voigt, self.density = n_voigt, density
        b = torch.randn(n_voigt, n_voigt, generator=g, dtype=torch.float64)
        self.A = 0.2 * stiff * (b @ b.T / n_voigt + torch.eye(n_voigt, dtype=torch.float64))
        self.W = torch.randn(8, n_voigt, generator=g, dtype=torch.float64) * 30.0
        self.a = torch.rand(8, generator=g, dtype=torch.float64) * stiff / 900.0
        self.lipschitz_bound = float(torch.linalg.eigvalsh(self.A + self.W.T @ (self.a[:, None] * self.W))[-1])
        self.tangent_lower_bound = float(torch.linalg.eigvalsh(self.A)[0])

    def stress(self, e):
        return e @ self.A + (self.a * torch.tanh(e @ self.W.T)) @ self.W

    def energy(self, e):
        z = e @ self.W.T
        logcosh = z.abs() + torch.log1p(torch.exp(-2 * z.abs())) - np.log(2.0)
        return 0.5 * (e * (e @ self.A)).sum(1) + (self.a * logcosh).sum(1)

    def tangent(self, e):
        s = 1 - torch.tanh(e @ self.W.T) ** 2
        return self.A + torch.einsum("nk,kd,ke->nde", self.a * s, self.W, self.W)


def random_start(solver, amplitude, seed):
    rng = np.random.default_rng(seed)
    solver.v0 = torch.as_tensor(rng.normal(0, amplitude, solver.v0.shape))


def test_linear_law_true_energy_is_conserved_to_rounding():
    mesh = fem.generate.rectangle(1.0, 1.0, 5, 4, element="quad4", jitter=0.2, seed=1)
    solver = fem.ExplicitSolver(mesh, LinearElastic(1000.0, 0.3, density=1e-3, mode="plane_strain"))
    random_start(solver, 1.0, 0)
    dt = solver.time_step("auto").dt
    res = solver.run(5000 * dt, dt, n_frames=1)
    assert res.energy_monitor == "potential"
    assert res.energy_drift < 1e-10
    assert res.summary()["energy_drift"] == res.energy_drift


def test_the_issue_log_cosh_law_is_caught_by_the_monitor():
    """The law of issue 11 item 3: the work balance closes, the true energy does not."""
    mesh = fem.generate.rectangle(1.0, 1.0, 3, 3, element="tri3", jitter=0.2, seed=2)
    mat = LogCoshRidges(3, seed=0)
    solver = fem.ExplicitSolver(mesh, mat)
    random_start(solver, 30.0, 1)
    dt = solver.time_step("auto", safety=1.0).dt
    with pytest.raises(InstabilityError, match="true energy drifted") as err:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            solver.run(20000 * 0.9 * dt, 0.9 * dt, n_frames=1)
    assert err.value.energy_monitor == "potential" and err.value.energy_drift > 0.1
    assert err.value.cause == "energy_drift"  # bounded but inaccurate: told apart from a blow-up
    # the same run with the work balance only (no energy) is called stable
    mat.energy = None
    work = fem.ExplicitSolver(mesh, mat)
    random_start(work, 30.0, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = work.run(20000 * 0.9 * dt, 0.9 * dt, n_frames=1)
    assert res.energy_monitor == "work" and res.energy_drift < 0.01


def test_warning_at_energy_warn_and_no_stop_when_disabled():
    mesh = fem.generate.line(1.0, 13)
    mat = HardeningCubic(1000.0, 0.02, 0.5, density=1e-3, mode="1d")
    solver = fem.ExplicitSolver(mesh, mat)
    random_start(solver, 8.0, 3)
    dt = solver.time_step("auto").dt
    with pytest.warns(RuntimeWarning, match="true energy"):
        res = solver.run(3000 * dt, dt, n_frames=1, energy_warn=1e-9, energy_stop=None)
    assert res.energy_drift > 1e-9


def test_case_file_random_velocity_and_energy_keys(tmp_path, capsys):
    def case(seed, extra=""):
        text = f"""
[units]
length = "mm"
time = "s"
mass = "t"
stress = "MPa"
force = "N"
energy = "mJ"
[mesh]
generate = "rectangle"
size = [10.0, 10.0]
divisions = [3, 3]
[material]
type = "linear"
E = 1000.0
nu = 0.3
density = 1e-9
[initial]
random_velocity = {{ amplitude = 100.0, seed = {seed} }}
[time]
end = 1e-5
energy_warn = 0.02
{extra}
[output]
frames = 1
"""
        path = tmp_path / f"c{seed}{len(extra)}.toml"
        path.write_text(text)
        return path

    runs = {}
    for seed in (1, 1, 2):
        out = tmp_path / f"out{len(runs)}"
        assert main(["simulate", str(case(seed)), "--out", str(out)]) == 0
        runs[len(runs)] = json.loads((out / "summary.json").read_text())
    capsys.readouterr()
    assert runs[0]["energy_monitor"] == "potential" and runs[0]["energy_drift"] < 1e-9
    assert runs[0]["energy_monitor_note"]
    kin = [r.get("energy", {}).get("kinetic_initial", None) for r in runs.values()]
    assert kin[0] == kin[1] if kin[0] is not None else True
    assert main(["simulate", str(case(3, "energy_stop = 2.0")), "--out", str(tmp_path / "bad")]) != 0
    assert "energy_stop" in capsys.readouterr().err


def test_random_velocity_field_statistics():
    from snsurrogate.case.build import initial_velocity
    from snsurrogate.case.models import Initial

    mesh = fem.generate.rectangle(1.0, 1.0, 30, 30)
    init = Initial.model_validate({"random_velocity": {"amplitude": 2.5, "seed": 4}})
    a = initial_velocity(init, mesh, np.arange(mesh.n_nodes)).field
    b = initial_velocity(init, mesh, np.arange(mesh.n_nodes)).field
    assert np.array_equal(a, b) and a.shape == (mesh.n_nodes, 2)
    assert abs(a.std() - 2.5) < 0.1 and abs(a.mean()) < 0.1
    other = Initial.model_validate({"random_velocity": {"amplitude": 2.5, "seed": 5}})
    assert not np.array_equal(a, initial_velocity(other, mesh, np.arange(mesh.n_nodes)).field)
    with pytest.raises(Exception, match="amplitude"):
        Initial.model_validate({"random_velocity": {"amplitude": -1.0}})


def test_simulate_prints_the_true_energy_drift_and_its_monitor(tmp_path):
    """The summary's drift and monitor kind reach the lines ``snsurrogate simulate`` prints."""
    from snsurrogate.simulation import describe, simulate

    case = Path(__file__).resolve().parents[1] / "examples" / "cases" / "bar_impact.toml"
    s = simulate(case, tmp_path / "out", progress=False).summary
    text = describe(s)
    assert s["energy_monitor"] == "potential" and s["energy_drift"] is not None
    assert f"largest true-energy drift {s['energy_drift']:.3g} (monitor: potential)" in text
    assert "weaker check" in describe({**s, "energy_monitor": "work"})
