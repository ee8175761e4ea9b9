"""Errors a user of ``fem`` can cause and fix.

``fem`` knows nothing of case files or of ``snsurrogate``: its errors name the argument or the object
that is wrong (``E``, ``dt``, a mesh node), never a key of a file format. A caller that reads its input
from a file (``snsurrogate``'s case files) wraps them with the file, section and key they came from.

::

    FemError
    ├── MeshError          a mesh that cannot be used
    ├── InputError         a wrong, missing or inconsistent argument (``parameter`` names it)
    ├── InstabilityError   a run that blew up
    └── CertificateError   a tangent above its certified bound
"""

from __future__ import annotations


class FemError(Exception):
    """Base class of the errors a user can cause (bad mesh, bad argument, unstable run)."""


class MeshError(FemError, ValueError):
    """A mesh that cannot be used: unsupported cells, inverted or zero-volume elements, mixed dimensions."""


class InputError(FemError, ValueError):
    """An argument of a ``fem`` object or function with a wrong, missing or inconsistent value.

    Parameters
    ----------
    message
        What is wrong and what was expected.
    parameter
        The name of the argument (``"E"``, ``"dt"``, ``"components"``, ...), or ``None`` when the
        message concerns several; callers that read the value from a file map it to their key.
    """

    def __init__(self, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


class CertificateError(FemError):
    """The material's tangent exceeds its certified Lipschitz bound at some integration point."""


class InstabilityError(FemError, RuntimeError):
    """An explicit run that became unstable (non-finite values or runaway energy).

    Attributes
    ----------
    step, time, dt
        Step number, simulated time [time] and time step [time] when the run was stopped.
    history
        Energy history up to that step (dict of 1-D arrays: ``time``, ``kinetic``, ``internal``, ``external``).
    element
        Index of the element with the largest strain norm at that step.
    cause
        What stopped the run: ``"blow-up"`` (non-finite values or runaway energy), ``"energy_drift"`` (the
        true-energy monitor's ``energy_stop``: bounded but inaccurate) or ``"inversion"`` (an element turned
        inside out, finite strain).
    """

    cause = "blow-up"

    def __init__(self, message: str, *, step: int, time: float, dt: float, history: dict, element: int | None):
        super().__init__(message)
        self.step = step
        self.time = time
        self.dt = dt
        self.history = history
        self.element = element


def counted(n: int, word: str) -> str:
    """``"1 component"``, ``"3 components"``: a count for a message, with the noun in the right number."""
    return f"{n} {word}{'' if n == 1 else 's'}"
