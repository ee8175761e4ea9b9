"""`snsurrogate stability CASE.toml`: the table, the JSON report and the comparison of two fitted laws."""

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

import snsurrogate
from snsurrogate.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "cases"

BAR = """
[mesh]
generate = "line"
length = 100.0
divisions = 50
[material]
model = "law.pt"
density = 1.0e-9
[[boundary]]
type = "velocity"
nodes = { group = "left" }
value = [100.0]
[time]
end = 1.0e-3
"""


def test_stability_prints_every_bound_and_writes_the_json(tmp_path, capsys):
    rc = main(["stability", str(EXAMPLES / "plate_impact.toml"), "--json", str(tmp_path / "s.json")])
    out = capsys.readouterr().out
    assert rc == 0
    for word in ("element", "nodal", "global", "true", "auto", "certified", "estimate", "steps to end"):
        assert word in out
    doc = json.loads((tmp_path / "s.json").read_text())
    for key in ("lipschitz_bound", "dt_element", "dt_nodal", "dt_global", "dt_global_certified", "dt_true", "safety",
                "dt_auto"):
        assert key in doc and doc[key] > 0, key
    assert doc["dt_element"] <= doc["dt_true"] and doc["dt_nodal"] <= doc["dt_true"]
    assert max(doc["dt_element"], doc["dt_nodal"]) <= doc["dt_global_certified"] <= doc["dt_global"] * (1 + 1e-9)
    assert doc["dt_global_certified"] <= doc["dt_true"] and "metric" in doc and "global_certified" in out
    assert doc["dt_auto"] == doc["safety"] * doc["damping_factor"] * doc["dt_global_certified"]
    assert doc["steps_to_end"]["auto"] == math.ceil(doc["t_end"] / doc["dt_auto"] - 1e-9)


def test_compare_an_unconstrained_law_with_a_spectrally_normalized_one(tmp_path, capsys):
    eps = np.linspace(-0.02, 0.02, 80)
    sig = 1000.0 * np.tanh(eps / 0.01)
    sn = snsurrogate.fit((eps, sig), stress_unit="MPa", epochs=200, polish_epochs=20)
    free = snsurrogate.fit((eps, sig), stress_unit="MPa", epochs=200, polish_epochs=20, unconstrained=True)
    sn.save(tmp_path / "law.pt")
    free.save(tmp_path / "free.pt")
    (tmp_path / "bar.toml").write_text(BAR)
    rc = main(["stability", str(tmp_path / "bar.toml"), "--compare", str(tmp_path / "free.pt"),
               "--json", str(tmp_path / "s.json")])
    out = capsys.readouterr().out
    assert rc == 0 and "unconstrained" in out
    doc = json.loads((tmp_path / "s.json").read_text())
    # bar2: the element step is exactly h sqrt(rho / L) for either law
    h, rho = 2.0, 1.0e-9
    assert doc["dt_element"] == pytest.approx(h * math.sqrt(rho / sn.lipschitz_bound), rel=1e-12)
    other = doc["compare"]
    assert other["lipschitz_bound"] == pytest.approx(free.lipschitz_bound, rel=1e-12)
    assert other["steps_ratio"] == pytest.approx(
        math.sqrt(free.lipschitz_bound / sn.lipschitz_bound), rel=1e-9)


def test_stability_on_a_bad_case_is_a_located_error(tmp_path, capsys):
    (tmp_path / "bad.toml").write_text(BAR.replace("end = 1.0e-3", "ends = 1.0e-3"))
    rc = main(["stability", str(tmp_path / "bad.toml")])
    err = capsys.readouterr().err
    assert rc == 2 and "bad.toml" in err and "did you mean 'end'" in err


# A strip of two triangles in a Gmsh 2.2 file: node 9 is used by no cell and triangle 12 is clockwise.
STRIP_MSH = """$MeshFormat
2.2 0 8
$EndMeshFormat
$Nodes
5
1 0 0 0
2 10 0 0
3 10 10 0
4 0 10 0
9 50 50 0
$EndNodes
$Elements
2
11 2 2 0 1 1 2 3
12 2 2 0 1 1 4 3
$EndElements
"""

STRIP = """
[mesh]
file = "strip.msh"
[material]
type = "linear"
E = 1000.0
nu = 0.3
density = 1.0e-9
[[boundary]]
type = "fixed"
nodes = { x = 0.0 }
[time]
end = 1.0e-5
[output]
progress = false
"""


