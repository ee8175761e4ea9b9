"""What the demo fits and how hard it trains: :class:`Settings`, :data:`FULL`, :data:`QUICK`, :data:`MATERIALS`.

The demo fits a spectrally normalized (SN) and an unconstrained network to each bundled data set with
the *same* architecture, activation, data, seed and training budget; only the constraint differs.
Units: the bundled data are in MPa, so every case runs in the consistent system mm, s, t (tonne),
MPa (force N, energy mJ).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import datasets

UNITS = {"length": "mm", "time": "s", "mass": "t", "stress": "MPa", "force": "N", "energy": "mJ"}
KINDS = ("sn", "unconstrained")
KIND_NAMES = {"sn": "SN", "unconstrained": "unconstrained"}
STEPS = ("nominal", "certified")
LONG_STEPS = (*STEPS, "auto")  # the long runs also run at the default dt = "auto"


@dataclass(frozen=True)
class Material:
    """A bundled data set and how to read it.

    Attributes
    ----------
    key, title
        Short name (file names) and a human title.
    file
        Bundled CSV file (``data/`` of the repository, :mod:`snsurrogate.datasets`).
    read
        Keyword arguments of :func:`snsurrogate.read_curves`.
    density
        Mass density used in the simulations [t/mm^3].
    exact
        ``(E [MPa], eps_h [-])`` of the noise-free law the synthetic data were made from, or ``None``
        for measured data (the bar cases also run this exact law as a reference).
    """

    key: str
    title: str
    file: str
    read: dict
    density: float
    exact: tuple[float, float] | None = None

    @property
    def path(self) -> Path:
        """File system path of :attr:`file` wherever the package is installed."""
        return datasets.path(self.file)


MATERIALS = {
    "cubic": Material("cubic", "hardening cubic law, 1-D (synthetic, 1 % noise)", "synthetic_cubic_1d.csv",
                      {"strain": ["strain"], "stress": ["stress_MPa"]}, 1.2e-9, (2000.0, 0.05)),
    "plane": Material("plane", "hardening hyperelastic law, plane strain (synthetic, 1 % noise)",
                      "synthetic_plane_strain.csv",
                      {"strain": ["exx", "eyy", "gxy"], "stress": ["sxx_MPa", "syy_MPa", "sxy_MPa"]}, 1.2e-9),
    "rubber": Material("rubber", "vulcanised natural rubber, uniaxial tension (Treloar 1944, measured)",
                       "treloar1944_uniaxial_tension.csv",
                       {"stretch": "stretch", "stress": ["nominal_stress_MPa"]}, 0.93e-9),
}


def default_workers() -> int:
    """Worker processes: one per core, at most 2 (one fit per core; small nets gain nothing from more threads)."""
    return max(1, min(2, os.cpu_count() or 1))


@dataclass(frozen=True)
class Settings:
    """Everything that sets the size of a demo run (recorded in ``summary.json``).

    Attributes
    ----------
    seeds
        Number of seeds ``0 .. seeds-1``; each seed fits every model afresh and runs every case.
    epochs, polish_epochs, hidden, activation
        Training budget and architecture, identical for the SN and the unconstrained model.
    bar_divisions, block_divisions, rubber_divisions
        Mesh sizes of the 1-D bar (100 mm), the 2-D block (40 mm x 20 mm) and the rubber bar (100 mm).
    long_steps, long_divisions, long_speed
        The long runs (:mod:`snsurrogate.demo.scenarios`, ``*_vibration``): steps of each run (at the
        nominal, the certified and the default ``auto`` step), divisions of their 2-D block and the
        standard deviation of their random initial velocity per component [mm/s].
    sweep_depths, sweep_widths, sweep_epochs
        The network-size sweep (:mod:`snsurrogate.demo.sweep`): hidden layers, widths and Adam epochs of
        each SN / unconstrained pair fitted to the 1-D data (one seed; empty depths: no sweep).
    finite_seeds, finite_stretch, finite_depth, finite_epochs
        The finite-strain comparison (:mod:`snsurrogate.demo.finite`): unconstrained fits (seeds
        ``0 .. finite_seeds-1``; 0: none, and no finite-strain runs), the stretch the plate's far edge is pulled
        to [-], the depth the punch is driven into the rubber block [mm], and the Adam epochs of each
        unconstrained fit.
    frames
        ParaView frames written per run.
    workers
        Processes that run seeds in parallel.
    """

    seeds: int = 10
    epochs: int = 300
    polish_epochs: int = 100
    hidden: tuple[int, ...] = (32, 32, 32)
    activation: str = "groupsort"
    bar_divisions: int = 100
    block_divisions: tuple[int, int] = (40, 20)
    rubber_divisions: int = 25
    long_steps: int = 6000
    long_divisions: tuple[int, int] = (20, 10)
    long_speed: float = 3.0e4
    sweep_depths: tuple[int, ...] = (2, 3, 4, 6)
    sweep_widths: tuple[int, ...] = (32, 64, 128)
    sweep_epochs: int = 900
    finite_seeds: int = 2
    finite_stretch: float = 3.0
    finite_depth: float = 5.0
    finite_epochs: int = 3000
    frames: int = 10
    workers: int = field(default_factory=default_workers)
    quick: bool = False

    def with_(self, **changes) -> Settings:
        """A copy with some fields changed (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


FULL = Settings()
QUICK = Settings(seeds=2, epochs=150, polish_epochs=30, bar_divisions=50, block_divisions=(20, 10),
                 rubber_divisions=20, long_steps=1500, long_divisions=(10, 5), sweep_depths=(2, 4),
                 sweep_widths=(32,), sweep_epochs=150, finite_seeds=1, finite_stretch=1.5, finite_depth=2.0,
                 finite_epochs=1000,
                 frames=6, quick=True)
