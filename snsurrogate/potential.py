"""The potential network: stress as the gradient of a learned convex energy, with a two-sided certified tangent.

Energy, stress and tangent (``n`` points, ``d`` strain components in engineering Voigt form; scaled
strain :math:`x = \\varepsilon / s_\\varepsilon`, stress scale :math:`s_\\sigma`):

.. math::

    \\tilde\\psi(x) = \\tfrac12 |P x|^2 + \\sum_{k=1}^{K} c_k^2\\, \\varphi\\!\\left(\\frac{w_k^T x}{c_k} + b_k\\right),
    \\qquad V = \\begin{bmatrix} P \\\\ W \\end{bmatrix} \\in \\mathbb{R}^{(d+K) \\times d},

    \\nabla\\tilde\\psi(x) = P^T P x + W^T \\big(c \\odot \\varphi'(u)\\big), \\qquad
    \\nabla^2\\tilde\\psi(x) = V^T \\operatorname{diag}\\big(1_d, \\varphi''(u)\\big) V, \\qquad
    u_k = w_k^T x / c_k + b_k,

    \\psi(\\varepsilon) = s_\\sigma s_\\varepsilon\\,\\big(\\tilde\\psi(x) - \\tilde\\psi(0)
        - \\nabla\\tilde\\psi(0)^T x\\big),
    \\quad \\sigma = \\partial\\psi/\\partial\\varepsilon = s_\\sigma (\\nabla\\tilde\\psi(x) - \\nabla\\tilde\\psi(0)),
    \\quad C_t = \\frac{s_\\sigma}{s_\\varepsilon} \\nabla^2\\tilde\\psi(x).

The curvature profile :math:`\\varphi''` rises monotonically from 0 to 1 (``smoothstep``: :math:`3t^2 - 2t^3`
on :math:`t \\in [0, 1]`, 0 below, 1 above, so the tangent is continuously differentiable; ``ramp``:
:math:`\\mathrm{clamp}(t, 0, 1)`, a piecewise-linear tangent). Each ridge ``k`` adds stiffness
:math:`\\varphi''(u_k)\\, w_k w_k^T` once the strain passes its onset along :math:`\\pm w_k` (the sign of
:math:`w_k` says which way), so the law can stiffen or soften in amplitude while staying convex.
:math:`\\psi(0) = 0`, :math:`\\sigma(0) = 0`, and :math:`\\psi \\ge 0` (convex with its minimum at 0).

Certificate, for every strain (not only the data range), from :math:`0 \\le \\varphi'' \\le 1`:

.. math::

    m I \\preceq C_t(\\varepsilon) = C_t^T \\preceq L I, \\qquad
    L = \\frac{s_\\sigma}{s_\\varepsilon} \\|V\\|_2^2, \\qquad
    m = \\frac{s_\\sigma}{s_\\varepsilon} \\sigma_{\\min}(P)^2 \\ \\ge 0 .

Both are computed from exact singular values (float64) of the weights used at inference. The matrix form
:math:`C_t(\\varepsilon) \\preceq \\bar C = \\frac{s_\\sigma}{s_\\varepsilon} V^T V` (:func:`potential_stiffness_bound`,
:math:`\\|\\bar C\\|_2 = L`) is tighter in every direction but the top one; the time-step bounds use it. The upper
bound is attained when every ridge is fully on at once along the top singular direction; the lower one
when every ridge is off. Training keeps :math:`V = g \\hat V / \\max(1, \\|\\hat V\\|_2)`
(:class:`SpectralBall`: the exact norm by SVD, differentiated through) with
:math:`g^2 = L_{target} s_\\varepsilon / s_\\sigma`, so :math:`L \\le L_{target}`: the target caps the bound, and
the fit may stay below it. Unlike a normalization to exactly :math:`g` (PyTorch's ``spectral_norm``), the
ball lets the data-fitted start :math:`\\hat V = V_0 / g` be used as it is and lets training shrink the
norm; measured on ``data/synthetic_3d.csv`` (defaults, seed 0): R² 0.99696 against 0.98515 normalized to
exactly ``g``, 0.99847 against 0.99797 on the plane-strain set, 0.99668 against 0.95303 on the 1-D cubic set.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

from .projection import unit_spectral_norm

#: Curvature profiles of the ridges, ``phi''`` rising from 0 to 1 (see the module docstring).
CURVATURES = ("algebraic", "smoothstep", "ramp")
DEFAULT_RIDGES = 64
#: Initial size of the ridge rows relative to ``sqrt(||C_lin||_2 / K)`` (measured on the plane-strain set:
#: 0.5 fits to R² 0.998, 1.0 stalls at 0.989).
RIDGE_INIT = 0.5


class SpectralBall(nn.Module):
    """Parametrization ``W -> W / max(1, ||W||_2)``: the weight stays in the unit spectral-norm ball.

    The norm is the exact largest singular value (``torch.linalg.matrix_norm(ord=2)``, an SVD of a
    ``(d + K) x d`` matrix, cheap at these sizes) and is differentiated through, so the constraint is
    exact at every step, not a power-iteration estimate. The inference form is still projected in float64
    by :func:`freeze_potential` and the bound recomputed from what is stored."""

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return w / torch.linalg.matrix_norm(w, ord=2).clamp_min(1.0)


def curvature_terms(u: torch.Tensor, profile: str, order: int = 1) -> tuple[torch.Tensor, ...]:
    """``(phi(u),)`` (``order=0``), ``(phi'(u),)`` (``order=1``) or ``(phi'(u), phi''(u))`` (``order=2``).

    With ``t = clamp(u, 0, 1)`` and ``o = max(u - 1, 0)``; ``smoothstep``: ``phi'' = 3t^2 - 2t^3``,
    ``phi' = t^3 - t^4/2 + o``, ``phi = t^4/4 - t^5/10 + o/2 + o^2/2``; ``ramp``: ``phi'' = t``,
    ``phi' = t^2/2 + o``, ``phi = t^3/6 + o/2 + o^2/2``. All vanish for ``u <= 0``; ``phi'' = 1`` for
    ``u >= 1``. Shapes follow ``u``; dimensionless.
    """
    if profile not in CURVATURES:
        raise ValueError(f"unknown curvature profile {profile!r}; expected one of {', '.join(CURVATURES)}")
    if profile == "algebraic":
        root = torch.sqrt(1.0 + u * u)
        s = torch.where(u >= 0, u + root, 1.0 / (root - u))  # u + sqrt(1 + u^2) without cancellation
        if order == 0:
            return (0.25 * (u * s + torch.log(s)),)
        if order == 1:
            return (0.5 * s,)
        return 0.5 * s, 0.5 * s / root
    t = u.clamp(0.0, 1.0)
    o = torch.relu(u - 1.0)  # gradient 0 at u = 1, where clamp already carries it
    smooth = profile == "smoothstep"
    if order == 0:
        head = t**4 * (0.25 - 0.1 * t) if smooth else t**3 / 6.0
        return (head + o * (0.5 + 0.5 * o),)
    d1 = (t**3 * (1.0 - 0.5 * t) if smooth else 0.5 * t * t) + o
    if order == 1:
        return (d1,)
    return d1, (t * t * (3.0 - 2.0 * t) if smooth else t)


class PotentialNetwork(nn.Module):
    """Convex ridge energy ``strain (n, d) -> energy (n,)``; ``forward`` returns its gradient, the stress.

    Same interface as :class:`snsurrogate.network.StressNetwork` (``arch``, ``linears``, ``forward``,
    ``plain_weights``, ``spectral``) so training, freezing and the bound treat both alike. The
    architecture has ``kind="potential"``, ``hidden=(K,)`` (the number of ridges), ``activation`` one of
    :data:`CURVATURES` and one gain ``g`` (the weight used is ``g W``).

    Parameters
    ----------
    arch
        The architecture; ``d_in == d_out == d``.
    spectral
        Parametrize ``W`` by :class:`SpectralBall` (training form).
    """

    def __init__(self, arch, spectral: bool = False) -> None:
        super().__init__()
        self.arch = arch
        d, k = arch.d_in, arch.hidden[0]
        self.linears = nn.ModuleList([nn.Linear(d, d + k, bias=False)])
        self.ridge_bias = nn.Parameter(torch.zeros(k))
        self.log_width = nn.Parameter(torch.zeros(k))
        if spectral:
            parametrize.register_parametrization(self.linears[0], "weight", SpectralBall())
        self._gain = float(arch.gains[0])

    @property
    def spectral(self) -> bool:
        return parametrize.is_parametrized(self.linears[0], "weight")

    def plain_weights(self) -> list[torch.Tensor]:
        """``[W]`` as a forward pass uses it now, gain excluded (a detached copy)."""
        with torch.no_grad():
            return [self.linears[0].weight.detach().clone()]

    def _terms(self, x: torch.Tensor, order: int):
        v = self.linears[0].weight * self._gain
        d = self.arch.d_in
        z = x @ v.T
        width = self.log_width.clamp(-30.0, 30.0).exp()
        u = z[:, d:] / width + self.ridge_bias
        return v, z[:, :d], width, u, curvature_terms(u, self.arch.activation, order)

    def _origin(self, v: torch.Tensor, width: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(grad psi~(0) (1, d), psi~(0) ())`` in scaled units."""
        b = self.ridge_bias.unsqueeze(0)
        (d1,) = curvature_terms(b, self.arch.activation, 1)
        (d0,) = curvature_terms(b, self.arch.activation, 0)
        g0 = (width * d1) @ v[self.arch.d_in:]
        return g0, (width * width * d0).sum()

    def scaled(self, x: torch.Tensor) -> torch.Tensor:
        """Scaled stress ``grad psi~(x)`` at scaled strain ``x (n, d)`` (before the origin shift)."""
        v, q, width, _, (d1,) = self._terms(x, 1)
        return torch.cat((q, width * d1), dim=1) @ v

    def forward(self, strain: torch.Tensor) -> torch.Tensor:
        """Stress ``(n, d)`` [stress unit] at strain ``(n, d)`` [strain unit]:
        ``s_sigma (grad psi~(x) - grad psi~(0))``."""
        a = self.arch
        x = strain / a.strain_scale
        v, q, width, _, (d1,) = self._terms(x, 1)
        y = torch.cat((q, width * d1), dim=1) @ v
        if a.zero_origin:
            y = y - self._origin(v, width)[0]
        return y * a.stress_scale

    def energy(self, strain: torch.Tensor) -> torch.Tensor:
        """Strain-energy density ``(n,)`` [stress unit x strain unit = energy / volume] (module docstring)."""
        a = self.arch
        x = strain / a.strain_scale
        v, q, width, _, (d0,) = self._terms(x, 0)
        psi = 0.5 * (q * q).sum(dim=1) + (width * width * d0).sum(dim=1)
        if a.zero_origin:
            g0, psi0 = self._origin(v, width)
            psi = psi - psi0 - (x * g0).sum(dim=1)
        return psi * (a.stress_scale * a.strain_scale)

    def tangent(self, strain: torch.Tensor) -> torch.Tensor:
        """Tangent ``(n, d, d)`` [stress unit / strain unit]: ``(s_sigma/s_eps) V^T diag(1, phi''(u)) V``,
        symmetric by construction (exactly: one product per point)."""
        a = self.arch
        v, q, _, _, (_, d2) = self._terms(strain / a.strain_scale, 2)
        diag = torch.cat((torch.ones_like(q), d2), dim=1)
        c = torch.einsum("nr,rd,re->nde", diag, v, v) * (a.stress_scale / a.strain_scale)
        return 0.5 * (c + c.transpose(1, 2))  # exactly symmetric (the sum's rounding is order-dependent)

    @torch.no_grad()
    def initialize(self, strain: torch.Tensor, stress: torch.Tensor | None = None, seed: int = 0) -> None:
        """Start from the data: ``P`` from a least-squares linear fit ``stress ~ C strain`` (``P = C_+^{1/2}``
        of its symmetric, positive-semidefinite part), ridge directions random and smaller, each width
        ``c_k`` the spread of ``w_k^T x`` over the data (a ridge turns fully on within the data), each
        onset at a random place in it. ``strain``, ``stress`` ``(n, d)`` in strain and stress units."""
        gen = torch.Generator().manual_seed(seed)
        a, d = self.arch, self.arch.d_in
        x = strain / a.strain_scale
        lin = self.linears[0]
        param = lin.parametrizations.weight.original if self.spectral else lin.weight
        if stress is not None:
            y = (stress / a.stress_scale).to(x)
            c = torch.linalg.lstsq(x.double(), y.double()).solution.T
            lam, q = torch.linalg.eigh(0.5 * (c + c.T))
            lam = lam.clamp_min(1e-3 * float(lam.abs().max()) + 1e-12)
            p0 = (q * lam.sqrt()) @ q.T
            k = self.arch.hidden[0]
            w0 = torch.randn(k, d, generator=gen, dtype=torch.float64) * (RIDGE_INIT * float(lam.max().sqrt()) / k**0.5)
            # V = g W: W = V_0 / g, inside the unit ball when the start's bound is below the target
            param.copy_((torch.cat((p0, w0)) / self._gain).to(param))
        was = self.training
        self.eval()
        v = lin.weight * self._gain
        self.train(was)
        r = x @ v[d:].T
        spread = (r.amax(dim=0) - r.amin(dim=0)).clamp_min(1e-12)
        self.log_width.copy_(spread.log())
        start = torch.rand(spread.shape, generator=gen).to(x) * 1.2 - 0.6  # onset from below to inside the range
        self.ridge_bias.copy_(-(r.amin(dim=0) / spread) - start)


