"""The stress network: an MLP from strain to stress with fixed scalings and per-layer gains.

Forward pass (``n`` points, ``d_in`` strain and ``d_out`` stress components, engineering Voigt):

.. math::

    x = \\varepsilon / s_\\varepsilon, \\qquad
    h_0 = x, \\quad h_i = \\phi(g_i W_i h_{i-1} + b_i)\\ (i < k), \\quad
    y(x) = g_k W_k h_{k-1} + b_k,

    \\sigma(\\varepsilon) = s_\\sigma \\, (y(x) - y(0))  \\quad \\text{(stress-free origin, default)}

with one scalar strain scale :math:`s_\\varepsilon` [strain unit], one scalar stress scale
:math:`s_\\sigma` [stress unit], fixed scalar gains :math:`g_i` [-] and a 1-Lipschitz activation
:math:`\\phi`. Scaling by one scalar per side (not per column) keeps the bound tight: per-column
standardization would loosen it by the ratio of the column scales.

The Lipschitz constant of the map strain -> stress, in stress unit per strain unit, is at most

.. math::  L = \\frac{s_\\sigma}{s_\\varepsilon} \\prod_i g_i \\, \\|W_i\\|_2 \\prod \\mathrm{Lip}(\\phi).

When ``spectral=True`` every ``W_i`` is parametrized by PyTorch's spectral normalization
(``W / sigma_est``, power iteration), so during training each ``||W_i||_2`` is close to 1 and the
gains, chosen as ``prod g_i = L_target s_eps / s_sigma``, set the Lipschitz target. The power-iteration
estimate is only an estimate: the certified bound is computed from exact singular values of the
weights used at inference (:func:`snsurrogate.lipschitz.lipschitz_bound`), after :func:`freeze`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from .activations import ACTIVATIONS, make_activation
from .potential import CURVATURES, PotentialNetwork, freeze_potential
from .projection import unit_spectral_norm

#: Network kinds: a plain strain -> stress MLP, or the gradient of a learned convex energy.
KINDS = ("mlp", "potential")


@dataclass(frozen=True)
class Architecture:
    """Everything that defines the network function except its weights.

    Attributes
    ----------
    d_in, d_out
        Number of strain and stress components (1, 3 or 6 strain components).
    hidden
        Widths of the hidden layers.
    activation
        One of :data:`snsurrogate.activations.ACTIVATIONS`.
    strain_scale
        :math:`s_\\varepsilon`, in the strain unit (dimensionless strain).
    stress_scale
        :math:`s_\\sigma`, in the stress unit.
    gains
        :math:`g_i`, one per linear layer (``len(hidden) + 1``), dimensionless.
    zero_origin
        Whether zero strain gives exactly zero stress (stress-free reference state).
    kind
        ``"mlp"``: stress is the network output (this class); ``"potential"``: stress is the gradient of a
        convex ridge energy (:class:`snsurrogate.potential.PotentialNetwork`; ``hidden = (K,)`` ridges,
        ``activation`` a curvature profile, one gain).
    """

    d_in: int
    d_out: int
    hidden: tuple[int, ...]
    activation: str = "groupsort"
    strain_scale: float = 1.0
    stress_scale: float = 1.0
    gains: tuple[float, ...] = field(default=())
    zero_origin: bool = True
    kind: str = "mlp"

    def __post_init__(self) -> None:
        if self.d_in < 1 or self.d_out < 1:
            raise ValueError(f"d_in and d_out must be positive, got {self.d_in}, {self.d_out}")
        if not self.hidden or any(int(w) < 1 for w in self.hidden):
            raise ValueError(f"hidden must list at least one positive width, got {self.hidden!r}")
        if self.kind not in KINDS:
            raise ValueError(f"unknown network kind {self.kind!r}; this version knows {', '.join(KINDS)}")
        potential = self.kind == "potential"
        allowed = CURVATURES if potential else ACTIVATIONS
        if self.activation not in allowed:
            raise ValueError(f"unknown activation {self.activation!r} for a {self.kind} network; expected one of "
                             f"{', '.join(allowed)}")
        if potential and (len(self.hidden) != 1 or self.d_in != self.d_out):
            raise ValueError(f"a potential network has one ridge layer (hidden = (K,)) and as many stress as strain "
                             f"components, got hidden={self.hidden!r}, {self.d_in} -> {self.d_out}")
        if self.activation == "groupsort" and any(int(w) % 2 for w in self.hidden):
            raise ValueError(f"groupsort needs even hidden widths, got {self.hidden!r}")
        n_gains = 1 if potential else len(self.hidden) + 1
        gains = self.gains or (1.0,) * n_gains
        if len(gains) != n_gains:
            raise ValueError(f"need {n_gains} gains, got {len(gains)}")
        for name, value in (("strain_scale", self.strain_scale), ("stress_scale", self.stress_scale)):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be positive and finite, got {value!r}")
        if not all(math.isfinite(g) and g > 0 for g in gains):
            raise ValueError(f"gains must be positive and finite, got {gains!r}")
        object.__setattr__(self, "hidden", tuple(int(w) for w in self.hidden))
        object.__setattr__(self, "gains", tuple(float(g) for g in gains))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        d["gains"] = list(self.gains)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Architecture:
        d = dict(d)
        d["hidden"] = tuple(d["hidden"])
        d["gains"] = tuple(d["gains"])
        return cls(**d)

    @property
    def widths(self) -> tuple[int, ...]:
        """Layer widths from input to output, ``(d_in, *hidden, d_out)``."""
        return (self.d_in, *self.hidden, self.d_out)


def input_gains(n_layers: int, total: float) -> tuple[float, ...]:
    """Gains ``(total, 1, ..., 1)``: the whole gain on the first of ``n_layers`` linear layers."""
    return (float(total),) + (1.0,) * (n_layers - 1)


class StressNetwork(nn.Module):
    """MLP ``strain (n, d_in) -> stress (n, d_out)`` defined by an :class:`Architecture`.

    Parameters
    ----------
    arch
        The architecture (scalings, gains, activation, widths).
    spectral
        Wrap every weight in ``torch.nn.utils.parametrizations.spectral_norm`` (training form).
        Inference always uses plain weights: see :func:`freeze`.
    """

    def __init__(self, arch: Architecture, spectral: bool = False) -> None:
        super().__init__()
        self.arch = arch
        widths = arch.widths
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        if spectral:
            for lin in self.linears:
                spectral_norm(lin)
        self.act = make_activation(arch.activation)
        self._gains = [g if g != 1.0 else None for g in arch.gains]

    @property
    def spectral(self) -> bool:
        return parametrize.is_parametrized(self.linears[0], "weight")

    def scaled(self, x: torch.Tensor) -> torch.Tensor:
        """Network on scaled strain ``x = strain / s_eps``; returns scaled stress ``y`` (before the origin shift)."""
        last = len(self.linears) - 1
        h = x
        for i, lin in enumerate(self.linears):
            w = lin.weight
            if self._gains[i] is not None:
                w = w * self._gains[i]
            h = F.linear(h, w, lin.bias)
            if i < last:
                h = self.act(h)
        return h

    def forward(self, strain: torch.Tensor) -> torch.Tensor:
        """Stress ``(n, d_out)`` [stress unit] at strain ``(n, d_in)`` [strain unit]."""
        a = self.arch
        x = strain / a.strain_scale
        if a.zero_origin:
            # One forward pass over [0; x] gives y(x) - y(0). Rows of equal input can differ in the
            # last bits (matmul kernels treat batch rows differently), so rows with exactly zero
            # strain get their residual subtracted as a constant: exactly zero stress there, and an
            # unchanged derivative.
            y = self.scaled(torch.cat((x.new_zeros((1, a.d_in)), x), dim=0))
            y = y[1:] - y[:1]
            at_origin = (x == 0).all(dim=1, keepdim=True)
            y = y - torch.where(at_origin, y, torch.zeros_like(y)).detach()
        else:
            y = self.scaled(x)
        return y * a.stress_scale

    def plain_weights(self) -> list[torch.Tensor]:
        """The weight matrices as used in a forward pass now, gains excluded (detached copies)."""
        with torch.no_grad():
            return [lin.weight.detach().clone() for lin in self.linears]


@torch.no_grad()
def freeze(net, project: bool = True):
    """Return the inference network: plain (unparametrized) weights, evaluation mode.

    A :class:`~snsurrogate.potential.PotentialNetwork` is frozen by
    :func:`~snsurrogate.potential.freeze_potential` (the same rule for its one weight).

    For a spectrally normalized network, the weights are those of the parametrization in eval mode
    (``W / sigma_est`` with the last power-iteration vectors). With ``project=True`` each one is then
    divided by ``max(1, ||W||_2)`` (exact, float64 SVD), with a few ulps of margin, so that its exact
    spectral norm is at most 1 and the certified bound does not exceed the target.
    """
    if isinstance(net, PotentialNetwork):
        return freeze_potential(net, project)
    spectral = net.spectral
    net_was_training = net.training
    net.eval()
    weights = net.plain_weights()
    biases = [lin.bias.detach().clone() for lin in net.linears]
    net.train(net_was_training)
    out = StressNetwork(net.arch, spectral=False).to(weights[0].device, weights[0].dtype)
    for lin, w, b in zip(out.linears, weights, biases):
        lin.weight.copy_(unit_spectral_norm(w) if spectral and project else w)
        lin.bias.copy_(b)
    out.eval()
    for p in out.parameters():
        p.requires_grad_(False)
    return out


def build_network(arch: Architecture, spectral: bool = False) -> StressNetwork | PotentialNetwork:
    """The network of ``arch.kind``: a :class:`StressNetwork` (``"mlp"``) or a
    :class:`~snsurrogate.potential.PotentialNetwork` (``"potential"``)."""
    return (PotentialNetwork if arch.kind == "potential" else StressNetwork)(arch, spectral=spectral)
