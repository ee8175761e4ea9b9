"""Run output: a ParaView time series and the energy history, written atomically.

Folder layout (``OutputWriter(out_dir, ...)``):

- ``results.pvd``: the ParaView collection (open this), listing ``frames/frame_NNNNNNNN.vtu`` by time;
- ``frames/*.vtu``: point data ``displacement`` [length], ``velocity`` [length/time]; cell data
  ``strain`` [-] and ``stress`` [stress] (engineering Voigt, averaged over the element's integration
  points);
- ``history.csv``: time and energies, with a ``#`` header line stating the units.

Each file is written to a temporary name and renamed, and the collection is rewritten after every
frame, so a run that is killed leaves complete files up to its last output.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from .atomic import write_text
from .energy import ENERGY_KEYS, energy_balance_error
from .schedule import Observer


class OutputWriter(Observer):
    """Writes frames and the energy history of one run into ``out_dir``: an observer of
    :meth:`fem.explicit.ExplicitSolver.run` (``frame`` and ``history``).

    Parameters
    ----------
    out_dir
        Output folder (created).
    mesh
        The :class:`fem.mesh.Mesh` being solved.
    units
        Names of the units for the file headers: keys ``length``, ``time``, ``stress``, ``energy``
        (defaults: "length unit", "time unit", "stress unit", "force x length").
    keep
        Also keep every frame's element strain and stress in memory (:attr:`snapshots`), for plots.

    Attributes
    ----------
    frames : list of (time, file name)
        The frames written so far.
    snapshots : list of (time, strain, stress)
        With ``keep=True``: the time [time] and the element-averaged strain [-] and stress [stress],
        ``(n_el, n_voigt)`` numpy arrays, of every frame.
    """

    def __init__(self, out_dir: str | os.PathLike[str], mesh, units: dict[str, str] | None = None, *,
                 keep: bool = False) -> None:
        from .meshfiles import write_frame, write_pvd  # the one module that imports meshio

        self._write_frame, self._write_pvd = write_frame, write_pvd
        self.dir = Path(out_dir)
        (self.dir / "frames").mkdir(parents=True, exist_ok=True)
        self.mesh = mesh
        u = {"length": "length unit", "time": "time unit", "stress": "stress unit", "energy": "force x length"}
        self.units = {**u, **(units or {})}
        self.frames: list[tuple[float, str]] = []
        self.keep = keep
        self.snapshots: list[tuple[float, np.ndarray, np.ndarray]] = []

    def frame(self, step: int, t: float, u: torch.Tensor, v: torch.Tensor, eps: torch.Tensor, sig: torch.Tensor):
        """Write the state at ``step`` / time ``t``.

        ``u``, ``v``: flat ``(n_dof,)``; ``eps``, ``sig``: ``(n_el, n_qp, n_voigt)``.
        """
        dim = self.mesh.dim
        name = f"frames/frame_{step:08d}.vtu"
        strain = eps.detach().mean(dim=1).cpu().numpy()
        stress = sig.detach().mean(dim=1).cpu().numpy()
        self._write_frame(
            self.dir / name,
            self.mesh,
            point_data={
                "displacement": u.detach().view(-1, dim).cpu().numpy(),
                "velocity": v.detach().view(-1, dim).cpu().numpy(),
            },
            cell_data={"strain": strain, "stress": stress},
        )
        self.frames.append((float(t), name))
        if self.keep:
            self.snapshots.append((float(t), strain, stress))
        self._write_pvd(self.dir / "results.pvd", self.frames)

    def history(self, history: dict[str, np.ndarray]) -> None:
        """Rewrite ``history.csv`` with the energy history so far."""
        un = self.units
        header = (f"# time [{un['time']}]; kinetic, internal, external, damping energy [{un['energy']}]; "
                  "balance error = |kinetic + internal + damping - kinetic(0) - external| / running max scale [-]; "
                  f"u<node>_<component>: probe displacements [{un['length']}]\n")
        err = energy_balance_error(history)
        extra = [k for k in history if k not in ENERGY_KEYS]  # probe displacements [length]
        cols = [history[k] for k in ENERGY_KEYS] + [err] + [history[k] for k in extra]
        lines = [",".join(ENERGY_KEYS + ("balance_error",) + tuple(extra))]
        lines += [",".join(f"{x:.10g}" for x in row) for row in zip(*cols)]
        write_text(self.dir / "history.csv", header + "\n".join(lines) + "\n")
