"""The typed case layer: each branch of the tagged unions, each cross-field rule (a located message), the
generated reference, did-you-mean for unknown keys at every level, dict == TOML, frozen objects, and
``fem`` errors wrapped as :class:`CaseFileError` naming the section and key."""

import copy
import math
import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

import fem
from fem.errors import InputError
from snsurrogate.case import (
    Box,
    Cubic,
    File,
    Fixed,
    Force,
    Line,
    Linear,
    Model,
    NeoHookean,
    NodeSelection,
    Rectangle,
    Traction,
    Velocity,
    load_case,
    schema_reference,
)
from snsurrogate.case.build import build, build_conditions, build_material
from snsurrogate.case.models import SECTIONS
from snsurrogate.cli import main
from snsurrogate.errors import CaseFileError
from snsurrogate.simulation import choose_time_step, simulate

CASES = Path(__file__).resolve().parents[1] / "examples" / "cases"

BAR = {
    "mesh": {"generate": "line", "length": 10.0, "divisions": 10},
    "material": {"type": "linear", "E": 200000.0, "density": 7.85e-9},
    "boundary": [{"name": "clamp", "type": "fixed", "nodes": {"group": "left"}},
                 {"name": "pull", "type": "velocity", "nodes": {"group": "right"}, "value": [100.0]}],
    "time": {"end": 2.0e-6},
}
PLATE = {
    "mesh": {"generate": "rectangle", "size": [10.0, 5.0], "divisions": [2, 1]},
    "material": {"type": "linear", "E": 100.0, "nu": 0.25, "density": 1.0},
    "boundary": [{"name": "wall", "type": "fixed", "nodes": {"x": 0.0}},
                 {"name": "pull", "type": "velocity", "nodes": {"x": 10.0}, "components": ["x"], "value": [1.0]}],
    "time": {"end": 1.0},
}


def case_with(base: dict, **sections) -> dict:
    out = copy.deepcopy(base)
    for name, value in sections.items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out


def message(case: dict) -> str:
    with pytest.raises(CaseFileError) as info:
        load_case(case)
    assert str(info.value).startswith("<case>: ")
    return str(info.value).removeprefix("<case>: ")


# ---------------------------------------------------------------------------------------------- tagged unions
@pytest.mark.parametrize("mesh, cls", [
    ({"generate": "line", "length": 1.0, "divisions": [4]}, Line),
    ({"generate": "rectangle", "size": [1.0, 1.0], "divisions": [2, 2], "element": "tri3"}, Rectangle),
    ({"generate": "box", "size": [1.0, 1.0, 1.0], "divisions": [1, 1, 1]}, Box),
    ({"file": "part.msh", "section": 2.0}, File),
])
def test_each_mesh_variant(mesh, cls):
    material = {"type": "linear", "E": 1.0, "nu": 0.3, "density": 1.0}
    case = load_case({"mesh": mesh, "material": material, "time": {"end": 1.0}})
    assert type(case.mesh) is cls
    if cls is Line:
        assert case.mesh.divisions == 4 and case.mesh.section == 1.0 and case.mesh.dim == 1
    if cls is Rectangle:
        assert case.mesh.element == "tri3" and case.mesh.jitter == 0.0 and case.mesh.divisions == (2, 2)
    if cls is Box:
        assert case.mesh.element == "hex8" and case.mesh.cell_type == "hex8"
    if cls is File:
        assert case.mesh.dim is None and case.mesh.section == 2.0


@pytest.mark.parametrize("material, cls", [
    ({"type": "linear", "E": 1.0, "density": 1.0}, Linear),
    ({"type": "cubic", "E": 1.0, "eps_h": 0.1, "eps_max": 0.2, "density": 1.0, "mode": "1d"}, Cubic),
    ({"type": "neo_hookean", "mu": 1.0, "kappa": 10.0, "density": 1.0}, NeoHookean),
    ({"model": "law.pt", "density": 1.0}, Model),
])
def test_each_material_variant(material, cls):
    case = load_case(case_with(BAR, material=material))
    assert type(case.material) is cls
    if cls in (Linear, Cubic):
        assert case.material.kinematics(1) == "1d" and case.material.nu is None


