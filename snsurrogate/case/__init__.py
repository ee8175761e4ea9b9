"""TOML case files for ``snsurrogate simulate``: typed models, reading and validation.

A case file describes one explicit simulation: the mesh, the material, boundary and initial
conditions, the time span and step, damping and output. It is read with :mod:`tomllib` and
validated by the pydantic models of :mod:`snsurrogate.case.models` (one frozen model per section,
tagged unions for ``[mesh]``, ``[material]`` and ``[[boundary]]``, the cross-field rules as
validators), the one description of every section and key (kind, unit, default) from which the
reference below is generated (:func:`schema_reference`, also printed by ``snsurrogate simulate
--help``). Strings are only ever compared with fixed names, never evaluated.

Layout
------
- :mod:`~snsurrogate.case.kinds`: value kinds (strict, finite numbers; how messages name them);
- :mod:`~snsurrogate.case.models`: :class:`Case` and its sections;
- :mod:`~snsurrogate.case.load`: :func:`load_case` (TOML or dict), pydantic errors as located messages;
- :mod:`~snsurrogate.case.reference`: :func:`schema_reference`;
- :mod:`~snsurrogate.case.build`: the ``fem`` mesh, material, conditions and solver of a case.

Units are never assumed: the case is written in one consistent system of the user's choice (e.g. mm,
s, t, MPa, so that forces are in N and energies in mJ); ``[units]`` only names the units for the
outputs. Relative ``file`` and ``model`` paths are taken from the case file's folder.

Limits
------
What a case holds is bounded, and a message quotes at most 60 characters of a bad value (the rest is
counted, never echoed):

- a case file is at most 1 MiB (:data:`~snsurrogate.case.load.MAX_CASE_BYTES`), refused before it is
  parsed; a leading UTF-8 byte-order mark is skipped; a UTF-16 file is refused with a message saying so;
- names (units, boundary names, node groups) are 1 to 200 characters
  (:data:`~snsurrogate.case.kinds.MAX_NAME`);
- paths (``[mesh] file``, ``[material] model``) are at most 4096 characters (Linux ``PATH_MAX``), each
  file or folder name at most the file system's ``NAME_MAX`` bytes (``os.pathconf``; 255 where it does
  not say), checked before the file is looked for.

Units
-----
Known unit names (:data:`snsurrogate.case.units.UNITS`: m, km, cm, mm, um/µm, nm; s, ms, us/µs, ns, min,
h; kg, g, mg, t/tonne/Mg; Pa, kPa, MPa, GPa, bar, N/mm^2; N, kN, mN, ...; J, kJ, mJ, N m, N mm, ...)
are checked: with length, time, mass and stress all known, stress must be mass / (length x time^2)
(mm, s, t, MPa; m, s, kg, Pa; mm, ms, kg, GPa), force = stress x length^2 and energy = force x length;
an inconsistent set is refused, naming the unit that would fit. Other names are accepted unchecked.
With known length and mass, a density outside 1e-3 to 3e4 kg/m^3 is warned of (``summary.json``
``warnings``), and so is a run whose end time is not longer than its step (a single step).

Errors
------
Every problem is a :class:`snsurrogate.errors.CaseFileError` whose message starts with the case file and names
the section and key, for example::

    bar.toml: [mesh] divisions: expected a positive integer for a line, got -3
    bar.toml: [time] ends: unknown key; did you mean 'end'?
    bar.toml: [time] end: missing required key (end time [time], positive number)
    bar.toml: [[boundary]] #2 (clamp) nodes: unknown group 'lft' (did you mean 'left'?); the groups are left, right, all
    bar.toml: line 3, column 7: TOML syntax error: Invalid value

Reference (generated from the models)
-------------------------------------
::

    [units]: names of the units of the one consistent system the case is written in; they are only
            printed in the outputs, never converted; known names (m, mm, s, ms, kg, t, Pa, MPa, N, J,
            ...) are checked: stress = mass / (length x time^2), force = stress x length^2, energy =
            force x length; other names are not checked
        length = string, default 'length unit': length unit
        time = string, default 'time unit': time unit
        mass = string, default 'mass unit': mass unit
        stress = string, default the model's stress unit, else 'stress unit': stress unit (must match a
            fitted model's)
        force = string, default '<stress> x <length>^2': force unit (= stress x length^2)
        energy = string, default '<force> x <length>': energy unit (= force x length)
    [mesh] (required): the mesh: generated, or read from a file; one of
        generate = 'line': a bar along x from 0 to length (node groups left, right, all)
            length = positive number [length] (required): bar length
            divisions = positive integer (required): number of elements
            section = positive number [length^2], default 1.0: cross-section area
        generate = 'rectangle': a structured rectangle [0, lx] x [0, ly] (node groups left, right,
            bottom, top, all)
            size = [lx, ly] [length] (required): side lengths
            divisions = [nx, ny] (required): number of elements along each side
            element = 'quad4' | 'tri3', default 'quad4': element type
            jitter = number >= 0, default 0.0: random shift of the interior nodes, in element sizes (<
                0.25)
            seed = integer, default 0: seed of the jitter
            section = positive number [length], default 1.0: thickness
            kinematics = 'small' | 'finite', default 'finite' for a finite-strain law (neo_hookean, a
                model fitted to test modes), else 'small': 'small' (small-strain Voigt strain -> stress)
                or 'finite' (total Lagrangian, F -> P)
        generate = 'plate_with_hole': a quarter of a square plate [0, width]^2 with a hole of radius
            about the origin (node groups bottom and left: the symmetry lines; right, top, hole, all):
            fem.generate.plate_with_hole
            width = positive number [length] (required): side of the quarter plate
            radius = positive number [length] (required): hole radius (below 0.9 x width)
            divisions = [n_arc, n_radial] (required): elements around the quarter hole (even) and across
                the plate
            element = 'quad4' | 'tri3', default 'quad4': element type
            grading = positive number, default 1.15: size ratio of neighbouring elements along a ray (>
                1: finer at the hole)
            section = positive number [length], default 1.0: thickness
            kinematics = 'small' | 'finite', default 'finite' for a finite-strain law (neo_hookean, a
                model fitted to test modes), else 'small': 'small' (small-strain Voigt strain -> stress)
                or 'finite' (total Lagrangian, F -> P)
        generate = 'box': a structured box [0, lx] x [0, ly] x [0, lz] (node groups left, right, bottom,
            top, front, back, all)
            size = [lx, ly, lz] [length] (required): side lengths
            divisions = [nx, ny, nz] (required): number of elements along each side
            element = 'hex8' | 'tet4', default 'hex8': element type
            jitter = number >= 0, default 0.0: random shift of the interior nodes, in element sizes (<
                1/6)
            seed = integer, default 0: seed of the jitter
            kinematics = 'small' | 'finite', default 'finite' for a finite-strain law (neo_hookean, a
                model fitted to test modes), else 'small': 'small' (small-strain Voigt strain -> stress)
                or 'finite' (total Lagrangian, F -> P)
        file = string: mesh file, relative to the case file: a mesh file read by fem.meshfiles (Gmsh
            .msh, .vtu, ...); its dimension is that of its cells
            section = positive number, default 1 (not used by a 3-D mesh): bar cross-section area
                [length^2] or 2-D thickness [length]
            kinematics = 'small' | 'finite', default 'finite' for a finite-strain law (neo_hookean, a
                model fitted to test modes), else 'small': 'small' (small-strain Voigt strain -> stress)
                or 'finite' (total Lagrangian, F -> P)
    [material] (required): the material law: analytic, or a fitted snsurrogate model; one of
        type = 'linear': linear elastic law (fem.LinearElastic)
            E = positive number [stress] (required): Young's modulus (cubic: at zero strain)
            nu = number in (-1, 0.5), required unless mode = '1d': Poisson's ratio
            density = positive number [mass/length^3] (required): mass density
            mode = '1d' | 'plane_strain' | 'plane_stress' | '3d', default from the mesh: 1d,
                plane_strain, 3d: kinematics
        type = 'cubic': hardening cubic law (fem.HardeningCubic): the 1-D tangent is E (1 + 3 (strain /
            eps_h)^2)
            E = positive number [stress] (required): Young's modulus (cubic: at zero strain)
            nu = number in (-1, 0.5), required unless mode = '1d': Poisson's ratio
            density = positive number [mass/length^3] (required): mass density
            mode = '1d' | 'plane_strain' | 'plane_stress' | '3d', default from the mesh: 1d,
                plane_strain, 3d: kinematics
            eps_h = positive number [-] (required): hardening strain: the 1-D tangent is 4 E at |strain|
                = eps_h
            eps_max = positive number [-] (required): largest strain for which the bound is certified
        type = 'neo_hookean': compressible neo-Hookean law W = mu/2 (I1 - 3) - mu ln J + kappa/2 (J -
            1)^2 (finite strain, 2-D and 3-D)
            mu = positive number [stress] (required): shear modulus
            kappa = positive number [stress] (required): bulk coefficient of U(J) = kappa/2 (J - 1)^2
                (bulk modulus kappa + 2 mu/3)
            density = positive number [mass/length^3] (required): mass density
        type = 'ogden': compressible Ogden law, w'(lambda) = sum_p mu_p (lambda^(alpha_p - 1) -
            1/lambda) per principal stretch, plus kappa/2 (J - 1)^2 (finite strain, 2-D and 3-D;
            fem.Ogden)
            mu = [mu_1, ...] [stress] (required): moduli mu_p of the terms (mu_p alpha_p > 0)
            alpha = [alpha_1, ...] [-] (required): exponents alpha_p of the terms
            kappa = positive number [stress] (required): bulk coefficient of U(J) = kappa/2 (J - 1)^2
            density = positive number [mass/length^3] (required): mass density
        model = string: fitted model file, relative to the case file: a fitted snsurrogate model
            (snsurrogate fit) with its certified bound
            density = positive number [mass/length^3] (required): mass density
    [[boundary]]: boundary conditions, one table each; a dof may have one kinematic condition; one of
        type = 'fixed': zero displacement and velocity
            name = string, default '<type> #<n>': name used in messages
            nodes = node selection [length] (required): the nodes (a node selection)
            components = list of 'x', 'y', 'z', default all: the components it acts on
        type = 'velocity': prescribed velocity [length/time]
            name = string, default '<type> #<n>': name used in messages
            nodes = node selection [length] (required): the nodes (a node selection)
            components = list of 'x', 'y', 'z', default all: the components it acts on
            value = list of numbers (required): one per component: velocity [length/time], force per
                node [force], traction [stress]
            amplitude = [[t, factor], ...] [time, -], default 1: piecewise-linear factor of time,
                constant outside the table
        type = 'force': force on each selected node [force]
            name = string, default '<type> #<n>': name used in messages
            nodes = node selection [length] (required): the nodes (a node selection)
            components = list of 'x', 'y', 'z', default all: the components it acts on
            value = list of numbers (required): one per component: velocity [length/time], force per
                node [force], traction [stress]
            amplitude = [[t, factor], ...] [time, -], default 1: piecewise-linear factor of time,
                constant outside the table
        type = 'traction': surface traction [stress] on the boundary facets whose nodes are all selected
            name = string, default '<type> #<n>': name used in messages
            nodes = node selection [length] (required): the nodes (a node selection)
            components = list of 'x', 'y', 'z', default all: the components it acts on
            value = list of numbers (required): one per component: velocity [length/time], force per
                node [force], traction [stress]
            amplitude = [[t, factor], ...] [time, -], default 1: piecewise-linear factor of time,
                constant outside the table
    [initial]: initial velocity
        velocity = list of numbers [length/time], default none: one value per mesh dimension
        random_velocity = value: random field added: { amplitude = A, seed = S }
        nodes = node selection [length], default all nodes: the nodes that get it
    [time] (required): time integration (central differences)
        end = positive number [time] (required): end time
        dt = positive number or 'auto' [time], default 'auto': time step; 'auto' = safety x certified
            stable step (element or nodal bound, whichever is larger; reduced for damping)
        safety = number in (0, 1] or 'auto', default 'auto': factor on the certified step (dt = 'auto');
            'auto': 0.9 for a linear law, 0.05 for any other (docs/nonlinear-stability.md)
        allow_unsafe_dt = bool, default false: run a user dt above the certified step (warned and
            recorded)
        allow_long_run = bool, default false: run more than 1e8 steps or an estimated 24 h (refused
            otherwise; also simulate --allow-long-run)
        energy_warn = number in (0, 1], default 0.01: warn when the true energy (kinetic + strain energy
            - work) drifts by more than this fraction
        energy_stop = number in (0, 1] or false, default 0.1: stop when the true energy drifts by more
            than this; false: never
    [damping]: mass-proportional damping
        alpha = number >= 0 [1/time], default 0.0: damping coefficient
    [output]: ParaView frames, probes, progress bar
        frames = positive integer, default 20: number of frames after the initial one (not with every)
        every = positive integer [steps]: a frame every this many steps (not with frames)
        probes = list of node selections [length], default []: nodes whose displacements go into
            history.csv
        progress = bool, default true: progress bar
    node selection (nodes, [initial] nodes, [output] probes): a set of nodes: a node group and/or
            coordinates (a value or a range [lo, hi] each), combined with AND; for example { group =
            "left" }, { x = 0.0 }, { x = [0.0, 1.0], y = 5.0, tol = 1e-6 }
        group = string: a node group of the mesh (generated meshes: left, right, bottom, top, front,
            back, hole, all; mesh files: their physical groups)
        x = number or [lo, hi] [length]: x coordinate or range [lo, hi]
        y = number or [lo, hi] [length]: y coordinate or range
        z = number or [lo, hi] [length]: z coordinate or range
        tol = number >= 0 [length], default 1e-6 x shortest edge: tolerance of the coordinates
    rules:
        [material] mode must fit the mesh dimension (1-D: 1d; 2-D: plane_strain, plane_stress; 3-D: 3d),
            and nu is required unless the mode is 1d
        [[boundary]] components must be components of the mesh, with one value per component
        [initial] velocity has one value per mesh dimension
        node selections use only coordinates the mesh has
        a mesh file is checked against these rules once it is read

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

from ..errors import CaseFileError
from .kinds import AXES
from .load import fit_to_mesh, load_case, read_toml, validate
from .models import (
                     Boundary,
                     Box,
                     Case,
                     Cubic,
                     Damping,
                     File,
                     Fixed,
                     Force,
                     Initial,
                     Line,
                     Linear,
                     Material,
                     Mesh,
                     Model,
                     NeoHookean,
                     NodeSelection,
                     Ogden,
                     Output,
                     PlateWithHole,
                     Rectangle,
                     Time,
                     Traction,
                     Units,
                     Velocity,
)
from .reference import schema_reference

__all__ = ["AXES", "Boundary", "Box", "Case", "CaseFileError", "Cubic", "Damping", "File", "Fixed", "Force",
           "Initial", "Line", "Linear", "Material", "Mesh", "Model", "NeoHookean", "NodeSelection", "Ogden", "Output",
           "PlateWithHole", "Rectangle", "Time", "Traction", "Units", "Velocity", "fit_to_mesh", "load_case",
           "read_toml", "schema_reference", "validate"]
