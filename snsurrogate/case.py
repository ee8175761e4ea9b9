"""TOML case files for ``snsurrogate simulate``: the schema, reading and validation.

A case file describes one explicit simulation: the mesh, the material, boundary and initial
conditions, the time span and step, damping and output. It is read with :mod:`tomllib` and checked
against :data:`SCHEMA`, the one description of every section and key (kind, unit, default) that both
the validator and the reference below (:func:`schema_reference`, also printed by ``snsurrogate
simulate --help``) are made from. Strings are only ever compared with fixed names, never evaluated.

Units are never assumed: the case is written in one consistent system of the user's choice (e.g. mm,
s, t, MPa, so that forces are in N and energies in mJ); ``[units]`` only names the units for the
outputs. Relative ``file`` and ``model`` paths are taken from the case file's folder.

Errors
------
Every problem is a :class:`snsurrogate.errors.CaseFileError` whose message starts with the case file and names
the section and key, for example::

    bar.toml: [mesh] divisions: expected a positive integer or a list of positive integers [nx, ny(, nz)], got -3
    bar.toml: [time] ends: unknown key; did you mean 'end'?
    bar.toml: [time] end: missing required key (end time [time], positive number)
    bar.toml: [[boundary]] #2 (clamp) nodes: unknown group 'lft' (did you mean 'left'?); the groups are left, right, all
    bar.toml: line 3, column 7: TOML syntax error: Invalid value

Reference (generated from :data:`SCHEMA`)
-----------------------------------------
::

    [units]: names of the units of the one consistent system the case is written in; they are only
            printed in the outputs, never converted
        length = string, default 'length unit': length unit
        time = string, default 'time unit': time unit
        mass = string, default 'mass unit': mass unit
        stress = string, default the model's stress unit, else 'stress unit': stress unit (must match a
            fitted model's)
        force = string, default '<stress> x <length>^2': force unit (= stress x length^2)
        energy = string, default '<force> x <length>': energy unit (= force x length)
    [mesh] (required): the mesh: generated, or read from a file
        generate = 'line' | 'rectangle' | 'box': structured mesh
        file = string: mesh file read by fem.meshfiles (Gmsh .msh, .vtu, ...), relative to the case file
        length = positive number [length]: bar length
        size = [lx, ly(, lz)] [length]: side lengths
        divisions = integer or [nx, ny(, nz)]: number of elements along the bar or each side
        element = 'quad4' | 'tri3' | 'hex8' | 'tet4', default quad4 (rectangle), hex8 (box): element
            type
        jitter = number >= 0, default 0.0: random shift of the interior nodes, in element sizes (< 1/4
            rectangle, < 1/6 box)
        seed = integer, default 0: seed of the jitter
        section = positive number, default 1: bar cross-section area [length^2] or 2-D thickness
            [length]
        with generate = 'line': requires length, divisions; optional section
        with generate = 'rectangle': requires size, divisions; optional element, jitter, seed, section
        with generate = 'box': requires size, divisions; optional element, jitter, seed
        with file: requires nothing else; optional section
    [material] (required): the material law: analytic, or a fitted snsurrogate model
        type = 'linear' | 'cubic': analytic law: fem.LinearElastic or fem.HardeningCubic
        model = string: fitted model file (snsurrogate fit), relative to the case file
        E = positive number [stress]: Young's modulus (cubic: at zero strain)
        nu = number in (-1, 0.5) [-], required unless mode = '1d': Poisson's ratio
        density = positive number [mass/length^3]: mass density
        mode = '1d' | 'plane_strain' | 'plane_stress' | '3d', default from the mesh: 1d, plane_strain,
            3d: kinematics
        eps_h = positive number [-]: hardening strain: the 1-D tangent is 4 E at |strain| = eps_h
        eps_max = positive number [-]: largest strain for which the bound is certified
        with type = 'linear': requires E, density; optional nu, mode
        with type = 'cubic': requires E, eps_h, eps_max, density; optional nu, mode
        with model: requires density
    [[boundary]]: boundary conditions, one table each; a dof may have one kinematic condition
        name = string, default '<type> #<n>': name used in messages
        type = 'fixed' | 'velocity' | 'force' | 'traction': kind of condition
        nodes = node selection [length]: the nodes: { group = "left" }, { x = 0.0 }, { x = [0.0, 1.0], y
            = 5.0, tol = 1e-6 }; keys group, x, y, z (value or [lo, hi]), tol (default 1e-6 x shortest
            edge)
        components = list of 'x', 'y', 'z', default all: the components it acts on
        value = list of numbers: one per component: velocity [length/time], force per node [force],
            traction [stress]
        amplitude = [[t, factor], ...] [time, -], default 1: piecewise-linear factor of time, constant
            outside the table
        with type = 'fixed': requires nodes; optional name, components
        with type = 'velocity': requires nodes, value; optional name, components, amplitude
        with type = 'force': requires nodes, value; optional name, components, amplitude
        with type = 'traction': requires nodes, value; optional name, components, amplitude
    [initial]: initial velocity
        velocity = list of numbers [length/time] (required): one value per mesh dimension
        nodes = node selection [length], default all nodes: the nodes that get it
    [time] (required): time integration (central differences)
        end = positive number [time] (required): end time
        dt = positive number or 'auto' [time], default 'auto': time step; 'auto' = safety x certified
            stable step (element or nodal bound, whichever is larger; reduced for damping)
        safety = number in (0, 1], default 0.9: factor on the certified step (dt = 'auto')
        allow_unsafe_dt = bool, default false: run a user dt above the certified step (warned and
            recorded)
    [damping]: mass-proportional damping
        alpha = number >= 0 [1/time], default 0.0: damping coefficient
    [output]: ParaView frames, probes, progress bar
        frames = positive integer, default 20: number of frames after the initial one (not with every)
        every = positive integer [steps]: a frame every this many steps (not with frames)
        probes = list of node selections [length], default []: nodes whose displacements go into
            history.csv
        progress = bool, default true: progress bar
        give frames or every, not both

Complete example (``examples/cases/plate_impact.toml``)
-------------------------------------------------------
::

    # A steel plate in plane strain, 100 mm x 50 mm, resting against a frictionless rigid wall at x = 0,
    # is pushed at its right edge by a trapezoidal velocity pulse (ramp 2 us, hold, release).
    #
    #   snsurrogate simulate examples/cases/plate_impact.toml --out out/plate_impact
    #
    # Units are never assumed: this case is in mm, s, t, MPa (so force in N, energy in mJ).

    [units]
    length = "mm"
    time = "s"
    mass = "t"
    stress = "MPa"
    force = "N"
    energy = "mJ"

    [mesh]
    generate = "rectangle"        # or "line", "box"; or file = "part.msh" (relative to this file)
    size = [100.0, 50.0]          # [lx, ly], mm
    divisions = [20, 10]
    element = "quad4"             # or "tri3"
    section = 1.0                 # thickness, mm

    [material]
    type = "linear"               # or "cubic"; or model = "law.pt" (a fitted snsurrogate model) + density
    E = 200000.0                  # MPa
    nu = 0.3
    density = 7.85e-9             # t/mm^3
    mode = "plane_strain"         # default for a 2-D mesh

    [[boundary]]
    name = "wall"
    type = "fixed"
    nodes = { group = "left" }
    components = ["x"]            # slides freely along y

    [[boundary]]
    name = "striker"
    type = "velocity"             # or "fixed", "force" (per node, N), "traction" (MPa)
    nodes = { x = 100.0 }         # the right edge (a coordinate, or a group, or [lo, hi] ranges)
    components = ["x"]
    value = [-1000.0]             # mm/s
    amplitude = [[0.0, 0.0], [2.0e-6, 1.0], [8.0e-6, 1.0], [1.0e-5, 0.0]]

    [initial]                     # optional
    velocity = [0.0, 0.0]         # mm/s
    nodes = { group = "all" }

    [time]
    end = 3.0e-5                  # s
    dt = "auto"                   # 0.9 x the certified element-by-element step
    safety = 0.9

    [damping]
    alpha = 0.0                   # mass-proportional, 1/s

    [output]
    frames = 20
    probes = [{ x = 50.0, y = 25.0 }, { x = 100.0, y = 25.0 }]
    progress = true
"""

