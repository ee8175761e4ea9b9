"""The 'auto' Lipschitz target: the steepest smoothed slope of the data, times the margin."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import snsurrogate
from snsurrogate.lipschitz_target import DEFAULT_MARGIN, auto_lipschitz, steepest_slope

DATA = Path(__file__).resolve().parents[1] / "data"


def synthetic():
    spec = importlib.util.spec_from_file_location("make_synthetic", DATA / "make_synthetic.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_linear_data_give_the_modulus_exactly():
    eps = np.linspace(-0.01, 0.02, 50)
    assert steepest_slope(eps[:, None], 70000 * eps[:, None]) == pytest.approx(70000, rel=1e-9)
    target, slope = auto_lipschitz(eps[:, None], 70000 * eps[:, None])
    assert target == pytest.approx(DEFAULT_MARGIN * 70000, rel=1e-9)


def test_a_short_toe_is_smoothed_but_the_elastic_slope_is_kept():
    """Elastic-plastic curve, 40 points in the elastic part then 260 on the plateau; the first 3
    points (a toe) have 1.6x the modulus."""
    eps = np.concatenate((np.linspace(0.0, 0.004, 40, endpoint=False), np.linspace(0.004, 0.17, 260)))
    sig = np.where(eps < 0.004, 70000 * eps, 280 + 1000 * (eps - 0.004))
    sig[:3] *= 1.6
    assert steepest_slope(eps[:, None], sig[:, None]) == pytest.approx(70000, rel=0.03)


def test_a_sparse_short_elastic_part_is_averaged_as_documented():
    """7 elastic points over 2.4 % of the range: exact without a toe; with a 3-point toe the smoothed
    slope is 8 % below the modulus (the limitation the module docstring states)."""
    eps = np.linspace(0.0, 0.17, 300)
    sig = np.where(eps < 0.004, 70000 * eps, 280 + 1000 * (eps - 0.004))
    assert steepest_slope(eps[:, None], sig[:, None]) == pytest.approx(70000, rel=1e-9)
    sig[:3] *= 1.6
    assert steepest_slope(eps[:, None], sig[:, None]) == pytest.approx(64500, rel=0.01)


def test_noisy_cubic_data_give_the_largest_tangent_within_ten_percent():
    data = snsurrogate.read_curves(DATA / "synthetic_cubic_1d.csv", strain=["strain"], stress=["stress_MPa"])
    true_max = synthetic().cubic_tangent(0.1)
    assert steepest_slope(data.strain, data.stress) == pytest.approx(true_max, rel=0.10)


@pytest.mark.parametrize(
    "name, strain, stress, tol",
    [
        ("synthetic_plane_strain.csv", ["exx", "eyy", "gxy"], ["sxx_MPa", "syy_MPa", "sxy_MPa"], 0.05),
        ("synthetic_3d.csv", ["exx", "eyy", "ezz", "gyz", "gxz", "gxy"],
         ["sxx_MPa", "syy_MPa", "szz_MPa", "syz_MPa", "sxz_MPa", "sxy_MPa"], 0.10),
    ],
)
def test_multiaxial_data_give_the_largest_tangent_norm(name, strain, stress, tol):
    data = snsurrogate.read_curves(DATA / name, strain=strain, stress=stress)
    tangents = synthetic().hyper_tangent(data.strain)
    true_max = np.linalg.norm(tangents, ord=2, axis=(1, 2)).max()
    assert steepest_slope(data.strain, data.stress) == pytest.approx(true_max, rel=tol)


def test_multiaxial_linear_data_give_the_spectral_norm():
    rng = np.random.default_rng(1)
    c = rng.normal(size=(3, 3)) * 1000
    eps = rng.uniform(-0.01, 0.01, (300, 3))
    assert steepest_slope(eps, eps @ c.T) == pytest.approx(np.linalg.norm(c, 2), rel=1e-6)


def test_bad_margins_and_flat_data_are_rejected():
    eps = np.linspace(0, 0.01, 20)[:, None]
    with pytest.raises(ValueError, match="margin"):
        auto_lipschitz(eps, 100 * eps, margin=0.9)
    with pytest.raises(ValueError, match="does not vary"):
        auto_lipschitz(eps, np.ones_like(eps))
