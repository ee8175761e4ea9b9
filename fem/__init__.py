"""fem: a small explicit-dynamics finite-element solver on torch that consumes any material law.

Public API
----------
Mesh, generate.line / rectangle / box, io.read_mesh      meshes (meshio only in fem.io)
ELEMENTS, get_element                                    the element registry
LinearElastic, HardeningCubic, Material                  material laws and their protocol
Fixed, Velocity, NodalForce, Traction, InitialVelocity,  boundary and initial conditions
Amplitude
ExplicitSolver, Result                                   central differences with lumped mass
OutputWriter                                             ParaView series and energy history
element_time_step                                        the element-by-element stable step

Units are never assumed: use one consistent system (e.g. mm, s, t/mm^3, N, MPa).
"""

from . import generate
from .boundary import Amplitude, Fixed, InitialVelocity, NodalForce, Traction, Velocity
from .elements import ELEMENTS, get_element
from .errors import CaseError, FemError, InstabilityError, MeshError
from .explicit import ExplicitSolver, Result
from .materials import HardeningCubic, LinearElastic, Material, autograd_tangent
from .mesh import Mesh
from .output import OutputWriter
from .timestep import element_time_step

__all__ = [
    "ELEMENTS",
    "Amplitude",
    "CaseError",
    "ExplicitSolver",
    "FemError",
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
    "Traction",
    "Velocity",
    "autograd_tangent",
    "element_time_step",
    "generate",
    "get_element",
]
