"""Fits recover analytic laws; the bound holds the target; training is reproducible and robust."""

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import snsurrogate
from snsurrogate.errors import TrainingError
from snsurrogate.lipschitz import spectral_norms
from snsurrogate.network import StressNetwork
from snsurrogate.training import resolve_device

DATA = Path(__file__).resolve().parents[1] / "data"
FAST = dict(hidden=(16, 16, 16), epochs=400, polish_epochs=60)


def plane_strain_c(e=1000.0, nu=0.3):
    lam = e * nu / ((1 + nu) * (1 - 2 * nu))
    mu = e / (2 * (1 + nu))
    return np.array([[lam + 2 * mu, lam, 0], [lam, lam + 2 * mu, 0], [0, 0, mu]])


def test_linear_law_is_recovered_and_bound_is_the_auto_target():
    e_mod = 2000.0
    eps = np.linspace(-0.01, 0.01, 81)
    model = snsurrogate.fit((eps, e_mod * eps), stress_unit="MPa", **FAST)
    s = model.summary
    assert s["steepest_data_slope"] == pytest.approx(e_mod, rel=1e-9)
    assert s["lipschitz_target"] == pytest.approx(1.1 * e_mod, rel=1e-9)
    assert model.lipschitz_bound <= s["lipschitz_target"] * (1 + 1e-6)
    assert s["rmse"] < 0.02 * 20.0  # 2 % of the largest stress
    x = torch.linspace(-0.009, 0.009, 19)[:, None]
    tangent = model.tangent(x)[:, 0, 0].double().numpy()
    assert np.allclose(tangent, e_mod, rtol=0.05)
    assert model.lipschitz_bound >= s["lipschitz_empirical"]


def test_cubic_law_in_tension_and_compression_is_recovered_from_noisy_data():
    data = snsurrogate.read_curves(DATA / "synthetic_cubic_1d.csv", strain=["strain"], stress=["stress_MPa"])
    model = snsurrogate.fit(data)  # default budget: measured 4-10 MPa over seeds 0-5
    grid = np.linspace(-0.1, 0.1, 201)
    truth = 2000.0 * grid * (1 + (grid / 0.05) ** 2)
    with torch.no_grad():
        pred = model(torch.as_tensor(grid[:, None], dtype=torch.float32)).double().numpy()[:, 0]
    # stated tolerance: 1.5 % of the peak stress (the noise is 1 %, 10 MPa)
    assert np.sqrt(np.mean((pred - truth) ** 2)) < 15.0
    assert model.summary["r2"] > 0.999
    assert model.summary["tightness"] < 1.5
    assert model.stress_unit == "MPa"


def test_plane_strain_linear_law_is_recovered_in_voigt_form():
    c = plane_strain_c()
    rng = np.random.default_rng(0)
    eps = rng.uniform(-0.01, 0.01, (400, 3))
    model = snsurrogate.fit((eps, eps @ c.T), stress_unit="MPa", epochs=500, polish_epochs=100)
    jac = model.tangent(torch.as_tensor(eps[:20], dtype=torch.float32)).double().numpy()
    err = np.linalg.norm(jac - c, axis=(1, 2)) / np.linalg.norm(c)
    assert err.max() < 0.1
    norm_c = np.linalg.norm(c, 2)
    assert model.summary["steepest_data_slope"] == pytest.approx(norm_c, rel=0.02)
    assert model.lipschitz_bound >= 0.95 * norm_c


@pytest.mark.parametrize("unconstrained", [False, True])
@pytest.mark.parametrize("float64", [False, True])
def test_zero_strain_gives_exactly_zero_stress(unconstrained, float64):
    eps = np.linspace(0.001, 0.05, 30)
    model = snsurrogate.fit((eps, 100.0 + 1000 * eps), stress_unit="MPa", unconstrained=unconstrained,
                            float64=float64, hidden=(8,), epochs=50)
    assert model.dtype == (torch.float64 if float64 else torch.float32)
    zero = model(torch.zeros(4, 1))
    assert torch.equal(zero, torch.zeros_like(zero))


def test_without_zero_origin_an_offset_is_fitted():
    eps = np.linspace(0.0, 0.05, 40)
    model = snsurrogate.fit((eps, 100.0 + 1000 * eps), stress_unit="MPa", zero_origin=False, **FAST)
    assert float(model(torch.zeros(1, 1))) == pytest.approx(100.0, abs=3.0)


