"""Compiled element and nodal time-step bounds (numba): no element matrix stored, no sparse assembly.

Both bounds of :mod:`fem.stability` need the element matrices ``A_e = sum_q w|J| B^T C_bar B`` of the metric
(:mod:`fem.metric`; ``C_bar = I`` in the Euclidean metric). In index form, with ``g_a = grad N_a(x_q)``,

.. math::  (A_e)_{am,bn} = \\sum_{r,s} D_{mrns}\\, H^{ab}_{rs}, \\qquad
           H^{ab}_{rs} = \\sum_q w_q |J_q|\\, g_{a,r}\\, g_{b,s},

where ``D_{mrns} = sum_kl T_kmr C_bar_kl T_lns`` is the Voigt matrix as a fourth-order tensor (``T`` maps the
displacement gradient to the Voigt strain with engineering shear, :func:`voigt_tensor`). Summing over the points
first (``H``), then contracting once per node pair, costs ``d^2 n_q + d^4`` per pair instead of a product of
``B^T C B`` per point: 8x fewer operations on hex8.

- **Element bound** ``max_e lambda_max(M_e^{-1/2} A_e M_e^{-1/2})`` (:func:`largest_element_eigenvalue`): the
  largest diagonal entry of every scaled element matrix ranks the elements (a lower bound of each eigenvalue); the
  :data:`TOP` highest-ranked get an exact ``eigvalsh`` (torch), whose largest value ``rho`` is a lower bound of
  the maximum; then every element is *checked* by a Cholesky factorization of ``mu I - A_e`` at
  ``mu = rho (1 + DELTA)``: one that completes with positive pivots proves ``lambda_max(A_e) < mu`` (Sylvester's
  law of inertia; the rounding margin of :data:`ROUNDING` is added, see below). Elements whose factorization fails
  get an exact ``eigvalsh``. The result is ``max(mu (1 + ROUNDING), the exact values)``: a bound over every
  element, never above the exact maximum by more than ``DELTA + ROUNDING`` relative (on a mesh of identical
  elements, or where the ranking finds the maximum; otherwise more elements are solved exactly, never fewer).
- **Nodal bound** (Gershgorin on the assembled matrix, :func:`nodal_row_sums`): ``sum_j |A_ij| / m_i`` per dof,
  each node's row assembled from the elements around it (a node-to-element map built by counting sort), in
  parallel over nodes: no race, no assembled matrix, memory of the map only.

**Rounding.** Cholesky of ``H = mu I - A`` (``n x n``, ``n <= 24``) that completes in floating point factors
``H + dH`` with ``|dH| <= gamma |R^T| |R|``, ``||dH||_2 <= gamma tr(H) / (1 - gamma)`` (Higham, Thm 10.3; the
argument of :mod:`fem.inertia`), ``gamma = 2(n+1) u / (1 - 2(n+1) u)``; ``tr(H) <= n mu`` since ``A`` is positive
semi-definite. So ``lambda_max(A) <= mu (1 + n gamma / (1 - gamma) + 2 u)`` for the matrix as computed; the
computed entries of ``A`` (sums of at most a few hundred products) are within about ``10^3 u`` of the exact ones
relative to its largest entry. :data:`ROUNDING` ``= 1e-12`` covers both with a factor above 5 to spare.
The torch ``eigvalsh`` path (:func:`fem.stability.element_eigenvalues`) rests on the same floating-point
element matrix.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from .kinematics import _VOIGT_PAIRS, Geometry
from .mass import element_masses, lumped_mass

try:
    import numba
    from numba import prange
except ImportError:  # pragma: no cover - numba is a dependency
    numba, prange = None, range

#: Relative shift of the checked value above the exact maximum of the ranked elements.
DELTA = 1e-4
#: Relative rounding margin added to the checked value (module docstring).
ROUNDING = 1e-12
#: Failed elements solved exactly per call of ``exact`` (each call copies their geometry).
FAILED_CHUNK = 65536
#: Elements ranked highest by their largest diagonal entry that get an exact eigenvalue first.
TOP = 256


def usable(geom: Geometry) -> bool:
    """Whether the compiled bounds run on ``geom``: numba, CPU tensors, 2-D or 3-D elements."""
    return numba is not None and geom.wdetJ.device.type == "cpu" and geom.dim in (2, 3)


def voigt_tensor(C: np.ndarray | None, d: int) -> np.ndarray:
    """``D (d, d, d, d)`` with ``eps_v^T C eps_v = sum D_mrns du_m/dx_r du_n/dx_s`` for the Voigt strain
    ``eps_v`` with engineering shear (``C``: ``(n_voigt, n_voigt)``; ``None``: the identity)."""
    pairs = _VOIGT_PAIRS[d]
    T = np.zeros((len(pairs), d, d))
    for k, (i, j) in enumerate(pairs):
        T[k, i, j] = 1.0
        T[k, j, i] = 1.0
    C = np.eye(len(pairs)) if C is None else np.asarray(C, dtype=np.float64)
    return np.einsum("kmr,kl,lns->mrns", T, C, T)


def _block_py(dNT, wdetJ, D, e, a, b, out, d, nq):  # pragma: no cover - compiled
    """``out[m, n] = (A_e)_{am,bn}`` (module docstring); inlined into the kernels, where ``d`` and ``nq`` are
    compile-time constants."""
    H = np.zeros((d, d))
    for q in range(nq):
        w = wdetJ[e, q]
        for r in range(d):
            ga = w * dNT[e, q * d + r, a]
            for s in range(d):
                H[r, s] += ga * dNT[e, q * d + s, b]
    for m in range(d):
        for n in range(d):
            acc = 0.0
            for r in range(d):
                for s in range(d):
                    acc += D[m, r, n, s] * H[r, s]
            out[m, n] = acc


_block = numba.njit(inline="always", cache=True, nogil=True)(_block_py) if numba is not None else _block_py


@functools.cache
def kernels(d: int, n_a: int, nq: int):
    """``(diagonals, check, rows)`` compiled for one element type (constant trip counts, cached on disk)."""
    D_, NA, NQ, K = d, n_a, nq, d * n_a  # noqa: N806
    jit = numba.njit(parallel=True, cache=True, nogil=True)
    @jit
    def diagonals(dNT, wdetJ, D, emass, out):  # pragma: no cover - compiled
        """``out[e]`` = the largest diagonal entry of the scaled element matrix (a lower bound of its
        ``lambda_max``)."""
        for e in prange(dNT.shape[0]):
            blk = np.empty((D_, D_))
            best = 0.0
            for a in range(NA):
                _block(dNT, wdetJ, D, e, a, a, blk, D_, NQ)
                for m in range(D_):
                    best = max(best, blk[m, m] / emass[e, a])
            out[e] = best

    @jit
    def check(dNT, wdetJ, D, emass, mu, fail):  # pragma: no cover - compiled
        """``fail[e]`` = the Cholesky factorization of ``mu I - M_e^-1/2 A_e M_e^-1/2`` met a pivot ``<= 0``."""
        for e in prange(dNT.shape[0]):
            H = np.empty((K, K))
            blk = np.empty((D_, D_))
            for a in range(NA):
                for b in range(a, NA):
                    _block(dNT, wdetJ, D, e, a, b, blk, D_, NQ)
                    s = 1.0 / np.sqrt(emass[e, a] * emass[e, b])
                    for m in range(D_):
                        for n in range(D_):
                            v = -blk[m, n] * s
                            H[a * D_ + m, b * D_ + n] = v
                            H[b * D_ + n, a * D_ + m] = v
            for i in range(K):
                H[i, i] += mu
            bad = False
            for j in range(K):  # lower Cholesky in place, column by column
                piv = H[j, j]
                for k in range(j):
                    piv -= H[j, k] * H[j, k]
                if not piv > 0.0:
                    bad = True
                    break
                piv = np.sqrt(piv)
                H[j, j] = piv
                for i in range(j + 1, K):
                    v = H[i, j]
                    for k in range(j):
                        v -= H[i, k] * H[j, k]
                    H[i, j] = v / piv
            fail[e] = bad

    return diagonals, check, _rows_kernel(D_, NA, NQ, jit)


def _rows_kernel(D_, NA, NQ, jit):  # noqa: N803
    """The nodal row-sum kernel (see :func:`kernels`)."""

    @jit
    def rows(cells, dNT, wdetJ, D, ptr, elems, local, mass, width, out):  # pragma: no cover - compiled
        """``out[node, m] = sum_j |A_(node m), j|`` over the assembled row, divided by the node's mass."""
        for node in prange(ptr.shape[0] - 1):
            nbr = np.empty(width, dtype=np.int64)
            acc = np.zeros((width, D_, D_))
            blk = np.empty((D_, D_))
            count = 0
            for p in range(ptr[node], ptr[node + 1]):
                e, a = elems[p], local[p]
                for b in range(NA):
                    other = cells[e, b]
                    slot = -1
                    for t in range(count):
                        if nbr[t] == other:
                            slot = t
                            break
                    if slot < 0:
                        slot = count
                        nbr[slot] = other
                        count += 1
                    _block(dNT, wdetJ, D, e, a, b, blk, D_, NQ)
                    for m in range(D_):
                        for n in range(D_):
                            acc[slot, m, n] += blk[m, n]
            for m in range(D_):
                s = 0.0
                for t in range(count):
                    for n in range(D_):
                        s += abs(acc[t, m, n])
                out[node, m] = s / mass[node] if mass[node] > 0.0 else 0.0

    return rows


