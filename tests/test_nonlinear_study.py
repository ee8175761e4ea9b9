"""The nonlinear stability study's harness (benchmarks/nonlinear_stability.py) measures what the solver's
true-energy monitor measures, its laws have the bounds they claim, and it sees energy growth where there is some."""

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from fem import ExplicitSolver, Fixed, InitialVelocity

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ns():
    spec = importlib.util.spec_from_file_location("nonlinear_stability", ROOT / "benchmarks" / "nonlinear_stability.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["nonlinear_stability"] = mod
    spec.loader.exec_module(mod)
    return mod


def _runs(ns, element, law, amplitude, fraction, seed=7):
    return [ns.Run(element, law, True, constrained, amplitude, 0.1, fraction, seed + constrained)
            for constrained in (False, True)]


@pytest.mark.parametrize("element,law", [("quad4", "smoothstep"), ("bar2", "step"), ("tet4", "softening"),
                                         ("hex8", "stiffening"), ("tri3", "linear")])
def test_harness_drift_is_the_solvers_true_energy_drift(ns, element, law, tmp_path):
    """Two runs stepped together in one union mesh give, run by run, the drift that fem.ExplicitSolver's
    monitor reports for the same mesh, law, supports, initial velocity and step."""
    steps = 300
    runs = _runs(ns, element, law, 10.0, 0.95)
    ns.integrate(ns.setup_group(element, law, runs, str(tmp_path)), steps, 10)
    for r in runs:
        alone = ns.setup_group(element, law, [ns.Run(**{**vars(r)})], str(tmp_path))
        mesh, law_1 = alone.meshes[0], alone.law.bind(None)
        conds = [Fixed(alone.fixed_nodes[0])] if r.constrained else []
        solver = ExplicitSolver(mesh, law_1, conds, InitialVelocity(field=alone.v0.numpy().reshape(mesh.n_nodes, -1)))
        with pytest.warns(RuntimeWarning) if r.drift > 0.01 else _no_warning():
            res = solver.run(steps * r.dt, dt=r.dt, energy_stop=None, runaway=1e30)
        assert res.energy_monitor == "potential"
        assert res.energy_drift == pytest.approx(r.drift, rel=1e-6, abs=1e-12)


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_linear_control_conserves_the_energy_and_bounds_are_exact(ns, tmp_path):
    """The linear class conserves 1/2 v- M v+ + Psi to rounding at the certified step; for every random
    class, L and m are attained or respected by the tangent at random strains."""
    runs = [ns.Run("quad4", "linear", d, c, 100.0, 0.1, 1.0, 11 + 2 * d + c) for d in (0, 1) for c in (0, 1)]
    ns.integrate(ns.setup_group("quad4", "linear", runs, str(tmp_path)), 2000, 10)
    assert max(r.drift for r in runs) < 1e-10
    rng = np.random.default_rng(0)
    for law in ns.RANDOM_LAWS[1:]:
        for d in (1, 3, 6):
            A, W, c, b = ns.random_law(law, d, 0.1, rng)
            L, m = ns.ridge_bounds(A, W)
            assert math.isclose(L, float(np.linalg.eigvalsh(A + W.T @ W).max()), rel_tol=1e-9)
            assert math.isclose(m, float(np.linalg.eigvalsh(A).min()), rel_tol=1e-9, abs_tol=1e-15)
            rl = ns.RidgeLaw(A[None], W[None], c[None], b[None], law)
            eps = torch.as_tensor(rng.standard_normal((400, d)) * 3.0)
            lam = torch.linalg.eigvalsh(rl.tangent(eps))
            assert float(lam.max()) <= L * (1 + 1e-12) and float(lam.min()) >= m - 1e-12 * L
            jac = torch.func.vmap(torch.func.jacrev(lambda e, rl=rl: rl.stress(e[None])[0]))(eps)
            assert torch.allclose(jac, rl.tangent(eps), atol=1e-12 * L)
            g = torch.func.vmap(torch.func.grad(lambda e, rl=rl: rl.energy(e[None])[0]))(eps)
            assert torch.allclose(g, rl.stress(eps), atol=1e-10 * L)
