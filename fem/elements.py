"""Element registry: reference geometry, shape functions and quadrature of the linear elements.

Every element is either a *simplex* (P1: ``tri3``, ``tet4``) or a *cube* (Q1, tensor-product Lagrange on
``[-1, 1]^dim``: ``bar2``, ``quad4``, ``hex8``). Reference coordinates are dimensionless; the node order is
the meshio/VTK order.

Shape functions, with :math:`s_a \\in \\{-1, 1\\}^{dim}` the reference node coordinates of a cube element:

.. math::

    \\text{simplex:}\\quad N_0 = 1 - \\sum_i \\xi_i, \\quad N_{i+1} = \\xi_i
    \\qquad\\qquad
    \\text{cube:}\\quad N_a = \\prod_i \\tfrac{1}{2}(1 + s_{ai} \\xi_i)

Facet convention (used for outward normals). ``facets`` lists local node indices, ordered so that, for an
element of positive Jacobian determinant:

- ``bar2``: facet 0 is node 0 (outward normal ``-t``), facet 1 is node 1 (``+t``), with ``t`` the unit
  vector from node 0 to node 1;
- ``tri3``, ``quad4``: each edge ``(a, b)`` runs counter-clockwise around the element, so the outward normal
  is the edge tangent ``x_b - x_a`` rotated clockwise, ``(t_y, -t_x)``;
- ``tet4``, ``hex8``: each face is listed counter-clockwise seen from outside, so
  ``(x_1 - x_0) x (x_2 - x_0)`` (first three face nodes) points outward.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import torch

from .errors import MeshError

Array = TypeVar("Array", np.ndarray, torch.Tensor)


def _like(values: np.ndarray, ref: Array) -> Array:
    """``values`` (numpy) as the array type, dtype and device of ``ref``."""
    if isinstance(ref, torch.Tensor):
        return torch.as_tensor(values, dtype=ref.dtype, device=ref.device)
    return np.asarray(values, dtype=ref.dtype)


def _as_points(xi, dim: int):
    """Reference points as a floating numpy array or torch tensor with last axis ``dim``."""
    if isinstance(xi, torch.Tensor):
        if not xi.is_floating_point():
            xi = xi.to(torch.get_default_dtype())
    else:
        xi = np.asarray(xi)
        if not np.issubdtype(xi.dtype, np.floating):
            xi = xi.astype(np.float64)
    if xi.ndim == 0 or xi.shape[-1] != dim:
        raise ValueError(f"reference points must have shape (..., {dim}), got {tuple(xi.shape)}")
    return xi


@dataclass(frozen=True, eq=False)
class ElementType:
    """A linear finite element on its reference domain (all coordinates dimensionless).

    Attributes
    ----------
    name
        Registry key: ``"bar2"``, ``"tri3"``, ``"quad4"``, ``"tet4"`` or ``"hex8"``.
    dim
        Spatial dimension of the element (1, 2 or 3); meshes of this element have points of this dimension.
    n_nodes
        Nodes per element.
    meshio_type
        The meshio cell type name (``"line"``, ``"triangle"``, ``"quad"``, ``"tetra"``, ``"hexahedron"``).
    ref_nodes
        ``(n_nodes, dim)`` reference coordinates of the nodes.
    quad_points
        ``(n_qp, dim)`` reference coordinates of the integration points.
    quad_weights
        ``(n_qp,)`` integration weights; they sum to the reference volume.
    facets
        Local node indices of each boundary facet, oriented outward (see the module docstring).
    facet_type
        Element type of a facet: ``"point"`` (bar2), ``"bar2"``, ``"tri3"`` or ``"quad4"``.
    geometry
        Reference domain: ``"simplex"`` (unit simplex) or ``"cube"`` (``[-1, 1]^dim``).
    quad_degree
        Exactness of the quadrature: polynomials of total degree ``<= quad_degree`` (simplex) or of degree
        ``<= quad_degree`` in each coordinate separately (cube) are integrated exactly.
    mirror
        Node permutation that reverses the orientation (``cells[:, mirror]`` turns a negative Jacobian
        determinant into a positive one of the same magnitude).
    """

    name: str
    dim: int
    n_nodes: int
    meshio_type: str
    ref_nodes: np.ndarray
    quad_points: np.ndarray
    quad_weights: np.ndarray
    facets: tuple[tuple[int, ...], ...]
    facet_type: str
    geometry: str
    quad_degree: int
    mirror: tuple[int, ...]

    def shape(self, xi: Array) -> Array:
        """Shape functions at reference points.

        Parameters
        ----------
        xi
            ``(..., dim)`` reference coordinates, numpy array or torch tensor.

        Returns
        -------
        ``(..., n_nodes)`` values of the same type (and dtype, device) as ``xi``; differentiable by autograd.
        """
        xi = _as_points(xi, self.dim)
        if self.geometry == "simplex":
            first = 1.0 - xi.sum(-1)[..., None]
            return np.concatenate([first, xi], -1) if isinstance(xi, np.ndarray) else torch.cat([first, xi], -1)
        s = _like(self.ref_nodes, xi)  # (n_nodes, dim)
        return (0.5 * (1.0 + xi[..., None, :] * s)).prod(-1)

    def shape_grad(self, xi: Array) -> Array:
        """Derivatives of the shape functions with respect to the reference coordinates.

        Parameters
        ----------
        xi
            ``(..., dim)`` reference coordinates, numpy array or torch tensor.

        Returns
        -------
        ``(..., n_nodes, dim)`` array, entry ``[..., a, i]`` is :math:`\\partial N_a / \\partial \\xi_i`.
        """
        xi = _as_points(xi, self.dim)
        if self.geometry == "simplex":
            grad = np.vstack([-np.ones((1, self.dim)), np.eye(self.dim)])
            g = _like(grad, xi)
            shape = (*xi.shape[:-1], self.n_nodes, self.dim)
            return np.broadcast_to(g, shape).copy() if isinstance(xi, np.ndarray) else g.expand(shape).clone()
        s = _like(self.ref_nodes, xi)
        factors = 0.5 * (1.0 + xi[..., None, :] * s)  # (..., n_nodes, dim)
        columns = []
        for k in range(self.dim):  # loop over the (at most 3) coordinate directions, not over points
            keep = np.arange(self.dim) != k
            columns.append(0.5 * s[:, k] * factors[..., keep].prod(-1))
        return np.stack(columns, -1) if isinstance(xi, np.ndarray) else torch.stack(columns, -1)

    @property
    def reference_volume(self) -> float:
        """Measure of the reference domain (length, area or volume in reference units): 2, 1/2, 4, 1/6, 8."""
        return float(self.quad_weights.sum())

    @property
    def edges(self) -> tuple[tuple[int, int], ...]:
        """Local node pairs of the element's edges (used for edge lengths)."""
        if self.dim == 1:
            return ((0, 1),)
        if self.dim == 2:
            return tuple((f[0], f[1]) for f in self.facets)
        pairs = {tuple(sorted((f[i], f[(i + 1) % len(f)]))) for f in self.facets for i in range(len(f))}
        return tuple(sorted(pairs))


