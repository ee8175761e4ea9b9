"""Errors a user of ``fem`` can cause and fix. ``fem`` does not import ``snsurrogate``; the
``snsurrogate`` command line turns every :class:`FemError` into a one-line message and exit status 2."""

from __future__ import annotations


class FemError(Exception):
    """Base class of the errors a user can cause (bad mesh, bad case file, unstable run)."""


class MeshError(FemError, ValueError):
    """A mesh that cannot be used: unsupported cells, inverted or zero-volume elements, mixed dimensions."""


class CaseError(FemError, ValueError):
    """A case file or solver option with a wrong, missing or inconsistent value (names the key)."""


class InstabilityError(FemError, RuntimeError):
    """An explicit run that became unstable (non-finite values or runaway energy).

    Attributes
    ----------
    step, time, dt
        Step number, simulated time and time step when the run was stopped.
    history
        Energy history up to that step (dict of 1-D arrays: ``time``, ``kinetic``, ``internal``, ``external``).
    element
        Index of the element with the largest strain norm at that step.
    """

    def __init__(self, message: str, *, step: int, time: float, dt: float, history: dict, element: int | None):
        super().__init__(message)
        self.step = step
        self.time = time
        self.dt = dt
        self.history = history
        self.element = element