@pytest.mark.parametrize("bc, cls", [
    ({"type": "fixed", "nodes": {"group": "left"}}, Fixed),
    ({"type": "velocity", "nodes": {"group": "left"}, "value": [1.0]}, Velocity),
    ({"type": "force", "nodes": {"group": "left"}, "value": [1.0], "amplitude": [[0.0, 1.0], [1.0, 0.0]]}, Force),
    ({"type": "traction", "nodes": {"group": "left"}, "value": [1.0]}, Traction),
])
def test_each_boundary_variant(bc, cls):
    case = load_case(case_with(BAR, boundary=[bc]))
    (got,) = case.boundary
    assert type(got) is cls and got.nodes == NodeSelection(group="left") and got.axes(1) == ("x",)
    assert case.boundary_name(0) == f"{bc['type']} #1" and case.boundary_label(0) == "[[boundary]] #1"


def test_defaults_live_in_the_models():
    case = load_case(BAR)
    assert case.time.dt == "auto" and case.time.safety == "auto" and case.time.allow_unsafe_dt is False
    assert case.damping.alpha == 0.0 and case.initial is None
    assert case.output.frames == 20 and case.output.n_frames == 20 and case.output.progress is True
    assert case.output.probes == ()
    assert case.units.names() == {"length": "length unit", "time": "time unit", "mass": "mass unit",
                                  "stress": "stress unit", "force": "stress unit x length unit^2",
                                  "energy": "stress unit x length unit^2 x length unit"}
    assert load_case(case_with(BAR, output={"every": 3})).output.n_frames is None


def test_case_objects_are_frozen():
    case = load_case(BAR)
    with pytest.raises(ValidationError):
        case.time.end = 1.0
    with pytest.raises(ValidationError):
        case.mesh.length = 1.0
    assert isinstance(case.boundary, tuple) and isinstance(case.boundary[1].value, tuple)


