"""fem: a small explicit-dynamics finite-element solver on torch that consumes any material law.

Public API
----------
Mesh, generate.line / rectangle / box, meshfiles.read_mesh  meshes (meshio only in fem.meshfiles)
ELEMENTS, get_element                                    the element registry
LinearElastic, HardeningCubic, Material                  material laws and their protocol
Fixed, Velocity, NodalForce, Traction, InitialVelocity,  boundary and initial conditions
Amplitude
ExplicitSolver, Result                                   central differences with lumped mass
OutputWriter                                             ParaView series and energy history
critical_time_step, choose_time_step, n_steps           certified time steps (fem.stability)
FemError, MeshError, InputError, InstabilityError,       errors a user can cause
CertificateError

Units are never assumed: use one consistent system (e.g. mm, s, t/mm^3, N, MPa).
"""

from . import generate
from .boundary import Amplitude, Fixed, InitialVelocity, NodalForce, Traction, Velocity
from .elements import ELEMENTS, get_element
from .errors import CertificateError, FemError, InputError, InstabilityError, MeshError
from .explicit import ExplicitSolver, Result
from .materials import HardeningCubic, LinearElastic, Material, autograd_tangent
from .mesh import Mesh
from .output import OutputWriter
from .stability import TimeStep, choose_time_step, critical_time_step, n_steps

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
    "Mesh",
    "MeshError",
    "NodalForce",
    "OutputWriter",
    "Result",
    "TimeStep",
    "Traction",
    "Velocity",
    "autograd_tangent",
    "choose_time_step",
    "critical_time_step",
    "generate",
    "get_element",
    "n_steps",
]
