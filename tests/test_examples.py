"""Every example script is imported and run on small settings, with assertions on what it produced."""

import importlib.util
import math
from pathlib import Path

import pytest
import torch

from fem.stability import NONLINEAR_SAFETY

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fit_csv_example(tmp_path):
    r = load("fit_csv").run(tmp_path / "al", epochs=200, polish_epochs=40)
    assert (tmp_path / "al.pt").is_file()
    assert r["n_points"] == 300
    assert r["bound_recomputed_MPa"] == r["lipschitz_bound_MPa"]
    assert r["stress_MPa"][0] == 0.0  # stress-free reference state
    assert all(abs(t) <= r["lipschitz_bound_MPa"] for t in r["tangent_MPa"])
    assert 150 < r["stress_MPa"][2] < 400  # on the plastic plateau of 6061-T6 (about 300-324 MPa)


@pytest.fixture
def one_thread():
    """Tiny networks and meshes run fastest on one thread (and far faster than on two contended cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_bar_wave_example(tmp_path):
    r = load("bar_wave").run(tmp_path / "bar", divisions=50)
    assert (tmp_path / "bar" / "results.pvd").is_file()
    assert r["stable"]
    # safety 1: the step is the certified one, which for a uniform bar is exactly h / c
    assert r["dt_s"] == pytest.approx(r["dt_certified_s"], rel=1e-12)
    assert r["dt_certified_s"] == pytest.approx(r["h_over_c_s"], rel=1e-9)
    assert r["stress_analytic_MPa"] == pytest.approx(-math.sqrt(200000.0 * 7.85e-9) * 1000.0, rel=1e-12)
    assert r["n_elements_behind_front"] >= 20
    assert r["relative_error"] < 0.01  # every element behind the front, not only their mean
    assert r["stress_MPa"] == pytest.approx(r["stress_analytic_MPa"], rel=0.01)
    assert abs(r["front_mm"] - r["front_analytic_mm"]) <= r["element_size_mm"] * (1 + 1e-9)


def test_sn_vs_unconstrained_example(tmp_path, one_thread):
    module = load("sn_vs_unconstrained")
    r = module.run(tmp_path, epochs=100, polish_epochs=10, divisions=50)
    h, rho = r["element_size_mm"], r["density_t_per_mm3"]
    assert set(r["models"]) == {"sn", "unconstrained"}
    for name, m in r["models"].items():
        assert (tmp_path / f"{name}.pt").is_file() and (tmp_path / name / "results.pvd").is_file()
        assert 0 < m["largest_tangent_MPa"] <= m["lipschitz_bound_MPa"] * (1 + 1e-9)  # a lower bound of L
        assert m["stable"], name
        # dt = "auto": the nonlinear safety x the certified step, which for a uniform bar is h sqrt(rho / L)
        assert m["dt_s"] == pytest.approx(NONLINEAR_SAFETY * m["dt_certified_s"], rel=1e-12)
        assert m["dt_certified_s"] == pytest.approx(h * math.sqrt(rho / m["lipschitz_bound_MPa"]), rel=1e-9)
        assert m["steps"] == math.ceil(r["end_s"] / m["dt_s"] - 1e-9)
        assert m["energy_error"] < 1e-6
    sn = r["models"]["sn"]
    assert sn["lipschitz_bound_MPa"] <= sn["lipschitz_target_MPa"] * (1 + 1e-9)  # projected onto its target
    assert r["models"]["unconstrained"]["lipschitz_target_MPa"] is None


def test_impact_2d_example(tmp_path, one_thread):
    r = load("impact_2d").run(tmp_path, epochs=100, polish_epochs=5, hidden=(16, 16), divisions=(20, 10))
    assert (tmp_path / "plane_strain.pt").is_file()
    assert r["pvd"] == str(tmp_path / "run" / "results.pvd") and Path(r["pvd"]).is_file()
    assert r["n_points"] == 601 and r["n_elements"] == 200
    assert r["stable"]
    assert r["dt_s"] == pytest.approx(NONLINEAR_SAFETY * r["dt_certified_s"], rel=1e-12)
    assert r["steps"] == math.ceil(r["end_s"] / r["dt_s"] - 1e-9)
    assert 0 < r["max_strain_norm"] < 1  # the punch deformed the block, and nothing blew up
    assert r["energy_error"] < 1e-6


def test_real_rubber_example(tmp_path, one_thread):
    module = load("real_rubber")
    r = module.run(tmp_path, epochs=100, polish_epochs=10, divisions=10)
    assert (tmp_path / "treloar.pt").is_file() and Path(r["pvd"]).is_file()
    assert r["n_points"] == 25
    assert r["stress_at_zero_strain_MPa"] == 0.0  # stress-free reference state
    assert r["stable"]
    assert r["dt_s"] == pytest.approx(NONLINEAR_SAFETY * r["dt_certified_s"], rel=1e-12)
    # the end moves 1e4 mm/s x 0.95 end = 550 mm, to within the step after the end time
    assert abs(r["mean_stretch"] - 6.5) <= 0.05 * 6.5
    assert abs(r["mean_stretch"] - 6.5) <= 2 * module.SPEED * r["dt_s"] / module.LENGTH
    # zero stress at zero strain and a tangent bounded by L: |P| <= L |strain| in every element
    L = r["lipschitz_bound_MPa"]
    assert all(abs(p) <= L * abs(e) * (1 + 1e-9) + 1e-9 for e, p in zip(r["strain"], r["nominal_stress_MPa"]))
    assert r["max_nominal_stress_MPa"] == max(r["nominal_stress_MPa"]) > 0


def test_rubber_modes_example(tmp_path):
    r = load("rubber_modes").run(tmp_path)
    assert min(r["r2"].values()) >= 0.998
    assert r["tightness"] <= 1.3
    assert (tmp_path / "rubber.pt").is_file() and (tmp_path / "rubber.json").is_file()
    assert r["uniaxial_nominal_MPa"][1] == pytest.approx(0.0, abs=1e-12)  # stress-free reference
    for a, b in zip(r["uniaxial_nominal_MPa"], r["uniaxial_P11_from_F_MPa"]):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12)  # the test mode and P(F) agree
    assert r["held_out_r2"]["pure_shear"] >= 0.98


def test_rubber_plate_hole_example_short_run(tmp_path):
    s = load("rubber_plate_hole").run(tmp_path, end=1e-4)  # the far edge moves 1 mm of the case's 20
    assert s["stable"] and s["kinematics"] == "finite" and s["energy_drift"] < 0.01
    assert s["edge_displacement_mm"] == pytest.approx(1.0, rel=1e-6)
    assert 0 < s["dt_min"] <= s["dt_max"] and "element" in s["dt_controlling"]
    assert (tmp_path / "rubber.pt").is_file() and (tmp_path / "plate_hole_treloar.toml").is_file()


def test_rubber_sn_vs_unconstrained_example_short_run(tmp_path):
    rows = load("rubber_sn_vs_unconstrained").run(tmp_path, seeds=1, stretch=1.05, epochs=400, depth=0.3)
    assert [(r["kind"], r["case"], r["step"]) for r in rows] == [
        (kind, case, step) for kind in ("sn", "unconstrained") for case in ("plate", "punch")
        for step in ("certified", "nominal")]
    for r in rows:
        assert r["steps"] > 0 and 0 < r["dt_min"] <= r["dt_max"]
    sn = rows[0]
    assert sn["stable"] and sn["smallest_w2"] >= 0  # convex: never softening
    assert rows[1]["dt_min"] == rows[1]["dt_max"]  # the nominal step is held constant
    assert all(r["stable"] for r in rows if r["kind"] == "sn")
    assert (tmp_path / "summary.json").is_file() and (tmp_path / "unconstrained_seed0.pt").is_file()