def _gauss2(dim: int) -> tuple[np.ndarray, np.ndarray]:
    """2-point Gauss rule per direction on ``[-1, 1]^dim``: ``2^dim`` points of weight 1."""
    g = 1.0 / np.sqrt(3.0)
    return np.array(list(itertools.product((-g, g), repeat=dim))), np.ones(2**dim)


def _freeze(a) -> np.ndarray:
    """A float64 copy. (Left writable: torch warns when it wraps a read-only numpy array.)"""
    return np.array(a, dtype=np.float64)


def _make_registry() -> dict[str, ElementType]:
    quad_nodes = [[-1, -1], [1, -1], [1, 1], [-1, 1]]
    hex_nodes = [[x, y, z] for z in (-1, 1) for x, y in quad_nodes]
    q4_points, q4_weights = _gauss2(2)
    h8_points, h8_weights = _gauss2(3)
    elements = [
        ElementType("bar2", 1, 2, "line", _freeze([[-1], [1]]), _freeze([[0.0]]), _freeze([2.0]),
                    ((0,), (1,)), "point", "cube", 1, (1, 0)),
        ElementType("tri3", 2, 3, "triangle", _freeze([[0, 0], [1, 0], [0, 1]]), _freeze([[1 / 3, 1 / 3]]),
                    _freeze([0.5]), ((0, 1), (1, 2), (2, 0)), "bar2", "simplex", 1, (0, 2, 1)),
        ElementType("quad4", 2, 4, "quad", _freeze(quad_nodes), _freeze(q4_points), _freeze(q4_weights),
                    ((0, 1), (1, 2), (2, 3), (3, 0)), "bar2", "cube", 3, (0, 3, 2, 1)),
        ElementType("tet4", 3, 4, "tetra", _freeze([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]),
                    _freeze([[0.25, 0.25, 0.25]]), _freeze([1 / 6]),
                    ((0, 2, 1), (0, 1, 3), (0, 3, 2), (1, 2, 3)), "tri3", "simplex", 1, (0, 2, 1, 3)),
        ElementType("hex8", 3, 8, "hexahedron", _freeze(hex_nodes), _freeze(h8_points), _freeze(h8_weights),
                    ((0, 3, 2, 1), (4, 5, 6, 7), (0, 1, 5, 4), (1, 2, 6, 5), (2, 3, 7, 6), (3, 0, 4, 7)),
                    "quad4", "cube", 3, (0, 3, 2, 1, 4, 7, 6, 5)),
    ]
    return {e.name: e for e in elements}


ELEMENTS: dict[str, ElementType] = _make_registry()
"""The element registry, keyed by :attr:`ElementType.name`."""


def get_element(name: str) -> ElementType:
    """The registered element called ``name``.

    Raises
    ------
    MeshError
        For an unknown name; the message lists the supported element types.
    """
    try:
        return ELEMENTS[name]
    except (KeyError, TypeError):
        raise MeshError(f"unknown element type {name!r}; supported: {', '.join(ELEMENTS)}") from None


def element_for_meshio(meshio_type: str) -> ElementType | None:
    """The registered element whose meshio cell type is ``meshio_type``, or None when there is none."""
    for element in ELEMENTS.values():
        if element.meshio_type == meshio_type:
            return element
    return None
