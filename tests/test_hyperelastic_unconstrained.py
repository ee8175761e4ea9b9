"""The unconstrained counterpart of the test-mode fit: a free MLP of ln λ by Adam. Its certificate |w''| <= L/λ
against autograd, w'' and the quadrature energy against independent computations, the model file, the command line,
and a finite-strain run driven by it."""

from pathlib import Path

import numpy as np
import pytest
import torch

import snsurrogate
from snsurrogate import DataError
from snsurrogate.cli import main
from snsurrogate.hyperelastic import HyperelasticOptions, fit_tests, read_test
from snsurrogate.hyperelastic.certificate import autograd_w2, random_deformations, state_ratios

DATA = Path(__file__).resolve().parents[1] / "data"
FILES = {"uniaxial": DATA / "treloar1944_uniaxial_tension.csv",
         "equibiaxial": DATA / "treloar1944_equibiaxial_tension.csv",
         "pure_shear": DATA / "treloar1944_pure_shear.csv"}
COLS = ["--stretch", "stretch", "--stress", "nominal_stress_MPa"]


def treloar(mode):
    return read_test(FILES[mode], mode, stretch=["stretch"], stress=["nominal_stress_MPa"])


@pytest.fixture(scope="module")
def free():
    return fit_tests([treloar(m) for m in FILES], HyperelasticOptions(unconstrained=True, seed=1))


def test_the_unconstrained_fit_follows_the_three_modes(free):
    law = free.law
    assert not law.constrained and law.tangent_lower_bound is None
    for mode, m in free.modes.items():
        assert m.r2 >= 0.99, (mode, m.r2)
    s = law.summary
    assert s["constrained"] is False and s["hidden"] == [32, 32, 32] and s["seed"] == 1 and s["epochs"] == 3000
    assert law.bulk_modulus == pytest.approx(1000.0 * law.shear_modulus, rel=1e-9)  # the default K/μ


def test_its_certificate_holds_against_autograd_at_adversarial_stretches(free):
    law = free.law
    lam = np.geomspace(1e-3, 300.0, 20001)  # far beyond the data (0.05 .. 7.6)
    w2 = autograd_w2(law, lam)
    assert (np.abs(w2) * lam).max() <= law.lipschitz_bound * (1 + 1e-9)
    assert (np.abs(w2) * lam).max() >= law.lipschitz_bound / 50  # the bound is not vacuous either
    # the exact forward-mode w'' the state bound uses equals autograd's
    assert np.allclose(law.d2w(torch.from_numpy(lam)).numpy(), w2, rtol=1e-10, atol=1e-10 * np.abs(w2).max())
    # a(F) >= λ_max(∂P/∂F) at random states, stretches 0.2 .. 5
    ratios = state_ratios(law, random_deformations(300, 0.2, 5.0, seed=3))
    assert ratios.max() <= 1 + 1e-9


def test_the_quadrature_energy_integrates_the_stress(free):
    law = free.law
    lam = torch.tensor([0.06, 0.5, 0.999, 1.0, 1.7, 4.0, 7.5], dtype=torch.float64)
    w = law.w(lam).numpy()
    for value, stop in zip(w, lam.numpy()):  # an independent fine trapezoid rule of w' from 1
        s = np.linspace(1.0, stop, 200001)
        g = law.dw(torch.from_numpy(s)).numpy()
        ref = float(((g[1:] + g[:-1]) * 0.5 * np.diff(s)).sum())
        assert value == pytest.approx(ref, rel=1e-8, abs=1e-12)
    assert w[3] == 0.0
    # and the 3-D energy's gradient is the law's stress P (autograd through the quadrature)
    F = random_deformations(5, 0.5, 2.0, seed=1).requires_grad_(True)
    (grad,) = torch.autograd.grad(law.energy(F).sum(), F)
    assert torch.allclose(grad, law.first_piola(F.detach()), rtol=1e-7, atol=1e-9)


def test_model_file_round_trip(free, tmp_path):
    free.law.save(tmp_path / "u.pt")
    back = snsurrogate.load(tmp_path / "u.pt")
    assert not back.constrained and back.lipschitz_bound == free.law.lipschitz_bound
    F = random_deformations(20, 0.3, 3.0, seed=2)
    assert torch.equal(back.first_piola(F), free.law.first_piola(F))


def test_cli_fits_an_unconstrained_law_and_refuses_its_options_without_the_flag(tmp_path, capsys):
    tests = [a for m, f in FILES.items() for a in ("--test", f"{m}={f}")]
    rc = main(["fit", *tests, *COLS, "--unconstrained", "--epochs", "300", "--seed", "2", "--out",
               str(tmp_path / "u")])
    out = capsys.readouterr().out
    assert rc == 0 and "UNCONSTRAINED 32x32x32 tanh MLP, 300 Adam epochs, seed 2" in out
    assert "|w''(λ)| <= L / λ" in out
    assert not snsurrogate.load(tmp_path / "u.pt").constrained
    for extra, flag in ((["--seed", "3"], "--seed"), (["--epochs", "50"], "--epochs"),
                        (["--unconstrained", "--activation", "groupsort"], "smooth activation")):
        rc = main(["fit", *tests, *COLS, *extra, "--out", str(tmp_path / "v")])
        err = capsys.readouterr().err
        assert rc == 2 and flag in err and "Traceback" not in err
    assert not (tmp_path / "v.pt").exists()


def test_bad_options_are_refused():
    for kw in ({"activation": "groupsort"}, {"epochs": 0}, {"hidden": ()}, {"lr": -1.0}):
        with pytest.raises(ValueError):
            HyperelasticOptions(unconstrained=True, **kw)
    with pytest.raises(DataError):  # K below 2μ/3 is refused, as for the certified fit
        fit_tests([treloar("uniaxial"), treloar("pure_shear")],
                  HyperelasticOptions(unconstrained=True, epochs=200, bulk_modulus=1e-6))


def test_an_unconstrained_law_drives_a_finite_strain_run(free):
    import fem

    mat = snsurrogate.as_material(free.law, 1.1e-9)  # t/mm^3
    assert mat.finite_strain
    mesh = fem.generate.rectangle(10.0, 2.0, 8, 2)
    bcs = [fem.Fixed(mesh.select_nodes("left"), ("x", "y")), fem.Velocity(mesh.select_nodes("right"), ("x",), (5e4,))]
    r = fem.ExplicitSolver(mesh, mat, bcs).run(t_end=1e-4, dt="auto")
    assert r.stable and r.summary()["energy_drift"] < 0.01
