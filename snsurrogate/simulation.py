"""Run a case (:mod:`snsurrogate.case`) with the explicit solver of :mod:`fem`: :func:`simulate`.

The case is turned into a mesh, a material (analytic, or a fitted model through
:func:`snsurrogate.material.as_material`), boundary and initial conditions and an
:class:`fem.ExplicitSolver`; the time step is chosen by :func:`choose_time_step`; the run writes
``results.pvd``, ``frames/`` and ``history.csv`` (:class:`fem.OutputWriter`) and then ``summary.json``
(atomically). A run that becomes unstable is not an error here: its summary says ``stable: false``
and where it happened.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import time as _time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import fem
from fem.atomic import write_text
from fem.errors import InputError, InstabilityError, MeshError
from fem.kinematics import VOIGT_SIZE
from fem.materials import MODES

from .case import AXES, Case, load_case
from .errors import CaseFileError, SnsurrogateError

DEFAULT_MODE = {1: "1d", 2: "plane_strain", 3: "3d"}
DEFAULT_FRAMES = 20
CONDITIONS = {"fixed": fem.Fixed, "velocity": fem.Velocity, "force": fem.NodalForce, "traction": fem.Traction}


@dataclass
class Setup:
    """Everything built from a case, ready to run."""

    mesh: fem.Mesh
    material: Any
    material_description: str
    solver: fem.ExplicitSolver
    units: dict[str, str]
    probes: list[dict] = field(default_factory=list)  # {"selection": {...}, "nodes": [...]}
    warnings: list[str] = field(default_factory=list)

    @property
    def probe_nodes(self) -> list[int]:
        return sorted({n for p in self.probes for n in p["nodes"]})


@dataclass
class SimulationResult:
    """What :func:`simulate` produced.

    Attributes
    ----------
    summary
        The content of ``summary.json``.
    out_dir
        The output folder (``results.pvd``, ``frames/``, ``history.csv``, ``summary.json``).
    result
        The solver's :class:`fem.Result`, or ``None`` when the run became unstable.
    instability
        The :class:`fem.errors.InstabilityError` that stopped the run, or ``None``.
    snapshots
        With ``simulate(..., keep_frames=True)``: ``(time, strain, stress)`` of every frame written,
        element-averaged ``(n_el, n_voigt)`` arrays [time, -, stress] (see :class:`fem.OutputWriter`).
    """

    summary: dict[str, Any]
    out_dir: Path
    result: fem.Result | None = None
    instability: InstabilityError | None = None
    snapshots: list = field(default_factory=list)

    @property
    def history(self) -> dict[str, np.ndarray]:
        """The energy history of the run, stable or not (see :class:`fem.Result`)."""
        return self.result.history if self.result is not None else self.instability.history

    @property
    def stable(self) -> bool:
        return self.instability is None

    @property
    def summary_path(self) -> Path:
        return self.out_dir / "summary.json"


@contextmanager
def _where(case: Case, where: str):
    """Re-raise a ``fem`` input error (or a model-file error) with the case name and the key in front."""
    try:
        yield
    except (InputError, MeshError, SnsurrogateError) as exc:
        if isinstance(exc, CaseFileError) and exc.file is not None:
            raise
        text = str(exc)
        for prefix in ("select_nodes: ", "material: "):
            text = text.removeprefix(prefix)
        raise case.error(where, text) from None


# ---------------------------------------------------------------------------------------------- mesh
def build_mesh(case: Case) -> tuple[fem.Mesh, list[str]]:
    """The mesh of ``[mesh]`` and the notes of reading it (file meshes)."""
    m = case.sections["mesh"]
    if "file" in m:
        path = case.resolve(m["file"])
        if not path.is_file():
            raise case.error("[mesh] file", f"no such mesh file '{path}'")
        from fem.meshfiles import read_mesh_with_warnings

        with _where(case, "[mesh] file"):
            return read_mesh_with_warnings(path)
    kind, div = m["generate"], m["divisions"]
    if kind == "line":
        if isinstance(div, list):
            if len(div) != 1:
                raise case.error("[mesh] divisions", f"expected a positive integer for a line, got {div!r}")
            div = div[0]
        with _where(case, "[mesh]"):
            return fem.generate.line(m["length"], div), []
    dim = 2 if kind == "rectangle" else 3
    names = "[lx, ly]" if dim == 2 else "[lx, ly, lz]"
    if len(m["size"]) != dim:
        raise case.error("[mesh] size", f"generate = {kind!r} needs {dim} lengths {names}, got {m['size']!r}")
    if not isinstance(div, list) or len(div) != dim:
        raise case.error("[mesh] divisions", f"generate = {kind!r} needs {dim} positive integers "
                                             f"{names.replace('l', 'n')}, got {div!r}")
    elements = ("quad4", "tri3") if dim == 2 else ("hex8", "tet4")
    element = m.get("element", elements[0])
    if element not in elements:
        raise case.error("[mesh] element", f"generate = {kind!r} takes {' or '.join(map(repr, elements))}, "
                                           f"got {element!r}")
    limit = fem.generate.RECTANGLE_JITTER_LIMIT if dim == 2 else fem.generate.BOX_JITTER_LIMIT
    if not m["jitter"] < limit:
        raise case.error("[mesh] jitter", f"expected a number in [0, {limit:.4g}) so that no element inverts, "
                                          f"got {m['jitter']!r}")
    make = fem.generate.rectangle if dim == 2 else fem.generate.box
    with _where(case, "[mesh]"):
        return make(*m["size"], *div, element=element, jitter=m["jitter"], seed=m["seed"]), []


def select(case: Case, mesh: fem.Mesh, selection: dict, where: str) -> np.ndarray:
    """Node indices of a validated node selection (``group``, ``x``, ``y``, ``z``, ``tol``)."""
    group = selection.get("group")
    if group is not None and group not in mesh.node_groups:
        close = difflib.get_close_matches(group, list(mesh.node_groups), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        known = ", ".join(mesh.node_groups) or "none"
        raise case.error(where, f"unknown group {group!r}{hint}; the groups are {known}")
    with _where(case, where):
        return mesh.select_nodes(group, x=selection.get("x"), y=selection.get("y"), z=selection.get("z"),
                                 tol=selection.get("tol"))


# ---------------------------------------------------------------------------------------------- material
def build_material(case: Case, mesh: fem.Mesh) -> tuple[Any, dict[str, str], str]:
    """``(material, unit names, description)`` of ``[material]`` for ``mesh``."""
    s = case.sections["material"]
    need = VOIGT_SIZE[mesh.dim]
    rho = s["density"]
    if "model" in s:
        return _model_material(case, mesh, s["model"], rho, need)
    u = unit_names(case)
    mode = s.get("mode", DEFAULT_MODE[mesh.dim])
    if MODES[mode] != need:
        fits = ", ".join(m for m, n in MODES.items() if n == need)
        raise case.error("[material] mode", f"mode {mode!r} does not fit a {mesh.dim}-D mesh ({mesh.cell_type}); "
                                            f"use {fits}")
    if mode != "1d" and "nu" not in s:
        raise case.error("[material] nu", f"missing required key (Poisson's ratio, needed for mode {mode!r})")
    if s["type"] == "cubic" and mode == "plane_stress":
        raise case.error("[material] mode", "the cubic law supports 1d, plane_strain and 3d")
    nu = s.get("nu", 0.0)
    common = (f"E = {s['E']:g} {u['stress']}" + ("" if mode == "1d" else f", nu = {nu:g}") +
              f", density = {rho:g} {u['mass']}/{u['length']}^3, {mode}")
    with _where(case, "[material]"):
        if s["type"] == "linear":
            return fem.LinearElastic(s["E"], nu, rho, mode), u, f"linear elastic ({common})"
        mat = fem.HardeningCubic(s["E"], s["eps_h"], s["eps_max"], nu, rho, mode)
    return mat, u, (f"hardening cubic ({common}, eps_h = {s['eps_h']:g}; bound certified for strains up to "
                    f"eps_max = {s['eps_max']:g})")


def _model_material(case: Case, mesh: fem.Mesh, name: str, rho: float, need: int) -> tuple[Any, dict[str, str], str]:
    from .material import as_material
    from .modelfile import load

    path = case.resolve(name)
    if not path.is_file():
        raise case.error("[material] model", f"no such model file '{path}'")
    with _where(case, "[material] model"):
        model = load(path)
    if model.d_in != need or model.d_out != need:
        raise case.error("[material] model", f"{name!r} maps {model.d_in} strain to {model.d_out} stress "
                                             f"components; a {mesh.dim}-D mesh ({mesh.cell_type}) needs {need} and "
                                             f"{need} (1 for a bar, 3 for 2-D, 6 for 3-D)")
    u = unit_names(case, model.stress_unit)
    mat = as_material(model, rho)
    kind = "spectrally normalized" if model.constrained else "unconstrained"
    hidden = "x".join(str(w) for w in model.arch.hidden)
    return mat, u, (f"fitted model {name!r} ({kind}, {model.arch.activation} {hidden}, {need} strain components, "
                    f"stress in {model.stress_unit}; density = {rho:g} {u['mass']}/{u['length']}^3)")


def unit_names(case: Case, model_stress_unit: str | None = None) -> dict[str, str]:
    """The unit names of ``[units]`` with the defaults filled in (a model's stress unit must match)."""
    u = dict(case.sections["units"])
    if model_stress_unit is not None and u.get("stress") not in (None, model_stress_unit):
        raise case.error("[units] stress", f"{u['stress']!r}, but the fitted model's stress unit is "
                                           f"{model_stress_unit!r}; the case must use one consistent system")
    u.setdefault("stress", model_stress_unit or "stress unit")
    for k in ("length", "time", "mass"):
        u.setdefault(k, f"{k} unit")
    u.setdefault("force", f"{u['stress']} x {u['length']}^2")
    u.setdefault("energy", f"{u['force']} x {u['length']}")
    return u


# ---------------------------------------------------------------------------------------------- conditions
def build_conditions(case: Case, mesh: fem.Mesh) -> tuple[list, fem.InitialVelocity | None]:
    """The ``[[boundary]]`` conditions and the ``[initial]`` velocity."""
    axes = AXES[: mesh.dim]
    out = []
    for i, bc in enumerate(case.sections["boundary"]):
        label = case.boundary_label(i)
        nodes = select(case, mesh, bc["nodes"], f"{label} nodes")
        comps = bc.get("components", list(axes))
        for c in comps:
            if c not in axes:
                raise case.error(f"{label} components", f"{c!r} is not a component of a {mesh.dim}-D mesh; "
                                                        f"use {', '.join(axes)}")
        name = bc.get("name") or f"{bc['type']} #{i + 1}"
        if bc["type"] == "fixed":
            out.append(fem.Fixed(nodes, tuple(comps) if "components" in bc else None, name=name))
            continue
        if len(bc["value"]) != len(comps):
            raise case.error(f"{label} value", f"{len(bc['value'])} value(s) for {len(comps)} component(s) "
                                               f"({', '.join(comps)}); give one per component")
        amp = bc.get("amplitude")
        amplitude = fem.Amplitude(tuple(p[0] for p in amp), tuple(p[1] for p in amp)) if amp else fem.Amplitude()
        out.append(CONDITIONS[bc["type"]](nodes, tuple(comps), tuple(bc["value"]), amplitude, name=name))
    initial = case.sections["initial"]
    if initial is None:
        return out, None
    v = initial["velocity"]
    if len(v) != mesh.dim:
        raise case.error("[initial] velocity", f"expected {mesh.dim} components ({', '.join(axes)}) for a "
                                               f"{mesh.dim}-D mesh, got {v!r}")
    nodes = select(case, mesh, initial["nodes"], "[initial] nodes") if "nodes" in initial \
        else np.arange(mesh.n_nodes)
    return out, fem.InitialVelocity(nodes=nodes, value=tuple(v))


def build(case: Case, *, dtype=None, device: str = "cpu") -> Setup:
    """Mesh, material, conditions and solver of a validated case."""
    import torch

    mesh, notes = build_mesh(case)
    material, units, description = build_material(case, mesh)
    conditions, initial = build_conditions(case, mesh)
    with _where(case, "[[boundary]]"):
        solver = fem.ExplicitSolver(mesh, material, conditions, initial, damping=case.sections["damping"]["alpha"],
                                    section=case.sections["mesh"].get("section", 1.0) if mesh.dim < 3 else 1.0,
                                    dtype=dtype or torch.float64, device=device)
    probes = []
    for i, sel in enumerate(case.sections["output"]["probes"], 1):
        nodes = select(case, mesh, sel, f"[output] probes #{i}")
        probes.append({"selection": sel, "nodes": [int(n) for n in nodes]})
    if mesh.dim == 3 and "section" in case.sections["mesh"]:
        notes = [*notes, "[mesh] section: not used by a 3-D mesh (ignored)"]
    return Setup(mesh, material, description, solver, units, probes, list(notes))


# ---------------------------------------------------------------------------------------------- time step
def choose_time_step(solver: fem.ExplicitSolver, time_section: dict, alpha: float = 0.0,
                     where: str = "[time]") -> tuple[float, dict[str, Any]]:
    """``(dt, info)`` for the ``[time]`` table, from :func:`fem.stability.choose_time_step`."""
    try:
        step = fem.choose_time_step(solver.mesh, solver.material, dt=time_section.get("dt", "auto"),
                                    safety=time_section.get("safety", 0.9), alpha=alpha,
                                    allow_unsafe=time_section.get("allow_unsafe_dt", False), geom=solver.geom)
    except InputError as exc:
        raise CaseFileError(f"{exc} (allow_unsafe_dt = true in [time])", None, f"{where} dt") from None
    report = step.report
    info: dict[str, Any] = {
        "dt_certified": step.dt_certified, "certified_method": report.certified_method,
        "controlling": step.controlling, "dt_element": report.dt_element, "dt_nodal": report.dt_nodal,
        "safety": report.safety, "damping_ratio": step.damping_ratio, "damping_factor": report.damping_factor,
        "lipschitz_bound": report.lipschitz_bound, "unsafe_dt": step.unsafe, "warnings": list(step.warnings),
        "dt_method": step.method,
    }
    return step.dt, info


n_steps = fem.n_steps


# ---------------------------------------------------------------------------------------------- the run
def simulate(case: str | os.PathLike[str] | dict | Case, out_dir: str | os.PathLike[str], *,
             progress: bool | None = None, keep_frames: bool = False) -> SimulationResult:
    """Run a case and write its outputs into ``out_dir``.

    Parameters
    ----------
    case
        A TOML case file, a dict of the same structure (relative paths from the working directory) or a
        :class:`snsurrogate.case.Case`.
    out_dir
        Output folder: ``results.pvd``, ``frames/``, ``history.csv`` and ``summary.json``.
    progress
        Show a progress bar; default ``[output] progress``.
    keep_frames
        Also return the element strain and stress of every frame (``SimulationResult.snapshots``).

    Returns
    -------
    SimulationResult
        Stable or not; an instability is reported in ``summary["unstable_at"]``, not raised.

    Raises
    ------
    snsurrogate.errors.CaseFileError
        Any problem with the case (message ``<file>: <section> <key>: <what is wrong>``).
    """
    case = load_case(case)
    setup = build(case)
    tsec, osec = case.sections["time"], case.sections["output"]
    try:
        dt, info = choose_time_step(setup.solver, tsec, case.sections["damping"]["alpha"])
    except CaseFileError as exc:
        raise CaseFileError(exc.message, case.name, exc.where) from None
    every = osec.get("every")
    frames = None if every is not None else osec.get("frames", DEFAULT_FRAMES)
    out = Path(out_dir)
    u = setup.units
    writer = fem.OutputWriter(out, setup.mesh, {k: u[k] for k in ("length", "time", "stress", "energy")},
                              keep=keep_frames)
    messages = setup.warnings + info.pop("warnings")
    result = instability = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = _time.perf_counter()
        try:
            result = setup.solver.run(tsec["end"], dt, writer=writer, output_every=every, n_frames=frames,
                                      progress=osec["progress"] if progress is None else progress,
                                      probes=setup.probe_nodes or None)
        except InstabilityError as exc:
            instability = exc
        wall = _time.perf_counter() - t0
    for w in caught:
        if str(w.message) not in messages and issubclass(w.category, (RuntimeWarning, UserWarning)):
            messages.append(str(w.message))
    summary = _summary(case, setup, dt, info, result, instability, wall, messages, len(writer.frames))
    write_text(out / "summary.json", json.dumps(summary, indent=2, allow_nan=False) + "\n")
    return SimulationResult(summary, out, result, instability, writer.snapshots)


def _finite(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _summary(case, setup, dt, info, result, instability, wall, messages, n_frames) -> dict[str, Any]:
    u = setup.units
    mesh = setup.mesh
    if result is not None:
        steps, t_end, err, wall = result.steps, result.t_end, result.energy_error, result.wall_seconds
    else:
        from fem.explicit import energy_balance_error

        errors = energy_balance_error(instability.history)  # null when the energies became non-finite
        err = float(errors.max()) if errors.size and np.isfinite(errors).all() else None
        steps, t_end = instability.step, instability.time
    summary: dict[str, Any] = {
        "case": case.name,
        "stable": instability is None,
        "steps": steps,
        "dt": dt,
        "dt_method": info["dt_method"],
        "dt_certified": info["dt_certified"],
        "dt_over_certified": dt / info["dt_certified"],
        "certified_method": info["certified_method"],
        "controlling": info["controlling"],
        "dt_element": info["dt_element"],
        "dt_nodal": info["dt_nodal"],
        "safety": info["safety"],
        "damping_ratio": info["damping_ratio"],
        "damping_factor": info["damping_factor"],
        "unsafe_dt": info["unsafe_dt"],
        "t_end": t_end,
        "end": case.sections["time"]["end"],
        "energy_error": _finite(err),
        "wall_seconds": wall,
        "steps_per_second": steps / wall if wall > 0 else None,
        "lipschitz_bound": info["lipschitz_bound"],
        "n_nodes": mesh.n_nodes,
        "n_elements": mesh.n_cells,
        "element": mesh.cell_type,
        "dim": mesh.dim,
        "material": setup.material_description,
        "damping": case.sections["damping"]["alpha"],
        "frames": n_frames,
        "probes": setup.probes,
        "warnings": messages,
        "outputs": {"paraview": "results.pvd", "frames": "frames/", "history": "history.csv"},
        "unit_system": u,
    }
    units = {"dt": u["time"], "dt_certified": u["time"], "dt_element": u["time"], "dt_nodal": u["time"],
             "damping_ratio": "- (fraction of critical damping in the highest certified mode)",
             "t_end": u["time"], "end": u["time"],
             "energy_error": "-", "dt_over_certified": "-", "wall_seconds": "s", "steps_per_second": "1/s",
             "lipschitz_bound": f"{u['stress']} per unit strain", "damping": f"1/{u['time']}",
             "probes": u["length"]}
    if instability is not None:
        summary["unstable_at"] = {"step": instability.step, "time": _finite(instability.time),
                                  "element": instability.element, "message": str(instability)}
        units["unstable_at.time"] = u["time"]
    summary["units"] = units
    return summary


def describe(summary: dict[str, Any]) -> str:
    """A few lines on a finished run (what ``snsurrogate simulate`` prints)."""
    s, u = summary, summary["unit_system"]
    t = u["time"]
    lines = [
        f"mesh        {s['n_elements']} {s['element']} elements, {s['n_nodes']} nodes ({s['dim']}-D)",
        f"material    {s['material']}",
        f"bound       certified L = {s['lipschitz_bound']:.6g} {u['stress']} per unit strain",
        f"time step   dt = {s['dt']:.6g} {t} ({s['dt_method']}; certified step {s['dt_certified']:.6g} {t}, "
        f"{s['controlling']})",
    ]
    rate = f", {s['steps_per_second']:.4g} steps/s" if s["steps_per_second"] else ""
    err = "n/a (non-finite energies)" if s["energy_error"] is None else f"{s['energy_error']:.3g}"
    lines.append(f"run         {s['steps']} steps to t = {s['t_end']:.6g} {t} in {s['wall_seconds']:.3g} s{rate}; "
                 f"energy balance error {err}")
    lines.append("result      stable" if s["stable"] else f"result      UNSTABLE: {s['unstable_at']['message']}")
    return "\n".join(lines)