from __future__ import annotations

import difflib
import math
import os
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CaseFileError

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10: the tomli backport, if installed
    try:
        import tomli as tomllib
    except ModuleNotFoundError:
        tomllib = None

AXES = ("x", "y", "z")


# ---------------------------------------------------------------------------------------------- value kinds
class _Invalid(Exception):
    """A value that does not fit its key; the message is the text after ``where: ``."""


def _show(value: Any) -> str:
    """How a rejected value is quoted in a message."""
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table {" + ", ".join(value) + "}"
    return repr(value)


def _expected(what: str, value: Any) -> _Invalid:
    return _Invalid(f"expected {what}, got {_show(value)}")


def _did_you_mean(word: str, options) -> str:
    close = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _numbers(v: Any, what: str, n: int | None = None, ok=lambda x: True) -> list[float]:
    if isinstance(v, (list, tuple)) and v and all(_is_number(x) and ok(x) for x in v) and n in (None, len(v)):
        return [float(x) for x in v]
    raise _expected(what, v)


def _check_number(v):
    if _is_number(v):
        return float(v)
    raise _expected("a number", v)


def _check_positive(v):
    if _is_number(v) and v > 0:
        return float(v)
    raise _expected("a positive number", v)


def _check_non_negative(v):
    if _is_number(v) and v >= 0:
        return float(v)
    raise _expected("a number >= 0", v)


