"""The certified bound is never below the true Lipschitz constant, and equals exact SVD products."""

import numpy as np
import pytest
import torch

from snsurrogate.activations import ACTIVATIONS, GroupSort
from snsurrogate.lipschitz import jacobian, lipschitz_bound, lipschitz_empirical, spectral_norms
from snsurrogate.network import Architecture, StressNetwork, freeze


def random_network(rng: np.random.Generator, d: int, activation: str, spectral: bool) -> StressNetwork:
    n_hidden = int(rng.integers(1, 4))
    hidden = tuple(int(2 * rng.integers(2, 9)) for _ in range(n_hidden))
    gains = tuple(float(g) for g in np.exp(rng.normal(0.0, 1.0, n_hidden + 1)))
    arch = Architecture(d, d, hidden, activation, strain_scale=float(np.exp(rng.normal(-3, 1))),
                        stress_scale=float(np.exp(rng.normal(3, 2))), gains=gains,
                        zero_origin=bool(rng.integers(0, 2)))
    net = StressNetwork(arch, spectral=spectral).double()
    with torch.no_grad():
        for lin in net.linears:
            scale = float(np.exp(rng.normal(0.0, 0.7)))
            if spectral:
                lin.parametrizations.weight.original.mul_(scale)
            else:
                lin.weight.mul_(scale)
            lin.bias.normal_(0.0, float(rng.uniform(0.1, 2.0)))
    if spectral:  # a few training-mode passes move the power-iteration vectors
        for _ in range(int(rng.integers(0, 4))):
            net(torch.randn(3, d, dtype=torch.float64))
        net = freeze(net, project=bool(rng.integers(0, 2)))
    return net.eval()


@pytest.mark.parametrize("d", [1, 3, 6])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_bound_never_below_the_largest_jacobian_found(d, activation):
    """24 random networks per case (216 in all): autograd + gradient ascent never exceeds the bound."""
    rng = np.random.default_rng(100 * d + ACTIVATIONS.index(activation))
    worst = 0.0
    for i in range(24):
        net = random_network(rng, d, activation, spectral=bool(i % 2))
        bound = lipschitz_bound(net)
        s = net.arch.strain_scale
        found, at = lipschitz_empirical(net, [-3 * s] * d, [3 * s] * d, n_samples=256, n_starts=4, steps=10, seed=i)
        assert np.isfinite(found) and found > 0
        assert found <= bound * (1 + 1e-9), (activation, d, i, found, bound)
        assert at.shape == (d,)
        worst = max(worst, found / bound)
    # the search is not trivially weak: somewhere it gets within a factor 20 of the bound
    assert worst > 0.05


def test_bound_is_the_product_of_exact_singular_values_times_the_scalings():
    rng = np.random.default_rng(7)
    net = random_network(rng, 3, "tanh", spectral=False)
    a = net.arch
    svd = [np.linalg.svd(lin.weight.detach().numpy(), compute_uv=False)[0] for lin in net.linears]
    expected = a.stress_scale / a.strain_scale * np.prod(svd) * np.prod(a.gains)
    assert lipschitz_bound(net) == pytest.approx(expected, rel=1e-12)
    assert spectral_norms(net) == pytest.approx(svd, rel=1e-12)


def test_bound_is_attained_by_an_absolute_value_network():
    """|x| built from one GroupSort layer has Lipschitz constant 1 and certified bound exactly 1."""
    arch = Architecture(1, 1, (2,), "groupsort", strain_scale=1.0, stress_scale=1.0, zero_origin=False)
    net = StressNetwork(arch).double()
    r = 2 ** -0.5
    with torch.no_grad():
        net.linears[0].weight.copy_(torch.tensor([[r], [-r]], dtype=torch.float64))
        net.linears[0].bias.zero_()
        net.linears[1].weight.copy_(torch.tensor([[r, -r]], dtype=torch.float64))
        net.linears[1].bias.zero_()
    x = torch.linspace(-2, 2, 41, dtype=torch.float64)[:, None]
    assert torch.allclose(net(x), x.abs())
    assert lipschitz_bound(net) == pytest.approx(1.0, rel=1e-12)
    found, _ = lipschitz_empirical(net, [-2.0], [2.0], n_samples=101)
    assert found == pytest.approx(1.0, rel=1e-12)


def test_scalings_enter_the_bound_linearly():
    rng = np.random.default_rng(3)
    net = random_network(rng, 1, "softplus", spectral=False)
    b0 = lipschitz_bound(net)
    a = net.arch
    scaled = StressNetwork(Architecture(a.d_in, a.d_out, a.hidden, a.activation, a.strain_scale * 2.0,
                                        a.stress_scale * 10.0, a.gains, a.zero_origin)).double()
    scaled.load_state_dict(net.state_dict())
    assert lipschitz_bound(scaled) == pytest.approx(5.0 * b0, rel=1e-12)


def test_freeze_projects_spectral_weights_to_norm_at_most_one():
    """Power iteration can under-estimate sigma; the frozen weights have exact norm <= 1 anyway."""
    arch = Architecture(3, 3, (16, 16), "tanh", 0.05, 100.0, (30.0, 1.0, 1.0))
    net = StressNetwork(arch, spectral=True)
    with torch.no_grad():  # a badly conditioned raw weight where one power iteration is not converged
        for lin in net.linears:
            lin.parametrizations.weight.original.copy_(torch.randn_like(lin.weight) * 3)
    frozen = freeze(net)
    norms = spectral_norms(frozen)
    assert max(norms) <= 1.0 + 1e-12
    assert lipschitz_bound(frozen) <= 100.0 / 0.05 * 30.0 * (1 + 1e-12)


def test_jacobian_matches_finite_differences():
    rng = np.random.default_rng(11)
    net = random_network(rng, 3, "tanh", spectral=False)
    x = torch.randn(5, 3, dtype=torch.float64) * net.arch.strain_scale
    jac = jacobian(net, x)
    h = 1e-6 * net.arch.strain_scale
    with torch.no_grad():
        fd = torch.stack([(net(x + h * e) - net(x - h * e)) / (2 * h) for e in torch.eye(3, dtype=torch.float64)], -1)
    assert torch.allclose(jac, fd, rtol=1e-5, atol=1e-8 * float(fd.abs().max()))


def test_groupsort_is_a_per_pair_sort_and_needs_even_widths():
    x = torch.tensor([[3.0, -1.0, 0.5, 2.0]])  # pairs (3, 0.5) and (-1, 2)
    assert torch.equal(GroupSort()(x), torch.tensor([[3.0, 2.0, 0.5, -1.0]]))
    with pytest.raises(ValueError, match="even"):
        Architecture(1, 1, (5,), "groupsort")
