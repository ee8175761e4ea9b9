"""Certified and empirical Lipschitz constants of a stress network.

Certified bound (what :func:`lipschitz_bound` returns, in stress unit per strain unit):

.. math::

    L_{cert} = \\frac{s_\\sigma}{s_\\varepsilon} \\prod_{i=1}^{k} g_i \\, \\|W_i\\|_2
               \\prod_{i=1}^{k-1} \\mathrm{Lip}(\\phi)

with :math:`\\|W_i\\|_2` the exact largest singular value (float64 SVD via
``torch.linalg.matrix_norm(W, 2)``) of the weight matrix actually used at inference. Since
:math:`\\|\\partial\\sigma/\\partial\\varepsilon\\|_2 \\le L_{cert}` for *every* strain (not only in the
data range), the tangent stiffness of the material is bounded everywhere. The bound is in the
Euclidean norm of the engineering-Voigt vectors the network consumes and produces.

Power-iteration estimates of σ (used while training) can fall below the true σ and are never
reported as the bound.

Empirical estimate (:func:`lipschitz_empirical`): the largest Jacobian norm found by autograd over
a dense sample of a strain box plus projected gradient ascent. It is a *lower* bound of the true
constant on that box; ``L_cert / L_emp`` measures how tight the certificate is there.
"""

from __future__ import annotations

import math

import torch

from fem.materials import autograd_tangent

from .activations import ACTIVATION_LIPSCHITZ
from .network import StressNetwork
from .potential import PotentialNetwork, potential_bounds


def spectral_norms(net: StressNetwork) -> list[float]:
    """Exact spectral norms ``||W_i||_2`` (float64 SVD) of the weights a forward pass uses now."""
    was_training = net.training
    net.eval()  # a parametrized weight must not run another power iteration here
    try:
        return [float(torch.linalg.matrix_norm(w.double(), ord=2)) for w in net.plain_weights()]
    finally:
        net.train(was_training)


def lipschitz_bound(net: StressNetwork) -> float:
    """Certified upper bound of the Lipschitz constant of strain -> stress [stress unit / strain unit].

    Product of the exact spectral norms of the weights, the layer gains, the activation constants and
    the scalings ``s_sigma / s_eps``. Valid for any weights, normalized or not. For a potential network,
    ``(s_sigma / s_eps) ||g W||_2^2`` (:func:`snsurrogate.potential.potential_bounds`).
    """
    net = getattr(net, "network", net)  # accept a SurrogateModel too
    if isinstance(net, PotentialNetwork):
        return potential_bounds(net)[0]
    a = net.arch
    bound = a.stress_scale / a.strain_scale
    for g, s in zip(a.gains, spectral_norms(net)):
        bound *= g * s
    bound *= ACTIVATION_LIPSCHITZ[a.activation] ** (len(a.hidden))
    return float(bound)


def jacobian(net: StressNetwork, strain: torch.Tensor) -> torch.Tensor:
    """Tangent ``d stress / d strain`` at each point: ``(n, d_out, d_in)`` [stress unit / strain unit]
    (:func:`fem.materials.autograd_tangent` of the network)."""
    return autograd_tangent(net, strain)


def jacobian_norms(net: StressNetwork, strain: torch.Tensor) -> torch.Tensor:
    """Spectral norm of the tangent at each point, shape ``(n,)``."""
    jac = jacobian(net, strain)
    if jac.shape[-1] == 1 or jac.shape[-2] == 1:
        return jac.flatten(1).norm(dim=1)
    return torch.linalg.matrix_norm(jac, ord=2)


def lipschitz_empirical(
    net: StressNetwork,
    lower: torch.Tensor | list[float],
    upper: torch.Tensor | list[float],
    n_samples: int = 4096,
    n_starts: int = 16,
    steps: int = 100,
    seed: int = 0,
    extra_points: torch.Tensor | None = None,
) -> tuple[float, torch.Tensor]:
    """Largest tangent norm found on the strain box ``[lower, upper]`` (a lower bound of the true constant).

    Dense sample (a uniform grid for one strain component, Sobol points otherwise, plus
    ``extra_points`` such as the data), then projected gradient ascent on ``||C_t(eps)||_2`` from the
    ``n_starts`` best points, staying inside the box. For a piecewise-linear network (GroupSort) the
    Jacobian is piecewise constant and the dense sample alone is used.

    Returns
    -------
    (value, argmax)
        The largest norm found [stress unit / strain unit] and the strain where it was found, ``(d_in,)``.
    """
    net = getattr(net, "network", net)
    p = next(net.parameters())
    dtype, device = p.dtype, p.device
    lo = torch.as_tensor(lower, dtype=dtype, device=device).reshape(-1)
    hi = torch.as_tensor(upper, dtype=dtype, device=device).reshape(-1)
    d = lo.numel()
    width = (hi - lo).clamp_min(torch.finfo(dtype).tiny)
    if d == 1:
        pts = torch.linspace(0.0, 1.0, n_samples, dtype=dtype, device=device).unsqueeze(1)
    else:
        engine = torch.quasirandom.SobolEngine(d, scramble=True, seed=seed)
        pts = engine.draw(n_samples).to(dtype=dtype, device=device)
        corners = torch.cartesian_prod(*[torch.tensor([0.0, 1.0], dtype=dtype, device=device)] * d)
        pts = torch.cat((pts, corners.reshape(-1, d)))
    pts = lo + pts * width
    if extra_points is not None and len(extra_points):
        pts = torch.cat((pts, extra_points.to(dtype=dtype, device=device).reshape(-1, d)))
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            norms = torch.cat([jacobian_norms(net, chunk) for chunk in pts.split(8192)])
        best = int(torch.argmax(norms))
        best_val, best_pt = float(norms[best]), pts[best].clone()
        starts = pts[torch.topk(norms, min(n_starts, len(norms))).indices].clone()
        # Gradient ascent in scaled coordinates u in [0, 1]^d.
        u = ((starts - lo) / width).requires_grad_(True)
        opt = torch.optim.Adam([u], lr=0.02)
        for _ in range(steps):
            opt.zero_grad()
            val = jacobian_norms(net, lo + u * width)
            if not val.requires_grad:
                break  # piecewise-linear network (GroupSort): the Jacobian is piecewise constant
            (-val.sum()).backward()
            opt.step()
            with torch.no_grad():
                u.clamp_(0.0, 1.0)
                val = jacobian_norms(net, lo + u * width)
                i = int(torch.argmax(val))
                if float(val[i]) > best_val:
                    best_val, best_pt = float(val[i]), (lo + u[i] * width).detach().clone()
    finally:
        net.train(was_training)
    if not math.isfinite(best_val):
        raise FloatingPointError("non-finite Jacobian norm found while estimating the Lipschitz constant")
    return best_val, best_pt