def test_stability_prints_the_mesh_reader_warnings_like_simulate(tmp_path, capsys):
    (tmp_path / "strip.msh").write_text(STRIP_MSH)
    (tmp_path / "strip.toml").write_text(STRIP)
    assert main(["stability", str(tmp_path / "strip.toml"), "--no-global"]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("warning: ")]
    assert any("removed 1 nodes" in line and "nodes [9] (the file's node numbers)" in line for line in lines), out
    assert any("reversed the node order of 1 of 2 cells" in line and "cells [12]" in line for line in lines), out
    assert main(["simulate", str(tmp_path / "strip.toml"), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    simulated = [line for line in capsys.readouterr().out.splitlines() if line.startswith("warning: ")]
    assert lines == simulated
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["warnings"] == \
        [line.removeprefix("warning: ") for line in lines]


PLATE_MLP = """
[mesh]
generate = "rectangle"
size = [4.0, 2.0]
divisions = [4, 2]
element = "quad4"
[material]
model = "mlp.pt"
density = 1.0e-9
[[boundary]]
type = "fixed"
nodes = { group = "left" }
[time]
end = 1.0e-6
[output]
progress = false
"""


def test_a_plain_mlp_law_in_2d_reports_its_growth_rate_and_is_warned_before_a_run(tmp_path, capsys):
    import torch

    from snsurrogate.model import SurrogateModel
    from snsurrogate.network import Architecture, StressNetwork, freeze

    torch.manual_seed(3)
    net = StressNetwork(Architecture(3, 3, (8, 8), "groupsort", 1e-3, 100.0), spectral=True).double()
    SurrogateModel(freeze(net), {}).save(tmp_path / "mlp.pt")
    (tmp_path / "plate.toml").write_text(PLATE_MLP)
    assert main(["stability", str(tmp_path / "plate.toml"), "--no-global", "--json", str(tmp_path / "s.json")]) == 0
    out = capsys.readouterr().out
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["symmetry_defect"] > 0 and doc["growth_rate"] is not None and doc["min_eigenvalue"] is not None
    assert "growth rate" in out and "||K_t - K_t^T||_F" in out
    assert "warning: the law's tangent is not symmetric by construction" in out and "--law potential" in out

    assert main(["simulate", str(tmp_path / "plate.toml"), "--out", str(tmp_path / "out"), "--quiet"]) in (0, 1)
    out = capsys.readouterr().out
    assert out.index("not symmetric by construction") < out.index("wrote ")
    assert out.count("not symmetric by construction") == 1  # before the run, not again after it
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert any("not symmetric by construction" in w and "--law potential" in w for w in summary["warnings"])


BAR_MLP = """
[mesh]
generate = "line"
length = 10.0
divisions = 10
[material]
model = "soft.pt"
density = 1.0e-9
[[boundary]]
type = "fixed"
nodes = { group = "left" }
[initial]
random_velocity = { amplitude = 100.0, seed = 1 }
[time]
end = 1.0e-6
[output]
progress = false
"""


def test_a_softening_mlp_from_an_old_file_is_flagged_by_info_stability_and_simulate_once(tmp_path, capsys):
    """A 1-D MLP whose slope turns negative on its data box, saved without the fit summary's law_softening
    (as files written before it existed): info, stability and simulate compute and print the warning, and
    simulate prints each law warning once."""
    import torch

    from snsurrogate.model import SurrogateModel
    from snsurrogate.network import Architecture, StressNetwork, freeze
    from snsurrogate.softening import model_softening

    net = StressNetwork(Architecture(1, 1, (2,), "groupsort", 0.1, 100.0), spectral=False).double()
    with torch.no_grad():  # the pair (x, 1) sorted, then +-(max - min): a kink at strain 0.1, slope -+1000 MPa
        first, last = net.linears[0], net.linears[-1]
        first.weight.copy_(torch.tensor([[1.0], [0.0]]))
        first.bias.copy_(torch.tensor([0.0, 1.0]))
        last.weight.copy_(torch.tensor([[-1.0, 1.0]]))
        last.bias.zero_()
    model = SurrogateModel(freeze(net), {"data": {"strain_min": [0.0], "strain_max": [0.2]}})
    assert "law_softening" not in (model.summary or {})
    soft = model_softening(model)
    assert soft.softens and soft.min_tangent == pytest.approx(-1000.0, rel=1e-6)
    model.save(tmp_path / "soft.pt")
    (tmp_path / "bar.toml").write_text(BAR_MLP)

    assert main(["info", str(tmp_path / "soft.pt")]) == 0
    assert re.search(r"warning: the fitted law +softening over", capsys.readouterr().out)
    assert main(["stability", str(tmp_path / "bar.toml"), "--no-global"]) == 0
    assert "warning: the law can soften: softening over" in capsys.readouterr().out
    assert main(["simulate", str(tmp_path / "bar.toml"), "--out", str(tmp_path / "out"), "--quiet"]) in (0, 1)
    out = capsys.readouterr().out
    assert out.count("the law can soften") == 1 and out.index("the law can soften") < out.index("wrote ")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert any(w.startswith("the law can soften: softening over") for w in summary["warnings"])