def _check_fraction(v):
    if _is_number(v) and 0 < v <= 1:
        return float(v)
    raise _expected("a number in (0, 1]", v)


def _check_poisson(v):
    if _is_number(v) and -1 < v < 0.5:
        return float(v)
    raise _expected("a number in (-1, 0.5)", v)


def _check_positive_int(v):
    if _is_int(v) and v >= 1:
        return int(v)
    raise _expected("a positive integer", v)


def _check_int(v):
    if _is_int(v):
        return int(v)
    raise _expected("an integer", v)


def _check_string(v):
    if isinstance(v, str) and v:
        return v
    raise _expected("a non-empty string", v)


def _check_bool(v):
    if isinstance(v, bool):
        return v
    raise _expected("true or false", v)


def _check_divisions(v):
    if _is_int(v) and v >= 1:
        return int(v)
    if isinstance(v, (list, tuple)) and 1 <= len(v) <= 3 and all(_is_int(x) and x >= 1 for x in v):
        return [int(x) for x in v]
    raise _expected("a positive integer or a list of positive integers [nx, ny(, nz)]", v)


def _check_size(v):
    if isinstance(v, (list, tuple)) and len(v) in (2, 3):
        return _numbers(v, "a list of 2 or 3 positive lengths [lx, ly(, lz)]", ok=lambda x: x > 0)
    raise _expected("a list of 2 or 3 positive lengths [lx, ly(, lz)]", v)


def _check_numbers(v):
    if isinstance(v, (list, tuple)) and 1 <= len(v) <= 3:
        return _numbers(v, "a list of 1 to 3 numbers")
    raise _expected("a list of 1 to 3 numbers", v)


def _check_components(v):
    if not (isinstance(v, (list, tuple)) and v and all(isinstance(c, str) for c in v)):
        raise _expected("a list of component names from 'x', 'y', 'z'", v)
    for c in v:
        if c not in AXES:
            raise _Invalid(f"unknown component {c!r}; the components are 'x', 'y', 'z'{_did_you_mean(c, AXES)}")
    if len(set(v)) != len(v):
        raise _Invalid(f"a component is listed twice: {list(v)!r}")
    return list(v)