@functools.cache
def _node_map_kernel():
    @numba.njit(cache=True, nogil=True)
    def node_map(cells, n_nodes):  # pragma: no cover - compiled
        """Counting sort of the connectivity: ``(ptr, elements, local index)`` of each node's elements."""
        n_el, n_a = cells.shape
        ptr = np.zeros(n_nodes + 1, dtype=np.int64)
        for e in range(n_el):
            for a in range(n_a):
                ptr[cells[e, a] + 1] += 1
        for i in range(n_nodes):
            ptr[i + 1] += ptr[i]
        fill = ptr[:-1].copy()
        elems = np.empty(n_el * n_a, dtype=np.int64)
        local = np.empty(n_el * n_a, dtype=np.int64)
        for e in range(n_el):
            for a in range(n_a):
                n = cells[e, a]
                elems[fill[n]] = e
                local[fill[n]] = a
                fill[n] += 1
        return ptr, elems, local

    return node_map


def _arrays(geom: Geometry, matrix) -> tuple:
    d, n_a = geom.dim, geom.cells.shape[1]
    nq = geom.dNT.shape[1] // d
    dNT = geom.dNT.detach().to(torch.float64).contiguous().numpy()
    w = geom.wdetJ.detach().to(torch.float64).contiguous().numpy()
    D = voigt_tensor(None if matrix is None else matrix.detach().cpu().numpy(), d)
    return kernels(d, n_a, nq), dNT, w, D


