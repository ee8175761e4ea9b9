"""Memory needed by a mesh and a run, estimated before anything is allocated.

A mesh of 10^10 elements should be refused with the figure and the limit, not with a ``MemoryError``
traceback from deep inside numpy. The estimates count the arrays that live through a run (coordinates,
connectivity, integration-point geometry, the solver's buffers, element matrices of the time-step bounds),
times a factor for temporaries; they are meant to catch requests that cannot fit by a wide margin, not
to predict the peak to a few per cent.
"""

from __future__ import annotations

import os

from .elements import ElementType
from .errors import InputError

TEMPORARIES = 1.5
"""Factor on the persistent arrays for the temporaries of construction (Jacobians, inverses, matrices)."""


def available_bytes() -> int | None:
    """Memory the process can still take [bytes]: ``MemAvailable`` of ``/proc/meminfo``, else the free
    physical pages; ``None`` when the platform tells neither (then nothing is refused)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def mesh_bytes(n_nodes: int, n_cells: int, element: ElementType) -> int:
    """Coordinates (float64) and connectivity (int64) of a mesh [bytes]."""
    return 8 * (n_nodes * element.dim + n_cells * element.n_nodes)


def run_bytes(n_nodes: int, n_cells: int, element: ElementType, itemsize: int = 8) -> int:
    """Arrays of an explicit run on this mesh [bytes], temporaries included (:data:`TEMPORARIES`).

    Per element: shape-function gradients ``q d a``, weights ``q``, the solver's strain, stress and force
    buffers ``5 q n_voigt + q d^2 + 2 a d``; per node: about twelve vectors of ``d`` values (displacement,
    velocities, accelerations, forces, masses). Element matrices of the time-step bounds are built in
    chunks of elements and do not grow with the mesh. With the factor 1.5 this gives 1.7 GiB for 10^6
    quad4 elements, where the measured peak of a linear run was 1.71 GiB (README, benchmarks).
    """
    q, a, d = len(element.quad_weights), element.n_nodes, element.dim
    nv = {1: 1, 2: 3, 3: 6}[d]
    per_cell = q * d * a + q + 5 * q * nv + q * d * d + 2 * a * d
    per_node = 12 * d
    return int(TEMPORARIES * itemsize * (per_cell * n_cells + per_node * n_nodes)) + mesh_bytes(
        n_nodes, n_cells, element)


def require(needed: int, what: str, parameter: str | None = None) -> None:
    """Raise :class:`~fem.errors.InputError` when ``needed`` [bytes] exceeds the available memory."""
    free = available_bytes()
    if free is not None and needed > free:
        raise InputError(f"{what} needs about {_gib(needed)} of memory, more than the {_gib(free)} available "
                         "on this machine; use a coarser mesh", parameter)


def _gib(n: int) -> str:
    return f"{n / 2**30:.3g} GiB"
