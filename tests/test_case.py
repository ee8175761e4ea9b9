"""TOML case files and ``snsurrogate simulate``: the examples run, the bar impact is exact, every input
error names the file and the key, fitted models run, and an unstable run is reported (exit 1)."""

import json
import math
import textwrap
import tomllib
from pathlib import Path

import meshio
import numpy as np
import pytest

import snsurrogate
from fem import generate
from snsurrogate import case as case_module
from snsurrogate.case import load_case, schema_reference
from snsurrogate.cli import main
from snsurrogate.errors import CaseFileError as CaseError
from snsurrogate.simulation import simulate

CASES = Path(__file__).resolve().parents[1] / "examples" / "cases"
EXAMPLES = sorted(CASES.glob("*.toml"))
REQUIRED = ("steps", "dt", "t_end", "stable", "energy_error", "wall_seconds", "dt_method", "dt_certified", "safety",
            "lipschitz_bound", "n_nodes", "n_elements", "element", "material", "warnings", "units")

BAR = """\
[units]
length = "mm"
time = "s"
stress = "MPa"

[mesh]
generate = "line"
length = 10.0
divisions = 10

[material]
type = "linear"
E = 200000.0
density = 7.85e-9

[[boundary]]
name = "clamp"
type = "fixed"
nodes = { group = "left" }

[[boundary]]
name = "pull"
type = "velocity"
nodes = { group = "right" }
value = [100.0]

[time]
end = 2.0e-6
"""


