"""The hyperelastic law: mechanics (objectivity, reference state, symmetry, energy), the certificate against
autograd at adversarial deformations, and every test mode's kinematics against closed-form laws."""

import math

import numpy as np
import pytest
import torch

from snsurrogate.hyperelastic import HyperelasticLaw
from snsurrogate.hyperelastic.certificate import random_deformations, state_ratios
from snsurrogate.hyperelastic.modes import MODES, lateral_stretch, mode_stress
from snsurrogate.hyperelastic.ridges import RampDictionary

D = torch.float64


def random_law(seed=0, kappa=50.0, lo=0.05, hi=8.0, knots=30):
    """A law whose w'' is a random non-negative ramp sum (strongly varying, stiff at both ends)."""
    d = RampDictionary.spanning(lo, hi, knots)
    h = np.random.default_rng(seed).random(d.size) ** 4 * 10
    return HyperelasticLaw(d.network(h), kappa=kappa), d, h


def shear_states(n, gmax, seed):
    """Rotated simple shears ``Q (I + γ e1⊗e2) Rᵀ`` with γ up to ``gmax``, stretched a little."""
    gen = torch.Generator().manual_seed(seed)
    F = torch.eye(3, dtype=D).repeat(n, 1, 1)
    F[:, 0, 1] = torch.linspace(0.05, gmax, n, dtype=D)
    F = F @ torch.diag_embed(torch.exp(0.2 * torch.randn(n, 3, dtype=D, generator=gen)))
    q = torch.linalg.qr(torch.randn(n, 3, 3, dtype=D, generator=gen))[0]
    q = q * torch.linalg.det(q).sign().reshape(-1, 1, 1)
    return q @ F


@pytest.fixture(scope="module")
def law():
    return random_law()[0]


def test_ramp_network_reproduces_the_dictionary_exactly():
    law, d, h = random_law(seed=3)
    lam = torch.linspace(0.01, 20.0, 700, dtype=D)
    np.testing.assert_allclose(law.dw(lam), d.first_derivative(lam) @ torch.from_numpy(h), atol=1e-11)
    np.testing.assert_allclose(law.d2w(lam), d.second_derivative(lam) @ torch.from_numpy(h), atol=1e-11)
    assert law.lipschitz_bound == pytest.approx(h.sum(), rel=1e-12)  # L = h_0 + Σ h_k
    assert law.tangent_lower_bound == pytest.approx(h[0], rel=1e-12)


def test_objectivity_rotated_F_gives_rotated_stress(law):
    F = random_deformations(300, 0.3, 3.0, seed=1)
    q = torch.linalg.qr(torch.randn(300, 3, 3, dtype=D))[0]
    q = q * torch.linalg.det(q).sign().reshape(-1, 1, 1)
    P = law.first_piola(F)
    scale = float(P.abs().max())
    assert float((law.first_piola(q @ F) - q @ P).abs().max()) <= 1e-11 * scale
    np.testing.assert_allclose(law.energy(q @ F), law.energy(F), rtol=1e-11)
    sigma = law.cauchy(F)
    assert float((law.cauchy(q @ F) - q @ sigma @ q.transpose(1, 2)).abs().max()) <= 1e-11 * scale
    assert float((sigma - sigma.transpose(1, 2)).abs().max()) <= 1e-11 * scale  # Cauchy stress symmetric


def test_reference_state_is_stress_free(law):
    eye = torch.eye(3, dtype=D).repeat(2, 1, 1)
    assert float(law.first_piola(eye).abs().max()) <= 1e-12
    assert float(law.energy(eye).abs().max()) <= 1e-12
    for mode in MODES:
        x = [[1.0, 1.0]] if mode == "biaxial" else [0.0] if mode == "simple_shear" else [1.0]
        assert float(law.nominal_stress(mode, x).abs().max()) <= 1e-12, mode