def _check_dt(v):
    if v == "auto" or (_is_number(v) and v > 0):
        return v if v == "auto" else float(v)
    raise _expected("a positive number or 'auto'", v)


def _check_amplitude(v):
    what = "a list of [time, factor] pairs with increasing times, e.g. [[0.0, 0.0], [1e-6, 1.0]]"
    if not (isinstance(v, (list, tuple)) and v):
        raise _expected(what, v)
    pairs = [_numbers(p, what, n=2) for p in v]
    times = [p[0] for p in pairs]
    if any(b <= a for a, b in zip(times, times[1:])):
        raise _Invalid(f"the times must increase strictly, got {times!r}")
    return pairs


NODE_KEYS = ("group", "x", "y", "z", "tol")
"""Keys of a node selection: a group name and/or coordinates (value or [lo, hi]) with a tolerance."""


def _check_nodes(v):
    if not isinstance(v, dict):
        raise _expected("a node selection like { group = \"left\" } or { x = 0.0 }", v)
    for k in v:
        if k not in NODE_KEYS:
            raise _Invalid(f"unknown key {k!r} in the node selection{_did_you_mean(k, NODE_KEYS)} "
                           f"(the keys are {', '.join(NODE_KEYS)})")
    if not any(k in v for k in ("group", "x", "y", "z")):
        raise _Invalid("a node selection needs a group and/or x, y, z")
    out = {}
    for k, value in v.items():
        if k == "group":
            out[k] = _check_string(value)
        elif k == "tol":
            out[k] = _check_non_negative(value)
        elif _is_number(value):
            out[k] = float(value)
        elif isinstance(value, (list, tuple)) and len(value) == 2 and all(_is_number(x) for x in value) \
                and value[0] <= value[1]:
            out[k] = [float(x) for x in value]
        else:
            raise _Invalid(f"{k}: expected a number or a range [lo, hi] with lo <= hi, got {_show(value)}")
    return out


def _check_node_list(v):
    if not isinstance(v, (list, tuple)):
        raise _expected("a list of node selections, e.g. [{ x = 0.0 }, { group = \"right\" }]", v)
    out = []
    for i, sel in enumerate(v, 1):
        try:
            out.append(_check_nodes(sel))
        except _Invalid as exc:
            raise _Invalid(f"#{i}: {exc}") from None
    return out


@dataclass(frozen=True)
class Kind:
    """A value type of the case file: its name in the documentation and its checker."""

    name: str
    check: Any  # value -> normalised value, raises _Invalid


KINDS = {k.name: k for k in (
    Kind("number", _check_number),
    Kind("positive number", _check_positive),
    Kind("number >= 0", _check_non_negative),
    Kind("number in (0, 1]", _check_fraction),
    Kind("number in (-1, 0.5)", _check_poisson),
    Kind("positive integer", _check_positive_int),
    Kind("integer", _check_int),
    Kind("string", _check_string),
    Kind("bool", _check_bool),
    Kind("integer or [nx, ny(, nz)]", _check_divisions),
    Kind("[lx, ly(, lz)]", _check_size),
    Kind("list of numbers", _check_numbers),
    Kind("list of 'x', 'y', 'z'", _check_components),
    Kind("positive number or 'auto'", _check_dt),
    Kind("[[t, factor], ...]", _check_amplitude),
    Kind("node selection", _check_nodes),
    Kind("list of node selections", _check_node_list),
)}


# ---------------------------------------------------------------------------------------------- the schema
@dataclass(frozen=True)
class Key:
    """One key of a section: value kind, meaning, unit (names from ``[units]``), default."""

    name: str
    kind: str
    doc: str
    unit: str = ""
    default: Any = None  # filled in when the key is absent (None: left absent)
    default_doc: str = ""  # how the default is described, when it is not simply ``default``
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Variant:
    """A form of a section, selected by a key's value (or, with ``value=None``, by the key's presence)."""

    key: str
    value: str | None
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


