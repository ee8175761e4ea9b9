"""fem: a small explicit-dynamics finite-element solver on torch that consumes any material law.

Public API
----------
Mesh, generate.line / rectangle / box, meshfiles.read_mesh  meshes (meshio only in fem.meshfiles)
ELEMENTS, get_element                                    the element registry
LinearElastic, HardeningCubic, Material                  material laws and their protocol
Fixed, Velocity, NodalForce, Traction, InitialVelocity,  boundary and initial conditions
Amplitude
ExplicitSolver, Result, State                            central differences with lumped mass, step()
energy_balance_error                                     the energy ledger's balance error (fem.energy)
Observer, Schedule                                       observers of a run, its frame schedule (fem.schedule)
OutputWriter                                             ParaView series and energy history (an observer)
critical_time_step, choose_time_step, n_steps           certified time steps (fem.stability)
FemError, MeshError, InputError, InstabilityError,       errors a user can cause
CertificateError

Units are never assumed: use one consistent system (e.g. mm, s, t/mm^3, N, MPa).
"""

from . import generate
from .boundary import Amplitude, Fixed, InitialVelocity, NodalForce, Traction, Velocity
from .elements import ELEMENTS, get_element
from .energy import energy_balance_error
from .errors import CertificateError, FemError, InputError, InstabilityError, MeshError
from .explicit import ExplicitSolver, Result, State
from .hyperelastic import NeoHookean, Ogden
from .materials import HardeningCubic, LinearElastic, Material, autograd_tangent
from .mesh import Mesh
from .output import OutputWriter
from .schedule import Observer, Schedule
from .stability import critical_time_step, n_steps
from .time_step import TimeStep, choose_time_step

__all__ = [
    "ELEMENTS",
    "Amplitude",
    "CertificateError",
    "ExplicitSolver",
    "FemError",
    "InputError",
    "Fixed",
    "HardeningCubic",
    "InitialVelocity",
    "InstabilityError",
    "LinearElastic",
    "Material",
    "NeoHookean",
    "Ogden",
    "Mesh",
    "MeshError",
    "NodalForce",
    "Observer",
    "OutputWriter",
    "Result",
    "Schedule",
    "State",
    "TimeStep",
    "Traction",
    "Velocity",
    "autograd_tangent",
    "choose_time_step",
    "critical_time_step",
    "energy_balance_error",
    "generate",
    "get_element",
    "n_steps",
]