def test_stress_is_the_energy_gradient_and_the_tangent_major_symmetric(law):
    F = random_deformations(80, 0.3, 3.0, seed=2).requires_grad_(True)
    (grad,) = torch.autograd.grad(law.energy(F).sum(), F)
    P = law.first_piola(F.detach())
    assert float((grad - P).abs().max()) <= 1e-10 * float(P.abs().max())
    A = law.elasticity(F.detach())
    assert float((A - A.transpose(1, 2)).abs().max()) <= 1e-9 * float(A.abs().max())


def test_small_strain_moduli_match_a_linear_isotropic_solid():
    law = random_law(seed=4, kappa=7.0)[0]
    mu, lam = law.shear_modulus, law.kappa
    eps = 1e-6
    H = eps * torch.randn(1, 3, 3, dtype=D)
    e = 0.5 * (H + H.transpose(1, 2))
    linear = 2 * mu * e + lam * torch.diagonal(e, dim1=1, dim2=2).sum() * torch.eye(3, dtype=D)
    got = law.first_piola(torch.eye(3, dtype=D) + H)
    np.testing.assert_allclose(got, linear, atol=1e-3 * float(linear.abs().max()))
    assert law.bulk_modulus == pytest.approx(lam + 2 * mu / 3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_certificate_against_autograd_at_adversarial_states(seed):
    law = random_law(seed=seed, kappa=[5.0, 80.0, 2000.0][seed])[0]
    states = torch.cat((random_deformations(150, 0.3, 3.5, seed=seed),   # compression to λ = 0.3
                        shear_states(60, 6.0, seed),                      # large shear, γ up to 6
                        random_deformations(40, 0.9, 1.1, seed=seed + 9)))  # near-equal stretches
    ratios = state_ratios(law, states)
    assert np.isfinite(ratios).all()
    assert ratios.max() <= 1 + 1e-9, "lambda_max(dP/dF) above the certified state bound"
    assert ratios.max() >= 0.8, "the state bound is far from lambda_max: a check this loose could not fail"
    lam = np.geomspace(1e-3, 1e3, 20001)
    x = torch.from_numpy(lam).requires_grad_(True)
    (w2,) = torch.autograd.grad(law.dw(x).sum(), x)
    assert float(w2.max()) <= law.lipschitz_bound * (1 + 1e-12)
    assert float(w2.min()) >= law.tangent_lower_bound - 1e-12 * law.lipschitz_bound


def test_principal_frame_spectrum_is_the_closed_form(law):
    """The pair eigenvalues (W_i ∓ W_j)/(λ_i ∓ λ_j) the bound is built on are eigenvalues of the autograd tangent."""
    lam = torch.tensor([[2.1, 0.7, 0.45]], dtype=D)
    A = law.elasticity(torch.diag_embed(lam))[0]
    ev = torch.linalg.eigvalsh(0.5 * (A + A.T))
    jac = lam.prod()
    wi = law.dw(lam)[0] + law.kappa * (jac - 1) * jac / lam[0]
    for i, j in ((0, 1), (0, 2), (1, 2)):
        for val in ((wi[i] - wi[j]) / (lam[0, i] - lam[0, j]), (wi[i] + wi[j]) / (lam[0, i] + lam[0, j])):
            assert float((ev - val).abs().min()) <= 1e-9 * float(ev.abs().max())


# -------------------------------------------------------------------------------- kinematics vs closed forms
OGDEN = ((0.63, 1.3), (0.0012, 5.0), (-0.01, -2.0))  # Ogden's (1972) Treloar parameters (μ_p [MPa], α_p)
NEO = ((0.5, 2.0),)


def ogden_dw(terms):
    """w'(λ) = Σ μ_p (λ^{α_p - 1} - 1/λ): Ogden's energy in the unsplit Valanis–Landel form."""
    return (lambda lam: sum(m * (lam ** (a - 1) - 1 / lam) for m, a in terms),
            lambda lam: sum(m * ((a - 1) * lam ** (a - 2) + lam ** -2) for m, a in terms))


def closed_form(terms, mode, x):
    """Incompressible Ogden nominal stresses (neo-Hookean: one term with α = 2)."""
    def s(lam, lat):  # w'(λ) - (t/λ) w'(t) written out for an incompressible Ogden solid
        return sum(m * (lam ** (a - 1) - lat ** a / lam) for m, a in terms)
    if mode == "uniaxial":
        return s(x, x ** -0.5)
    if mode == "equibiaxial":
        return s(x, x ** -2.0)
    if mode == "pure_shear":
        return s(x, 1 / x)
    if mode == "biaxial":
        lat = 1 / (x[:, 0] * x[:, 1])
        return torch.stack((s(x[:, 0], lat), s(x[:, 1], lat)), dim=1)
    r = torch.sqrt(1 + x * x / 4)
    l1, l2 = r + x / 2, r - x / 2
    return sum(m * (l1 ** a - l2 ** a) for m, a in terms) / (l1 + l2)


def mode_inputs(mode):
    if mode == "biaxial":
        g = torch.linspace(0.5, 3.0, 9, dtype=D)
        return torch.cartesian_prod(g, g)
    if mode == "simple_shear":
        return torch.linspace(-3.0, 5.0, 41, dtype=D)
    return torch.linspace(0.4, 6.0, 57, dtype=D)


@pytest.mark.parametrize("terms", [NEO, OGDEN], ids=["neo-Hookean", "Ogden"])
@pytest.mark.parametrize("mode", MODES)
def test_mode_kinematics_against_closed_form(terms, mode):
    dw, d2w = ogden_dw(terms)
    x = mode_inputs(mode)
    expect = closed_form(terms, mode, x)
    got = mode_stress(mode, x, dw, d2w, None)
    np.testing.assert_allclose(got, expect, rtol=1e-12, atol=1e-12)
    # a finite bulk modulus approaches the incompressible limit like 1/κ
    errs = [float((mode_stress(mode, x, dw, d2w, k) - expect).abs().max()) for k in (1e3, 1e5)]
    if mode == "simple_shear":
        assert max(errs) <= 1e-12  # isochoric: κ plays no part
    else:
        assert errs[1] <= 1e-3 * float(expect.abs().max())
        assert errs[1] <= 0.03 * errs[0]


@pytest.mark.parametrize("mode", ["uniaxial", "equibiaxial", "pure_shear", "biaxial"])
def test_lateral_faces_stress_free_and_stress_equals_dW(mode):
    """With a finite κ the solved lateral stretch makes ∂W/∂λ_t = 0, and the mode's stress is ∂W/∂λ_a."""
    law = random_law(seed=5, kappa=3.0)[0]
    x = mode_inputs(mode)
    t = lateral_stretch(mode, x, law.dw, law.d2w, law.kappa)
    fixed = {"uniaxial": lambda: torch.stack((x, t, t), 1), "equibiaxial": lambda: torch.stack((x, x, t), 1),
             "pure_shear": lambda: torch.stack((x, torch.ones_like(x), t), 1),
             "biaxial": lambda: torch.cat((x, t[:, None]), 1)}[mode]()
    P = law.first_piola(torch.diag_embed(fixed))
    diag = torch.diagonal(P, dim1=1, dim2=2)
    scale = float(diag.abs().max())
    lateral = diag[:, 1:] if mode == "uniaxial" else diag[:, 2:]
    assert float(lateral.abs().max()) <= 1e-9 * scale
    want = law.nominal_stress(mode, x)
    got = diag[:, :2] if mode == "biaxial" else diag[:, 0]
    np.testing.assert_allclose(got, want, atol=1e-10 * scale)
    cauchy = law.cauchy(torch.diag_embed(fixed))
    csel = torch.diagonal(cauchy, dim1=1, dim2=2)[:, :2] if mode == "biaxial" else cauchy[:, 0, 0]
    np.testing.assert_allclose(law.cauchy_stress(mode, x), csel, atol=1e-10 * scale)


def test_simple_shear_stress_matches_the_3d_law(law):
    gamma = torch.linspace(-4.0, 6.0, 31, dtype=D)
    F = torch.eye(3, dtype=D).repeat(31, 1, 1)
    F[:, 0, 1] = gamma
    P = law.first_piola(F)
    np.testing.assert_allclose(law.nominal_stress("simple_shear", gamma), P[:, 0, 1], atol=1e-10)
    np.testing.assert_allclose(law.cauchy_stress("simple_shear", gamma), law.cauchy(F)[:, 0, 1], atol=1e-10)


def test_volumetric_pressure_matches_the_3d_law(law):
    jac = torch.linspace(0.6, 1.4, 9, dtype=D)
    F = torch.diag_embed(jac.pow(1 / 3).unsqueeze(1).expand(9, 3))
    sigma = law.cauchy(F)
    np.testing.assert_allclose(law.pressure(jac), -torch.diagonal(sigma, dim1=1, dim2=2).mean(1), atol=1e-10)


@pytest.mark.parametrize("call, match", [
    (lambda law: law.nominal_stress("uniaxal", [1.2]), "unknown test mode"),
    (lambda law: law.nominal_stress("biaxial", [1.2, 1.1]), r"\(n, 2\)"),
    (lambda law: law.nominal_stress("uniaxial", [[1.2, 1.1]]), r"\(n,\)"),
    (lambda law: law.nominal_stress("uniaxial", [1.2, -0.5]), "> 0"),
    (lambda law: law.first_piola(torch.eye(3)), r"\(n, 3, 3\)"),
])
def test_bad_api_inputs_are_refused(law, call, match):
    with pytest.raises(ValueError, match=match):
        call(law)


def test_invalid_kappa_refused():
    net = random_law()[0].network
    for bad in (0.0, -1.0, math.nan):
        with pytest.raises(ValueError, match="kappa"):
            HyperelasticLaw(net, bad)


def test_curvature_bound_over_an_interval_is_certified_and_tighter_than_L():
    law = random_law(seed=6)[0]
    gen = np.random.default_rng(2)
    lo = np.exp(gen.uniform(np.log(0.02), np.log(20.0), 400))
    hi = lo * np.exp(gen.uniform(0.0, 1.5, 400))
    bound = law.curvature_bound(torch.from_numpy(lo), torch.from_numpy(hi)).numpy()
    for a, b, c in zip(lo[:60], hi[:60], bound[:60]):
        x = torch.linspace(a, b, 400, dtype=D).requires_grad_(True)
        (w2,) = torch.autograd.grad(law.dw(x).sum(), x)
        assert float(w2.max()) <= c * (1 + 1e-12)
    assert (bound <= law.lipschitz_bound * (1 + 1e-12)).all()
    assert np.median(bound) < 0.7 * law.lipschitz_bound  # the point of it: tighter than L on most intervals


@pytest.mark.parametrize("seed", [0, 7])
def test_piecewise_evaluation_is_the_network_function(seed):
    """The fast piecewise-polynomial w, w', w'' and interval bound equal the network's to rounding."""
    law = random_law(seed=seed)[0]
    lam = torch.from_numpy(np.geomspace(1e-3, 1e3, 30001))
    net = law.network
    x = lam.reshape(-1, 1) - 1.0
    with torch.no_grad():
        ref = (net.energy(x).reshape(-1), net(x).reshape(-1), net.tangent(x).reshape(-1))
    for got, want in zip((law.w(lam), law.dw(lam), law.d2w(lam)), ref):
        assert float(((got - want).abs() / (want.abs() + 1)).max()) <= 1e-10
    pw = law._pw
    law._pw = None
    slow = law.curvature_bound(lam[:-1], lam[1:] * 1.2)
    law._pw = pw
    np.testing.assert_allclose(law.curvature_bound(lam[:-1], lam[1:] * 1.2), slow, rtol=1e-10, atol=1e-10)
