"""A validated :class:`~snsurrogate.case.models.Case` turned into ``fem`` objects: the mesh, the
material (analytic, or a fitted model through :func:`snsurrogate.material.as_material`), the
boundary and initial conditions, the probes and the :class:`fem.ExplicitSolver` (:func:`build`).

Nothing here re-validates the case: the models did (for a mesh file or a fitted model, the rules
that need the mesh dimension are run by the models once the file is read:
:func:`~snsurrogate.case.load.fit_to_mesh`). What only the mesh or a model file can tell (an unknown
node group, a node selection that matches nothing, a model of the wrong size, a stress unit that
differs from the model's) and every :class:`fem.errors.InputError` that a ``fem`` constructor raises
become a :class:`~snsurrogate.errors.CaseFileError` naming the section and key
(``InputError.parameter``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import fem
from fem.errors import InputError, MeshError
from fem.kinematics import VOIGT_SIZE

from ..errors import CaseFileError, SnsurrogateError
from .kinds import clip, path_problem
from .load import fit_to_mesh
from .models import (
    SECTION,
    Analytic,
    Box,
    Case,
    Cubic,
    File,
    Fixed,
    Force,
    Line,
    Linear,
    Model,
    NeoHookean,
    NodeSelection,
    Ogden,
    PlateWithHole,
    Rectangle,
    Traction,
    Velocity,
)
from .units import consistency_problem, density_warning, single_step_warning

CONDITIONS = {Fixed: fem.Fixed, Velocity: fem.Velocity, Force: fem.NodalForce, Traction: fem.Traction}
"""The ``fem`` class of each ``[[boundary]]`` type."""


@dataclass
class Setup:
    """Everything built from a case, ready to run.

    ``case`` is the case the objects were built from (for a mesh file: validated again for its dimension).
    """

    case: Case
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


@contextmanager
def located(case: Case, where: str, keys: Iterable[str] = ()):
    """Raise the ``fem`` errors (and model-file errors) of the block as :class:`CaseFileError` at ``where``,
    followed by the key that :attr:`fem.errors.InputError.parameter` names when it is one of ``keys``."""
    try:
        yield
    except CaseFileError:
        raise
    except InputError as exc:
        key = f" {exc.parameter}" if exc.parameter in set(keys) else ""
        raise CaseFileError(str(exc), case.name, where + key) from exc
    except (MeshError, SnsurrogateError) as exc:
        raise CaseFileError(str(exc), case.name, where) from exc


def plan_warnings(case: Case, dt: float, units: dict[str, str]) -> list[str]:
    """Warnings on the planned run once its step ``dt`` is known: a run that is a single step."""
    w = single_step_warning(case.time.end, dt, units["time"])
    return [w] if w else []


# ---------------------------------------------------------------------------------------------- files
def _existing(case: Case, relative: str, where: str, what: str) -> Path:
    """The file a case names, resolved; missing, too long a name or unreadable: a :class:`CaseFileError`."""
    path = case.resolve(relative)
    problem = path_problem(str(path), str(case.base_dir) if case.base_dir.is_dir() else ".")
    if problem:
        raise CaseFileError(f"cannot open the {what}: {problem}", case.name, where)
    try:
        found = path.is_file()
    except OSError as exc:  # e.g. a name too long for this file system
        raise CaseFileError(f"cannot open the {what} {clip(str(path))}: {exc.strerror or exc}", case.name,
                            where) from None
    if not found:
        raise CaseFileError(f"no such {what} '{path}'", case.name, where)
    return path


# ---------------------------------------------------------------------------------------------- mesh
def build_mesh(case: Case) -> tuple[fem.Mesh, list[str]]:
    """The mesh of ``[mesh]`` and the notes of reading it (mesh files)."""
    m = case.mesh
    if isinstance(m, File):
        path = _existing(case, m.file, "[mesh] file", "mesh file")
        from fem.meshfiles import read_mesh_with_warnings

        with located(case, "[mesh] file"):
            mesh, notes = read_mesh_with_warnings(path)
        if mesh.dim == 3 and m.section is not None:
            notes = [*notes, "[mesh] section: not used by a 3-D mesh (ignored)"]
        return mesh, list(notes)
    with located(case, "[mesh]", type(m).model_fields):
        if isinstance(m, Line):
            return fem.generate.line(m.length, m.divisions), []
        if isinstance(m, PlateWithHole):
            return fem.generate.plate_with_hole(m.width, m.radius, *m.divisions, element=m.element,
                                                grading=m.grading), []
        make = fem.generate.rectangle if isinstance(m, Rectangle) else fem.generate.box
        return make(*m.size, *m.divisions, element=m.element, jitter=m.jitter, seed=m.seed), []


def section_of(case: Case, mesh: fem.Mesh) -> float:
    """Bar cross-section area [length^2] or 2-D thickness [length]; 1 for a 3-D mesh."""
    m = case.mesh
    given = None if isinstance(m, Box) else m.section
    return given if given is not None and mesh.dim < 3 else SECTION


def select(case: Case, mesh: fem.Mesh, selection: NodeSelection, where: str) -> np.ndarray:
    """Node indices of a node selection; an unknown group or no matching node is a :class:`CaseFileError`."""
    group = selection.group
    if group is not None and group not in mesh.node_groups:
        close = difflib.get_close_matches(group, list(mesh.node_groups), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        known = ", ".join(mesh.node_groups) or "none"
        raise CaseFileError(f"unknown group {group!r}{hint}; the groups are {known}", case.name, where)
    with located(case, where):
        return mesh.select_nodes(group, x=selection.x, y=selection.y, z=selection.z, tol=selection.tol)


# ---------------------------------------------------------------------------------------------- material
def build_material(case: Case, mesh: fem.Mesh) -> tuple[Any, dict[str, str], str]:
    """``(material, unit names, description)`` of ``[material]`` for ``mesh``."""
    m = case.material
    if isinstance(m, Model):
        return _model_material(case, mesh, m)
    u = case.units.names()
    if isinstance(m, (NeoHookean, Ogden)):
        with located(case, "[material]", type(m).model_fields):
            law = fem.NeoHookean(m.mu, m.kappa, m.density) if isinstance(m, NeoHookean) else \
                fem.Ogden(m.mu, m.alpha, m.kappa, m.density)
        terms = (f"mu = {m.mu:g} {u['stress']}" if isinstance(m, NeoHookean) else
                 f"mu = {list(m.mu)} {u['stress']}, alpha = {list(m.alpha)}")
        return law, u, (f"{'neo-Hookean' if isinstance(m, NeoHookean) else 'Ogden'} (finite strain; {terms}, "
                        f"kappa = {m.kappa:g} {u['stress']}, density = {m.density:g} {u['mass']}/{u['length']}^3)")
    mode = m.kinematics(mesh.dim)
    nu = m.nu if m.nu is not None else 0.0
    common = (f"E = {m.E:g} {u['stress']}" + ("" if mode == "1d" else f", nu = {nu:g}") +
              f", density = {m.density:g} {u['mass']}/{u['length']}^3, {mode}")
    with located(case, "[material]", Analytic.model_fields | Cubic.model_fields):
        if isinstance(m, Linear):
            return fem.LinearElastic(m.E, nu, m.density, mode), u, f"linear elastic ({common})"
        mat = fem.HardeningCubic(m.E, m.eps_h, m.eps_max, nu, m.density, mode)
    return mat, u, (f"hardening cubic ({common}, eps_h = {m.eps_h:g}; bound certified for strains up to "
                    f"eps_max = {m.eps_max:g})")


def _model_material(case: Case, mesh: fem.Mesh, m: Model) -> tuple[Any, dict[str, str], str]:
    from ..material import as_material
    from ..modelfile import load

    need = VOIGT_SIZE[mesh.dim]
    path = _existing(case, m.model, "[material] model", "model file")
    with located(case, "[material] model"):
        model = load(path)
    if model.kind == "hyperelastic":
        return _hyperelastic_material(case, mesh, m, model)
    if model.d_in != need or model.d_out != need:
        raise CaseFileError(f"{m.model!r} maps {model.d_in} strain to {model.d_out} stress components; a "
                            f"{mesh.dim}-D mesh ({mesh.cell_type}) needs {need} and {need} (1 for a bar, 3 for 2-D, "
                            "6 for 3-D)", case.name, "[material] model")
    stress = case.units.stress
    if stress is not None and stress != model.stress_unit:
        raise CaseFileError(f"{stress!r}, but the fitted model's stress unit is {model.stress_unit!r}; the case "
                            "must use one consistent system", case.name, "[units] stress")
    if stress is None and (problem := consistency_problem(case.units.given(model.stress_unit))) is not None:
        raise CaseFileError(f"the fitted model's stress unit: {problem[1]}", case.name, f"[units] {problem[0]}")
    u = case.units.names(model.stress_unit)
    with located(case, "[material]", Model.model_fields):
        mat = as_material(model, m.density)
    kind = "spectrally normalized" if model.constrained else "unconstrained"
    hidden = "x".join(str(w) for w in model.arch.hidden)
    return mat, u, (f"fitted model {m.model!r} ({kind}, {model.arch.activation} {hidden}, "
                    f"{need} strain component{'s' if need > 1 else ''}, "
                    f"stress in {model.stress_unit}; density = {m.density:g} {u['mass']}/{u['length']}^3)")


def _hyperelastic_material(case: Case, mesh: fem.Mesh, m: Model, law) -> tuple[Any, dict[str, str], str]:
    """A model fitted to test modes: a finite-strain law for 2-D (plane strain) and 3-D meshes."""
    from ..material import as_material

    if mesh.dim == 1:
        raise CaseFileError(f"{m.model!r} is a finite-strain hyperelastic law (fitted to test modes, P(F)); a bar "
                            "needs a 1-D law (fit one curve: stretch - 1 -> nominal stress)", case.name,
                            "[material] model")
    stress = case.units.stress
    if stress is not None and stress != law.stress_unit:
        raise CaseFileError(f"{stress!r}, but the fitted law's stress unit is {law.stress_unit!r}; the case "
                            "must use one consistent system", case.name, "[units] stress")
    u = case.units.names(law.stress_unit)
    modes = ", ".join(f"{k} R² {v['r2']:.4f}" for k, v in law.summary.get("modes", {}).items())
    return as_material(law, m.density), u, (
        f"fitted hyperelastic law {m.model!r} (finite strain; L = {law.lipschitz_bound:.4g} {law.stress_unit} on w'', "
        f"mu = {law.shear_modulus:.4g}, K = {law.bulk_modulus:.4g} {law.stress_unit}; {modes}; density = "
        f"{m.density:g} {u['mass']}/{u['length']}^3)")


# ---------------------------------------------------------------------------------------------- conditions
BOUNDARY_KEYS = ("nodes", "components", "value", "amplitude")
"""The ``[[boundary]]`` keys that ``fem``'s conditions name in :attr:`fem.errors.InputError.parameter`."""


