"""Run output: a ParaView time series and the energy history, written atomically.

Folder layout (``OutputWriter(out_dir, ...)``):

- ``results.pvd``: the ParaView collection (open this), listing ``frames/frame_NNNNNNNN.vtu`` by time;
- ``frames/*.vtu``: point data ``displacement`` [length], ``velocity`` [length/time]; cell data
  ``strain`` [-] and ``stress`` [stress] (engineering Voigt, averaged over the element's integration
  points);
- ``history.csv``: time and energies, with two ``#`` header lines: the units, and what the kinetic energy
  is (the central-difference form, which may be slightly negative at t = 0 under a load: :data:`KINETIC_NOTE`).

Each file is written to a temporary name and renamed, and the collection is rewritten after every
frame, so a run that is killed leaves complete files up to its last output.

A run's files are one set (:class:`RunFolder`): they are written into a staging folder beside the
output folder, ``<out>.incomplete-<pid>/`` (with a marker file ``INCOMPLETE`` naming the process),
which replaces ``<out>`` in one step when the run is complete. A reader never sees the files of two
runs mixed in one folder; see :class:`RunFolder` for the rule and for the recovery after a crash.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
import socket
import time
from pathlib import Path

import numpy as np
import torch

from .atomic import pid_alive, remove_stale_temporaries, write_text
from .energy import ENERGY_KEYS, energy_balance_error
from .errors import InputError
from .schedule import Observer

KINETIC_NOTE = ("# kinetic = 1/2 v(n-1/2).M v(n+1/2), the central-difference form that the balance closes on; at "
                "t = 0 it is 1/2 v0.M v0 - dt^2/8 a0.M a0, negative by O(dt^2) when a load acts from rest at t = 0 "
                "(1/2 v.M v is never negative)")
"""The second header line of ``history.csv``: what the kinetic column is, and why it may start negative."""
RUN_FILES = ("results.pvd", "frames", "history.csv", "summary.json")
"""What a run folder holds (``summary.json`` last)."""
MARKER = "INCOMPLETE"
"""The marker file of a staging folder: a run in progress, or one that was killed or failed."""


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
        cells = {"strain": strain, "stress": stress} if eps.shape[-1] != 9 else _finite_fields(eps, sig)
        self._write_frame(
            self.dir / name,
            self.mesh,
            point_data={
                "displacement": u.detach().view(-1, dim).cpu().numpy(),
                "velocity": v.detach().view(-1, dim).cpu().numpy(),
            },
            cell_data=cells,
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
                  f"u<node>_<component>: probe displacements [{un['length']}]\n"
                  f"{KINETIC_NOTE}\n")
        err = energy_balance_error(history)
        extra = [k for k in history if k not in ENERGY_KEYS]  # probe displacements [length]
        cols = [history[k] for k in ENERGY_KEYS] + [err] + [history[k] for k in extra]
        lines = [",".join(ENERGY_KEYS + ("balance_error",) + tuple(extra))]
        lines += [",".join(f"{x:.10g}" for x in row) for row in zip(*cols)]
        write_text(self.dir / "history.csv", header + "\n".join(lines) + "\n")


def _finite_fields(F: torch.Tensor, P: torch.Tensor) -> dict[str, np.ndarray]:
    """Cell fields of a finite-strain frame, element averages of the integration points, row-major 3 x 3
    tensors (``xx xy xz yx yy yz zx zy zz``, ParaView's order for 9 components): the deformation gradient ``F``
    [-], the nominal stress ``P`` and the Cauchy stress ``σ = P Fᵀ / J`` [stress], and the principal stretches
    (ascending) [-]."""
    f = F.detach().reshape(-1, 3, 3)
    p = P.detach().reshape(-1, 3, 3)
    sigma = p @ f.transpose(1, 2) / torch.linalg.det(f).reshape(-1, 1, 1)
    stretch = torch.linalg.svdvals(f).flip(-1)
    n_el = F.shape[0]

    def mean(x: torch.Tensor) -> np.ndarray:
        return x.reshape(n_el, F.shape[1], -1).mean(dim=1).cpu().numpy()

    return {"deformation_gradient": mean(f), "nominal_stress": mean(p), "cauchy_stress": mean(sigma),
            "principal_stretch": mean(stretch)}


# ---------------------------------------------------------------------------------------------- one set
_FRAME = re.compile(r"^frame_\d+\.vtu$")
_SIBLING = re.compile(r"^(?P<name>.+)\.(?P<kind>incomplete|replaced)-(?P<pid>\d+)$")


def remove_run(path: str | os.PathLike[str]) -> None:
    """Delete a run folder, ``summary.json`` first (so that a deletion cut short never leaves a folder that
    has a summary but lacks some of its files)."""
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        os.unlink(Path(path) / "summary.json")
    shutil.rmtree(path, ignore_errors=True)


def _is_temporary(name: str) -> bool:
    return name.startswith(".") and name.endswith(".tmp")


def is_run_folder(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a folder that holds nothing but the files of a run (complete or not): ``results.pvd``,
    ``frames/frame_*.vtu``, ``history.csv``, ``summary.json``, the marker ``INCOMPLETE`` and temporary files.
    An empty folder is one (nothing in it can be lost)."""
    path = Path(path)
    if not path.is_dir() or path.is_symlink():
        return False
    for entry in os.scandir(path):
        name = entry.name
        if _is_temporary(name) or name in (MARKER, "results.pvd", "history.csv", "summary.json"):
            if entry.is_file(follow_symlinks=False):
                continue
            return False
        if name != "frames" or not entry.is_dir(follow_symlinks=False):
            return False
        if not all(_FRAME.match(f.name) or _is_temporary(f.name) for f in os.scandir(entry.path)):
            return False
    return True


def _exchange(a: str, b: str) -> bool:
    """Swap the names of the folders ``a`` and ``b`` atomically (Linux ``renameat2(RENAME_EXCHANGE)``);
    ``False`` where the platform or file system cannot."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
        return False
    raise OSError(err, os.strerror(err), a)


class RunFolder:
    """The output folder of one run, written as one set.

    ``RunFolder(out)`` checks ``out`` (absent, empty, or the folder of an earlier run: anything else is
    refused, so that no file a user put there is deleted), clears what killed runs left beside it and
    creates the staging folder :attr:`staging` = ``<out>.incomplete-<pid>/`` with the marker file
    ``INCOMPLETE`` (pid, host, start time, what is being run). The run writes its files there,
    ``summary.json`` last; :meth:`commit` then removes the marker and puts the staging folder in
    place of ``out`` in one step (an atomic exchange of the two names where the system has one, else two
    renames: ``out`` -> ``<out>.replaced-<pid>``, staging -> ``out``), and deletes the earlier run.

    The rule for readers: **a folder holds a complete run if and only if it has a ``summary.json``**;
    a run killed at any instant leaves ``out`` as it was (the earlier complete run, or nothing) and a
    staging folder marked ``INCOMPLETE`` beside it, never a mix. The next run into ``out`` (any pid)
    removes the staging and replaced folders of processes that are gone; if a crash fell between
    the two renames (``out`` absent, a complete staging folder and a replaced one beside it), it first
    puts the complete staging folder in place (the newer complete run), else the replaced one back.

    Parameters
    ----------
    out_dir
        The output folder.
    note
        Extra entries for the marker file (e.g. the case).

    Raises
    ------
    fem.errors.InputError
        ``out_dir`` exists and is not a run folder (``parameter = "out_dir"``).
    """

    def __init__(self, out_dir: str | os.PathLike[str], note: dict | None = None) -> None:
        self.out = Path(os.path.realpath(out_dir))
        if not self.out.name:
            raise InputError(f"{out_dir}: cannot write a run over the root folder", "out_dir")
        self.parent = self.out.parent
        self.parent.mkdir(parents=True, exist_ok=True)
        self.recovered = self._recover()
        self._clean()
        if self.out.exists() and not is_run_folder(self.out):
            what = "a file" if not self.out.is_dir() else "a folder with files that no run wrote"
            raise InputError(f"{out_dir}: not a run folder ({what}); nothing was written: give a new or empty folder, "
                             "or the folder of an earlier run (which is replaced)", "out_dir")
        self.staging = self.parent / f"{self.out.name}.incomplete-{os.getpid()}"
        if self.staging.exists():
            remove_run(self.staging)
        self.staging.mkdir()
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "out": str(self.out), **(note or {})}
        self._marker = {"status": "running: an incomplete run (a complete one has summary.json and no "
                                  "INCOMPLETE file)", **info}
        write_text(self.staging / MARKER, json.dumps(self._marker, indent=2) + "\n")

    def _siblings(self):
        """``(kind, pid, path)`` of the staging and replaced folders beside ``out``."""
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(self.parent):
                m = _SIBLING.match(entry.name)
                if m and m["name"] == self.out.name and entry.is_dir(follow_symlinks=False):
                    yield m["kind"], int(m["pid"]), Path(entry.path)

    def _recover(self) -> Path | None:
        """After a crash between the two renames of a commit: put the newer complete run in place."""
        if self.out.exists() or os.path.islink(self.out):
            return None
        gone = [(k, p) for k, pid, p in self._siblings() if not pid_alive(pid)]
        done = [p for k, p in gone if k == "incomplete" and (p / "summary.json").is_file()
                and not (p / MARKER).exists()]
        old = [p for k, p in gone if k == "replaced" and (p / "summary.json").is_file()]
        for candidate in sorted(done, key=os.path.getmtime, reverse=True) + old:
            with contextlib.suppress(OSError):
                os.rename(candidate, self.out)
                return candidate
        return None

    def _clean(self) -> None:
        for _, pid, path in list(self._siblings()):
            if not pid_alive(pid):
                remove_run(path)

    def commit(self) -> None:
        """Put the staging folder (complete: ``summary.json`` written) in place of ``out``; delete the earlier run."""
        os.unlink(self.staging / MARKER)
        remove_stale_temporaries(self.staging)
        if not self.out.exists():
            os.rename(self.staging, self.out)
            return
        if _exchange(str(self.staging), str(self.out)):
            remove_run(self.staging)  # now the earlier run
            return
        aside = self.parent / f"{self.out.name}.replaced-{os.getpid()}"
        if aside.exists():
            remove_run(aside)
        os.rename(self.out, aside)
        os.rename(self.staging, self.out)  # a crash before this line is recovered by the next RunFolder
        remove_run(aside)

    def abandon(self, reason: str) -> None:
        """Leave the staging folder in place, its marker saying why the run stopped (the next run removes it).
        A folder past the start of :meth:`commit` (complete, marker removed) is left as it is."""
        if not (self.staging / MARKER).exists():
            return
        with contextlib.suppress(OSError):
            marker = {**self._marker, "status": f"stopped: {reason}; this folder is incomplete"}
            write_text(self.staging / MARKER, json.dumps(marker, indent=2) + "\n")
