"""Material laws: formulas, tangents, and certified bounds (checked against eigen-solvers and sampling)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from fem import HardeningCubic, LinearElastic, Material, autograd_tangent
from fem.errors import InputError
from fem.materials import isotropic_moduli

E, NU = 1000.0, 0.3


@pytest.mark.parametrize("mode", ["1d", "plane_strain", "plane_stress", "3d"])
def test_linear_bound_is_the_spectral_norm_and_matches_closed_forms(mode):
    mat = LinearElastic(E, NU, 1.0, mode)
    assert isinstance(mat, Material)
    C = mat.C.numpy()
    assert mat.lipschitz_bound == pytest.approx(np.linalg.norm(C, 2), rel=1e-12)
    lam, mu = isotropic_moduli(E, NU)
    closed = {"1d": E, "plane_strain": 2 * (lam + mu), "plane_stress": E / (1 - NU),
              "3d": max(3 * lam + 2 * mu, 2 * mu)}
    assert mat.lipschitz_bound == pytest.approx(closed[mode], rel=1e-12)
    eps = torch.randn(7, mat.n_voigt, dtype=torch.float64)
    assert torch.allclose(mat.stress(eps), eps @ torch.as_tensor(C).T)
    assert torch.allclose(mat.tangent(eps), autograd_tangent(mat.stress, eps))


def test_cubic_1d_formula_tangent_and_certified_bound():
    mat = HardeningCubic(E, eps_h=0.05, eps_max=0.1)
    eps = torch.linspace(-0.1, 0.1, 201, dtype=torch.float64)[:, None]
    assert torch.allclose(mat.stress(eps), E * eps * (1 + (eps / 0.05) ** 2))
    tangent = mat.tangent(eps)
    assert torch.allclose(tangent, autograd_tangent(mat.stress, eps))
    assert float(tangent.abs().max()) == pytest.approx(mat.lipschitz_bound, rel=1e-12)  # attained at eps_max
    assert mat.certified_strain == 0.1


def synthetic():
    path = Path(__file__).resolve().parents[1] / "data" / "make_synthetic.py"
    spec = importlib.util.spec_from_file_location("make_synthetic", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("mode, n", [("plane_strain", 3), ("3d", 6)])
def test_cubic_isotropic_law_is_the_data_generators_law_and_is_certified(mode, n):
    mat = HardeningCubic(E, eps_h=0.05, eps_max=0.05, nu=NU, mode=mode)
    rng = np.random.default_rng(0)
    directions = rng.normal(size=(2000, n))
    # scale to tensor norm sqrt(eps:eps) <= eps_max (engineering shears count half in the tensor norm)
    weights = np.array([1, 1, 0.5] if n == 3 else [1, 1, 1, 0.5, 0.5, 0.5])
    norm = np.sqrt((directions**2 * weights).sum(1))
    eps = directions / norm[:, None] * 0.05 * rng.uniform(0, 1, (2000, 1)) ** (1 / n)
    eps[:10] = directions[:10] / norm[:10, None] * 0.05  # on the certified sphere
    x = torch.as_tensor(eps)
    assert torch.allclose(mat.stress(x), torch.as_tensor(synthetic().hyper_stress(eps)), atol=1e-10)
    tangent = mat.tangent(x)
    assert torch.allclose(tangent, tangent.transpose(1, 2), atol=1e-9)  # from an energy: symmetric
    norms = torch.linalg.matrix_norm(tangent, 2)
    assert float(norms.max()) <= mat.lipschitz_bound * (1 + 1e-12)
    assert float(torch.linalg.eigvalsh(tangent).min()) > 0  # hardening: positive definite


@pytest.mark.parametrize("kwargs, message", [
    (dict(E=-1.0), "E must be a positive"),
    (dict(nu=0.5), "Poisson"),
    (dict(mode="2d"), "unknown mode"),
    (dict(density=0.0), "density"),
])
def test_bad_material_parameters_are_rejected(kwargs, message):
    args = dict(E=E, nu=NU, density=1.0, mode="3d") | kwargs
    with pytest.raises(InputError, match=message) as info:
        LinearElastic(**args)
    assert info.value.parameter == next(iter(kwargs))  # the argument is named, for callers that map it to a key