def build_conditions(case: Case, mesh: fem.Mesh) -> tuple[list, fem.InitialVelocity | None]:
    """The ``[[boundary]]`` conditions and the ``[initial]`` velocity."""
    out = []
    for i, bc in enumerate(case.boundary):
        label = case.boundary_label(i)
        nodes = select(case, mesh, bc.nodes, f"{label} nodes")
        with located(case, label, BOUNDARY_KEYS):
            if isinstance(bc, Fixed):
                out.append(fem.Fixed(nodes, bc.components, name=case.boundary_name(i)))
                continue
            table = bc.amplitude
            amplitude = fem.Amplitude(tuple(t for t, _ in table), tuple(f for _, f in table)) if table \
                else fem.Amplitude()
            out.append(CONDITIONS[type(bc)](nodes, bc.axes(mesh.dim), bc.value, amplitude, name=case.boundary_name(i)))
    initial = case.initial
    if initial is None:
        return out, None
    nodes = select(case, mesh, initial.nodes, "[initial] nodes") if initial.nodes is not None \
        else np.arange(mesh.n_nodes)
    return out, initial_velocity(initial, mesh, nodes)


def initial_velocity(initial, mesh: fem.Mesh, nodes: np.ndarray) -> fem.InitialVelocity:
    """``[initial]`` as a field ``(n_nodes, dim)`` [length/time]: ``velocity`` at ``nodes`` plus, with
    ``random_velocity = { amplitude = A, seed = S }``, independent normal components of standard deviation
    ``A`` there (``numpy.random.default_rng(S)``, drawn for every node so a selection does not change
    the values of the nodes it keeps); the boundary conditions override it on constrained dofs."""
    rand = initial.random_velocity
    if rand is None:
        return fem.InitialVelocity(nodes=nodes, value=initial.velocity)
    field = np.zeros((mesh.n_nodes, mesh.dim))
    if initial.velocity is not None:
        field[nodes] = np.asarray(initial.velocity, dtype=float)
    draw = np.random.default_rng(rand.seed).normal(0.0, 1.0, (mesh.n_nodes, mesh.dim)) * rand.amplitude
    field[nodes] += draw[nodes]
    return fem.InitialVelocity(field=field)