@dataclass(frozen=True)
class Section:
    """A table (or, with ``array=True``, an array of tables ``[[name]]``) of the case file."""

    name: str
    doc: str
    keys: tuple[Key, ...]
    required: bool = False
    array: bool = False
    variants: tuple[Variant, ...] = ()
    required_keys: tuple[str, ...] = ()  # sections without variants
    exclusive: tuple[tuple[str, str], ...] = ()  # pairs of keys that cannot be given together

    def key(self, name: str) -> Key:
        return next(k for k in self.keys if k.name == name)

    @property
    def label(self) -> str:
        return f"[[{self.name}]]" if self.array else f"[{self.name}]"


_NODES_DOC = "{ group = \"left\" }, { x = 0.0 }, { x = [0.0, 1.0], y = 5.0, tol = 1e-6 }"
_LOADED = ("nodes", "value")
_LOAD_OPTIONAL = ("name", "components", "amplitude")

SCHEMA: tuple[Section, ...] = (
    Section("units", "names of the units of the one consistent system the case is written in; they are "
            "only printed in the outputs, never converted", (
                Key("length", "string", "length unit", default_doc="'length unit'"),
                Key("time", "string", "time unit", default_doc="'time unit'"),
                Key("mass", "string", "mass unit", default_doc="'mass unit'"),
                Key("stress", "string", "stress unit (must match a fitted model's)",
                    default_doc="the model's stress unit, else 'stress unit'"),
                Key("force", "string", "force unit (= stress x length^2)", default_doc="'<stress> x <length>^2'"),
                Key("energy", "string", "energy unit (= force x length)", default_doc="'<force> x <length>'"),
            )),
    Section("mesh", "the mesh: generated, or read from a file", (
        Key("generate", "string", "structured mesh", choices=("line", "rectangle", "box")),
        Key("file", "string", "mesh file read by fem.meshfiles (Gmsh .msh, .vtu, ...), relative to the case file"),
        Key("length", "positive number", "bar length", "length"),
        Key("size", "[lx, ly(, lz)]", "side lengths", "length"),
        Key("divisions", "integer or [nx, ny(, nz)]", "number of elements along the bar or each side"),
        Key("element", "string", "element type", choices=("quad4", "tri3", "hex8", "tet4"),
            default_doc="quad4 (rectangle), hex8 (box)"),
        Key("jitter", "number >= 0", "random shift of the interior nodes, in element sizes (< 1/4 rectangle, "
            "< 1/6 box)", default=0.0),
        Key("seed", "integer", "seed of the jitter", default=0),
        Key("section", "positive number", "bar cross-section area [length^2] or 2-D thickness [length]",
            default_doc="1"),
    ), required=True, variants=(
        Variant("generate", "line", ("length", "divisions"), ("section",)),
        Variant("generate", "rectangle", ("size", "divisions"), ("element", "jitter", "seed", "section")),
        Variant("generate", "box", ("size", "divisions"), ("element", "jitter", "seed")),
        Variant("file", None, (), ("section",)),
    )),
    Section("material", "the material law: analytic, or a fitted snsurrogate model", (
        Key("type", "string", "analytic law: fem.LinearElastic or fem.HardeningCubic", choices=("linear", "cubic")),
        Key("model", "string", "fitted model file (snsurrogate fit), relative to the case file"),
        Key("E", "positive number", "Young's modulus (cubic: at zero strain)", "stress"),
        Key("nu", "number in (-1, 0.5)", "Poisson's ratio", "-", default_doc="required unless mode = '1d'"),
        Key("density", "positive number", "mass density", "mass/length^3"),
        Key("mode", "string", "kinematics", choices=("1d", "plane_strain", "plane_stress", "3d"),
            default_doc="from the mesh: 1d, plane_strain, 3d"),
        Key("eps_h", "positive number", "hardening strain: the 1-D tangent is 4 E at |strain| = eps_h", "-"),
        Key("eps_max", "positive number", "largest strain for which the bound is certified", "-"),
    ), required=True, variants=(
        Variant("type", "linear", ("E", "density"), ("nu", "mode")),
        Variant("type", "cubic", ("E", "eps_h", "eps_max", "density"), ("nu", "mode")),
        Variant("model", None, ("density",)),
    )),
    Section("boundary", "boundary conditions, one table each; a dof may have one kinematic condition", (
        Key("name", "string", "name used in messages", default_doc="'<type> #<n>'"),
        Key("type", "string", "kind of condition", choices=("fixed", "velocity", "force", "traction")),
        Key("nodes", "node selection", f"the nodes: {_NODES_DOC}; keys group, x, y, z (value or [lo, hi]), "
            "tol (default 1e-6 x shortest edge)", "length"),
        Key("components", "list of 'x', 'y', 'z'", "the components it acts on", default_doc="all"),
        Key("value", "list of numbers", "one per component: velocity [length/time], force per node [force], "
            "traction [stress]"),
        Key("amplitude", "[[t, factor], ...]", "piecewise-linear factor of time, constant outside the table",
            "time, -", default_doc="1"),
    ), array=True, variants=(
        Variant("type", "fixed", ("nodes",), ("name", "components")),
        Variant("type", "velocity", _LOADED, _LOAD_OPTIONAL),
        Variant("type", "force", _LOADED, _LOAD_OPTIONAL),
        Variant("type", "traction", _LOADED, _LOAD_OPTIONAL),
    )),
    Section("initial", "initial velocity", (
        Key("velocity", "list of numbers", "one value per mesh dimension", "length/time"),
        Key("nodes", "node selection", "the nodes that get it", "length", default_doc="all nodes"),
    ), required_keys=("velocity",)),
    Section("time", "time integration (central differences)", (
        Key("end", "positive number", "end time", "time"),
        Key("dt", "positive number or 'auto'", "time step; 'auto' = safety x certified stable step (element or "
            "nodal bound, whichever is larger; reduced for damping)", "time", default="auto"),
        Key("safety", "number in (0, 1]", "factor on the certified step (dt = 'auto')", default=0.9),
        Key("allow_unsafe_dt", "bool", "run a user dt above the certified step (warned and recorded)",
            default=False),
    ), required=True, required_keys=("end",)),
    Section("damping", "mass-proportional damping", (
        Key("alpha", "number >= 0", "damping coefficient", "1/time", default=0.0),
    )),
    Section("output", "ParaView frames, probes, progress bar", (
        Key("frames", "positive integer", "number of frames after the initial one (not with every)",
            default_doc="20"),
        Key("every", "positive integer", "a frame every this many steps (not with frames)", "steps"),
        Key("probes", "list of node selections", "nodes whose displacements go into history.csv", "length",
            default=()),
        Key("progress", "bool", "progress bar", default=True),
    ), exclusive=(("frames", "every"),)),
)
SECTIONS = {s.name: s for s in SCHEMA}