def _used_weight(net: PotentialNetwork) -> torch.Tensor:
    """``V = g W`` (float64) as a forward pass uses it now (eval mode: no parametrization update)."""
    was = net.training
    net.eval()
    try:
        return net.plain_weights()[0].double() * net.arch.gains[0]
    finally:
        net.train(was)


def potential_bounds(net: PotentialNetwork) -> tuple[float, float]:
    """``(L, m)`` of the module docstring [stress unit / strain unit], from exact float64 singular values
    of ``g W`` as a forward pass uses it now."""
    v = _used_weight(net)
    scale = net.arch.stress_scale / net.arch.strain_scale
    upper = float(torch.linalg.matrix_norm(v, ord=2)) ** 2
    sv = torch.linalg.svdvals(v[: net.arch.d_in])
    return scale * upper, scale * float(sv.min()) ** 2


def potential_stiffness_bound(net: PotentialNetwork) -> torch.Tensor:
    """The certified constant bound ``C_bar = (s_sigma / s_eps) V^T V`` of the tangent, ``(d, d)`` float64
    [stress unit / strain unit]: ``C_bar - C_t(eps) = (s_sigma / s_eps) V^T diag(0, 1 - phi''(u)) V >= 0`` at
    every strain since ``phi'' <= 1`` (Loewner order), and ``||C_bar||_2 = L``, attained when every ridge is on.
    Tighter than ``L I`` in every direction but the top one: the time-step bounds of ``fem`` use it as their
    metric (:mod:`fem.metric`). From the weights as a forward pass uses them now."""
    v = _used_weight(net)
    c = (v.T @ v) * (net.arch.stress_scale / net.arch.strain_scale)
    return 0.5 * (c + c.T)


@torch.no_grad()
def freeze_potential(net: PotentialNetwork, project: bool = True) -> PotentialNetwork:
    """The inference form: plain weights in eval mode; with ``project`` and a spectrally normalized
    network, ``W`` divided by ``max(1, ||W||_2)`` (exact float64) with a few ulps of margin."""
    spectral = net.spectral
    was = net.training
    net.eval()
    (w,) = net.plain_weights()
    net.train(was)
    out = PotentialNetwork(net.arch, spectral=False).to(w.device, w.dtype)
    if spectral and project:
        w = unit_spectral_norm(w)
    out.linears[0].weight.copy_(w)
    out.ridge_bias.copy_(net.ridge_bias)
    out.log_width.copy_(net.log_width)
    out.eval()
    for p in out.parameters():
        p.requires_grad_(False)
    return out


def is_potential(net) -> bool:
    """Whether ``net`` (a network or a model holding one) is a :class:`PotentialNetwork`."""
    return isinstance(getattr(net, "network", net), PotentialNetwork)


__all__ = ["CURVATURES", "DEFAULT_RIDGES", "PotentialNetwork", "SpectralBall", "curvature_terms",
           "freeze_potential", "is_potential", "potential_bounds", "potential_stiffness_bound"]
