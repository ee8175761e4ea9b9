"""1-Lipschitz activation functions and their Lipschitz constants.

Every activation offered here is 1-Lipschitz, so it contributes a factor 1 to the certified bound
(:mod:`snsurrogate.lipschitz`). ``ACTIVATION_LIPSCHITZ`` records that constant per name, and the
bound multiplies it in explicitly, so a future activation with another constant stays correct.

- ``groupsort`` (default): GroupSort with groups of two ("MaxMin", Anil, Lucas & Grosse 2019),
  which sorts each pair of features. Piecewise linear, and its Jacobian is a permutation matrix, so it
  preserves gradient norms: a network of norm-1 layers and GroupSort can use its whole Lipschitz
  budget, which makes the certified bound tighter and fits steep curves better (measured in the
  README's benchmark table). The tangent of the fitted law is piecewise constant.
- ``tanh``: smooth, derivative in (0, 1].
- ``softplus``: smooth, derivative sigmoid(x) in (0, 1).
"""

from __future__ import annotations

import torch
from torch import nn


class GroupSort(nn.Module):
    """GroupSort with groups of two ("MaxMin"): pairs feature ``i`` with feature ``i + m/2``.

    ``(a, b) -> (max(a, b), min(a, b))`` for ``a = x[..., :m/2]``, ``b = x[..., m/2:]``; input and output
    shape ``(..., m)`` with ``m`` even. Which features form a pair does not matter to the function
    class (the neighbouring linear layers can permute their rows), so the two halves are paired,
    which needs no reshaping.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = x.chunk(2, dim=-1)
        hi = torch.maximum(a, b)
        return torch.cat((hi, torch.minimum(a, b)), dim=-1)


ACTIVATION_LIPSCHITZ: dict[str, float] = {"groupsort": 1.0, "tanh": 1.0, "softplus": 1.0}
"""Lipschitz constant of each activation (with respect to the Euclidean norm)."""

ACTIVATIONS = tuple(ACTIVATION_LIPSCHITZ)


def make_activation(name: str) -> nn.Module:
    """Return the activation module called ``name`` (one of :data:`ACTIVATIONS`)."""
    if name == "groupsort":
        return GroupSort()
    if name == "tanh":
        return nn.Tanh()
    if name == "softplus":
        return nn.Softplus()
    raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)}")
