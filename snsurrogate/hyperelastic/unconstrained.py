"""The unconstrained counterpart of the certified stretch energy: a free-weight MLP of the log-stretch, fitted by Adam.

What it is for: the demonstration (and anyone who wants to see what the constraint buys) needs a law fitted to the
same tests with the same kinematics but *without* the convexity and the designed bound. Here

.. math::

    w'(\\lambda) = g(\\ln \\lambda), \\qquad g(x) = s_\\sigma\\,(y(x/s_x) - y(0)),

with ``y`` a :class:`~snsurrogate.network.StressNetwork` (free weights, smooth activation ``tanh`` or ``softplus``),
``s_x`` the largest ``|ln λ|`` the tests reach and ``s_σ`` their largest stress. The log-stretch input is what lets
an MLP follow Treloar's equibiaxial test, whose lateral stretch reaches 0.05 (measured: with ``λ - 1`` as input the
same network fitted equibiaxial and pure shear to R² 0.93 only). Then

.. math::

    w''(\\lambda) = g'(\\ln \\lambda) / \\lambda, \\qquad |g'| \\le L_g = \\frac{s_\\sigma}{s_x} \\prod_i \\|W_i\\|_2
    \\ \\Rightarrow\\ |w''(\\lambda)| \\le L_g / \\lambda,

the product of the exact layer norms (:func:`snsurrogate.lipschitz.lipschitz_bound`): a valid certificate of the
curvature (so of the state bound ``a(F)``), just not a designed one, and with no lower bound (``w''`` may be
negative: the law may soften). ``w'' `` at a point is computed exactly by forward-mode differentiation
(``torch.func.jvp``); the energy ``w(λ) = ∫_0^{ln λ} g(x) e^x dx`` by Gauss–Legendre quadrature
(:data:`QUADRATURE` nodes; used for energy monitoring and output only, the stress is ``w'`` itself).

:func:`fit_unconstrained` fits ``g`` by Adam (cosine learning-rate decay) to the weighted residuals of
:mod:`snsurrogate.hyperelastic.fitting`, the lateral stretches held for a block of epochs and then re-solved with
the current law (incompressible at the start), ``κ`` from the same rule as the certified fit. Units: stretches
dimensionless, ``w'``, ``w''`` and ``L_g`` in the stress unit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from ..errors import TrainingError
from ..lipschitz import lipschitz_bound
from ..network import Architecture, StressNetwork, freeze
from .curves import TestCurve
from .modes import lateral_stretch, linear_form, pressure, spec

#: Smooth activations a free stretch network may use (the energy quadrature needs a smooth ``w'``).
FREE_ACTIVATIONS = ("tanh", "softplus")
#: Gauss–Legendre nodes of the energy quadrature.
QUADRATURE = 32
#: Blocks of Adam epochs between lateral-stretch updates.
LATERAL_BLOCKS = 10

_NODES, _WEIGHTS = (torch.from_numpy(a) for a in np.polynomial.legendre.leggauss(QUADRATURE))


class LogStretchCurve:
    """``w'``, ``w''``, ``w`` and the interval curvature bound of a frozen 1 -> 1 :class:`StressNetwork` of ``ln λ``
    (module docstring). ``bound`` is ``L_g`` [stress unit]: ``|w''(λ)| <= L_g / λ``."""

    def __init__(self, net: StressNetwork) -> None:
        a = net.arch
        if a.kind != "mlp" or a.d_in != 1 or a.d_out != 1 or not a.zero_origin or net.spectral:
            raise ValueError("an unconstrained stretch curve is a frozen 1 -> 1 MLP with a stress-free origin")
        if a.activation not in FREE_ACTIVATIONS:
            raise ValueError("an unconstrained stretch curve needs a smooth activation "
                             f"({', '.join(FREE_ACTIVATIONS)}), got {a.activation!r}")
        self.net = net
        self.bound = lipschitz_bound(net)

    def dw(self, lam: torch.Tensor) -> torch.Tensor:
        """``w'(λ) = g(ln λ)`` [stress unit], stretches of any shape; differentiable."""
        return self.net(torch.log(lam).reshape(-1, 1)).reshape(lam.shape)

    def d2w(self, lam: torch.Tensor) -> torch.Tensor:
        """``w''(λ)`` [stress unit], exact (forward-mode derivative of :meth:`dw`), without gradient."""
        with torch.no_grad():
            return torch.func.jvp(self.dw, (lam,), (torch.ones_like(lam),))[1]

    def w(self, lam: torch.Tensor) -> torch.Tensor:
        """``w(λ) = ∫_0^{ln λ} g(x) eˣ dx`` [stress unit] by :data:`QUADRATURE`-point Gauss–Legendre."""
        x = torch.log(lam).reshape(-1, 1)
        nodes, weights = _NODES.to(lam), _WEIGHTS.to(lam)
        s = 0.5 * x * (1.0 + nodes)  # (n, QUADRATURE)
        g = self.net(s.reshape(-1, 1)).reshape(s.shape)
        return (0.5 * x * (weights * g * torch.exp(s))).sum(dim=1).reshape(lam.shape)

    def curvature_bound(self, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
        """Certified ``>= max |w''|`` over each ``[lo, hi]`` (stretches > 0): ``L_g / lo`` [stress unit]."""
        del hi
        return self.bound / lo


def _lateral(curves: Sequence[TestCurve], dw, d2w, kappa: float | None) -> list[torch.Tensor | None]:
    return [lateral_stretch(c.mode, torch.from_numpy(c.x), dw, d2w, kappa) if spec(c.mode).has_lateral else None
            for c in curves]


def _residual(curves, lateral, weights, dw, kappa) -> torch.Tensor:
    loss = torch.zeros((), dtype=torch.float64)
    for c, t, w in zip(curves, lateral, weights):
        x = torch.from_numpy(c.x)
        if c.mode == "volumetric":
            pred = pressure(x, dw, kappa)
        else:
            stretches, coefs = linear_form(c.mode, x, t, c.measure)
            pred = (coefs * dw(stretches)).sum(dim=2)
        loss = loss + (torch.from_numpy(w) * (pred.reshape(-1) - torch.from_numpy(c.stress.ravel())) ** 2).sum()
    return loss


def fit_unconstrained(curves: Sequence[TestCurve], weights: Sequence[np.ndarray], options, kappa_of,
                      stretch_range: tuple[float, float]):
    """Fit the free network (module docstring): ``(frozen StressNetwork, κ, passes, notes)``.

    ``options``: the :class:`~snsurrogate.hyperelastic.fitting.HyperelasticOptions` (``hidden``, ``activation``,
    ``epochs``, ``lr``, ``seed``); ``kappa_of(μ)`` the fixed-``κ`` rule of the certified fit, or ``None`` to fit ``κ``
    to the volumetric test; ``stretch_range`` the tests' principal stretches (the input scale)."""
    lo, hi = stretch_range
    scale_x = max(abs(math.log(lo)), abs(math.log(hi)), 1e-3)
    scale_s = max(float(np.abs(c.stress).max()) for c in curves) or 1.0
    arch = Architecture(1, 1, tuple(options.hidden), options.activation, strain_scale=scale_x, stress_scale=scale_s)
    with torch.random.fork_rng():
        torch.manual_seed(options.seed)
        net = StressNetwork(arch).double()
    log_kappa = None if kappa_of is not None else torch.zeros((), dtype=torch.float64, requires_grad=True)
    params = list(net.parameters()) + ([log_kappa] if log_kappa is not None else [])
    opt = torch.optim.Adam(params, lr=options.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, options.epochs)
    curve = LogStretchCurve(net)  # w' and w'' of the training network (its bound is not used while fitting)

    def current_kappa() -> float:
        if log_kappa is not None:
            return float(log_kappa.detach().exp() * scale_s)
        return kappa_of(0.5 * float(curve.d2w(torch.ones(1, dtype=torch.float64))[0]))

    lateral = _lateral(curves, None, None, None)
    notes: list[str] = []
    block = max(1, options.epochs // LATERAL_BLOCKS)
    fixed = options.bulk_modulus if options.bulk_modulus is not None else 1.0  # κ before the first update (only
    # volumetric rows use it, and with a fixed κ they exist only when the bulk modulus is given)
    for epoch in range(options.epochs):
        kappa = log_kappa.exp() * scale_s if log_kappa is not None else fixed
        opt.zero_grad()
        loss = _residual(curves, lateral, weights, curve.dw, kappa)
        if not torch.isfinite(loss):
            raise TrainingError(f"the unconstrained fit diverged at epoch {epoch} (loss {float(loss)}); lower the "
                                "learning rate")
        loss.backward()
        opt.step()
        sched.step()
        if (epoch + 1) % block == 0 or epoch + 1 == options.epochs:
            try:
                k_now = current_kappa()
                lateral = _lateral(curves, curve.dw, curve.d2w, k_now)
                fixed = k_now
            except (RuntimeError, ValueError) as exc:
                notes.append(f"epoch {epoch + 1}: lateral stretches kept from the previous block ({exc})")
    kappa = current_kappa()  # a DataError (K <= 2μ/3) reaches the user as it is
    return freeze(net), kappa, LATERAL_BLOCKS, notes


__all__ = ["FREE_ACTIVATIONS", "QUADRATURE", "LogStretchCurve", "fit_unconstrained"]