# ---------------------------------------------------------------------------------------------- cross-field rules
RULES = {
    "line divisions": (case_with(BAR, mesh={"generate": "line", "length": 1.0, "divisions": [2, 3]}),
                       "[mesh] divisions: expected a positive integer for a line, got [2, 3]"),
    "rectangle divisions": (case_with(PLATE, mesh={"generate": "rectangle", "size": [1.0, 1.0], "divisions": 4}),
                            "[mesh] divisions: expected 2 positive integers [nx, ny], got 4"),
    "box size": (case_with(PLATE, mesh={"generate": "box", "size": [1.0, 1.0], "divisions": [1, 1, 1]}),
                 "[mesh] size: expected 3 positive lengths [lx, ly, lz], got [1.0, 1.0]"),
    "element per generator": (case_with(PLATE, mesh={**PLATE["mesh"], "element": "hex8"}),
                              "[mesh] element: expected one of 'quad4', 'tri3', got 'hex8'"),
    "element hint": (case_with(PLATE, mesh={**PLATE["mesh"], "element": "quad"}),
                     "[mesh] element: expected one of 'quad4', 'tri3', got 'quad'; did you mean 'quad4'?"),
    "rectangle jitter": (case_with(PLATE, mesh={**PLATE["mesh"], "jitter": 0.3}),
                         "[mesh] jitter: expected a number in [0, 0.25) so that no element inverts, got 0.3"),
    "box jitter": (case_with(PLATE, mesh={"generate": "box", "size": [1.0, 1.0, 1.0], "divisions": [1, 1, 1],
                                          "jitter": 0.2}),
                   "[mesh] jitter: expected a number in [0, 0.1667) so that no element inverts, got 0.2"),
    "generate and file": (case_with(BAR, mesh={**BAR["mesh"], "file": "a.msh"}),
                          "[mesh] file: give either generate or file, not both"),
    "no generator": (case_with(BAR, mesh={"length": 1.0}),
                     "[mesh] generate: missing required key (give generate = "
                     "'line' | 'rectangle' | 'plate_with_hole' | "
                     "'box' or "
                     "file = \"...\")"),
    "key of another variant": (case_with(BAR, mesh={**BAR["mesh"], "element": "quad4"}),
                               "[mesh] element: not used with generate = 'line' (it belongs to generate = "
                               "'rectangle' / generate = 'plate_with_hole' / generate = 'box')"),
    "nu unless 1-D": (case_with(PLATE, material={"type": "linear", "E": 1.0, "density": 1.0}),
                      "[material] nu: missing required key (Poisson's ratio, needed for mode 'plane_strain')"),
    "mode fits the mesh": (case_with(PLATE, material={**PLATE["material"], "mode": "1d"}),
                           "[material] mode: mode '1d' does not fit a 2-D mesh (quad4); use plane_strain, "
                           "plane_stress"),
    "cubic modes": (case_with(PLATE, material={"type": "cubic", "E": 1.0, "eps_h": 0.1, "eps_max": 0.2,
                                               "nu": 0.3, "density": 1.0, "mode": "plane_stress"}),
                    "[material] mode: the cubic law supports 1d, plane_strain and 3d"),
    "type and model": (case_with(BAR, material={**BAR["material"], "model": "law.pt"}),
                       "[material] model: give either type or model, not both"),
    "value per component": (case_with(PLATE, boundary=[{**PLATE["boundary"][1], "value": [1.0, 2.0]}]),
                            "[[boundary]] #1 (pull) value: 2 value(s) for 1 component(s) (x); give one per "
                            "component"),
    "value per default component": (case_with(PLATE, boundary=[{"type": "force", "nodes": {"x": 10.0},
                                                                "value": [1.0]}]),
                                    "[[boundary]] #1 value: 1 value(s) for 2 component(s) (x, y)"),
    "component of the mesh": (case_with(PLATE, boundary=[{**PLATE["boundary"][1], "components": ["z"]}]),
                              "[[boundary]] #1 (pull) components: 'z' is not a component of a 2-D mesh; use x, y"),
    "unknown component": (case_with(BAR, boundary=[{"type": "fixed", "nodes": {"group": "left"},
                                                    "components": ["xx"]}]),
                          "[[boundary]] #1 components: unknown component 'xx'; the components are 'x', 'y', 'z'; "
                          "did you mean 'x'?"),
    "component twice": (case_with(PLATE, boundary=[{"type": "fixed", "nodes": {"x": 0.0}, "components": ["x", "x"]}]),
                        "[[boundary]] #1 components: a component is listed twice: ['x', 'x']"),
    "amplitude times": (case_with(BAR, boundary=[{**BAR["boundary"][1], "amplitude": [[0.0, 0.0], [0.0, 1.0]]}]),
                        "[[boundary]] #1 (pull) amplitude: the times must increase strictly, got [0.0, 0.0]"),
    "amplitude pairs": (case_with(BAR, boundary=[{**BAR["boundary"][1], "amplitude": [[0.0, 0.0, 1.0]]}]),
                        "[[boundary]] #1 (pull) amplitude: expected a list of [time, factor] pairs"),
    "boundary type": (case_with(BAR, boundary=[{"type": "fixd", "nodes": {"group": "left"}}]),
                      "[[boundary]] #1 type: expected one of 'fixed', 'velocity', 'force', 'traction', got 'fixd'; "
                      "did you mean 'fixed'?"),
    "boundary without type": (case_with(BAR, boundary=[{"nodes": {"group": "left"}}]),
                              "[[boundary]] #1 type: missing required key (give type = 'fixed' | 'velocity' | "
                              "'force' | 'traction')"),
    "initial per dimension": (case_with(PLATE, initial={"velocity": [1.0]}),
                              "[initial] velocity: expected 2 components (x, y) for a 2-D mesh, got [1.0]"),
    "coordinate of the mesh": (case_with(PLATE, boundary=[{"type": "fixed", "nodes": {"z": 0.0}}]),
                               "[[boundary]] #1 nodes: z: a 2-D mesh has no z coordinate"),
    "probe coordinate": (case_with(BAR, output={"probes": [{"x": 1.0}, {"y": 1.0}]}),
                         "[output] probes: #2: y: a 1-D mesh has no y coordinate"),
    "empty selection": (case_with(BAR, initial={"velocity": [1.0], "nodes": {"tol": 1.0}}),
                        "[initial] nodes: a node selection needs a group and/or x, y, z"),
    "reversed range": (case_with(BAR, boundary=[{"type": "fixed", "nodes": {"x": [2.0, 1.0]}}]),
                       "[[boundary]] #1 nodes: x: expected a number or a range [lo, hi] with lo <= hi, got [2.0, 1.0]"),
    "probe not a table": (case_with(BAR, output={"probes": [{"x": 1.0}, 3]}),
                          "[output] probes: #2: expected a node selection like { group = \"left\" } or { x = 0.0 }, "
                          "got 3"),
    "selection not a table": (case_with(BAR, boundary=[{"type": "fixed", "nodes": "left"}]),
                              "[[boundary]] #1 nodes: expected a node selection like { group = \"left\" }"),
    "frames or every": (case_with(BAR, output={"frames": 2, "every": 3}),
                        "[output] every: give frames or every, not both"),
    "strict numbers": (case_with(BAR, time={"end": True}), "[time] end: expected a positive number, got true"),
    "finite numbers": (case_with(BAR, time={"end": math.inf}), "[time] end: expected a positive number, got inf"),
    "strict integers": (case_with(BAR, mesh={**BAR["mesh"], "divisions": 10.0}),
                        "[mesh] divisions: expected a positive integer for a line, got 10.0"),
    "safety": (case_with(BAR, time={"end": 1.0, "safety": 1.5}),
               "[time] safety: expected a number in (0, 1] or 'auto', got 1.5"),
    "not a table": (case_with(BAR, time=3), "[time]: expected a table [time], got 3"),
    "union not a table": (case_with(BAR, mesh=[1]), "[mesh]: expected a table [mesh], got [1]"),
    "boundary list": (case_with(BAR, boundary=[3]), "[[boundary]] #1: expected an array of tables [[boundary]], got 3"),
    "missing section": (case_with(BAR, material=None),
                        "[material]: missing required section (the material law: analytic, or a fitted snsurrogate "
                        "model)"),
}


