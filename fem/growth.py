"""The growth rate of the linearised explicit system at a state: what no time step cures.

For ``M u'' + K_t u = 0`` with the tangent stiffness ``K_t`` (assembled from the material tangent at the
integration points, *not* symmetrized) and lumped mass ``M``, a mode ``u = phi exp(s t)`` has
``s^2 = -lambda`` with ``lambda`` an eigenvalue of ``A = M^{-1/2} K_t M^{-1/2}`` on the free dofs, so
``Re(s) = +-Im(sqrt(lambda))`` (principal complex square root). The growth rate is

.. math::  \\gamma = \\max_\\lambda |\\mathrm{Im} \\sqrt{\\lambda}| \\quad [1/\\text{time}],

zero for a symmetric positive semi-definite ``K_t``; positive for a non-symmetric tangent whose
eigenvalues leave the real axis (flutter) and for a softening one (negative real ``lambda``:
``gamma = sqrt(-lambda)``). The central-difference scheme follows the continuous system for
``dt -> 0``: such modes grow at *every* time step, at about ``exp(gamma t)``; ``dt_true`` of
:mod:`fem.stability` only says where the symmetric part becomes unstable as well.

Eigenvalues: dense (``numpy``) for up to 3000 free dofs; above, an ARPACK *estimate* (``scipy eigs``,
largest imaginary part and smallest real part). Eigenvalues below ``64 sqrt(n) eps max|lambda|`` in
modulus (rigid modes, rounding) and imaginary parts below that level are set to zero.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

from .element_matrices import assembled_stiffness
from .kinematics import Geometry

DENSE_MAX = 3000
"""Largest number of free dofs whose eigenvalues are computed densely."""


@dataclass
class Growth:
    """The linearised growth at a state.

    Attributes
    ----------
    growth_rate
        ``max |Im sqrt(lambda)|`` [1/time]; 0: no mode grows.
    e_folding_time
        ``1 / growth_rate`` [time] (``inf`` when nothing grows).
    symmetry_defect
        ``||K_t - K_t^T||_F / ||K_t||_F`` of the assembled stiffness [-].
    min_real_eigenvalue
        Smallest real part of the eigenvalues of ``M^{-1/2} K_t M^{-1/2}`` [1/time^2]; negative: softening.
    method
        ``"dense"`` (all eigenvalues) or ``"estimate"`` (ARPACK, a few of them).
    """

    growth_rate: float
    e_folding_time: float
    symmetry_defect: float
    min_real_eigenvalue: float
    method: str


def _eigenvalues(A: sp.csr_matrix, symmetric: bool) -> tuple[np.ndarray, str]:
    n = A.shape[0]
    if n <= DENSE_MAX:
        dense = A.toarray()
        lam = np.linalg.eigvalsh(dense) if symmetric else np.linalg.eigvals(dense)
        return lam.astype(complex), "dense"
    found = []
    for which in ("LM", "LI", "SR"):
        try:
            found.append(spla.eigs(A, k=6, which=which, return_eigenvectors=False, ncv=min(n, 60),
                                   tol=1e-8, maxiter=20 * n))
        except spla.ArpackNoConvergence as exc:  # keep what converged: it is an estimate
            found.append(np.asarray(exc.eigenvalues))
    return np.concatenate(found).astype(complex), "estimate"


def growth_rate(geom: Geometry, C: torch.Tensor, mass: np.ndarray, free: np.ndarray | None = None) -> Growth:
    """The growth rate of the linearised system at the state whose tangents are ``C``
    ``(n_el, n_qp, n_voigt, n_voigt)`` [stress]; ``mass``: lumped mass per dof; ``free``: the free dofs
    (``None``: all). See the module docstring."""
    K = assembled_stiffness(geom, C)
    norm = sp.linalg.norm(K)
    defect = float(sp.linalg.norm(K - K.T) / norm) if norm > 0 else 0.0
    s = sp.diags(1.0 / np.sqrt(np.asarray(mass, dtype=float)))
    A = (s @ K @ s).tocsr()
    if free is not None:
        A = A[free][:, free]
    lam, method = _eigenvalues(A, defect == 0.0)
    if lam.size == 0:
        return Growth(0.0, math.inf, defect, 0.0, method)
    tol = 64 * math.sqrt(A.shape[0]) * np.finfo(float).eps * float(np.abs(lam).max())
    lam = np.where(np.abs(lam) < tol, 0.0, lam)
    lam = np.where(np.abs(lam.imag) < tol, lam.real + 0j, lam)
    rate = float(np.abs(np.sqrt(lam).imag).max())
    return Growth(rate, math.inf if rate == 0 else 1.0 / rate, defect, float(lam.real.min()), method)


def growth_notes(geom, C, mass, free, check, true, notes: list[str]) -> Growth:
    """The linearised growth rate of a non-symmetric or softening tangent (``check``: a
    :class:`fem.stability.TangentCheck`), said in ``true.where`` (the ``true`` :class:`fem.stability.Bound`) and
    appended to ``notes``."""
    if check.non_symmetric:
        notes.append(f"the tangent is not symmetric (defect {check.symmetry_defect:.3g}): a non-conservative "
                     "law can grow at any time step; dt_true uses the symmetric part")
    if check.softening:
        notes.append(f"the tangent is softening (smallest eigenvalue of its symmetric part "
                     f"{check.min_eigenvalue:.6g}): such modes grow at any time step")
    t0 = time.perf_counter()
    g = growth_rate(geom, C, mass, free)
    true.seconds += time.perf_counter() - t0
    est = " (estimate)" if g.method == "estimate" else ""
    if g.growth_rate > 0:
        true.where = ("symmetric part only: the tangent is not symmetric (or softens), so the linearised system "
                      f"grows at every dt (growth rate {g.growth_rate:.6g} /time{est})")
        notes.append(f"linearised growth rate {g.growth_rate:.6g} /time{est} (e-folding time "
                     f"{g.e_folding_time:.6g}): no time step makes this state stable; symmetry defect of K_t "
                     f"{g.symmetry_defect:.3g}, smallest eigenvalue of M^-1/2 K_t M^-1/2 {g.min_real_eigenvalue:.6g}")
    else:
        true.where = "symmetric part only; the linearised system does not grow at this state (growth rate 0)"
    return g
