"""Compiled element kernels of the small-strain step (numba): gather, strain, stress, force and scatter in one pass.

The torch path (:class:`fem.kinematics.InternalForce`) runs a step as a dozen batched tensor operations, each a
pass over memory with its own temporaries: tiny batched matmuls, index gathers and an ``index_add_``; at 10^6
elements that is about 30x the memory-bandwidth floor of the step (issue 15's profile). :class:`FusedForce`
computes the same internal force (same formula, :class:`fem.kinematics.StrainForce`) with one compiled loop over
the elements:

.. math::  \\varepsilon_{q} = \\mathrm{voigt}\\Big(\\sum_a u_a \\otimes \\nabla N_a(x_q)\\Big), \\qquad
           \\sigma_q = C\\, \\varepsilon_q \\ \\text{(constant tangent)}, \\qquad
           f_a \\mathrel{+}= w_q |J_q|\\, \\sigma_q \\nabla N_a(x_q),

- for a law with a constant tangent (``material.linear`` with ``stiffness_bound`` ``C``: :class:`LinearElastic`),
  strain, stress and force in one pass per element, nothing but ``eps`` and ``sig`` written besides the force;
- for any other law, a compiled strain pass, the material's one batched call, and a compiled force pass.

The elements are split into one contiguous block per thread (``numba.get_num_threads()``), each scattering into
its own force buffer, summed at the end: no atomics, and the same result for the same thread count (the order
of the sums is fixed). Why numba: it compiles these loops from Python (a well-kept JIT with wheels for every
platform torch supports, no compiler needed on the user's machine), where torch eager cannot fuse a gather, a
per-element product and a scatter (``torch.compile`` brought no gain on this kernel, README). CPU only: on CUDA,
or without numba, the solver uses the torch path, which stays the tested reference (``tests/test_fused.py``
checks both agree).
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from .errors import InputError
from .kinematics import _VOIGT_PAIRS, Geometry, InternalForce

try:
    import numba
    from numba import prange
except ImportError:  # pragma: no cover - numba is a dependency; the torch path remains without it
    numba, prange = None, range

#: Whether the compiled kernels can run here.
AVAILABLE = numba is not None


#: Floating-point freedoms given to the compiler: fused multiply-adds and reassociated sums (vectorization). Not
#: ``nnan``/``ninf``: a non-finite force must stay non-finite, as the solver's blow-up check reads it.
FASTMATH = {"contract", "reassoc"}


def _helper(fn):
    """A loop shared by the kernels, inlined into each (numba IR inlining: the trip counts ``d`` and ``n_a`` are
    the caller's compile-time constants). Module-level, so that numba's disk cache can key the kernels."""
    return numba.njit(inline="always", cache=True, nogil=True, fastmath=FASTMATH)(fn) if AVAILABLE else fn


@_helper
def _gather(u, cells, e, ue, d, n_a):  # pragma: no cover - compiled
    """``ue[a, i] = u[cells[e, a], i]``."""
    for a in range(n_a):
        for i in range(d):
            ue[a, i] = u[cells[e, a], i]


@_helper
def _gradient(dNT, e, q, ue, grad, d, n_a):  # pragma: no cover - compiled
    """``grad[i, j] = du_i/dx_j = sum_a dN_a/dx_j u_ai`` at point ``q`` of element ``e``."""
    for j in range(d):
        for i in range(d):
            s = 0.0
            for a in range(n_a):
                s += dNT[e, q * d + j, a] * ue[a, i]
            grad[i, j] = s


@_helper
def _add_force(tens, dNT, e, q, fe, d, n_a):  # pragma: no cover - compiled
    """``fe[a, i] += sum_j tens[i, j] dN_a/dx_j`` (``tens``: ``w|J| sigma`` at point ``q``)."""
    for a in range(n_a):
        for i in range(d):
            s = 0.0
            for j in range(d):
                s += tens[i, j] * dNT[e, q * d + j, a]
            fe[a, i] += s


@_helper
def _scatter(f, cells, e, fe, d, n_a):  # pragma: no cover - compiled
    """``f[cells[e, a], i] += fe[a, i]``."""
    for a in range(n_a):
        for i in range(d):
            f[cells[e, a], i] += fe[a, i]


@functools.cache
def kernels(d: int, n_a: int, nq: int):
    """``(strain, force, linear, sum_blocks)`` compiled for one element type: ``d`` dimensions, ``n_a`` nodes,
    ``nq`` integration points, so every inner loop has a constant trip count (unrolled and vectorized by the
    compiler; measured 2.4x over the same loops with run-time bounds on quad4). Compiled once per type and cached
    on disk by numba (a later process loads it in well under a second)."""
    pairs = _VOIGT_PAIRS[d]
    PI, PJ, NV = tuple(p[0] for p in pairs), tuple(p[1] for p in pairs), len(pairs)  # noqa: N806
    D, NA, NQ = d, n_a, nq  # noqa: N806
    jit = numba.njit(parallel=True, cache=True, nogil=True, fastmath=FASTMATH)

    @jit
    def strain(cells, dNT, u, eps):  # pragma: no cover - compiled
        for e in prange(cells.shape[0]):
            ue = np.empty((NA, D))
            grad = np.empty((D, D))
            _gather(u, cells, e, ue, D, NA)
            for q in range(NQ):
                _gradient(dNT, e, q, ue, grad, D, NA)
                for k in range(NV):
                    i, j = PI[k], PJ[k]
                    eps[e, q, k] = grad[i, i] if i == j else grad[i, j] + grad[j, i]

    @jit
    def force(cells, dNT, wdetJ, sig, buf):  # pragma: no cover - compiled
        n_el, n_blocks = cells.shape[0], buf.shape[0]
        per = (n_el + n_blocks - 1) // n_blocks
        for b in prange(n_blocks):
            f = buf[b]
            f[:] = 0.0
            fe = np.empty((NA, D))
            tens = np.empty((D, D))
            for e in range(b * per, min((b + 1) * per, n_el)):
                fe[:] = 0.0
                for q in range(NQ):
                    w = wdetJ[e, q]
                    for k in range(NV):
                        tens[PI[k], PJ[k]] = sig[e, q, k] * w
                        tens[PJ[k], PI[k]] = sig[e, q, k] * w
                    _add_force(tens, dNT, e, q, fe, D, NA)
                _scatter(f, cells, e, fe, D, NA)

    linear = _linear_kernel(D, NA, NQ, PI, PJ, NV, jit)

    @jit
    def sum_blocks(buf, out):  # pragma: no cover - compiled
        for n in prange(buf.shape[1]):
            for i in range(D):
                s = 0.0
                for b in range(buf.shape[0]):
                    s += buf[b, n, i]
                out[n, i] = s

    return strain, force, linear, sum_blocks


def _linear_kernel(D, NA, NQ, PI, PJ, NV, jit):  # noqa: N803
    """The fused strain-stress-force kernel of a constant tangent (see :func:`kernels`)."""

    @jit
    def linear(cells, dNT, wdetJ, u, C, eps, sig, buf):  # pragma: no cover - compiled
        n_el, n_blocks = cells.shape[0], buf.shape[0]
        per = (n_el + n_blocks - 1) // n_blocks
        for b in prange(n_blocks):
            f = buf[b]
            f[:] = 0.0
            ue = np.empty((NA, D))
            fe = np.empty((NA, D))
            grad = np.empty((D, D))
            tens = np.empty((D, D))
            ep = np.empty(NV)
            for e in range(b * per, min((b + 1) * per, n_el)):
                _gather(u, cells, e, ue, D, NA)
                fe[:] = 0.0
                for q in range(NQ):
                    _gradient(dNT, e, q, ue, grad, D, NA)
                    for k in range(NV):
                        i, j = PI[k], PJ[k]
                        ep[k] = grad[i, i] if i == j else grad[i, j] + grad[j, i]
                        eps[e, q, k] = ep[k]
                    w = wdetJ[e, q]
                    for k in range(NV):
                        s = 0.0
                        for m in range(NV):
                            s += C[k, m] * ep[m]
                        sig[e, q, k] = s
                        tens[PI[k], PJ[k]] = s * w
                        tens[PJ[k], PI[k]] = s * w
                    _add_force(tens, dNT, e, q, fe, D, NA)
                _scatter(f, cells, e, fe, D, NA)

    return linear


def constant_tangent(material, n_voigt: int) -> torch.Tensor | None:
    """``C`` ``(n_voigt, n_voigt)`` of a law that declares a constant tangent (``linear = True`` with a
    ``stiffness_bound``), else ``None``."""
    if getattr(material, "linear", False) is not True or getattr(material, "stiffness_bound", None) is None:
        return None
    C = torch.as_tensor(material.stiffness_bound, dtype=torch.float64)
    return C if C.shape == (n_voigt, n_voigt) else None


def usable(geom: Geometry) -> bool:
    """Whether the compiled path can run on ``geom``: numba present, CPU tensors, float32 or float64, 2-D or
    3-D elements."""
    return AVAILABLE and geom.wdetJ.device.type == "cpu" and geom.wdetJ.dtype in (torch.float32, torch.float64) \
        and geom.dim in (2, 3)


class FusedForce:
    """``f_int(u)`` by the compiled kernels; the interface of :class:`fem.kinematics.InternalForce`.

    Calling it with ``u`` (``(n_dof,)`` [length]) writes the assembled force into ``out`` (``(n_dof,)``
    [force]) and returns ``(eps, sig)`` ``(n_el, n_qp, n_voigt)``, buffers that the next call overwrites.
    """

    def __init__(self, geom: Geometry, material) -> None:
        if not usable(geom):
            raise ValueError("the compiled kernels need numba, CPU tensors and float32/float64 2-D or 3-D elements")
        self.geom, self.material = geom, material
        e, qd, _ = geom.dNT.shape
        d = geom.dim
        self.n_qp, self.n_voigt = qd // d, geom.n_voigt
        like = geom.wdetJ
        self._cells = geom.cells.to(torch.int64).contiguous().numpy()
        self._dNT = geom.dNT.contiguous().numpy()
        self._w = geom.wdetJ.contiguous().numpy()
        self._strain, self._force, self._linear, self._sum = kernels(d, geom.cells.shape[1], self.n_qp)
        self.eps = like.new_empty((e, self.n_qp, self.n_voigt))
        self.sig = like.new_empty((e, self.n_qp, self.n_voigt))
        self._buf = np.empty((numba.get_num_threads(), geom.n_nodes, d), dtype=self._w.dtype)
        C = constant_tangent(material, self.n_voigt)
        self._C = None if C is None else C.to(like.dtype).numpy()

    @property
    def linear(self) -> bool:
        """Whether one fused pass (constant tangent) computes the force."""
        return self._C is not None

    def __call__(self, u: torch.Tensor, out: torch.Tensor):
        d = self.geom.dim
        u_np = u.detach().reshape(-1, d).contiguous().numpy()
        eps, sig = self.eps.numpy(), self.sig.numpy()
        if self._C is not None:
            self._linear(self._cells, self._dNT, self._w, u_np, self._C, eps, sig, self._buf)
        else:
            self._strain(self._cells, self._dNT, u_np, eps)
            stress = self.material.stress(self.eps.view(-1, self.n_voigt))
            self.sig.view(-1, self.n_voigt).copy_(stress)
            self._force(self._cells, self._dNT, self._w, sig, self._buf)
        self._sum(self._buf, out.view(-1, d).numpy())
        return self.eps, self.sig


#: What ``ExplicitSolver(kernel=...)`` accepts.
KERNELS = ("auto", "compiled", "torch")
#: ``"auto"`` compiles for meshes of at least this many elements: the first compile of an element type takes a few
#: seconds (once per machine: numba caches it on disk), the torch path is then slower from about this size on.
AUTO_MIN_ELEMENTS = 4096


def small_strain_force(geom: Geometry, material, kernel: str = "auto") -> InternalForce | FusedForce:
    """The internal force of a small-strain run: :class:`FusedForce` (compiled) or :class:`InternalForce` (torch).

    ``kernel``: ``"auto"`` (compiled where :func:`usable` and the mesh has at least :data:`AUTO_MIN_ELEMENTS`
    elements, else torch), ``"compiled"`` (an error where it cannot run) or ``"torch"``."""
    if kernel not in KERNELS:
        raise InputError(f"kernel must be one of {', '.join(KERNELS)}, got {kernel!r}", "kernel")
    if kernel == "compiled" and not usable(geom):
        raise InputError("kernel = 'compiled' needs numba, a CPU device, float32 or float64 and a 2-D or 3-D mesh; "
                         "use 'auto' or 'torch'", "kernel")
    if kernel == "torch" or (kernel == "auto" and (not usable(geom) or geom.cells.shape[0] < AUTO_MIN_ELEMENTS)):
        return InternalForce(geom, material)
    return FusedForce(geom, material)