@pytest.mark.parametrize("rule", RULES)
def test_cross_field_rules_give_located_messages(rule):
    case, expected = RULES[rule]
    assert expected in message(case)


def test_a_mesh_file_is_checked_against_the_rules_once_read(tmp_path):
    from fem.meshfiles import write_mesh

    write_mesh(tmp_path / "plate.vtu", fem.generate.rectangle(10.0, 5.0, 2, 1, element="tri3"))
    case = case_with(PLATE, mesh={"file": "plate.vtu"}, material={**PLATE["material"], "mode": "3d"})
    loaded = load_case(case, base_dir=tmp_path)  # the dimension is not known yet
    assert isinstance(loaded.mesh, File)
    with pytest.raises(CaseFileError, match=r"^<case>: \[material\] mode: mode '3d' does not fit a 2-D mesh \(tri3\)"):
        build(loaded)
    setup = build(load_case(case_with(case, material=PLATE["material"]), base_dir=tmp_path))
    assert setup.mesh.dim == 2 and setup.case == load_case(case_with(case, material=PLATE["material"]))


# ---------------------------------------------------------------------------------------------- unknown keys
def variants_of_every_table():
    """``(case, path to a table, key)`` for every key of every table (each variant of each union)."""
    material = {"linear": {"type": "linear", "E": 1.0, "density": 1.0},
                "cubic": {"type": "cubic", "E": 1.0, "eps_h": 0.1, "eps_max": 0.2, "density": 1.0},
                "neo_hookean": {"type": "neo_hookean", "mu": 1.0, "kappa": 10.0, "density": 1.0},
                "ogden": {"type": "ogden", "mu": [1.0], "alpha": [2.0], "kappa": 10.0, "density": 1.0},
                "model": {"model": "law.pt", "density": 1.0}}
    mesh = {"line": BAR["mesh"], "rectangle": PLATE["mesh"],
            "plate_with_hole": {"generate": "plate_with_hole", "width": 2.0, "radius": 0.5, "divisions": [2, 2]},
            "box": {"generate": "box", "size": [1.0, 1.0, 1.0], "divisions": [1, 1, 1]}, "file": {"file": "a.msh"}}
    boundary = {t: {"type": t, "nodes": {"group": "left"}, "value": [1.0]} for t in ("velocity", "force", "traction")}
    boundary["fixed"] = {"type": "fixed", "nodes": {"group": "left"}}
    out = []
    for name, variants in SECTIONS.items():
        for variant in variants:
            base = case_with(BAR, initial={"velocity": [0.0]})
            path = (name,)
            if name == "mesh":
                base["mesh"] = dict(mesh[variant.tag()])
            elif name == "material":
                base["material"] = dict(material[variant.tag()])
            elif name == "boundary":
                base["boundary"] = [dict(boundary[variant.tag()])]
                path = ("boundary", 0)
            for key in variant.model_fields:
                out.append((base, path, key))
    for key in NodeSelection.model_fields:
        out.append((case_with(BAR), ("boundary", 0, "nodes"), key))
    return out


