"""The lean inference forward of a frozen network: the stress the solver asks for at every step.

The network's own ``forward`` is written for training (autograd, any batch): the zero-strain row is
concatenated to every batch to subtract ``y(0)``, every layer allocates its output, GroupSort concatenates its
halves, and a batch of 10^6 points walks gigabytes of freshly zeroed memory per call. :class:`LeanForward`
computes the same function for inference:

- the scalings are folded into the weights once: ``W_1 <- g_1 W_1 / s_eps``, ``W_k <- s_sigma g_k W_k``,
  ``b_k <- s_sigma (b_k - y(0))`` with ``y(0)`` evaluated once (MLP); for a potential law
  ``sigma = eps M + phi'(eps R + b) B + c`` with ``M = (s_sigma/s_eps) P^T P``,
  ``R = (g W)^T / (s_eps c_k)``, ``B = s_sigma c_k g w_k``, ``c = -s_sigma grad psi~(0)``
  (``snsurrogate.potential``);
- rows are evaluated in chunks of :data:`CHUNK` through buffers allocated once per dtype and device, with
  ``addmm`` into them and the activation in place (GroupSort: max and min of the two halves in place);
- a row of exactly zero strain gets exactly zero stress, as from ``forward``.

Equal to ``forward`` to rounding (tests: relative ``1e-12`` in float64 over random networks of every kind and
activation). Not differentiable: training and tangents use the network itself.
"""

from __future__ import annotations

import torch

from .network import StressNetwork
from .potential import PotentialNetwork

#: Rows per chunk: 8192 x 32 float64 = 2 MiB per hidden buffer, within a core's L2 + L3 share.
CHUNK = 8192