def build(case: Case, *, dtype=None, device: str = "cpu") -> Setup:
    """Mesh, material, conditions, probes and solver of a validated case."""
    import torch

    mesh, notes = build_mesh(case)
    material, units, description = build_material(case, mesh)
    if isinstance(case.mesh, File) or isinstance(case.material, Model):  # the rules that waited for the files
        case = fit_to_mesh(case, mesh.dim, mesh.cell_type)
    conditions, initial = build_conditions(case, mesh)
    kinematics = getattr(case.mesh, "kinematics", None)
    with located(case, "[mesh] kinematics" if kinematics else "[material]"):
        fem.explicit.finite_kinematics(material, kinematics, mesh.dim)
    with located(case, "[[boundary]]", BOUNDARY_KEYS):
        solver = fem.ExplicitSolver(mesh, material, conditions, initial, damping=case.damping.alpha,
                                    section=section_of(case, mesh), dtype=dtype or torch.float64, device=device,
                                    kinematics=kinematics)
    density = density_warning(case.material.density, case.units.given())
    if density is not None:
        notes = [*notes, density]
    probes = []
    for i, sel in enumerate(case.output.probes, 1):
        nodes = select(case, mesh, sel, f"[output] probes #{i}")
        probes.append({"selection": sel.model_dump(mode="json", exclude_none=True), "nodes": [int(n) for n in nodes]})
    return Setup(case, mesh, material, description, solver, units, probes, notes)