@pytest.mark.parametrize("base, path, key", variants_of_every_table(), ids=lambda v: str(v) if isinstance(v, str)
                         else None)
def test_unknown_keys_at_every_level_get_a_did_you_mean(base, path, key):
    case = copy.deepcopy(base)
    table = case
    for step in path:
        table = table.setdefault(step, {}) if isinstance(step, str) else table[step]
    table[key + "s"] = 1.0
    text = message(case)
    if path[-1] == "nodes":
        assert f"nodes: unknown key '{key}s' in the node selection; did you mean '{key}'?" in text, text
    else:
        assert f"{key}s: unknown key; did you mean '{key}'?" in text, text


def test_unknown_section_gets_a_did_you_mean():
    assert message(case_with(BAR, tme={"end": 1.0})).startswith("[tme]: unknown section; did you mean 'time'?")


def test_an_unknown_key_without_a_close_one_lists_the_keys():
    assert message(case_with(BAR, time={"end": 1.0, "qqq": 1})) == \
        ("[time] qqq: unknown key (the keys are end, dt, safety, allow_unsafe_dt, allow_long_run, energy_warn, "
         "energy_stop)")


# ---------------------------------------------------------------------------------------------- reference
def test_the_reference_names_every_key_of_every_model_with_unit_and_default():
    text = schema_reference()
    for name, variants in SECTIONS.items():
        assert (f"[[{name}]]" if name == "boundary" else f"[{name}]") in text
        for variant in (*variants, NodeSelection):
            for key in variant.model_fields:
                assert f"{key} = " in text, (variant.__name__, key)
    for line in ("end = positive number [time] (required): end time",
                 "safety = number in (0, 1] or 'auto', default 'auto': factor on the certified step",
                 "alpha = number >= 0 [1/time], default 0.0: damping coefficient",
                 "element = 'quad4' | 'tri3', default 'quad4': element type",
                 "generate = 'line': a bar along x", "file = string: mesh file, relative to the case file",
                 "model = string: fitted model file", "type = 'traction': surface traction [stress]"):
        assert line in text, line


