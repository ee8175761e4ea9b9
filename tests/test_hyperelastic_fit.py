"""Fitting hyperelastic laws to test modes: Treloar's three modes, known laws recovered, cross-mode
prediction, the model file, the command line, and bad inputs with located errors."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import snsurrogate
from snsurrogate import DataError, ModelFileError
from snsurrogate.cli import main
from snsurrogate.hyperelastic import HyperelasticOptions, TestCurve, fit_tests, read_test
from snsurrogate.hyperelastic.modes import mode_stress

DATA = Path(__file__).resolve().parents[1] / "data"
FILES = {"uniaxial": DATA / "treloar1944_uniaxial_tension.csv",
         "equibiaxial": DATA / "treloar1944_equibiaxial_tension.csv",
         "pure_shear": DATA / "treloar1944_pure_shear.csv"}
COLS = ["--stretch", "stretch", "--stress", "nominal_stress_MPa"]
D = torch.float64


def treloar(mode):
    return read_test(FILES[mode], mode, stretch=["stretch"], stress=["nominal_stress_MPa"])


@pytest.fixture(scope="module")
def joint():
    return fit_tests([treloar(m) for m in FILES])


def test_treloar_joint_fit_meets_the_targets(joint):
    law = joint.law
    assert set(joint.modes) == set(FILES)
    for mode, m in joint.modes.items():
        assert m.r2 >= 0.998, (mode, m.r2)
    assert law.summary["tightness"] <= 1.3
    assert law.lipschitz_bound >= law.summary["largest_w2_data"]
    assert joint.seconds <= 30
    cert = law.metadata["certificate"]
    assert cert["worst_state_ratio"] <= 1 + 1e-9 and cert["states"] >= 100
    # small-strain shear modulus of Treloar's rubber: about 0.4-0.6 MPa
    assert 0.3 <= law.shear_modulus <= 0.7
    assert law.bulk_modulus == pytest.approx(1000 * law.shear_modulus, rel=1e-6)


def test_uniaxial_and_equibiaxial_predict_pure_shear():
    res = fit_tests([treloar("uniaxial"), treloar("equibiaxial")], predict_curves=[treloar("pure_shear")])
    assert set(res.predicted) == {"pure_shear"}
    assert res.predicted["pure_shear"].r2 >= 0.98
    assert not any("extrapolation" in w for w in res.warnings)  # pure shear stays within the fitted stretches
    far = fit_tests([treloar("equibiaxial"), treloar("pure_shear")], predict_curves=[treloar("uniaxial")])
    assert any("uniaxial test" in w and "extrapolation" in w for w in far.warnings)  # λ = 7.6 > 4.97


def ogden_curve(mode, x, kappa=None, measure="nominal"):
    terms = ((0.63, 1.3), (0.0012, 5.0), (-0.01, -2.0))
    dw = lambda lam: sum(m * (lam ** (a - 1) - 1 / lam) for m, a in terms)  # noqa: E731
    d2w = lambda lam: sum(m * ((a - 1) * lam ** (a - 2) + lam ** -2) for m, a in terms)  # noqa: E731
    y = mode_stress(mode, torch.as_tensor(x, dtype=D), dw, d2w, kappa, measure).numpy()
    return TestCurve(mode, np.asarray(x), y, measure=measure, stress_unit="MPa")


def test_a_known_ogden_law_is_recovered_and_predicts_other_modes():
    lam = np.linspace(1.0, 6.0, 30)
    fitted = [ogden_curve("uniaxial", lam), ogden_curve("equibiaxial", np.linspace(1.0, 3.5, 20))]
    biax = ogden_curve("biaxial", np.stack((np.linspace(1.0, 3.0, 15), np.linspace(1.0, 1.8, 15)), 1))
    shear = ogden_curve("simple_shear", np.linspace(0.0, 3.0, 15))
    res = fit_tests(fitted, HyperelasticOptions(bulk_modulus=1e7), predict_curves=[ogden_curve("pure_shear", lam),
                                                                                 biax, shear])
    for mode, m in res.modes.items():
        assert m.r2 >= 0.9999, (mode, m.r2)
    for mode, m in res.predicted.items():
        assert m.r2 >= 0.995, (mode, m.r2)


def test_cauchy_data_and_a_volumetric_test_with_known_bulk_modulus():
    kappa = 300.0
    lam = np.linspace(1.0, 5.0, 25)
    curves = [ogden_curve("uniaxial", lam, kappa, "cauchy"), ogden_curve("pure_shear", lam, kappa, "cauchy")]
    jac = np.linspace(0.97, 1.0, 8)
    terms_p = ogden_curve("uniaxial", lam, kappa)  # nominal, to compare below
    vol = -((0.63 * (jac ** (0.3 / 3) - jac ** (-1 / 3))) + (0.0012 * (jac ** (4 / 3) - jac ** (-1 / 3)))
            + (-0.01 * (jac ** (-1.0) - jac ** (-1 / 3)))) * jac ** (1 / 3) / jac - kappa * (jac - 1)
    curves.append(TestCurve("volumetric", jac, vol, stress_unit="MPa"))
    res = fit_tests(curves)
    assert res.law.kappa == pytest.approx(kappa, rel=0.02)
    assert res.law.summary["bulk_modulus_source"] == "fitted to the volumetric test"
    nominal = res.law.nominal_stress("uniaxial", lam).numpy()
    np.testing.assert_allclose(nominal, terms_p.stress, atol=0.01 * np.abs(terms_p.stress).max())


def test_model_file_round_trip_and_tampering(joint, tmp_path):
    path = tmp_path / "rubber.pt"
    joint.law.save(path)
    law = snsurrogate.load(path)
    assert isinstance(law, snsurrogate.HyperelasticLaw)
    x = torch.linspace(0.5, 7.0, 30, dtype=D)
    np.testing.assert_array_equal(law.nominal_stress("uniaxial", x), joint.law.nominal_stress("uniaxial", x))
    assert law.lipschitz_bound == joint.law.lipschitz_bound and law.kappa == joint.law.kappa
    raw = bytearray(path.read_bytes())
    text = b'"kappa": '
    k = raw.index(text) + len(text)
    raw[k] = ord("9") if raw[k] != ord("9") else ord("8")
    bad = tmp_path / "edited.pt"
    bad.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match="checksum|not a readable"):
        snsurrogate.load(bad)


def test_forged_weights_fail_the_load_time_certificate(joint, tmp_path):
    """Weights changed and the checksum recomputed: the bound recomputed on load no longer matches."""
    from snsurrogate import modelfile

    payload = torch.load(_saved(joint, tmp_path), weights_only=True)
    w = payload["tensors"]["linears.0.weight"]
    payload["tensors"]["linears.0.weight"] = w * 1.01
    payload["checksum"] = modelfile._checksum(payload["metadata"], payload["tensors"])
    forged = tmp_path / "forged.pt"
    torch.save(payload, forged)
    with pytest.raises(ModelFileError, match="certificate check failed"):
        snsurrogate.load(forged)


def _saved(joint, tmp_path):
    path = tmp_path / "law.pt"
    joint.law.save(path)
    return path


def run(argv, capsys):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_fits_the_three_modes_and_writes_modes_to_model_json(tmp_path, capsys):
    out = tmp_path / "rubber"
    rc, text, err = run(["fit", "--test", f"uniaxial={FILES['uniaxial']}", "--test",
                         f"equibiaxial={FILES['equibiaxial']}", "--test", f"pure_shear={FILES['pure_shear']}",
                         *COLS, "--out", out], capsys)
    assert rc == 0, err
    doc = json.loads((tmp_path / "rubber.json").read_text())
    assert set(doc["modes"]) == set(FILES)
    assert all(doc["modes"][m]["r2"] >= 0.998 and doc["modes"][m]["rmse"] > 0 for m in FILES)
    assert doc["output_set"]["status"] == "complete"
    assert (tmp_path / "rubber.png").stat().st_size > 10_000
    assert "equibiaxial" in text and "certified bound L" in text and "MPa" in text
    rc, text, _ = run(["info", tmp_path / "rubber.pt"], capsys)
    assert rc == 0 and "hyperelastic" in text and "pure_shear (fitted)" in text


def test_cli_predict_weights_relative_and_fit_file(tmp_path, capsys):
    rc, text, err = run(["fit", "--test", f"uniaxial={FILES['uniaxial']}", "--test",
                         f"equibiaxial={FILES['equibiaxial']}", "--predict", f"pure_shear={FILES['pure_shear']}",
                         "--weight", "equibiaxial=2", "--relative", *COLS, "--out", tmp_path / "a"], capsys)
    assert rc == 0, err
    doc = json.loads((tmp_path / "a.json").read_text())
    assert set(doc["modes"]) == {"uniaxial", "equibiaxial"} and doc["predicted"]["pure_shear"]["r2"] >= 0.95
    assert doc["residuals"] == "relative" and doc["tests"][1]["weight"] == 2.0
    toml = tmp_path / "fit.toml"
    toml.write_text(f'stretch = "stretch"\nstress = "nominal_stress_MPa"\n'
                    f'[[test]]\nmode = "uniaxial"\nfile = "{FILES["uniaxial"].as_posix()}"\n'
                    f'[[test]]\nmode = "equibiaxial"\nfile = "{FILES["equibiaxial"].as_posix()}"\nweight = 2\n'
                    f'[[predict]]\nmode = "pure_shear"\nfile = "{FILES["pure_shear"].as_posix()}"\n')
    rc, _, err = run(["fit", "--tests", toml, "--out", tmp_path / "b"], capsys)
    assert rc == 0, err
    assert json.loads((tmp_path / "b.json").read_text())["predicted"]["pure_shear"]["r2"] >= 0.95


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("argv, match", [
    (["--test", "biaxial={bx}", "--stretch", "l1", "l2", "--stress", "s1"], r"bx.csv: a biaxial test takes 2 stress"),
    (["--test", "uniaxial={bx}", "--stretch", "l1", "l2", "--stress", "s1"], r"bx.csv: a uniaxial test takes 1 str"),
    (["--test", "simple_shear={bx}", "--stretch", "l1", "--stress", "s1"], r"simple_shear test takes .* --shear"),
    (["--test", "uniaxal={bx}", "--stretch", "l1", "--stress", "s1"], "unknown test mode 'uniaxal'"),
    (["--test", "uniaxial={neg}", "--stretch", "stretch", "--stress", "P_MPa"], r"neg.csv:5: column 'stretch'.*-0.2"),
    (["--test", "uniaxial={comp}", "--stretch", "stretch", "--stress", "P_MPa"], r"comp.csv:3: .*opposite sign"),
    (["--test", "uniaxial={ut}", "--test", "uniaxial={wrong}", *COLS], r"wrong.csv:.*contradicts"),
    (["--test", "uniaxial={ut}", "--weight", "pure_shear=2", *COLS], r"no fitted test has mode 'pure_shear'"),
    (["--test", "uniaxial={ut}", "--lipschitz", "5", *COLS], r"--lipschitz is an option of a single-curve fit"),
    (["{ut}", "--test", "uniaxial={ut}", *COLS], "not both"),
    (["--test", "uniaxial={ut}", "--bulk-modulus", "0.1", *COLS], r"not above 2μ/3"),
    (["--tests", "{toml}"], r"bad.toml: \[test\] #1\[mode\]: Field required; \[test\] #1\[mod\]: Extra"),
])
def test_bad_inputs_get_located_errors(tmp_path, capsys, argv, match):
    files = {
        "bx": write(tmp_path, "bx.csv", "l1,l2,s1,s2\n1,1,0,0\n1.5,1.2,1,0.5\n2,1.4,2,1\n2.5,1.6,3,2\n"),
        "neg": write(tmp_path, "neg.csv", "stretch,P_MPa\n1,0\n1.5,1\n2,2\n-0.2,3\n"),
        "comp": write(tmp_path, "comp.csv", "stretch,P_MPa\n1,0\n0.9,0.1\n0.8,0.2\n0.7,0.3\n"),
        "ut": FILES["uniaxial"],
        "wrong": write(tmp_path, "wrong.csv", "stretch,nominal_stress_MPa\n1,0\n2,5\n3,9\n4,14\n"),
        "toml": write(tmp_path, "bad.toml", '[[test]]\nmod = "uniaxial"\nfile = "x.csv"\n'),
    }
    argv = [a.format(**files) for a in argv]
    rc, _, err = run(["fit", *argv, "--out", tmp_path / "m"], capsys)
    assert rc == 2
    assert err.startswith("error: ") and "Traceback" not in err
    import re
    assert re.search(match, err), err
    assert not (tmp_path / "m.pt").exists()


def test_a_fitted_law_drives_a_finite_strain_run(joint):
    """The Treloar law through the adapter: a rubber strip pulled to a stretch of about 1.5, energy kept."""
    import fem

    mat = snsurrogate.as_material(joint.law, 1.1e-9)  # t/mm^3
    assert mat.finite_strain and mat.lipschitz_bound == joint.law.lipschitz_bound
    mesh = fem.generate.rectangle(10.0, 2.0, 8, 2)
    bcs = [fem.Fixed(mesh.select_nodes("left"), ("x", "y")), fem.Velocity(mesh.select_nodes("right"), ("x",), (5e4,))]
    r = fem.ExplicitSolver(mesh, mat, bcs).run(t_end=1e-4, dt="auto")
    s = r.summary()
    assert r.stable and s["energy_monitor"] == "potential" and s["energy_drift"] < 0.01
    assert float(r.u[:, 0].max()) == pytest.approx(5.0, rel=1e-3)  # the right edge moved 5 mm: stretch 1.5
    with pytest.raises(fem.InputError, match="kinematics = 'small' with a finite-strain law"):
        fem.ExplicitSolver(mesh, mat, bcs, kinematics="small")


def test_engineering_strain_columns_in_percent_read_as_stretch(tmp_path):
    rows = np.loadtxt(FILES["uniaxial"], delimiter=",", comments="#", skiprows=2)
    p = tmp_path / "ut_percent.csv"
    p.write_text("strain_%,P_MPa\n" + "".join(f"{100 * (a - 1):.6f},{b}\n" for a, b in rows))
    curve = read_test(p, "uniaxial", strain=["strain_%"], stress=["P_MPa"])
    np.testing.assert_allclose(curve.x, rows[:, 0], rtol=1e-9)
    assert curve.stress_unit == "MPa"
    with pytest.raises(DataError, match="not both"):
        read_test(p, "uniaxial", strain=["strain_%"], stretch=["x"], stress=["P_MPa"])


def test_a_case_naming_a_hyperelastic_law_is_refused_with_the_reason(joint, tmp_path):
    joint.law.save(tmp_path / "rubber.pt")
    case = tmp_path / "bar.toml"
    case.write_text('[units]\nlength = "mm"\ntime = "s"\nstress = "MPa"\n[mesh]\ngenerate = "line"\nlength = 10.0\n'
                    'divisions = 4\n[material]\nmodel = "rubber.pt"\ndensity = 1e-9\n[[boundary]]\nname = "clamp"\n'
                    'type = "fixed"\nnodes = { group = "left" }\n[time]\nend = 1e-6\n')
    with pytest.raises(snsurrogate.CaseFileError, match=r"bar\.toml: \[material\] model: .*finite-strain hyper"):
        snsurrogate.simulate(case, tmp_path / "run", progress=False)


def test_cli_fits_biaxial_and_simple_shear_files(tmp_path, capsys):
    bx = ogden_curve("biaxial", np.stack((np.linspace(1.0, 3.0, 12), np.linspace(1.0, 1.8, 12)), 1))
    (tmp_path / "bx.csv").write_text("l1,l2,P11_MPa,P22_MPa\n" + "".join(
        f"{a:.8f},{b:.8f},{c:.10f},{d:.10f}\n" for (a, b), (c, d) in zip(bx.x, bx.stress)))
    sh = ogden_curve("simple_shear", np.linspace(0.0, 3.0, 12))
    rows = "".join(f"{a:.8f},{b:.10f}\n" for a, b in zip(sh.x, sh.stress))
    (tmp_path / "sh.csv").write_text("gamma,P12_MPa\n" + rows)
    rc, text, err = run(["fit", "--test", f"biaxial={tmp_path / 'bx.csv'}", "--stretch", "l1", "--stretch", "l2",
                         "--stress", "P11_MPa", "--stress", "P22_MPa", "--out", tmp_path / "b"], capsys)
    assert rc == 0, err
    assert json.loads((tmp_path / "b.json").read_text())["modes"]["biaxial"]["r2"] >= 0.9999
    rc, text, err = run(["fit", "--test", f"simple_shear={tmp_path / 'sh.csv'}", "--shear", "gamma",
                         "--stress", "P12_MPa", "--out", tmp_path / "s"], capsys)
    assert rc == 0, err
    assert json.loads((tmp_path / "s.json").read_text())["modes"]["simple_shear"]["r2"] >= 0.9999


def test_one_mode_and_a_poor_fit_are_warned_about():
    one = fit_tests([treloar("uniaxial")])
    assert any("one test mode does not determine" in w for w in one.warnings)
    assert one.law.summary["warnings"] == list(one.warnings)
    assert not any("R²" in w and "fitted with" in w for w in one.warnings)
    # a tension curve that rises and falls back (softening) next to a shear test: no convex law fits it
    lam = np.linspace(1.0, 4.0, 31)
    soft = TestCurve("uniaxial", lam, np.sin(np.pi * (lam - 1) / 3) + 0.01 * (lam - 1), stress_unit="MPa")
    poor = fit_tests([soft, treloar("pure_shear")])
    assert any("fitted with R²" in w for w in poor.warnings), poor.warnings


def test_a_cyclic_test_is_refused_unless_the_loading_branch_is_asked_for(tmp_path, capsys):
    rows = np.loadtxt(FILES["uniaxial"], delimiter=",", comments="#", skiprows=2)[:15]
    back = rows[-2:-7:-1].copy()
    back[:, 1] *= 0.6  # unloading below the loading curve (Mullins softening)
    cyc = np.concatenate((rows, back, rows[-4:]))
    p = tmp_path / "cyclic.csv"
    p.write_text("stretch,nominal_stress_MPa\n" + "".join(f"{a},{b}\n" for a, b in cyc))
    rc, _, err = run(["fit", "--test", f"uniaxial={p}", "--test", f"equibiaxial={FILES['equibiaxial']}", *COLS,
                      "--out", tmp_path / "m"], capsys)
    assert rc == 2 and "cyclic.csv" in err and "give different stresses" in err and "--branch loading" in err
    rc, out, err = run(["fit", "--test", f"uniaxial={p}", "--test", f"equibiaxial={FILES['equibiaxial']}", *COLS,
                        "--branch", "loading", "--out", tmp_path / "m"], capsys)
    assert rc == 0, err
    assert "branch='loading': kept the loading envelope" in out
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["tests"][0]["n_points"] == 15


def test_a_curve_given_as_arrays_records_a_hash_and_its_stretch_range():
    """Negative shear reaches the same principal stretches as positive shear; arrays get a data hash."""
    g = np.linspace(-2.0, 0.0, 5)
    neg = TestCurve("simple_shear", g, -np.linspace(1.0, 0.0, 5), stress_unit="MPa")
    pos = TestCurve("simple_shear", -g, np.linspace(1.0, 0.0, 5), stress_unit="MPa")
    np.testing.assert_allclose(np.sort(neg.stretches()), np.sort(pos.stretches()))
    assert neg.stretches().max() == pytest.approx(np.sqrt(2.0) + 1.0)
    assert len(neg.sha256) == 64 and neg.sha256 != pos.sha256
