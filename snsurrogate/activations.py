"""1-Lipschitz activation functions and their Lipschitz constants.

Every activation offered here is 1-Lipschitz, so it contributes a factor 1 to the certified bound
(:mod:`snsurrogate.lipschitz`). ``ACTIVATION_LIPSCHITZ`` records that constant per name, and the
bound multiplies it in explicitly, so a future activation with another constant stays correct.

- ``tanh``: smooth, derivative in (0, 1].
- ``softplus``: smooth, derivative sigmoid(x) in (0, 1).
- ``groupsort``: GroupSort with groups of two ("MaxMin", Anil, Lucas & Grosse 2019): sorts each
  consecutive pair of features. Piecewise linear, and its Jacobian is a permutation matrix, so it
  preserves gradient norms: a network of norm-1 layers and GroupSort can attain its product-of-norms
  bound, which makes the certified bound tighter in practice.
"""

from __future__ import annotations

import torch
from torch import nn


class GroupSort(nn.Module):
    """Sort consecutive pairs of features: ``(a, b) -> (max(a, b), min(a, b))``.

    Input and output shape ``(..., m)`` with ``m`` even.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pairs = x.unflatten(-1, (-1, 2))
        hi = torch.maximum(pairs[..., 0], pairs[..., 1])
        lo = torch.minimum(pairs[..., 0], pairs[..., 1])
        return torch.stack((hi, lo), dim=-1).flatten(-2)


ACTIVATION_LIPSCHITZ: dict[str, float] = {"tanh": 1.0, "softplus": 1.0, "groupsort": 1.0}
"""Lipschitz constant of each activation (with respect to the Euclidean norm)."""

ACTIVATIONS = tuple(ACTIVATION_LIPSCHITZ)


def make_activation(name: str) -> nn.Module:
    """Return the activation module called ``name`` (one of :data:`ACTIVATIONS`)."""
    if name == "tanh":
        return nn.Tanh()
    if name == "softplus":
        return nn.Softplus()
    if name == "groupsort":
        return GroupSort()
    raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)}")
