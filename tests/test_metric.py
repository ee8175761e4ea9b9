"""The stiffness metric of the time-step bounds: C_t <= C_bar at every strain, and the steps it certifies."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fem import generate
from fem.errors import CertificateError, InputError
from fem.materials import LinearElastic
from fem.metric import metric_of, metric_ratios
from fem.stability import critical_time_step
from snsurrogate.material import as_material
from snsurrogate.model import SurrogateModel
from snsurrogate.potential import potential_bounds, potential_stiffness_bound
from tests.test_potential import random_potential


class Euclidean:
    """A material seen without its stiffness bound (``||C_t||_2 <= L`` only)."""

    def __init__(self, material) -> None:
        self.material = material

    def __getattr__(self, name: str):
        return None if name == "stiffness_bound" else getattr(self.material, name)


def adversarial_strains(net, n: int, seed: int) -> torch.Tensor:
    """Strains of every size, and strains placed just past a ridge's onset (phi'' changing fastest)."""
    g = torch.Generator().manual_seed(seed)
    d = net.arch.d_in
    sizes = 10.0 ** (torch.rand(n, 1, generator=g, dtype=torch.float64) * 4 - 3)  # 1e-3 .. 10 x s_eps
    out = [torch.randn(n, d, generator=g, dtype=torch.float64) * sizes * net.arch.strain_scale]
    v = net.linears[0].weight.double() * net.arch.gains[0]
    w, width, b = v[d:], net.log_width.double().exp(), net.ridge_bias.double()
    for k in range(min(len(w), 8)):  # along ridge k: u_k = t puts it anywhere in its transition
        t = torch.rand(n // 8, 1, generator=g, dtype=torch.float64) * 1.4 - 0.2
        x = ((t - b[k]) * width[k] / (w[k] @ w[k])) * w[k]
        out.append((x + 0.05 * torch.randn(x.shape, generator=g, dtype=torch.float64)) * net.arch.strain_scale)
    return torch.cat(out)


@pytest.mark.parametrize("curvature", ["smoothstep", "ramp", "algebraic"])
def test_the_tangent_is_below_the_stiffness_bound_at_adversarial_strains(curvature):
    """C_bar - C_t >= 0 (eigenvalues) for 200 random laws at 400 strains each, ||C_bar||_2 = L exactly."""
    for seed in range(200 // 3):
        for d in (3, 6):
            net = random_potential(d, 12, curvature, seed)
            C_bar = potential_stiffness_bound(net)
            L, _ = potential_bounds(net)
            assert float(torch.linalg.eigvalsh(C_bar)[-1]) == pytest.approx(L, rel=1e-12)
            C = net.tangent(adversarial_strains(net, 400, seed))
            gap = torch.linalg.eigvalsh(C_bar - C)[:, 0]
            assert float(gap.min()) >= -1e-12 * L, (seed, d, float(gap.min()))


def test_every_ridge_on_attains_the_stiffness_bound():
    net = random_potential(3, 5, "ramp", 1)
    with torch.no_grad():
        net.ridge_bias.fill_(50.0)  # every ridge fully on near zero strain
    C = net.tangent(torch.zeros(1, 3, dtype=torch.float64) + 1e-4)[0]
    assert torch.allclose(C, potential_stiffness_bound(net), rtol=1e-13, atol=0)


def sn_material(d: int, seed: int):
    net = random_potential(d, 12, "smoothstep", seed)
    model = SurrogateModel(net, {"units": {"stress": "MPa"}})
    return as_material(model, 1e-9), net


@pytest.mark.parametrize("element", ["tri3", "quad4", "tet4", "hex8"])
def test_the_metric_step_is_certified_at_random_non_uniform_states(element):
    """Each element in its own random strain state (the adversarial case for a constant bound): the certified
    steps in the stiffness metric stay below the true critical step, and beat the Euclidean ones."""
    d = 3 if element in ("tri3", "quad4") else 6
    for seed in range(6):
        mat, net = sn_material(d, seed)
        if element in ("tri3", "quad4"):
            mesh = generate.rectangle(3.0, 2.0, 6, 4, element=element, jitter=0.2, seed=seed)
        else:
            mesh = generate.box(2.0, 2.0, 1.0, 3, 3, 2, element=element, jitter=0.15, seed=seed)
        rng = np.random.default_rng(seed)
        state = rng.standard_normal((mesh.n_nodes, mesh.dim)) * net.arch.strain_scale * rng.uniform(0.1, 3)
        methods = ("element", "nodal", "global_certified", "true")
        r = critical_time_step(mesh, mat, methods=methods, state=state)
        assert r.metric.startswith("stiffness bound")
        assert r.tangent.metric_ratio <= 1 + 1e-9
        assert r.dt_element <= r.dt_true and r.dt_nodal <= r.dt_true
        assert r.dt_global_certified <= r.dt_true * (1 + 1e-9)
        e = critical_time_step(mesh, Euclidean(mat), methods=("element", "nodal", "global_certified"))
        assert e.dt_element <= r.dt_element * (1 + 1e-12) and e.dt_global_certified <= r.dt_global_certified


def test_a_material_whose_stiffness_bound_is_too_small_is_caught_by_the_tangent_check():
    law = LinearElastic(100.0, 0.3, 1.0, "plane_strain")

    class Lying(Euclidean):
        stiffness_bound = 0.9 * law.C
        linear = False

    mesh = generate.rectangle(1.0, 1.0, 2, 2)
    with pytest.raises(CertificateError, match="stiffness bound"):
        critical_time_step(mesh, Lying(law), methods=("element", "true"))


@pytest.mark.parametrize("bad, match", [(torch.eye(2), "3 x 3"), (torch.tensor([[1.0, 2, 0], [0, 1, 0], [0, 0, 1]]),
                                                                   "symmetric"),
                                        (torch.diag(torch.tensor([1.0, -1.0, 1.0])), "positive definite")])
def test_a_malformed_stiffness_bound_is_rejected(bad, match):
    law = LinearElastic(100.0, 0.3, 1.0, "plane_strain")

    class Bad(Euclidean):
        stiffness_bound = bad

    with pytest.raises(InputError, match=match):
        metric_of(Bad(law), law.lipschitz_bound)


def test_metric_ratios_measure_the_tangent_in_the_metric():
    law = LinearElastic(100.0, 0.3, 1.0, "3d")
    m = metric_of(law, law.lipschitz_bound)
    ratios = metric_ratios(torch.stack([law.C, 0.5 * law.C]), m)
    assert torch.allclose(ratios, torch.tensor([1.0, 0.5], dtype=torch.float64), rtol=1e-12)
