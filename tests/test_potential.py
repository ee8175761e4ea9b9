"""Potential laws: symmetric tangents with certified two-sided bounds, energies, fitting, files, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch.func import jacrev, vmap

import snsurrogate as sn
from snsurrogate.cli import main
from snsurrogate.network import Architecture, freeze
from snsurrogate.potential import CURVATURES, PotentialNetwork, curvature_terms, potential_bounds


def random_potential(d: int, k: int, curvature: str, seed: int, dtype=torch.float64) -> PotentialNetwork:
    g = torch.Generator().manual_seed(seed)
    scale = float(torch.rand((), generator=g) * 3 + 0.1)
    arch = Architecture(d, d, (k,), curvature, strain_scale=0.05, stress_scale=scale * 100,
                        gains=(float(torch.rand((), generator=g) * 2 + 0.2),), kind="potential")
    net = PotentialNetwork(arch).to(dtype)
    with torch.no_grad():
        net.linears[0].weight.copy_(torch.randn(d + k, d, generator=g, dtype=dtype))
        net.ridge_bias.copy_(torch.randn(k, generator=g, dtype=dtype) * 2)
        net.log_width.copy_(torch.randn(k, generator=g, dtype=dtype))
    return freeze(net)


def autograd_tangent(net, eps):
    return vmap(jacrev(lambda x: net(x.unsqueeze(0)).squeeze(0)))(eps)


@pytest.mark.parametrize("curvature", CURVATURES)
def test_profile_derivatives_match_autograd(curvature):
    u = torch.linspace(-3, 3, 601, dtype=torch.float64, requires_grad=True)
    (phi,) = curvature_terms(u, curvature, 0)
    d1, d2 = curvature_terms(u, curvature, 2)
    (g1,) = torch.autograd.grad(phi.sum(), u, create_graph=True)
    (g2,) = torch.autograd.grad(d1.sum(), u)
    assert torch.allclose(g1, d1, atol=1e-12) and torch.allclose(g2, d2, atol=1e-12)
    assert float(d2.min()) >= 0 and float(d2.max()) <= 1


def test_a_thousand_random_potentials_are_symmetric_and_within_their_bounds():
    """d = 1, 3, 6, every curvature profile; adversarial search for the extreme eigenvalues."""
    count = 0
    for seed in range(1002):
        d = (1, 3, 6)[seed % 3]
        net = random_potential(d, 4 + seed % 13, CURVATURES[seed % len(CURVATURES)], seed)
        upper, lower = potential_bounds(net)
        assert 0 <= lower <= upper
        g = torch.Generator().manual_seed(seed)
        eps = ((torch.rand(24, d, generator=g, dtype=torch.float64) - 0.5) * 0.6).requires_grad_(True)
        opt = torch.optim.Adam([eps], lr=0.02)
        for _ in range(4):  # push the extreme eigenvalues outwards
            ev = torch.linalg.eigvalsh(net.tangent(eps))
            opt.zero_grad()
            (ev[:, 0].sum() - ev[:, -1].sum()).backward()
            opt.step()
        e = eps.detach()
        c = net.tangent(e)
        assert torch.equal(c, c.transpose(1, 2))
        if seed % 10 == 0:
            assert torch.allclose(autograd_tangent(net, e), c, rtol=1e-9, atol=1e-9 * upper)
        ev = torch.linalg.eigvalsh(c)
        assert float(ev.min()) >= lower * (1 - 1e-12) - 1e-12 * upper
        assert float(ev.max()) <= upper * (1 + 1e-12)
        count += 1
    assert count >= 1000


@pytest.mark.parametrize("d", [1, 3, 6])
def test_stress_is_the_gradient_of_the_energy_and_zero_at_zero(d):
    net = random_potential(d, 9, "smoothstep", 7 + d)
    eps = ((torch.rand(40, d, dtype=torch.float64) - 0.5) * 0.4).requires_grad_(True)
    psi = net.energy(eps)
    (grad,) = torch.autograd.grad(psi.sum(), eps)
    assert torch.allclose(grad, net(eps.detach()), rtol=1e-10, atol=1e-10)
    zero = torch.zeros(1, d, dtype=torch.float64)
    assert float(net(zero).abs().max()) < 1e-12 and abs(float(net.energy(zero))) < 1e-12
    assert float(psi.min()) >= -1e-12  # convex, minimum at the stress-free origin


def test_bounds_are_attained_by_the_extremes():
    """Every ridge fully on: the tangent is (s_sig/s_eps) V^T V, whose largest eigenvalue is L; all off: m."""
    net = random_potential(3, 5, "ramp", 3)
    upper, lower = potential_bounds(net)
    a = net.arch
    v = net.linears[0].weight.double() * a.gains[0]
    c_on = (v.T @ v) * a.stress_scale / a.strain_scale
    c_off = (v[:3].T @ v[:3]) * a.stress_scale / a.strain_scale
    assert float(torch.linalg.eigvalsh(c_on)[-1]) == pytest.approx(upper, rel=1e-12)
    assert float(torch.linalg.eigvalsh(c_off)[0]) == pytest.approx(lower, rel=1e-9)


def test_float32_potential_tangent_stays_within_the_bound():
    for seed in range(40):
        net = random_potential(3, 8, "smoothstep", 100 + seed, dtype=torch.float32)
        upper, lower = potential_bounds(net)
        c = net.tangent((torch.rand(64, 3) - 0.5) * 2)
        ev = torch.linalg.eigvalsh(c.double())
        assert float(ev.max()) <= upper * (1 + 1e-5) and float(ev.min()) >= lower * (1 - 1e-5) - 1e-5 * upper


def plane_data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    eps = rng.uniform(-0.02, 0.02, (n, 3))
    c = np.array([[1346.0, 577.0, 0.0], [577.0, 1346.0, 0.0], [0.0, 0.0, 385.0]])
    sig = eps @ c * (1 + 300 * np.sum(eps**2, axis=1, keepdims=True))  # a stiffening, non-potential-exact law
    return eps, sig


def test_fit_defaults_to_a_potential_law_in_2d_and_mlp_in_1d(tmp_path):
    eps, sig = plane_data()
    model = sn.fit((eps, sig), epochs=150, polish_epochs=10, stress_unit="MPa")
    assert model.kind == "potential" and model.symmetric
    assert 0 < model.tangent_lower_bound <= model.lipschitz_bound
    assert model.summary["kind"] == "potential" and model.summary["r2"] > 0.95
    e = torch.as_tensor(eps[:20])
    psi = model.energy(e)
    assert psi.shape == (20,) and float(psi.min()) >= 0
    path = tmp_path / "law.pt"
    model.save(path)
    again = sn.load(path)
    assert again.kind == "potential" and again.tangent_lower_bound == pytest.approx(model.tangent_lower_bound)
    assert torch.equal(again.energy(e), psi)
    mat = sn.as_material(again, density=1e-9)
    assert mat.symmetric and mat.energy is not None and mat.tangent_lower_bound > 0
    c = mat.tangent(e.double())
    assert torch.equal(c, c.transpose(1, 2))
    x = np.linspace(-0.02, 0.02, 81)
    one_d = sn.fit((x, 1000 * x * (1 + 300 * x * x)), epochs=50, polish_epochs=5)
    assert one_d.kind == "mlp" and one_d.tangent_lower_bound is None


def test_mlp_law_is_kept_as_an_option_and_reported_as_not_symmetric():
    eps, sig = plane_data()
    model = sn.fit((eps, sig), law="mlp", epochs=50, polish_epochs=5)
    assert model.kind == "mlp" and not model.symmetric and model.tangent_lower_bound is None
    mat = sn.as_material(model, density=1.0)
    assert mat.energy is None and not mat.symmetric
    with pytest.raises(TypeError, match="no energy"):
        model.energy(torch.zeros(1, 3))


def test_bad_law_options_are_rejected():
    with pytest.raises(sn.errors.TrainingError, match="unknown law"):
        sn.FitOptions(law="icnn")
    with pytest.raises(sn.errors.TrainingError, match="ridges"):
        sn.FitOptions(ridges=0)
    eps, sig = plane_data(40)
    with pytest.raises(sn.errors.TrainingError, match="as many stress as strain"):
        sn.fit((eps, sig[:, :2]), law="potential", epochs=5, polish_epochs=1)


def test_softening_is_reported_at_fit_time_with_its_strain_range(capsys, tmp_path):
    eps = np.linspace(0, 0.2, 200)
    sig = np.where(eps < 0.1, 1000 * eps, 100 - 400 * (eps - 0.1))  # peak, then softening
    model = sn.fit((eps, sig), epochs=100, polish_epochs=10)
    soft = model.summary["data_softening"]
    assert soft["softens"] and soft["min_tangent"] < -300
    lo, hi = soft["ranges"][0]
    assert 0.09 < lo < 0.12 and hi > 0.19
    assert model.summary["law_softening"]["softens"]


def test_cli_fit_law_flag_and_info_print_the_kind_and_both_bounds(tmp_path, capsys):
    eps, sig = plane_data(200)
    csv = tmp_path / "plane.csv"
    np.savetxt(csv, np.hstack((eps, sig)), delimiter=",", header="exx,eyy,gxy,sxx_MPa,syy_MPa,sxy_MPa", comments="")
    common = ["fit", str(csv), "--strain", "exx", "eyy", "gxy", "--stress", "sxx_MPa", "syy_MPa", "sxy_MPa",
              "--epochs", "40", "--polish-epochs", "5", "--quiet"]
    assert main([*common, "--out", str(tmp_path / "pot")]) == 0
    out = capsys.readouterr().out
    assert "potential: stress = d energy / d strain" in out and "never softening" in out
    assert main([*common, "--law", "mlp", "--out", str(tmp_path / "mlp")]) == 0
    assert "NOT symmetric" in capsys.readouterr().out
    assert main(["info", str(tmp_path / "pot.pt")]) == 0
    info = capsys.readouterr().out
    assert "tangent lower bound" in info and "certified; never softening" in info
    assert main(["info", str(tmp_path / "mlp.pt")]) == 0
    assert "none (an MLP may soften)" in capsys.readouterr().out
    summary = json.loads((tmp_path / "pot.json").read_text())
    assert summary["kind"] == "potential" if "kind" in summary else summary["summary"]["kind"] == "potential"
