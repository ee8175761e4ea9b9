"""Boundary and initial conditions, and their conversion to per-dof tensors for the solver.

Node sets come from :meth:`fem.mesh.Mesh.select_nodes` (a named group, a coordinate value with a
tolerance, or a range); nothing here evaluates user strings. Components are given by name
(``"x"``, ``"y"``, ``"z"``) or index.

Every time-dependent load has an :class:`Amplitude`: a piecewise-linear table ``(t, factor)``,
constant beyond its ends (default: the constant 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .errors import InputError, counted

COMPONENTS = {"x": 0, "y": 1, "z": 2}


@dataclass(frozen=True)
class Amplitude:
    """Piecewise-linear factor of time. ``times`` [time] increasing, ``values`` [-]; constant outside."""

    times: tuple[float, ...] = (0.0,)
    values: tuple[float, ...] = (1.0,)

    def __post_init__(self) -> None:
        t = np.asarray(self.times, dtype=float)
        v = np.asarray(self.values, dtype=float)
        if t.ndim != 1 or t.shape != v.shape or len(t) == 0:
            raise InputError("amplitude: times and values must be lists of equal, non-zero length", "amplitude")
        if not (np.isfinite(t).all() and np.isfinite(v).all()) or np.any(np.diff(t) <= 0):
            raise InputError("amplitude: times must be finite and strictly increasing, values finite", "amplitude")

    def __call__(self, t: float) -> float:
        return float(np.interp(t, self.times, self.values))

    def rate(self, t: float) -> float:
        """Time derivative [1/time] (one-sided at a kink, zero outside the table)."""
        times, values = self.times, self.values
        if len(times) < 2 or t < times[0] or t >= times[-1]:
            return 0.0
        k = int(np.searchsorted(times, t, side="right")) - 1
        return (values[k + 1] - values[k]) / (times[k + 1] - times[k])


def component_indices(components, dim: int, where: str) -> list[int]:
    """Component names or indices to indices ``< dim``."""
    out = []
    for c in components:
        k = COMPONENTS.get(c, c) if isinstance(c, str) else c
        if not isinstance(k, (int, np.integer)) or not 0 <= int(k) < dim:
            names = ", ".join(list(COMPONENTS)[:dim])
            raise InputError(f"{where}: unknown component {c!r}; expected one of {names} for a {dim}-D mesh",
                             "components")
        out.append(int(k))
    if len(set(out)) != len(out):
        raise InputError(f"{where}: a component is listed twice: {list(components)!r}", "components")
    return out


@dataclass
class Fixed:
    """Zero displacement (and velocity) of ``components`` at ``nodes``."""

    nodes: np.ndarray
    components: tuple | None = None  # None: every component
    name: str = "fixed"


@dataclass
class _Load:
    """Shared fields: ``value * amplitude(t)`` on ``components`` of ``nodes``; the unit depends on the kind."""

    nodes: np.ndarray
    components: tuple
    value: tuple
    amplitude: Amplitude = field(default_factory=Amplitude)
    name: str = "load"


@dataclass
class Velocity(_Load):
    """Prescribed velocity ``value * amplitude(t)`` [length/time] of ``components`` at ``nodes``."""

    name: str = "velocity"


@dataclass
class NodalForce(_Load):
    """Force ``value * amplitude(t)`` [force] on each node of ``nodes``, per component."""

    name: str = "force"


@dataclass
class Traction(_Load):
    """Surface traction ``value * amplitude(t)`` [stress] on the boundary facets whose nodes all lie in
    ``nodes``; converted to nodal forces ``t * (facet measure) / (nodes per facet)`` (exact for constant
    traction on straight edges, flat triangles and parallelogram faces)."""

    name: str = "traction"


@dataclass
class InitialVelocity:
    """Initial velocity: ``value`` (per component) at ``nodes``, or a full ``field (n_nodes, dim)``."""

    nodes: np.ndarray | None = None
    value: tuple | None = None
    field: np.ndarray | None = None


def facet_measures(points: np.ndarray, facets: np.ndarray, section: float) -> np.ndarray:
    """Length (2-D edges, times the thickness), area (3-D faces) or section (1-D end points) of facets."""
    n = facets.shape[1]
    x = points[facets]
    if n == 1:
        return np.full(len(facets), section)
    if n == 2:
        return np.linalg.norm(x[:, 1] - x[:, 0], axis=1) * section
    if n == 3:
        return 0.5 * np.linalg.norm(np.cross(x[:, 1] - x[:, 0], x[:, 2] - x[:, 0]), axis=1)
    # quadrilateral: two triangles through the diagonal 0-2
    a = 0.5 * np.linalg.norm(np.cross(x[:, 1] - x[:, 0], x[:, 2] - x[:, 0]), axis=1)
    b = 0.5 * np.linalg.norm(np.cross(x[:, 2] - x[:, 0], x[:, 3] - x[:, 0]), axis=1)
    return a + b


@dataclass
class BoundaryTensors:
    """Per-dof tensors the solver uses (flattened node-major dofs)."""

    fixed: torch.Tensor  # (n_fixed,) dof indices with zero motion
    vel_dofs: torch.Tensor  # (n_vel,) dof indices with prescribed velocity
    vel_values: torch.Tensor  # (n_vel,) velocity per dof before the amplitude [length/time]
    vel_groups: list[tuple[torch.Tensor, Amplitude]]  # (positions into vel_dofs, amplitude)
    loads: list[tuple[torch.Tensor, Amplitude]]  # (force vector (n_dof,), amplitude)

    @property
    def constrained(self) -> torch.Tensor:
        return torch.cat((self.fixed, self.vel_dofs))


def build(mesh, conditions, *, section: float, dtype, device) -> BoundaryTensors:
    """Turn a list of conditions into :class:`BoundaryTensors`; a dof constrained twice is an error."""
    dim = mesh.dim
    fixed, vel_dofs, vel_values, vel_groups, loads = [], [], [], [], []

    def dofs(nodes, comps):
        nodes = np.asarray(nodes, dtype=np.int64).reshape(-1)
        if nodes.size == 0:
            raise InputError("a boundary condition selects no nodes", "nodes")
        return (nodes[:, None] * dim + np.asarray(comps)[None, :]).reshape(-1)

    claimed: list[tuple[np.ndarray, str]] = []

    def claim(ds, name):
        """Refuse a dof that an earlier kinematic condition already constrains (vectorised check)."""
        for earlier, other in claimed:
            both = np.intersect1d(earlier, ds)
            if both.size:
                d = int(both[0])
                raise InputError(
                    f"boundary '{name}' constrains dof {d} (node {d // dim}, component {d % dim}) that "
                    f"'{other}' already constrains; give each dof one kinematic condition"
                )
        claimed.append((np.unique(ds), name))

    for bc in conditions:
        if isinstance(bc, Fixed):
            comps = list(range(dim)) if bc.components is None else component_indices(bc.components, dim, bc.name)
            ds = dofs(bc.nodes, comps)
            claim(ds, bc.name)
            fixed.append(ds)
        elif isinstance(bc, Velocity):
            comps = component_indices(bc.components, dim, bc.name)
            if len(bc.value) != len(comps):
                raise InputError(f"{bc.name}: {counted(len(comps), 'component')} but {counted(len(bc.value), 'value')}",
                                 "value")
            ds = dofs(bc.nodes, comps)
            claim(ds, bc.name)
            start = sum(len(v) for v in vel_dofs)
            vel_dofs.append(ds)
            vel_values.append(np.tile(np.asarray(bc.value, dtype=float), len(ds) // len(comps)))
            vel_groups.append((torch.arange(start, start + len(ds), device=device), bc.amplitude))
        elif isinstance(bc, (NodalForce, Traction)):
            comps = component_indices(bc.components, dim, bc.name)
            if len(bc.value) != len(comps):
                raise InputError(f"{bc.name}: {counted(len(comps), 'component')} but {counted(len(bc.value), 'value')}",
                                 "value")
            f = np.zeros((mesh.n_nodes, dim))
            if isinstance(bc, NodalForce):
                f[np.asarray(bc.nodes, dtype=np.int64)[:, None], comps] = bc.value
            else:
                facets = mesh.boundary_facets()
                inside = np.isin(facets, np.asarray(bc.nodes)).all(axis=1)
                facets = facets[inside]
                if len(facets) == 0:
                    raise InputError(f"{bc.name}: no boundary facet has all its nodes in the selected node set",
                                     "nodes")
                share = facet_measures(np.asarray(mesh.points, dtype=float), facets, section) / facets.shape[1]
                per_node = np.zeros(mesh.n_nodes)
                np.add.at(per_node, facets.reshape(-1), np.repeat(share, facets.shape[1]))
                f[:, comps] = per_node[:, None] * np.asarray(bc.value, dtype=float)[None, :]
            loads.append((torch.as_tensor(f.reshape(-1), dtype=dtype, device=device), bc.amplitude))
        else:
            raise InputError(f"unknown boundary condition {bc!r}")

    def cat(parts, dt=torch.int64):
        if not parts:
            return torch.zeros(0, dtype=dt, device=device)
        return torch.as_tensor(np.concatenate(parts), dtype=dt, device=device)

    return BoundaryTensors(cat(fixed), cat(vel_dofs), cat(vel_values, dtype), vel_groups, loads)


def initial_velocity(mesh, iv: InitialVelocity | None, *, dtype=torch.float64, device="cpu") -> torch.Tensor:
    """The initial velocity ``(n_dof,)`` [length / time] of ``iv`` on ``mesh`` (zero where it sets none, and
    everywhere for ``None``); a field or value of the wrong shape is an :class:`InputError`."""
    v0 = torch.zeros(mesh.n_nodes * mesh.dim, dtype=dtype, device=device)
    if iv is None:
        return v0
    if iv.field is not None:
        fld = np.asarray(iv.field, dtype=float)
        if fld.shape != (mesh.n_nodes, mesh.dim):
            raise InputError(f"initial velocity field must have shape {(mesh.n_nodes, mesh.dim)}, got {fld.shape}")
        return torch.as_tensor(fld.reshape(-1), dtype=dtype, device=device)
    value = np.asarray(iv.value, dtype=float)
    if value.shape != (mesh.dim,):
        raise InputError(f"initial velocity: expected {counted(mesh.dim, 'component')}, got {value.tolist()}",
                         "initial_velocity")
    nodes = torch.as_tensor(np.asarray(iv.nodes, dtype=np.int64), device=device)
    v0.view(mesh.n_nodes, mesh.dim)[nodes] = torch.as_tensor(value, dtype=dtype, device=device)
    return v0