class LeanForward:
    """``strain (n, d_in) -> stress (n, d_out)`` [strain unit -> stress unit] of a frozen ``network``, for
    inference (see the module docstring). ``chunk`` rows per pass."""

    def __init__(self, network: StressNetwork | PotentialNetwork, chunk: int = CHUNK) -> None:
        if network.spectral:
            raise ValueError("LeanForward takes a frozen network (snsurrogate.network.freeze)")
        self.chunk = int(chunk)
        self.d_in, self.d_out = network.arch.d_in, network.arch.d_out
        self._buffers: dict = {}
        with torch.no_grad():
            if isinstance(network, PotentialNetwork):
                self._fold_potential(network)
            else:
                self._fold_mlp(network)

    # -- folding -------------------------------------------------------------------------------------------
    def _fold_mlp(self, net: StressNetwork) -> None:
        a = net.arch
        self.kind, self.activation = "mlp", a.activation
        ws = [lin.weight * g for lin, g in zip(net.linears, a.gains)]
        bs = [lin.bias.clone() for lin in net.linears]
        if a.zero_origin:
            bs[-1] = bs[-1] - net.scaled(torch.zeros(1, a.d_in, dtype=ws[0].dtype, device=ws[0].device))[0]
        ws[0] = ws[0] / a.strain_scale
        ws[-1], bs[-1] = ws[-1] * a.stress_scale, bs[-1] * a.stress_scale
        self._wt = [w.T.contiguous() for w in ws]  # (in, out): addmm(b, h, W^T)
        self._b = bs
        self.zero_origin = a.zero_origin

    def _fold_potential(self, net: PotentialNetwork) -> None:
        a, d = net.arch, net.arch.d_in
        self.kind, self.activation = "potential", a.activation
        v = net.linears[0].weight * a.gains[0]
        width = net.log_width.clamp(-30.0, 30.0).exp()
        self._m = (v[:d].T @ v[:d]) * (a.stress_scale / a.strain_scale)  # (d, d)
        self._r = (v[d:] / (a.strain_scale * width[:, None])).T.contiguous()  # (d, k)
        self._bias = net.ridge_bias.clone()
        self._bw = (v[d:] * width[:, None]) * a.stress_scale  # (k, d)
        self._c = -net._origin(v, width)[0][0] * a.stress_scale if a.zero_origin else torch.zeros_like(v[0])
        self.zero_origin = a.zero_origin

    # -- evaluation ----------------------------------------------------------------------------------------
    def _buffer(self, name: str, rows: int, cols: int, like: torch.Tensor) -> torch.Tensor:
        key = (name, cols, like.dtype, like.device)
        buf = self._buffers.get(key)
        if buf is None or buf.shape[0] < rows:
            buf = self._buffers[key] = like.new_empty((rows, cols))
        return buf[:rows]

    def _params(self, like: torch.Tensor) -> None:
        """Use the folded parameters in ``like``'s dtype and device (converted once from the originals, which
        are kept: a float32 call does not round the float64 parameters)."""
        names = ("_wt", "_b") if self.kind == "mlp" else ("_m", "_r", "_bias", "_bw", "_c")
        if not hasattr(self, "_master"):
            self._master = {name: getattr(self, name) for name in names}
            self._converted: dict = {}
        key = (like.dtype, like.device)
        if key not in self._converted:
            self._converted[key] = {name: ([t.to(like) for t in val] if isinstance(val, list) else val.to(like))
                                    for name, val in self._master.items()}
        for name, val in self._converted[key].items():
            setattr(self, name, val)

    def __call__(self, strain: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """Stress ``(n, d_out)`` [stress unit] at strain ``(n, d_in)``; ``out`` receives it when given."""
        if strain.ndim != 2 or strain.shape[1] != self.d_in:
            raise ValueError(f"strain must have shape (n, {self.d_in}), got {tuple(strain.shape)}")
        ref = self._m if self.kind == "potential" else self._wt[0]
        if ref.dtype != strain.dtype or ref.device != strain.device:
            self._params(strain)
        n = strain.shape[0]
        if out is None:
            out = strain.new_empty((n, self.d_out))
        step = self._mlp_rows if self.kind == "mlp" else self._potential_rows
        with torch.no_grad():
            for start in range(0, n, self.chunk):
                stop = min(start + self.chunk, n)
                step(strain[start:stop], out[start:stop])
            if self.zero_origin:
                out.masked_fill_((strain == 0).all(dim=1, keepdim=True), 0.0)
        return out

    def _mlp_rows(self, x: torch.Tensor, out: torch.Tensor) -> None:
        h = x
        last = len(self._wt) - 1
        for i, (wt, b) in enumerate(zip(self._wt, self._b)):
            if i == last:
                torch.addmm(b, h, wt, out=out)
                return
            z = torch.addmm(b, h, wt, out=self._buffer(f"h{i}", x.shape[0], wt.shape[1], x))
            self._activate(z)
            h = z

    def _activate(self, z: torch.Tensor) -> None:
        if self.activation == "groupsort":
            half = z.shape[1] // 2
            a, b = z[:, :half], z[:, half:]
            hi = torch.maximum(a, b, out=self._buffer("hi", z.shape[0], half, z))
            torch.minimum(a, b, out=b)
            a.copy_(hi)
        elif self.activation == "tanh":
            z.tanh_()
        else:  # softplus, as torch.nn.Softplus (beta 1, linear above 20)
            z.copy_(torch.nn.functional.softplus(z))

    def _potential_rows(self, x: torch.Tensor, out: torch.Tensor) -> None:
        n, k = x.shape[0], self._r.shape[1]
        u = torch.addmm(self._bias, x, self._r, out=self._buffer("u", n, k, x))
        self._slope(u, self._buffer("o", n, k, x))
        torch.addmm(self._c, x, self._m, out=out)
        out.addmm_(u, self._bw)

    def _slope(self, u: torch.Tensor, tmp: torch.Tensor) -> None:
        """``u <- phi'(u)`` in place (``snsurrogate.potential.curvature_terms``); ``tmp`` a buffer like ``u``."""
        if self.activation == "algebraic":  # phi' = (u + sqrt(1 + u^2)) / 2 = exp(asinh u) / 2
            u.asinh_().exp_().mul_(0.5)
            return
        o = torch.sub(u, 1.0, out=tmp).clamp_min_(0.0)
        t = u.clamp_(0.0, 1.0)
        if self.activation == "smoothstep":  # t^3 (1 - t/2) + o
            cube = torch.mul(t, t, out=self._buffer("t3", *t.shape, t)).mul_(t)
            o.addcmul_(cube, t.mul_(-0.5).add_(1.0))
        else:  # ramp: t^2 / 2 + o
            o.addcmul_(t, t, value=0.5)
        u.copy_(o)
