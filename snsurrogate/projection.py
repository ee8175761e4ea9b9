"""Projection of a weight matrix onto the spectral-norm ball, used when a trained network is frozen."""

from __future__ import annotations

import torch


@torch.no_grad()
def unit_spectral_norm(w: torch.Tensor) -> torch.Tensor:
    """``w / max(1, ||w||_2)``, with ``||w||_2`` from an exact float64 SVD and 8 ulps of margin, so that the
    exact spectral norm of the result (in ``w``'s dtype) is at most 1; ``w`` itself when it already is."""
    sigma = torch.linalg.matrix_norm(w.double(), ord=2).item()
    if sigma <= 1.0:
        return w
    return (w.double() / (sigma * (1.0 + 8 * torch.finfo(w.dtype).eps))).to(w.dtype)