def write(tmp_path: Path, text: str, name: str = "bar.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def cli(argv, capsys):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def last_frame(out_dir: Path) -> meshio.Mesh:
    return meshio.read(sorted((out_dir / "frames").glob("*.vtu"))[-1])


def history(out_dir: Path) -> dict[str, np.ndarray]:
    lines = [ln for ln in (out_dir / "history.csv").read_text().splitlines() if not ln.startswith("#")]
    names = lines[0].split(",")
    values = np.array([[float(x) for x in ln.split(",")] for ln in lines[1:]])
    return dict(zip(names, values.T))


# ---------------------------------------------------------------------------------------------- examples
def test_there_are_example_cases():
    assert {p.name for p in EXAMPLES} >= {"bar_impact.toml", "plate_impact.toml"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_case_runs_through_the_cli(path, tmp_path, capsys):
    rc, out, err = cli(["simulate", path, "--out", tmp_path, "--quiet"], capsys)
    assert rc == 0, err
    s = json.loads((tmp_path / "summary.json").read_text())
    for key in REQUIRED:
        assert key in s, key
    end = tomllib.loads(path.read_text())["time"]["end"]
    assert s["stable"] is True and "unstable_at" not in s
    assert (tmp_path / "results.pvd").is_file() and (tmp_path / "history.csv").is_file()
    assert len(list((tmp_path / "frames").glob("*.vtu"))) == s["frames"] >= 2
    if s.get("kinematics") == "finite":  # the step recomputed at every state
        assert s["t_end"] == pytest.approx(end, rel=1e-9) and s["energy_drift"] < 1e-3
        assert 0 < s["dt_min"] <= s["dt_max"] and end / s["dt_max"] <= s["steps"] <= end / s["dt_min"] + 1
        assert s["dt_method"].startswith("auto") and len(s["dt_history"]["dt"]) > 10
        assert "recomputed every step" in out and str(tmp_path / "results.pvd") in out
        return
    assert 0 <= s["energy_error"] < 1e-6
    assert s["steps"] == math.ceil(end / s["dt"] - 1e-9)
    assert s["t_end"] == pytest.approx(s["steps"] * s["dt"], rel=1e-12) and s["t_end"] >= end * (1 - 1e-9)
    assert s["dt_method"].startswith("auto")
    assert s["dt"] == pytest.approx(s["safety"] * s["damping_factor"] * s["dt_certified"], rel=1e-14)
    assert s["dt_certified"] == max(s["dt_element"], s["dt_nodal"], s["dt_global_certified"] or 0.0)
    assert s["dt_global_certified"] is not None  # small meshes: the certified global bound is computed
    assert s["lipschitz_bound"] > 0 and s["n_elements"] > 0 and s["wall_seconds"] > 0
    assert s["units"]["dt"] == "s" and s["units"]["lipschitz_bound"] == "MPa per unit strain"
    assert (tmp_path / "results.pvd").is_file() and (tmp_path / "history.csv").is_file()
    assert len(list((tmp_path / "frames").glob("*.vtu"))) == s["frames"] >= 2
    assert "stable" in out and "MPa per unit strain" in out and str(tmp_path / "results.pvd") in out


def test_bar_impact_reproduces_the_analytic_stress_behind_the_front(tmp_path):
    """d'Alembert: behind the front sigma = -rho c v0, ahead zero; at Courant number 1 to round-off."""
    path = CASES / "bar_impact.toml"
    spec = tomllib.loads(path.read_text())
    E, rho, v0 = spec["material"]["E"], spec["material"]["density"], spec["boundary"][0]["value"][0]
    c = math.sqrt(E / rho)
    result = simulate(path, tmp_path, progress=False)
    t = result.summary["t_end"]
    frame = last_frame(tmp_path)
    x = frame.points[frame.cells[0].data][:, :, 0]  # (n_el, 2) node x of each element [mm]
    sig = frame.cell_data["stress"][0][:, 0]
    behind, ahead = x[:, 1] < c * t - 2.0, x[:, 0] > c * t + 2.0
    assert behind.sum() >= 50 and ahead.sum() >= 40
    assert np.allclose(sig[behind], -rho * c * v0, rtol=1e-6)
    assert np.abs(sig[ahead]).max() <= 1e-9 * rho * c * v0
    h = history(tmp_path)  # probe at x = 25: u = v0 (t - x / c)+
    assert h["u25_x"][-1] == pytest.approx(v0 * (h["time"][-1] - 25.0 / c), rel=1e-6)


@pytest.mark.parametrize("safety", [0.5, 0.9, 1.0])
def test_auto_dt_is_safety_times_h_sqrt_rho_over_E_for_a_uniform_bar(safety, tmp_path):
    E, rho, length, n = 3.0, 2.0, 2.0, 8
    case = {"mesh": {"generate": "line", "length": length, "divisions": n},
            "material": {"type": "linear", "E": E, "density": rho},
            "boundary": [{"type": "fixed", "nodes": {"group": "left"}}],
            "initial": {"velocity": [0.1]},
            "time": {"end": 1.0, "safety": safety}, "output": {"progress": False}}
    s = simulate(case, tmp_path).summary
    assert s["dt"] == pytest.approx(safety * (length / n) * math.sqrt(rho / E), rel=1e-12)
    assert s["dt_method"] == f"auto: {safety:g} x certified element step"
    assert s["steps"] == math.ceil(1.0 / s["dt"] - 1e-9)


def test_a_mesh_file_relative_to_the_case_file(tmp_path):
    from fem.meshfiles import write_mesh

    (tmp_path / "part").mkdir()
    write_mesh(tmp_path / "part" / "plate.vtu", generate.rectangle(2.0, 1.0, 4, 2, element="tri3"))
    text = """\
        [mesh]
        file = "plate.vtu"
        section = 0.5
        [material]
        type = "linear"
        E = 100.0
        nu = 0.25
        density = 1.0
        [[boundary]]
        type = "fixed"
        nodes = { x = 0.0 }
        [[boundary]]
        type = "traction"
        nodes = { x = 2.0 }
        components = ["x"]
        value = [1.0]
        amplitude = [[0.0, 0.0], [0.5, 1.0]]
        [time]
        end = 1.0
        [output]
        every = 5
        """
    path = write(tmp_path / "part", textwrap.dedent(text), "plate.toml")
    s = simulate(path, tmp_path / "out", progress=False).summary
    assert s["stable"] and s["element"] == "tri3" and s["n_elements"] == 16 and s["energy_error"] < 1e-6


def test_the_docstring_holds_the_generated_reference_and_the_plate_example():
    doc = case_module.__doc__
    assert textwrap.indent(schema_reference(), "    ").replace("\n    \n", "\n\n") in doc
    example = (CASES / "plate_impact.toml").read_text()
    assert textwrap.indent(example, "    ") in doc + "\n"
    load_case(CASES / "plate_impact.toml")  # valid


# ---------------------------------------------------------------------------------------------- errors
ERRORS = {
    "unknown key": (BAR.replace("end = 2.0e-6", "ends = 2.0e-6"), "[time] ends: unknown key; did you mean 'end'?"),
    "unknown section": (BAR + "[outptu]\nframes = 2\n", "[outptu]: unknown section; did you mean 'output'?"),
    "wrong type": (BAR.replace("length = 10.0", 'length = "10.0"'),
                   "[mesh] length: expected a positive number, got the string '10.0'"),
    "bad integer": (BAR.replace("divisions = 10", "divisions = -3"), "[mesh] divisions: expected a positive integer"),
    "missing key": (BAR.replace("E = 200000.0\n", ""), "[material] E: missing required key"),
    "missing section": (BAR.replace("[time]\nend = 2.0e-6\n", ""), "[time]: missing required section"),
    "bad group": (BAR.replace('"left"', '"lft"'),
                  "[[boundary]] #1 (clamp) nodes: unknown group 'lft' (did you mean 'left'?); "
                  "the groups are left, right, all"),
    "node selection key": (BAR.replace('{ group = "left" }', '{ grp = "left" }'),
                           "[[boundary]] #1 (clamp) nodes: unknown key 'grp' in the node selection; did you mean"),
    "no node there": (BAR.replace('{ group = "right" }', "{ x = 3.3 }"),
                      "[[boundary]] #2 (pull) nodes: no node matches x = 3.3"),
    "toml syntax": (BAR.replace("length = 10.0", "length = = 10.0"), "line 8, column 10: TOML syntax error"),
    "missing model file": (BAR.replace('type = "linear"\nE = 200000.0', 'model = "law.pt"'),
                           "[material] model: no such model file"),
    "missing mesh file": (BAR.replace('generate = "line"\nlength = 10.0\ndivisions = 10', 'file = "part.msh"'),
                          "[mesh] file: no such mesh file"),
    "unknown material type": (BAR.replace('type = "linear"', 'type = "elastic"'),
                              "[material] type: expected one of 'linear', 'cubic', 'neo_hookean', 'ogden', "
                              "got 'elastic'"),
    "negative end": (BAR.replace("end = 2.0e-6", "end = -2.0e-6"),
                     "[time] end: expected a positive number, got -2e-06"),
    "dt bad string": (BAR.replace("end = 2.0e-6", 'end = 2.0e-6\ndt = "small"'),
                      "[time] dt: expected a positive number or 'auto', got the string 'small'"),
    "key of another variant": (BAR.replace("divisions = 10", "divisions = 10\njitter = 0.1"),
                               "[mesh] jitter: not used with generate = 'line'"),
    "component": (BAR.replace("value = [100.0]", 'value = [100.0]\ncomponents = ["y"]'),
                  "[[boundary]] #2 (pull) components: 'y' is not a component of a 1-D mesh"),
    "value count": (BAR.replace("value = [100.0]", "value = [100.0, 1.0]"),
                    "[[boundary]] #2 (pull) value: 2 value(s) for 1 component(s)"),
    "mode": (BAR.replace("density = 7.85e-9", 'density = 7.85e-9\nmode = "3d"'),
             "[material] mode: mode '3d' does not fit a 1-D mesh"),
    "frames and every": (BAR + "[output]\nframes = 2\nevery = 3\n", "[output] every: give frames or every, not both"),
    "single boundary table": (BAR.replace('[[boundary]]\nname = "pull"\ntype = "velocity"\n'
                                          'nodes = { group = "right" }\nvalue = [100.0]\n\n', "")
                              .replace("[[boundary]]", "[boundary]"),
                              "[[boundary]]: expected an array of tables (write [[boundary]], one per condition)"),
}


@pytest.mark.parametrize("kind", ERRORS)
def test_case_errors_name_the_file_and_the_key(kind, tmp_path):
    text, expected = ERRORS[kind]
    path = write(tmp_path, text)
    with pytest.raises(CaseError) as info:
        simulate(path, tmp_path / "out", progress=False)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert expected in message, message
    assert not (tmp_path / "out" / "summary.json").exists()


def test_cli_reports_case_errors_with_exit_status_2(tmp_path, capsys):
    path = write(tmp_path, BAR.replace("end = 2.0e-6", "ends = 2.0e-6"))
    rc, out, err = cli(["simulate", path, "--out", tmp_path / "out"], capsys)
    assert rc == 2 and err.startswith(f"error: {path}: [time] ends: unknown key") and "Traceback" not in err
    rc, out, err = cli(["simulate", tmp_path / "nope.toml", "--out", tmp_path / "out"], capsys)
    assert rc == 2 and "nope.toml: no such case file" in err


# ---------------------------------------------------------------------------------------------- models
@pytest.fixture(scope="module")
def bar_model(tmp_path_factory):
    """A tiny 1-component law fitted to sigma = E eps (1 + (eps / 0.02)^2), MPa."""
    eps = np.linspace(-0.01, 0.01, 41)[:, None]
    sig = 200000.0 * eps * (1 + (eps / 0.02) ** 2)
    model = snsurrogate.fit((eps, sig), stress_unit="MPa", hidden=(8, 8), epochs=50, optimizer="adam", seed=0)
    path = tmp_path_factory.mktemp("model") / "law.pt"
    model.save(path)
    return path, model


def model_case(model_path: Path) -> str:
    return BAR.replace('type = "linear"\nE = 200000.0', f'model = "{model_path.name}"')


def test_a_fitted_model_runs_a_bar_at_its_certified_step(bar_model, tmp_path):
    path, model = bar_model
    case = write(path.parent, model_case(path), "bar_model.toml")
    s = simulate(case, tmp_path, progress=False).summary
    L = model.lipschitz_bound
    assert s["stable"] and s["energy_error"] < 1e-6
    assert s["lipschitz_bound"] == pytest.approx(L, rel=1e-6)
    assert s["dt_certified"] == pytest.approx(1.0 * math.sqrt(7.85e-9 / s["lipschitz_bound"]), rel=1e-12)
    assert "fitted model 'law.pt'" in s["material"] and s["units"]["lipschitz_bound"] == "MPa per unit strain"


def test_model_errors(bar_model, tmp_path):
    path, _ = bar_model
    plate = model_case(path).replace('generate = "line"\nlength = 10.0\ndivisions = 10',
                                     'generate = "rectangle"\nsize = [10.0, 5.0]\ndivisions = [2, 1]')
    with pytest.raises(CaseError, match=r"plate\.toml: \[material\] model: 'law.pt' maps 1 strain to 1 stress "
                                        r"components; a 2-D mesh \(quad4\) needs 3"):
        simulate(write(path.parent, plate, "plate.toml"), tmp_path, progress=False)
    pascal = model_case(path).replace('stress = "MPa"', 'stress = "Pa"')
    with pytest.raises(CaseError, match=r"pascal\.toml: \[units\] stress: 'Pa', but the fitted model's stress unit "
                                        r"is 'MPa'"):
        simulate(write(path.parent, pascal, "pascal.toml"), tmp_path, progress=False)
    (path.parent / "broken.pt").write_bytes(b"not a model")
    broken = model_case(path).replace("law.pt", "broken.pt")
    with pytest.raises(CaseError, match=r"broken_case\.toml: \[material\] model: .*broken\.pt: "):
        simulate(write(path.parent, broken, "broken_case.toml"), tmp_path, progress=False)


def test_the_fitted_model_s_stress_unit_is_checked_against_the_case_s_units(bar_model, tmp_path):
    path, _ = bar_model
    metres = model_case(path).replace('length = "mm"\ntime = "s"\nstress = "MPa"',
                                      'length = "m"\ntime = "s"\nmass = "t"')
    with pytest.raises(CaseError, match=r"metres\.toml: \[units\] stress: the fitted model's stress unit: 'MPa' is "
                                        r"not consistent with length 'm', time 's', mass 't'.*must be 'kPa'"):
        simulate(write(path.parent, metres, "metres.toml"), tmp_path, progress=False)


# ---------------------------------------------------------------------------------------------- instability
def test_a_step_above_the_certified_one_is_refused_without_the_override(tmp_path, capsys):
    h_over_c = 1.0 * math.sqrt(7.85e-9 / 200000.0)
    text = BAR.replace("end = 2.0e-6", f"end = {400 * h_over_c!r}\ndt = {1.01 * h_over_c!r}")
    (tmp_path / "out").mkdir()
    rc, out, err = cli(["simulate", write(tmp_path, text), "--out", tmp_path / "out", "--quiet"], capsys)
    assert rc == 2
    assert "[time] dt:" in err and "certified stable step" in err and "allow_unsafe_dt = true" in err
    assert not (tmp_path / "out" / "summary.json").exists()


def test_a_step_far_above_the_critical_one_is_reported_unstable(tmp_path, capsys):
    h_over_c = 1.0 * math.sqrt(7.85e-9 / 200000.0)
    text = BAR.replace("end = 2.0e-6", f"end = {400 * h_over_c!r}\ndt = {3 * h_over_c!r}\nallow_unsafe_dt = true")
    text += "[output]\nframes = 50\nprobes = [{ x = 5.0 }]\n"
    rc, out, err = cli(["simulate", write(tmp_path, text), "--out", tmp_path / "out", "--quiet"], capsys)
    assert rc == 1, err
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert s["stable"] is False and s["dt_method"] == "user" and s["unsafe_dt"] is True
    assert s["dt_over_certified"] == pytest.approx(3.0)
    at = s["unstable_at"]
    assert 0 < at["step"] < 133 and at["time"] == pytest.approx(at["step"] * s["dt"]) and at["element"] in range(10)
    assert "unstable at step" in at["message"] and s["units"]["unstable_at.time"] == "s"
    assert any("times the certified stable step" in w for w in s["warnings"])
    assert (tmp_path / "out" / "history.csv").is_file() and (tmp_path / "out" / "results.pvd").is_file()
    assert len(list((tmp_path / "out" / "frames").glob("*.vtu"))) >= 1
    assert "u5_x" in history(tmp_path / "out")
    assert "UNSTABLE" in out and "unstable at step" in out