def test_simulate_help_shows_the_generated_reference(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "--help"])
    out = capsys.readouterr().out
    assert exc.value.code == 0
    assert "case file reference:" in out and schema_reference(width=96) in out


# ---------------------------------------------------------------------------------------------- dict == TOML
@pytest.mark.parametrize("path", sorted(CASES.glob("*.toml")), ids=lambda p: p.stem)
def test_a_dict_and_the_equivalent_toml_file_give_equal_cases(path):
    from_file = load_case(path)
    from_dict = load_case(tomllib.loads(path.read_text()), base_dir=path.parent)
    assert from_file == from_dict and from_file.name == str(path) and from_dict.name == "<case>"
    assert from_file.base_dir == from_dict.base_dir == path.parent
    changed = tomllib.loads(path.read_text())
    changed["time"]["end"] *= 2
    assert load_case(changed) != from_file
    assert load_case(from_file) is from_file


def test_simulate_accepts_a_loaded_case(tmp_path):
    case = load_case(case_with(BAR, output={"progress": False, "frames": 2}))
    s = simulate(case, tmp_path).summary
    assert s["case"] == "<case>" and s["stable"] and s["frames"] == 3  # and the initial one


def test_choose_time_step_returns_the_typed_time_step():
    case = load_case(BAR)
    step = choose_time_step(build(case).solver, case.time)
    assert isinstance(step, fem.TimeStep)
    assert step.dt == pytest.approx(0.9 * step.dt_certified, rel=1e-14) and step.method.startswith("auto")


# ---------------------------------------------------------------------------------------------- fem errors
def test_an_input_error_of_fem_names_the_section_and_key():
    """A traction on nodes that bound no facet: fem's boundary check (``parameter = "nodes"``)."""
    case = load_case(case_with(PLATE, boundary=[{"name": "load", "type": "traction", "nodes": {"x": 5.0},
                                                 "components": ["x"], "value": [1.0]}]))
    with pytest.raises(CaseFileError) as info:
        build(case)
    assert str(info.value).startswith("<case>: [[boundary]] nodes: load: no boundary facet")
    assert isinstance(info.value.__cause__, InputError) and info.value.__cause__.parameter == "nodes"


def test_input_errors_of_fem_conditions_and_materials_are_wrapped():
    """Values that the models would refuse, forced past them, are refused by fem and located by the case."""
    case = load_case(PLATE)
    mesh = fem.generate.rectangle(10.0, 5.0, 2, 1)
    pull = case.boundary[1]
    bad_amplitude = case.model_copy(update={"boundary": (pull.model_copy(update={
        "amplitude": ((0.0, 0.0), (math.nan, 1.0))}),)})
    with pytest.raises(CaseFileError, match=r"^<case>: \[\[boundary\]\] #1 \(pull\) amplitude: amplitude: times") as e:
        build_conditions(bad_amplitude, mesh)
    assert e.value.__cause__.parameter == "amplitude" and e.value.where == "[[boundary]] #1 (pull) amplitude"
    bad_component = case.model_copy(update={"boundary": (pull.model_copy(update={"components": ("z",)}),)})
    conditions, _ = build_conditions(bad_component, mesh)  # fem checks components when it builds the solver
    with pytest.raises(CaseFileError, match=r"^<case>: \[\[boundary\]\] components: pull: unknown component 'z'"):
        build(bad_component.located("<case>", Path.cwd()))
    bad_modulus = case.model_copy(update={"material": case.material.model_copy(update={"E": -1.0})})
    with pytest.raises(CaseFileError, match=r"^<case>: \[material\] E: E must be a positive number") as e:
        build_material(bad_modulus, mesh)
    assert isinstance(e.value.__cause__, InputError)