# ---------------------------------------------------------------------------------------------- documentation
def schema_reference(width: int = 100) -> str:
    """The case-file reference, generated from :data:`SCHEMA` (the module docstring holds a copy)."""
    lines = []
    for s in SCHEMA:
        lines += textwrap.wrap(f"{s.label}{' (required)' if s.required else ''}: {s.doc}", width,
                               subsequent_indent="        ")
        for k in s.keys:
            kind = " | ".join(repr(c) for c in k.choices) if k.choices else k.kind
            unit = f" [{k.unit}]" if k.unit else ""
            default = k.default_doc or ("" if k.default is None else _toml(k.default))
            req = " (required)" if k.name in s.required_keys else ""
            if default:
                req = f", {default}" if default.startswith("required") else f", default {default}"
            text = f"{k.name} = {kind}{unit}{req}: {k.doc}"
            lines += textwrap.wrap(text, width, initial_indent="    ", subsequent_indent="        ")
        for v in s.variants:
            when = f"{v.key} = {v.value!r}" if v.value is not None else v.key
            text = f"with {when}: requires {', '.join(v.required) or 'nothing else'}"
            text += f"; optional {', '.join(v.optional)}" if v.optional else ""
            lines += textwrap.wrap(text, width, initial_indent="    ", subsequent_indent="        ")
        lines += [f"    give {a} or {b}, not both" for a, b in s.exclusive]
    return "\n".join(lines)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, tuple):
        return "[]" if not value else repr(list(value))
    return repr(value)