def test_fits_are_reproducible_and_depend_on_the_seed():
    eps = np.linspace(-0.02, 0.02, 50)
    sig = 500 * np.tanh(eps / 0.01)
    a = snsurrogate.fit((eps, sig), stress_unit="MPa", hidden=(8, 8), epochs=100, seed=3)
    b = snsurrogate.fit((eps, sig), stress_unit="MPa", hidden=(8, 8), epochs=100, seed=3)
    c = snsurrogate.fit((eps, sig), stress_unit="MPa", hidden=(8, 8), epochs=100, seed=4)
    sa, sb, sc = (m.network.state_dict() for m in (a, b, c))
    for name in sa:
        assert torch.equal(sa[name], sb[name]), name
    assert not all(torch.equal(sa[name], sc[name]) for name in sa)


def test_a_user_target_below_the_data_slope_is_respected():
    """The certificate wins over the data: with L = 500 the law cannot reach a slope of 2000."""
    eps = np.linspace(-0.01, 0.01, 41)
    model = snsurrogate.fit((eps, 2000.0 * eps), stress_unit="MPa", lipschitz=500.0, **FAST)
    assert model.lipschitz_bound <= 500.0 * (1 + 1e-6)
    assert model.summary["lipschitz_empirical"] <= model.lipschitz_bound
    assert model.summary["lipschitz_rule"] == "user value"
    assert max(spectral_norms(model.network)) <= 1.0 + 1e-6


def test_unconstrained_model_still_gets_a_certified_bound():
    eps = np.linspace(-0.02, 0.02, 60)
    model = snsurrogate.fit((eps, 500 * np.tanh(eps / 0.01)), stress_unit="MPa", unconstrained=True, **FAST)
    s = model.summary
    assert not model.constrained and s["lipschitz_target"] is None
    assert model.lipschitz_bound >= s["lipschitz_empirical"]
    assert s["r2"] > 0.99


def test_lbfgs_fits_a_small_real_curve():
    data = snsurrogate.read_curves(DATA / "treloar1944_uniaxial_tension.csv", stretch="stretch",
                                   stress=["nominal_stress_MPa"])
    model = snsurrogate.fit(data, optimizer="lbfgs", epochs=150, hidden=(16, 16, 16))
    assert model.summary["r2"] > 0.995
    assert model.summary["optimizer"] == "lbfgs"
    assert model.metadata["columns"]["strain_input"] == "stretch"


class NaNAfter(StressNetwork):
    """A network whose output turns to NaN after 150 training-mode forward passes."""

    calls = 0

    def forward(self, strain):
        out = super().forward(strain)
        if self.training:
            NaNAfter.calls += 1
            if NaNAfter.calls > 150:
                return out * float("nan")
        return out


@pytest.mark.parametrize("optimizer", ["adam", "adam+lbfgs"])
def test_nan_during_training_keeps_the_best_model_with_a_warning(monkeypatch, optimizer):
    monkeypatch.setattr("snsurrogate.training.build_network", lambda arch, spectral=False: NaNAfter(arch, spectral))
    NaNAfter.calls = 0
    eps = np.linspace(-0.02, 0.02, 40)
    with pytest.warns(RuntimeWarning, match=r"diverged at epoch 151 \(non-finite loss\)"):
        model = snsurrogate.fit((eps, 1000 * eps), stress_unit="MPa", hidden=(8, 8), epochs=400,
                                optimizer=optimizer, polish_epochs=20)
    assert "diverged" in model.summary["stop_reason"]
    assert model.summary["best_epoch"] > 1
    if optimizer == "adam":
        assert model.summary["best_epoch"] <= 151
    else:  # the L-BFGS polish went on from the best Adam state
        assert "L-BFGS" in model.summary["stop_reason"]
    assert np.isfinite(model.lipschitz_bound)
    assert torch.isfinite(model(torch.linspace(-0.02, 0.02, 9)[:, None])).all()
    assert model.summary["r2"] > 0.5  # it is the best model seen, not the untrained one


def test_divergence_before_any_finite_loss_is_an_error():
    eps = np.linspace(-0.02, 0.02, 40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(TrainingError, match="diverged"):
            snsurrogate.fit((eps, 1000 * eps), stress_unit="MPa", unconstrained=True, hidden=(8,), epochs=5,
                            lr=1e20)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(lipschitz=-1.0), "positive number"),
        (dict(lipschitz="steep"), "positive number"),
        (dict(optimizer="sgd"), "unknown optimizer"),
        (dict(epochs=0), "epochs"),
        (dict(polish_epochs=0), "polish_epochs"),
        (dict(activation="relu"), "unknown activation"),
        (dict(device="tpu"), "unknown device"),
    ],
)
def test_bad_options_are_rejected(kwargs, message):
    eps = np.linspace(0, 0.01, 20)
    with pytest.raises(TrainingError, match=message):
        snsurrogate.fit((eps, 100 * eps), stress_unit="MPa", **kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_a_clear_error():
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(TrainingError, match="no CUDA GPU"):
        resolve_device("cuda")