def largest_element_eigenvalue(geom: Geometry, matrix: torch.Tensor | None, exact) -> tuple[float, int]:
    """``(lambda, e)``: a certified ``lambda >= max_e lambda_max(M_e^{-1/2} A_e M_e^{-1/2})`` at unit density
    [1/length^2] (module docstring) and the element with the largest exact value found.

    ``matrix``: the metric's ``C_bar / scale`` (``None``: Euclidean); ``exact(index) -> (len(index),)``: exact
    eigenvalues of the listed elements (the torch path)."""
    (diagonals, check, _), dNT, w, D = _arrays(geom, matrix)
    n_el = dNT.shape[0]
    emass = element_masses(geom, 1.0).detach().to(torch.float64).contiguous().numpy()
    diag = np.empty(n_el)
    diagonals(dNT, w, D, emass, diag)
    top = np.argsort(diag)[-TOP:] if n_el > TOP else np.arange(n_el)
    lam = exact(torch.as_tensor(top)).cpu().numpy()
    best, where = float(lam.max()), int(top[int(lam.argmax())])
    if n_el <= TOP:
        return best, where
    mu = best * (1.0 + DELTA)
    fail = np.zeros(n_el, dtype=np.bool_)
    check(dNT, w, D, emass, mu, fail)
    failed = np.flatnonzero(fail)
    value = mu * (1.0 + ROUNDING)
    if failed.size:
        lam = np.concatenate([exact(torch.as_tensor(failed[i:i + FAILED_CHUNK])).cpu().numpy()
                              for i in range(0, failed.size, FAILED_CHUNK)])  # a copy of the geometry per chunk
        if lam.max() > best:
            best, where = float(lam.max()), int(failed[int(lam.argmax())])
        value = max(value, best)
    return value, where


def nodal_row_sums(geom: Geometry, matrix: torch.Tensor | None, density: float) -> np.ndarray:
    """``(n_nodes * dim,)`` [1/time^2 per unit of the metric's scale]: ``sum_j |A_ij| / m_i`` of the assembled
    matrix of the metric and the lumped masses at ``density`` [mass/length^3] (module docstring)."""
    (_, _, rows), dNT, w, D = _arrays(geom, matrix)
    cells = geom.cells.to(torch.int64).contiguous().numpy()
    ptr, elems, local = _node_map_kernel()(cells, geom.n_nodes)
    width = int(np.diff(ptr).max(initial=1)) * cells.shape[1]
    mass = lumped_mass(geom, density).detach().to(torch.float64).contiguous().numpy()
    out = np.empty((geom.n_nodes, geom.dim))
    rows(cells, dNT, w, D, ptr, elems, local, mass, width, out)
    return out.reshape(-1)


__all__ = ["largest_element_eigenvalue", "nodal_row_sums", "usable", "voigt_tensor"]