# ---------------------------------------------------------------------------------------------- the case
@dataclass
class Case:
    """A validated case.

    Attributes
    ----------
    name
        How messages name the case: the path as given, or ``"<case>"`` for a dict.
    base_dir
        Folder against which the mesh and model paths are resolved (the case file's folder).
    sections
        Section name -> validated table with the defaults filled in (``boundary``: a list of tables;
        absent optional sections: ``{}`` with their defaults, ``initial``: ``None``).
    """

    name: str
    base_dir: Path
    sections: dict[str, Any] = field(default_factory=dict)

    def error(self, where: str, message: str) -> CaseFileError:
        """``CaseFileError("<name>: <where>: <message>")``."""
        return CaseFileError(message, self.name, where)

    def resolve(self, relative: str) -> Path:
        """A path of the case (mesh or model file) relative to :attr:`base_dir`."""
        return self.base_dir / Path(relative).expanduser()

    def boundary_label(self, index: int) -> str:
        """``[[boundary]] #2 (clamp)``: how messages name the ``index``-th (0-based) boundary condition."""
        name = self.sections["boundary"][index].get("name")
        return f"[[boundary]] #{index + 1}" + (f" ({name})" if name else "")


def load_case(source: str | os.PathLike[str] | dict | Case, *, base_dir: str | os.PathLike[str] | None = None
              ) -> Case:
    """Read and validate a case: a TOML file path, a dict of the same structure, or a :class:`Case`.

    ``base_dir`` (default: the file's folder, or the working directory for a dict) resolves relative
    mesh and model paths. Raises :class:`snsurrogate.errors.CaseFileError` naming the file and the key.
    """
    if isinstance(source, Case):
        return source
    if isinstance(source, dict):
        name, raw, folder = "<case>", source, Path.cwd()
    else:
        path = Path(source)
        name, raw, folder = os.fspath(source), read_toml(path), path.parent
    case = Case(name, Path(base_dir) if base_dir is not None else folder)
    case.sections = validate(raw, case)
    return case


def read_toml(path: Path) -> dict:
    """Parse a TOML file; a syntax error becomes ``CaseFileError("<file>: line L, column C: TOML syntax error")``."""
    if tomllib is None:  # pragma: no cover
        raise CaseFileError("reading case files needs Python >= 3.11 (tomllib) or the tomli package", str(path))
    if not path.is_file():
        raise CaseFileError("no such case file" if not path.exists() else "not a file", str(path))
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        text = str(exc)
        m = re.search(r"\s*\(at line (\d+), column (\d+)\)", text)
        where = f"line {m.group(1)}, column {m.group(2)}: " if m else ""
        text = text[: m.start()] + text[m.end():] if m else text
        m_end = re.search(r"\s*\(at end of document\)", text)
        if m_end:
            where, text = "end of file: ", text[: m_end.start()]
        raise CaseFileError(f"{where}TOML syntax error: {text}", str(path)) from None
    except UnicodeDecodeError as exc:
        raise CaseFileError(f"not UTF-8 text (byte {exc.start}); save the case file as UTF-8", str(path)) from None
    except OSError as exc:
        raise CaseFileError(f"cannot read the case file: {exc.strerror or exc}", str(path)) from None


