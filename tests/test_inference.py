"""The lean inference forward: the same function as the network's forward, for every kind and activation."""

from __future__ import annotations

import pytest
import torch

from snsurrogate.inference import LeanForward
from snsurrogate.network import Architecture, StressNetwork, freeze
from snsurrogate.potential import CURVATURES
from tests.test_potential import random_potential


def random_mlp(activation: str, seed: int, zero_origin: bool = True, d: int = 3) -> StressNetwork:
    torch.manual_seed(seed)
    arch = Architecture(d, d, (16, 24, 8), activation, strain_scale=0.03, stress_scale=250.0,
                        gains=(4.0, 1.0, 1.0, 1.0), zero_origin=zero_origin)
    net = StressNetwork(arch).double()
    with torch.no_grad():
        for lin in net.linears:
            lin.bias.normal_()  # non-zero biases: y(0) != 0, so the origin shift matters
    return freeze(net)


def strains(d: int, n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64) * 0.05 * 10 ** (torch.rand(n, 1, generator=g) * 3 - 2)
    x[::97] = 0.0  # exact zeros in the batch: exactly zero stress
    return x


@pytest.mark.parametrize("activation", ["groupsort", "tanh", "softplus"])
@pytest.mark.parametrize("zero_origin", [True, False])
def test_the_lean_forward_equals_the_mlp_forward(activation, zero_origin):
    for seed in range(5):
        net = random_mlp(activation, seed, zero_origin, d=3 if seed % 2 else 6)
        x = strains(net.arch.d_in, 3001, seed)
        lean = LeanForward(net, chunk=512)  # several chunks and a ragged last one
        ref, got = net(x), lean(x)
        assert torch.allclose(got, ref, rtol=0, atol=1e-12 * float(ref.abs().max()))
        if zero_origin:
            assert bool((got[::97] == 0).all())
        again = lean(x)  # buffers reused: the same result
        assert torch.equal(again, got)


@pytest.mark.parametrize("curvature", CURVATURES)
def test_the_lean_forward_equals_the_potential_forward(curvature):
    for seed in range(5):
        net = random_potential(3 if seed % 2 else 6, 20, curvature, seed)
        x = strains(net.arch.d_in, 2500, seed) * 20  # far into every ridge's transition and beyond
        got, ref = LeanForward(net, chunk=700)(x), net(x)
        assert torch.allclose(got, ref, rtol=0, atol=1e-12 * float(ref.abs().max()))
        assert bool((got[::97] == 0).all())


def test_the_lean_forward_follows_the_input_dtype_and_rejects_bad_shapes():
    net = random_mlp("groupsort", 0)
    lean = LeanForward(net)
    x = strains(3, 100, 1)
    got32 = lean(x.float())
    assert got32.dtype == torch.float32
    assert torch.allclose(got32.double(), net(x), rtol=1e-5, atol=1e-5 * float(net(x).abs().max()))
    assert torch.allclose(lean(x), net(x), rtol=0, atol=1e-12 * float(net(x).abs().max()))  # float64 again
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        lean(torch.zeros(4, 6, dtype=torch.float64))
    training = StressNetwork(net.arch, spectral=True)
    with pytest.raises(ValueError, match="frozen"):
        LeanForward(training)


def test_the_material_evaluates_through_the_lean_forward():
    from snsurrogate.material import as_material
    from snsurrogate.model import SurrogateModel

    net = random_potential(3, 12, "smoothstep", 2)
    mat = as_material(SurrogateModel(net, {"units": {"stress": "MPa"}}), 1e-9)
    x = strains(3, 400, 3)
    assert torch.allclose(mat.stress(x), net(x), rtol=0, atol=1e-12 * float(net(x).abs().max()))
