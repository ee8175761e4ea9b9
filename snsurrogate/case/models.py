"""The typed case: one frozen pydantic model per section, tagged unions for the sections that come in
several forms, and the cross-field rules as validators.

- ``[mesh]``: :data:`Mesh` = :class:`Line` | :class:`Rectangle` | :class:`Box` (``generate = ...``) |
  :class:`File` (``file = ...``);
- ``[material]``: :data:`Material` = :class:`Linear` | :class:`Cubic` (``type = ...``) | :class:`Model`
  (``model = ...``);
- ``[[boundary]]``: :data:`Boundary` = :class:`Fixed` | :class:`Velocity` | :class:`Force` |
  :class:`Traction` (``type = ...``);
- ``[units]`` :class:`Units`, ``[initial]`` :class:`Initial`, ``[time]`` :class:`Time`, ``[damping]``
  :class:`Damping`, ``[output]`` :class:`Output`; node selections :class:`NodeSelection`;
- :class:`Case`: all of them, and the rules that need the mesh dimension (material mode, ``nu``,
  components, value counts, initial velocity, node coordinates). For a mesh file they wait until the file
  is read, and for a fitted model until the model file has been checked against the mesh (its size is the
  first thing to fit): then the case is validated again (:func:`snsurrogate.case.load.fit_to_mesh`).

Every default is written once, here; :mod:`snsurrogate.case.reference` prints them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BeforeValidator,
    Discriminator,
    PrivateAttr,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from fem.generate import BOX_JITTER_LIMIT, RECTANGLE_JITTER_LIMIT
from fem.kinematics import VOIGT_SIZE
from fem.materials import MODES

from .kinds import (
    AXES,
    SAFETY_HELP,
    AmplitudeTable,
    Components,
    Coordinate,
    Dt,
    EnergyStop,
    Flag,
    Fraction,
    Integer,
    NonNegative,
    PathText,
    PositiveInt,
    PositiveNumber,
    Safety,
    Seed,
    Text,
    Values,
    invalid,
    key,
    show,
)
from .materials import MATERIAL, Analytic, Cubic, Linear, Material, Model, NeoHookean, Ogden
from .tables import Selector, Table, Variant
from .units import Units

SECTION = 1.0
"""Default bar cross-section area [length^2] or 2-D thickness [length]."""


# ---------------------------------------------------------------------------------------------- node selections
class NodeSelection(Table):
    """A set of nodes: a node group and/or coordinates (a value or a range [lo, hi] each), combined with
    AND; for example { group = "left" }, { x = 0.0 }, { x = [0.0, 1.0], y = 5.0, tol = 1e-6 }."""

    group: Text | None = key("a node group of the mesh (generated meshes: left, right, bottom, top, front, back, "
                             "hole, all; mesh files: their physical groups)", default=None)
    x: Coordinate | None = key("x coordinate or range [lo, hi]", unit="length", default=None)
    y: Coordinate | None = key("y coordinate or range", unit="length", default=None)
    z: Coordinate | None = key("z coordinate or range", unit="length", default=None)
    tol: NonNegative | None = key("tolerance of the coordinates", unit="length", default=None,
                                  default_doc="1e-6 x shortest edge")

    @model_validator(mode="after")
    def _something(self) -> NodeSelection:
        if self.group is None and self.x is None and self.y is None and self.z is None:
            raise invalid("a node selection needs a group and/or x, y, z")
        return self

    def axes(self) -> tuple[str, ...]:
        """The coordinates it names."""
        return tuple(a for a in AXES if getattr(self, a) is not None)


# ---------------------------------------------------------------------------------------------- [mesh]
class Line(Variant):
    """A bar along x from 0 to ``length`` (node groups left, right, all)."""

    selector: ClassVar = ("generate", "line")
    dim: ClassVar[int] = 1
    generate: Literal["line"] = key("structured mesh")
    length: PositiveNumber = key("bar length", unit="length")
    divisions: PositiveInt = key("number of elements", expected="a positive integer for a line")
    section: PositiveNumber = key("cross-section area", unit="length^2", default=SECTION)

    @field_validator("divisions", mode="before")
    @classmethod
    def _one(cls, value: Any) -> Any:
        return value[0] if isinstance(value, (list, tuple)) and len(value) == 1 else value

    @property
    def cell_type(self) -> str:
        return "bar2"


def _jitter_below(limit: float):
    def check(value: float) -> float:
        if not value < limit:
            raise invalid(f"expected a number in [0, {limit:.4g}) so that no element inverts, got {value!r}")
        return value
    return check


class Rectangle(Variant):
    """A structured rectangle [0, lx] x [0, ly] (node groups left, right, bottom, top, all)."""

    selector: ClassVar = ("generate", "rectangle")
    dim: ClassVar[int] = 2
    generate: Literal["rectangle"] = key("structured mesh")
    size: tuple[PositiveNumber, PositiveNumber] = key("side lengths", unit="length", kind="[lx, ly]",
                                                      expected="2 positive lengths [lx, ly]")
    divisions: tuple[PositiveInt, PositiveInt] = key("number of elements along each side", kind="[nx, ny]",
                                                     expected="2 positive integers [nx, ny]")
    element: Literal["quad4", "tri3"] = key("element type", default="quad4")
    jitter: NonNegative = key(f"random shift of the interior nodes, in element sizes (< {RECTANGLE_JITTER_LIMIT:g})",
                              default=0.0)
    seed: Integer = key("seed of the jitter", default=0)
    section: PositiveNumber = key("thickness", unit="length", default=SECTION)
    kinematics: Literal["small", "finite"] | None = key(
        "'small' (small-strain Voigt strain -> stress) or 'finite' (total Lagrangian, F -> P)", default=None,
        default_doc="'finite' for a finite-strain law (neo_hookean, a model fitted to test modes), else 'small'")

    _jitter = field_validator("jitter")(_jitter_below(RECTANGLE_JITTER_LIMIT))

    @property
    def cell_type(self) -> str:
        return self.element


class PlateWithHole(Variant):
    """A quarter of a square plate [0, width]^2 with a hole of radius about the origin (node groups bottom and
    left: the symmetry lines; right, top, hole, all): fem.generate.plate_with_hole."""

    selector: ClassVar = ("generate", "plate_with_hole")
    dim: ClassVar[int] = 2
    generate: Literal["plate_with_hole"] = key("structured mesh")
    width: PositiveNumber = key("side of the quarter plate", unit="length")
    radius: PositiveNumber = key("hole radius (below 0.9 x width)", unit="length")
    divisions: tuple[PositiveInt, PositiveInt] = key("elements around the quarter hole (even) and across the plate",
                                                     kind="[n_arc, n_radial]",
                                                     expected="2 positive integers [n_arc, n_radial]")
    element: Literal["quad4", "tri3"] = key("element type", default="quad4")
    grading: PositiveNumber = key("size ratio of neighbouring elements along a ray (> 1: finer at the hole)",
                                  default=1.15)
    section: PositiveNumber = key("thickness", unit="length", default=SECTION)
    kinematics: Literal["small", "finite"] | None = key(
        "'small' (small-strain Voigt strain -> stress) or 'finite' (total Lagrangian, F -> P)", default=None,
        default_doc="'finite' for a finite-strain law (neo_hookean, a model fitted to test modes), else 'small'")

    @property
    def cell_type(self) -> str:
        return self.element


class Box(Variant):
    """A structured box [0, lx] x [0, ly] x [0, lz] (node groups left, right, bottom, top, front, back, all)."""

    selector: ClassVar = ("generate", "box")
    dim: ClassVar[int] = 3
    generate: Literal["box"] = key("structured mesh")
    size: tuple[PositiveNumber, PositiveNumber, PositiveNumber] = key(
        "side lengths", unit="length", kind="[lx, ly, lz]", expected="3 positive lengths [lx, ly, lz]")
    divisions: tuple[PositiveInt, PositiveInt, PositiveInt] = key(
        "number of elements along each side", kind="[nx, ny, nz]", expected="3 positive integers [nx, ny, nz]")
    element: Literal["hex8", "tet4"] = key("element type", default="hex8")
    jitter: NonNegative = key("random shift of the interior nodes, in element sizes (< 1/6)", default=0.0)
    seed: Integer = key("seed of the jitter", default=0)
    kinematics: Literal["small", "finite"] | None = key(
        "'small' (small-strain Voigt strain -> stress) or 'finite' (total Lagrangian, F -> P)", default=None,
        default_doc="'finite' for a finite-strain law (neo_hookean, a model fitted to test modes), else 'small'")

    _jitter = field_validator("jitter")(_jitter_below(BOX_JITTER_LIMIT))

    @property
    def cell_type(self) -> str:
        return self.element


class File(Variant):
    """A mesh file read by fem.meshfiles (Gmsh .msh, .vtu, ...); its dimension is that of its cells."""

    selector: ClassVar = ("file", None)
    dim: ClassVar[None] = None
    cell_type: ClassVar[None] = None
    file: PathText = key("mesh file, relative to the case file")
    section: PositiveNumber | None = key("bar cross-section area [length^2] or 2-D thickness [length]", default=None,
                                         default_doc=f"{SECTION:g} (not used by a 3-D mesh)")
    kinematics: Literal["small", "finite"] | None = key(
        "'small' (small-strain Voigt strain -> stress) or 'finite' (total Lagrangian, F -> P)", default=None,
        default_doc="'finite' for a finite-strain law (neo_hookean, a model fitted to test modes), else 'small'")


MESH = Selector("[mesh]", (Line, Rectangle, PlateWithHole, Box, File))
Mesh = Annotated[Annotated[Line, Tag("line")] | Annotated[Rectangle, Tag("rectangle")]
                 | Annotated[PlateWithHole, Tag("plate_with_hole")] | Annotated[Box, Tag("box")]
                 | Annotated[File, Tag("file")], Discriminator(MESH.tag), BeforeValidator(MESH.check)]
"""``[mesh]``: generated (``generate = 'line' | 'rectangle' | 'plate_with_hole' | 'box'``) or read from a file."""


# ---------------------------------------------------------------------------------------------- [[boundary]]
def value_count_error(values: tuple, components: tuple[str, ...]) -> str | None:
    """The message for a value list that does not give one value per component, or ``None``."""
    if len(values) == len(components):
        return None
    return (f"{len(values)} value(s) for {len(components)} component(s) ({', '.join(components)}); "
            "give one per component")


class Condition(Variant):
    """Shared keys of the boundary conditions."""

    name: Text | None = key("name used in messages", default=None, default_doc="'<type> #<n>'")
    nodes: NodeSelection = key("the nodes (a node selection)", unit="length", kind="node selection")
    components: Components | None = key("the components it acts on", default=None, default_doc="all")

    def axes(self, dim: int) -> tuple[str, ...]:
        """The components: as given, or all of a ``dim``-D mesh."""
        return self.components if self.components is not None else AXES[:dim]


class Fixed(Condition):
    """Zero displacement and velocity."""

    selector: ClassVar = ("type", "fixed")
    type: Literal["fixed"] = key("kind of condition")


class Load(Condition):
    """Shared keys of the conditions with a value: ``value x amplitude(t)``."""

    value: Values = key("one per component: velocity [length/time], force per node [force], traction [stress]")
    amplitude: AmplitudeTable | None = key("piecewise-linear factor of time, constant outside the table",
                                           unit="time, -", default=None, default_doc="1")

    @model_validator(mode="after")
    def _one_value_per_component(self) -> Load:
        if self.components is not None and (message := value_count_error(self.value, self.components)):
            raise invalid(message, key="value")
        return self


class Velocity(Load):
    """Prescribed velocity [length/time]."""

    selector: ClassVar = ("type", "velocity")
    type: Literal["velocity"] = key("kind of condition")


class Force(Load):
    """Force on each selected node [force]."""

    selector: ClassVar = ("type", "force")
    type: Literal["force"] = key("kind of condition")


class Traction(Load):
    """Surface traction [stress] on the boundary facets whose nodes are all selected."""

    selector: ClassVar = ("type", "traction")
    type: Literal["traction"] = key("kind of condition")


BOUNDARY = Selector("[[boundary]]", (Fixed, Velocity, Force, Traction), array=True)
Boundary = Annotated[Annotated[Fixed, Tag("fixed")] | Annotated[Velocity, Tag("velocity")]
                     | Annotated[Force, Tag("force")] | Annotated[Traction, Tag("traction")],
                     Discriminator(BOUNDARY.tag), BeforeValidator(BOUNDARY.check)]
"""One ``[[boundary]]`` table: ``type = 'fixed' | 'velocity' | 'force' | 'traction'``."""


def _array_of_tables(value: Any) -> Any:
    if isinstance(value, dict):
        raise invalid("expected an array of tables (write [[boundary]], one per condition), got a single table "
                      "[boundary]")
    if not isinstance(value, (list, tuple)):
        raise invalid(f"expected an array of tables [[boundary]], got {show(value)}")
    return value


# ---------------------------------------------------------------------------------------------- other sections
class RandomVelocity(Table):
    """A random initial velocity field (a smooth start excites the highest mode only by round-off)."""

    amplitude: NonNegative = key("standard deviation of every velocity component at every node", unit="length/time")
    seed: Seed = key("seed of the random generator (numpy default_rng): the same seed, the same field", default=0)


class Initial(Table):
    """Initial velocity: a uniform value, a random field, or their sum."""

    velocity: Values | None = key("one value per mesh dimension", unit="length/time", default=None, default_doc="none")
    random_velocity: RandomVelocity | None = key("random field added: { amplitude = A, seed = S }", default=None)
    nodes: NodeSelection | None = key("the nodes that get it", unit="length", kind="node selection", default=None,
                                      default_doc="all nodes")


class Time(Table):
    """Time integration (central differences)."""

    end: PositiveNumber = key("end time", unit="time")
    dt: Dt = key("time step; 'auto' = safety x certified stable step (element or nodal bound, whichever is larger; "
                 "reduced for damping)", unit="time", default="auto")
    safety: Safety = key(SAFETY_HELP, default="auto")
    allow_unsafe_dt: Flag = key("run a user dt above the certified step (warned and recorded)", default=False)
    allow_long_run: Flag = key("run more than 1e8 steps or an estimated 24 h (refused otherwise; also "
                               "simulate --allow-long-run)", default=False)
    energy_warn: Fraction = key("warn when the true energy (kinetic + strain energy - work) drifts by more than "
                                "this fraction", default=0.01)
    energy_stop: EnergyStop = key("stop when the true energy drifts by more than this; false: never", default=0.1)


class Damping(Table):
    """Mass-proportional damping."""

    alpha: NonNegative = key("damping coefficient", unit="1/time", default=0.0)


class Output(Table):
    """ParaView frames, probes, progress bar."""

    frames: PositiveInt = key("number of frames after the initial one (not with every)", default=20)
    every: PositiveInt | None = key("a frame every this many steps (not with frames)", unit="steps", default=None)
    probes: tuple[NodeSelection, ...] = key("nodes whose displacements go into history.csv", unit="length",
                                            kind="list of node selections", default=(),
                                            expected="a list of node selections, e.g. [{ x = 0.0 }, "
                                                     "{ group = \"right\" }]")
    progress: Flag = key("progress bar", default=True)

    @model_validator(mode="after")
    def _frames_or_every(self) -> Output:
        if self.every is not None and "frames" in self.model_fields_set:
            raise invalid("give frames or every, not both", key="every")
        return self

    @property
    def n_frames(self) -> int | None:
        """The number of frames, or ``None`` when ``every`` sets them."""
        return None if self.every is not None else self.frames


# ---------------------------------------------------------------------------------------------- the case
class Case(Table):
    """A validated case: its sections as typed, frozen objects.

    ``name`` (how messages name the case: the file as given, or ``"<case>"`` for a dict) and
    ``base_dir`` (the folder of relative mesh and model paths) are not part of the content: two cases
    with equal sections are equal wherever they came from.
    """

    units: Units = key("names of the units of the one consistent system the case is written in; they are only "
                       "printed in the outputs, never converted; known names (m, mm, s, ms, kg, t, Pa, MPa, N, J, "
                       "...) are checked: stress = mass / (length x time^2), force = stress x length^2, energy = "
                       "force x length; other names are not checked", default=Units())
    mesh: Mesh = key("the mesh: generated, or read from a file")
    material: Material = key("the material law: analytic, or a fitted snsurrogate model")
    boundary: Annotated[tuple[Boundary, ...], BeforeValidator(_array_of_tables)] = key(
        "boundary conditions, one table each; a dof may have one kinematic condition", default=())
    initial: Initial | None = key("initial velocity", default=None)
    time: Time = key("time integration (central differences)")
    damping: Damping = key("mass-proportional damping", default=Damping())
    output: Output = key("ParaView frames, probes, progress bar", default=Output())

    _name: str = PrivateAttr(default="<case>")
    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)

    @property
    def name(self) -> str:
        return self._name

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    def located(self, name: str, base_dir: str | os.PathLike[str]) -> Case:
        """This case, named ``name``, with relative paths taken from ``base_dir`` (returns ``self``)."""
        self._name, self._base_dir = name, Path(base_dir)
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Case):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in type(self).model_fields)

    __hash__ = None  # equal cases may come from different files

    def resolve(self, relative: str) -> Path:
        """A path of the case (mesh or model file) relative to :attr:`base_dir`."""
        return self.base_dir / Path(relative).expanduser()

    def boundary_label(self, index: int) -> str:
        """``[[boundary]] #2 (clamp)``: how messages name the ``index``-th (0-based) boundary condition."""
        name = self.boundary[index].name
        return f"[[boundary]] #{index + 1}" + (f" ({name})" if name else "")

    def boundary_name(self, index: int) -> str:
        """The name of a boundary condition: as given, or ``'<type> #<n>'``."""
        bc = self.boundary[index]
        return bc.name or f"{bc.type} #{index + 1}"

    @model_validator(mode="after")
    def _fits_the_mesh(self, info: ValidationInfo) -> Case:
        context = info.context or {}
        dim = context.get("dim", None if isinstance(self.material, Model) else self.mesh.dim)
        if dim is not None:
            problem = next(self.dimension_problems(dim, self.mesh.cell_type or context.get("cell_type")), None)
            if problem is not None:
                raise invalid(problem[1], loc=problem[0])
        return self

    def dimension_problems(self, dim: int, cell_type: str | None = None):
        """``(loc, message)`` of each key that does not fit a ``dim``-D mesh, in the order of the file (``loc``
        as pydantic gives it, with the tag of a tagged union after the section)."""
        axes = AXES[:dim]
        m = self.material
        if isinstance(m, Analytic):
            mode, need = m.kinematics(dim), VOIGT_SIZE[dim]
            if MODES[mode] != need:
                fits = ", ".join(k for k, n in MODES.items() if n == need)
                yield ("material", m.tag(), "mode"), (f"mode {mode!r} does not fit a {dim}-D mesh"
                                             f"{f' ({cell_type})' if cell_type else ''}; use {fits}")
            elif mode != "1d" and m.nu is None:
                yield ("material", m.tag(), "nu"), f"missing required key (Poisson's ratio, needed for mode {mode!r})"
        for i, bc in enumerate(self.boundary):
            yield from _coordinates(bc.nodes, dim, ("boundary", i, bc.tag(), "nodes"))
            for c in bc.axes(dim):
                if c not in axes:
                    yield ("boundary", i, bc.tag(), "components"), (f"{c!r} is not a component of a {dim}-D mesh; "
                                                          f"use {', '.join(axes)}")
            if isinstance(bc, Load) and (message := value_count_error(bc.value, bc.axes(dim))):
                yield ("boundary", i, bc.tag(), "value"), message
        if self.initial is not None and self.initial.velocity is None and self.initial.random_velocity is None:
            yield ("initial", "velocity"), "missing: give velocity, random_velocity or both"
        if self.initial is not None and self.initial.velocity is not None:
            v = self.initial.velocity
            if len(v) != dim:
                noun = "component" if dim == 1 else "components"
                yield ("initial", "velocity"), (f"expected {dim} {noun} ({', '.join(axes)}) for a {dim}-D mesh, "
                                                f"got {list(v)!r}")
        if self.initial is not None and self.initial.nodes is not None:
            yield from _coordinates(self.initial.nodes, dim, ("initial", "nodes"))
        for i, sel in enumerate(self.output.probes):
            yield from _coordinates(sel, dim, ("output", "probes", i))


def _coordinates(selection: NodeSelection, dim: int, loc: tuple):
    for axis in selection.axes():
        if AXES.index(axis) >= dim:
            yield loc, f"{axis}: a {dim}-D mesh has no {axis} coordinate"


SECTIONS: dict[str, tuple[type[Table], ...]] = {
    "units": (Units,), "mesh": MESH.variants, "material": MATERIAL.variants, "boundary": BOUNDARY.variants,
    "initial": (Initial,), "time": (Time,), "damping": (Damping,), "output": (Output,),
}
"""The tables of each section (several: the variants of a tagged union), in the order of the file."""
ARRAYS = ("boundary",)
"""The sections that are arrays of tables."""
UNIONS = {"mesh": MESH, "material": MATERIAL, "boundary": BOUNDARY}
"""The sections that are tagged unions, and their selectors."""

__all__ = ["Analytic", "Box", "Boundary", "Case", "Condition", "Cubic", "Damping", "File", "Fixed", "Force",
           "Initial", "Line", "Linear", "Load", "Material", "Mesh", "Model", "NeoHookean", "NodeSelection", "Ogden",
           "Output", "PlateWithHole", "Rectangle", "Time", "Traction", "Units", "Velocity"]
