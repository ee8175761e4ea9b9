"""Every example script is imported and run on small settings, with assertions on what it produced."""

import importlib.util
from pathlib import Path

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