def validate(raw: dict, case: Case) -> dict[str, Any]:
    """Check ``raw`` against :data:`SCHEMA`; return the sections with their defaults filled in."""
    for name in raw:
        if name not in SECTIONS:
            hint = _did_you_mean(name, SECTIONS)
            raise case.error(f"[{name}]", f"unknown section{hint} (the sections are {', '.join(SECTIONS)})")
    out: dict[str, Any] = {}
    for s in SCHEMA:
        value = raw.get(s.name)
        if value is None:
            if s.required:
                raise case.error(s.label, f"missing required section ({s.doc})")
            out[s.name] = [] if s.array else (None if s.required_keys else _table({}, s, case, s.label))
            continue
        if s.array:
            if isinstance(value, dict):
                raise case.error(s.label, f"expected an array of tables (write [[{s.name}]], one per condition), "
                                          f"got a single table [{s.name}]")
            if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
                raise case.error(s.label, f"expected an array of tables [[{s.name}]], got {_show(value)}")
            out[s.name] = []
            for i, table in enumerate(value, 1):
                name = table.get("name")
                label = f"{s.label} #{i}" + (f" ({name})" if isinstance(name, str) and name else "")
                out[s.name].append(_table(table, s, case, label))
        else:
            if not isinstance(value, dict):
                raise case.error(s.label, f"expected a table [{s.name}], got {_show(value)}")
            out[s.name] = _table(value, s, case, s.label)
    return out


def _table(table: dict, s: Section, case: Case, label: str) -> dict[str, Any]:
    """Validate one table of section ``s``: unknown keys, kinds and choices, variant, required keys, defaults."""
    names = [k.name for k in s.keys]
    for key in table:
        if key not in names:
            hint = _did_you_mean(key, names)
            raise case.error(f"{label} {key}", f"unknown key{hint}" + ("" if hint else f" (the keys are "
                                                                                       f"{', '.join(names)})"))
    out: dict[str, Any] = {}
    for key, value in table.items():
        k = s.key(key)
        try:
            out[key] = KINDS[k.kind].check(value)
        except _Invalid as exc:
            raise case.error(f"{label} {key}", str(exc)) from None
        if k.choices and out[key] not in k.choices:
            options = ", ".join(repr(c) for c in k.choices)
            raise case.error(f"{label} {key}", f"expected one of {options}, got {out[key]!r}"
                                               f"{_did_you_mean(out[key], k.choices)}")
    for a, b in s.exclusive:
        if a in out and b in out:
            raise case.error(f"{label} {b}", f"give {a} or {b}, not both")
    required, allowed = s.required_keys, set(names)
    if s.variants:
        variant = _variant(out, s, case, label)
        required, allowed = variant.required, {variant.key, *variant.required, *variant.optional}
        when = f"{variant.key} = {variant.value!r}" if variant.value is not None else variant.key
        for key in out:
            if key not in allowed:
                users = [f"{v.key} = {v.value!r}" if v.value is not None else v.key
                         for v in s.variants if key in v.required + v.optional]
                raise case.error(f"{label} {key}", f"not used with {when}" +
                                 (f" (it belongs to {' / '.join(users)})" if users else ""))
    for key in required:
        if key not in out:
            k = s.key(key)
            unit = f" [{k.unit}]" if k.unit and k.unit != "-" else ""
            raise case.error(f"{label} {key}", f"missing required key ({k.doc}{unit}, {k.kind})")
    for k in s.keys:
        if k.name in allowed and k.name not in out and k.default is not None:
            out[k.name] = list(k.default) if isinstance(k.default, tuple) else k.default
    return out


def _variant(table: dict, s: Section, case: Case, label: str) -> Variant:
    selectors = list(dict.fromkeys(v.key for v in s.variants))
    present = [k for k in selectors if k in table]
    if len(present) > 1:
        raise case.error(f"{label} {present[1]}", f"give either {' or '.join(selectors)}, not both")
    if not present:
        forms = []
        for key in selectors:
            values = [repr(v.value) for v in s.variants if v.key == key and v.value is not None]
            forms.append(f"{key} = {' | '.join(values)}" if values else f"{key} = \"...\"")
        raise case.error(f"{label} {selectors[0]}", f"missing required key (give {' or '.join(forms)})")
    key = present[0]
    return next(v for v in s.variants if v.key == key and v.value in (None, table[key]))
