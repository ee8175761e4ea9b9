"""A certified upper bound of ``λ_max(A, M)`` by an inertia (Sturm sequence) check: the global time-step bound.

Lanczos (``scipy.sparse.linalg.eigsh``) approaches ``λ_max`` from below, so its step is an estimate. This module
turns it into a certificate as structural eigensolvers do (the Sturm checks of NASTRAN's and Abaqus' Lanczos):
for ``μ = θ (1 + δ)`` above the estimate ``θ``, a Cholesky factorization of ``μ I - B``, ``B = M^{-1/2} A M^{-1/2}``,
that completes with positive pivots proves (Sylvester's law of inertia) that no eigenvalue of ``B`` reaches ``μ``,
up to the rounding of the computation, which is bounded and added (:func:`rounding_margin`). If the factorization
fails, ``δ`` grows tenfold (at most :data:`TRIES` times): the certificate never relies on Lanczos having converged.

**The floating-point margin** (IEEE double, unit roundoff ``u = 2⁻⁵³``, no underflow). With ``B̃`` the stored
scaled matrix and ``H̃ = fl(μ I - B̃)``:

1. scaling: each ``b̃_ij = fl(fl(a_ij s_i) s_j)`` with ``s_i = fl(1/fl(√m_i))`` is within ``6u |b̃_ij|`` (first
   order; 7u taken) of the exact ``a_ij / √(m_i m_j)``, so ``‖B̃ - B‖₂ <= 7u ρ(|B̃|) <= 7u max_i Σ_j |b̃_ij|``;
2. forming ``H̃``: the diagonal ``fl(μ - b̃_ii)`` is off by at most ``u |μ - b̃_ii|``;
3. Cholesky: if it completes, ``R̂ᵀR̂ = H̃ + ΔH`` with ``|ΔH| <= γ |R̂ᵀ||R̂|`` (Higham, *Accuracy and Stability of
   Numerical Algorithms*, 2nd ed., Thm 10.3, any order of summation), ``γ = k u / (1 - k u)``; we take
   ``k = 2(n + 1)`` to cover blocked (supernodal, BLAS-3) and fused multiply-add variants. By Cauchy–Schwarz
   ``‖|R̂ᵀ||R̂|‖₂ <= Σ_i ‖R̂ e_i‖² = tr(R̂ᵀR̂) <= tr(H̃) / (1 - γ)``, so ``‖ΔH‖₂ <= γ tr(H̃) / (1 - γ)``.

Then ``μ I - B ⪰ -(β₁ + β₂ + β₃) I`` and ``λ_max(A, M) <= μ + β``: the certified value, rounded up. The relative
margin is at most about ``2 n² u`` (measured ``4.3e-4`` at 2·10⁶ dofs): it grows with size, and is stated with
the result.

**The factorization** is CHOLMOD's supernodal Cholesky (SuiteSparse, through ``cvxopt``, whose wheels carry
SuiteSparse: nothing to install beside it), in METIS' nested-dissection order of the mesh's node graph
(``pymetis``, :func:`ordering`; CHOLMOD's AMD without it), which reports a non-positive pivot as such. SciPy
has only SuperLU, an LU that stores both factors and has no definiteness test; scikit-sparse and the
MUMPS bindings need system libraries. When the factor would exceed ``max_bytes`` (:func:`predicted_factor_bytes`,
an empirical estimate of the factor's fill on finite-element meshes), no factorization is attempted and the
result says why: the element and nodal bounds remain.

Units: ``A`` [force / length], ``M`` [mass]: eigenvalues [1/time²]; the step ``2 / √λ`` [time].
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

#: Unit roundoff of IEEE double.
U = 2.0**-53
#: The first relative shift ``δ`` above the Lanczos estimate; tenfold on each failed factorization.
DELTA = 1e-6
#: Factorizations tried before giving up (``δ`` up to ``DELTA x 10^(TRIES-1)``).
TRIES = 7
#: Default budget for the Cholesky factor [bytes].
MAX_BYTES = 4 * 2**30


@dataclass(frozen=True)
class InertiaCertificate:
    """The outcome of :func:`certify_largest`.

    ``bound``: certified ``>= λ_max(A, M)`` [1/time²], or ``None`` (``reason`` says why: too large, or no shift
    up to the last tried was positive definite); ``estimate``: the Lanczos value it started from; ``shift``: the
    ``μ`` whose factorization succeeded; ``margin``: the rounding margin ``β`` added [1/time²]; ``tries``:
    factorizations run; ``factor_nnz``: nonzeros of the successful factor (when available); ``seconds`` [s]."""

    bound: float | None
    estimate: float
    shift: float | None
    margin: float
    tries: int
    seconds: float
    reason: str = ""
    predicted_bytes: float = 0.0


def predicted_factor_bytes(n: int, dim: int, nested_dissection: bool | None = None) -> float:
    """Estimated memory of CHOLMOD's factor of a finite-element matrix with ``n`` dofs in ``dim`` dimensions
    [bytes]: ``nnz(L) ≈ c n^p``, fitted to measured factors of uniform quad4 and hex8 meshes
    (``benchmarks/global_certified.py``; METIS nested dissection: 2-D ``21.5 n^1.12``, 3-D ``5.4 n^1.45``; AMD:
    ``11.5 n^1.2``, ``0.95 n^1.7``), times 8 bytes per value and 1.25 for indices and workspace.
    ``nested_dissection``: whether :func:`ordering` has METIS (None: look)."""
    if nested_dissection is None:
        try:
            import pymetis  # noqa: F401

            nested_dissection = True
        except ImportError:
            nested_dissection = False
    if nested_dissection:
        c, p = (21.5, 1.12) if dim <= 2 else (5.4, 1.45)
    else:
        c, p = (11.5, 1.2) if dim <= 2 else (0.95, 1.7)
    return 8.0 * 1.25 * c * float(n) ** p


def scaled(A: sp.spmatrix, mass: np.ndarray, free: np.ndarray | None = None) -> sp.csr_matrix:
    """``M^{-1/2} A M^{-1/2}`` (CSR), restricted to the ``free`` dofs when given."""
    s = sp.diags(1.0 / np.sqrt(mass))
    B = (s @ A @ s).tocsr()
    return B if free is None else B[free][:, free].tocsr()


def positive_definite(H: sp.spmatrix) -> bool:
    """Whether CHOLMOD's Cholesky factorization of symmetric ``H`` completes with positive pivots."""
    return _factors(sp.tril(H, k=-1, format="coo"), H.diagonal(), sign=1.0)


def ordering(A: sp.spmatrix, dim: int, free: np.ndarray | None = None) -> np.ndarray | None:
    """A fill-reducing order of the (free) dofs: METIS nested dissection (``pymetis``) of the node graph of ``A``
    (node-major dofs, ``dim`` per node), each node's dofs kept together; ``None`` without ``pymetis`` (CHOLMOD's
    AMD then). In 2-D it cuts the factor of a 10⁶-element quad4 mesh by about a third against AMD
    (``benchmarks/global_certified.py``)."""
    try:
        import pymetis
    except ImportError:
        return None
    coo = A.tocoo()
    nodes = A.shape[0] // dim
    if nodes * dim != A.shape[0] or nodes < 2:
        return None
    graph = sp.csr_matrix((np.ones(coo.nnz, dtype=np.int8), (coo.row // dim, coo.col // dim)), shape=(nodes, nodes))
    graph.setdiag(0)
    graph.eliminate_zeros()
    _, iperm = pymetis.nested_dissection(pymetis.CSRAdjacency(graph.indptr.astype(np.int64),
                                                              graph.indices.astype(np.int64)))
    rank = np.asarray(iperm, dtype=np.int64)
    dofs = np.arange(A.shape[0]) if free is None else np.asarray(free)
    return np.argsort(rank[dofs // dim] * dim + dofs % dim, kind="stable")


def _factors(off: sp.coo_matrix, diag: np.ndarray, sign: float, perm: np.ndarray | None = None) -> bool:
    """Cholesky of the symmetric matrix with strict lower triangle ``sign x off`` and diagonal ``diag``, in the
    order ``perm`` (CHOLMOD's AMD when None): whether it completes. The inertia does not depend on the order."""
    return _Shifted(off, sign, perm).factors(diag)


class _Shifted:
    """The lower triangle of ``diag(h) + sign x off`` in CHOLMOD's format, built once (the coordinate arrays are
    released after); :meth:`factors` writes a diagonal ``h`` in place and factorizes."""

    def __init__(self, off: sp.coo_matrix, sign: float, perm: np.ndarray | None) -> None:
        from cvxopt import matrix, spmatrix

        n = off.shape[0]
        idx = np.arange(n, dtype=np.int64)
        self.A = spmatrix(matrix(np.concatenate((np.ones(n), sign * off.data)).astype(np.float64)),
                          matrix(np.concatenate((idx, off.row.astype(np.int64)))),
                          matrix(np.concatenate((idx, off.col.astype(np.int64)))), (n, n))
        colptr, rows, _ = self.A.CCS
        self.diag_at = np.asarray(colptr, dtype=np.int64).ravel()[:-1]  # lower CCS: (j, j) opens column j
        if not np.array_equal(np.asarray(rows, dtype=np.int64).ravel()[self.diag_at], idx):
            raise AssertionError("CHOLMOD matrix: the diagonal does not open its columns")
        self.perm = None if perm is None else matrix(perm.astype(np.int64))

    def factors(self, h: np.ndarray) -> bool:
        """Whether the Cholesky factorization with diagonal ``h`` completes with positive pivots."""
        from cvxopt import cholmod, matrix

        values = np.asarray(self.A.V, dtype=np.float64).ravel().copy()
        values[self.diag_at] = h
        self.A.V = matrix(values)
        del values
        old = dict(cholmod.options)
        cholmod.options["supernodal"] = 2
        try:
            factor = cholmod.symbolic(self.A, uplo="L") if self.perm is None else \
                cholmod.symbolic(self.A, p=self.perm, uplo="L")
            cholmod.numeric(self.A, factor)
            return True
        except ArithmeticError:
            return False
        finally:
            cholmod.options.clear()
            cholmod.options.update(old)


def rounding_margin(abs_row_sum: float, h_diag: np.ndarray) -> float:
    """``β = β₁ + β₂ + β₃`` of the module docstring [1/time²], rounded up, from ``max_i Σ_j |b̃_ij|`` of the stored
    scaled matrix and the diagonal of ``H̃ = fl(μ I - B̃)``."""
    n = h_diag.shape[0]
    k = 2.0 * (n + 1)
    if k * U >= 0.5:
        return math.inf
    gamma = k * U / (1.0 - k * U)
    beta1 = 7.0 * U * abs_row_sum
    beta2 = U * float(np.max(np.abs(h_diag))) if n else 0.0
    beta3 = gamma * math.fsum(np.abs(h_diag)) / (1.0 - gamma)
    return (beta1 + beta2 + beta3) * (1.0 + 8.0 * U * n + 1e-12)


def certify_largest(A: sp.spmatrix, mass: np.ndarray, estimate: float, *, free: np.ndarray | None = None,
                    dim: int = 2, max_bytes: float = MAX_BYTES, delta: float = DELTA,
                    tries: int = TRIES) -> InertiaCertificate:
    """A certified upper bound of ``λ_max(A, M)`` (symmetric ``A``, lumped ``mass > 0``; restricted to ``free``)
    from the Lanczos ``estimate`` (module docstring). Holds the scaled matrix's lower triangle in CHOLMOD's format
    and its diagonal beside the factor, nothing else of size ``n``."""
    t0 = time.perf_counter()
    n = A.shape[0] if free is None else len(free)
    need = predicted_factor_bytes(n, dim)
    if need > max_bytes:
        return InertiaCertificate(None, estimate, None, 0.0, 0, time.perf_counter() - t0,
                                  f"not attempted: the Cholesky factor of {n:,} dofs would need about "
                                  f"{need / 2**30:.3g} GiB (budget {max_bytes / 2**30:.3g} GiB)", need)
    B = scaled(A, mass, free)
    row_sum = float(np.max(abs(B).sum(axis=1))) if n else 0.0
    off, diag = sp.tril(B, k=-1, format="coo"), B.diagonal()
    del B
    shifted = _Shifted(off, -1.0, ordering(A, dim, free))
    del off
    base = max(float(estimate), 0.0) or row_sum  # Gershgorin if no estimate
    for i in range(tries):
        mu = base * (1.0 + delta * 10.0**i)
        h_diag = mu - diag
        if shifted.factors(h_diag):
            beta = rounding_margin(row_sum, h_diag)
            bound = (mu + beta) * (1.0 + 2.0 * U)
            return InertiaCertificate(bound, estimate, mu, beta, i + 1, time.perf_counter() - t0, "", need)
    return InertiaCertificate(None, estimate, None, 0.0, tries, time.perf_counter() - t0,
                              f"no shift up to {1.0 + delta * 10.0 ** (tries - 1):g} x the estimate was positive "
                              "definite", need)


__all__ = ["DELTA", "InertiaCertificate", "MAX_BYTES", "TRIES", "certify_largest", "positive_definite",
           "ordering", "predicted_factor_bytes", "rounding_margin", "scaled"]
