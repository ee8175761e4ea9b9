"""snsurrogate: certified spectrally-normalized neural material laws for explicit simulation.

Public API
----------
fit(data, options, ...)   Fit a strain -> stress law from a CSV file, a Dataset or arrays.
FitOptions                How fit builds and trains a law (frozen; keyword overrides of fit).
load(path)                Load a model file (re-checking its integrity and certificate): a SurrogateModel,
                          or a HyperelasticLaw (law.nominal_stress(mode, x), law.first_piola(F)).
fit_tests(curves, ...)    Fit one 3-D isotropic hyperelastic law to several test modes jointly (uniaxial,
                          equibiaxial, pure shear, biaxial, simple shear, volumetric): a HyperelasticLaw.
read_test(path, mode, ...) Read one test curve (a TestCurve) from a CSV file.
lipschitz_bound(model)    Certified upper bound of the tangent stiffness [stress unit / strain unit].
read_curves(path, ...)    Read experimental stress-strain columns from a CSV file (a checked Dataset).
Dataset                   Checked stress-strain data; Dataset.from_arrays(strain, stress, ...).
SurrogateModel            The fitted law: callable on strain (n, d_in), ``.lipschitz_bound``, ``.tangent``.
simulate(case, out_dir)   Run an explicit simulation from a TOML case file (or dict) with the fem solver.
load_case(case)           Read and validate a case (TOML file or dict) into a typed, frozen Case.
critical_time_step(mesh, material, ...)
                          Certified (element, nodal), estimated (Lanczos) and true critical time steps.
as_material(model, rho)   A fitted law as a material of the fem solver.
run_demo(out, ...)        The SN-against-unconstrained demonstration (``snsurrogate demo``); imported
                          on first use, so ``import snsurrogate`` does not load the demo.

Units are never assumed: stress is in the unit of the data (recorded in the model), strain is
dimensionless (engineering, Voigt with engineering shear), so the bound is in stress unit per unit
strain.

Every public name is imported on first use (PEP 562), so ``import snsurrogate`` itself is cheap: the
command line starts (and answers ``--version``, ``--help`` or Ctrl-C) before torch is loaded.
"""

from __future__ import annotations

from importlib import import_module

from .version import __version__

# public name -> module that defines it (relative to this package, or absolute for fem)
_LAZY = {
    "Case": ".case",
    "load_case": ".case",
    "CertificateError": "fem.errors",
    "critical_time_step": "fem.stability",
    "Dataset": ".data",
    "read_curves": ".data",
    "CaseFileError": ".errors",
    "DataError": ".errors",
    "ModelFileError": ".errors",
    "SnsurrogateError": ".errors",
    "TrainingError": ".errors",
    "FitResult": ".hyperelastic",
    "HyperelasticLaw": ".hyperelastic",
    "HyperelasticOptions": ".hyperelastic",
    "TestCurve": ".hyperelastic",
    "fit_tests": ".hyperelastic",
    "read_test": ".hyperelastic",
    "lipschitz_bound": ".lipschitz",
    "lipschitz_empirical": ".lipschitz",
    "as_material": ".material",
    "SurrogateModel": ".model",
    "load": ".modelfile",
    "save": ".modelfile",
    "simulate": ".simulation",
    "FitOptions": ".training",
    "fit": ".training",
    # The demo (worker pools, plots) is an application of the library, not part of it.
    "run_demo": ".demo",
}

__all__ = [  # every name of _LAZY, and __version__ (a test checks they agree)
    "Case",
    "CaseFileError",
    "CertificateError",
    "DataError",
    "Dataset",
    "FitOptions",
    "FitResult",
    "HyperelasticLaw",
    "HyperelasticOptions",
    "ModelFileError",
    "SnsurrogateError",
    "SurrogateModel",
    "TestCurve",
    "TrainingError",
    "__version__",
    "as_material",
    "critical_time_step",
    "fit",
    "fit_tests",
    "lipschitz_bound",
    "lipschitz_empirical",
    "load",
    "load_case",
    "read_curves",
    "read_test",
    "run_demo",
    "save",
    "simulate",
]

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing

if TYPE_CHECKING:  # for type checkers and editors: the names as if imported eagerly
    from fem.errors import CertificateError
    from fem.stability import critical_time_step

    from .case import Case, load_case
    from .data import Dataset, read_curves
    from .demo import run_demo
    from .errors import CaseFileError, DataError, ModelFileError, SnsurrogateError, TrainingError
    from .hyperelastic import FitResult, HyperelasticLaw, HyperelasticOptions, TestCurve, fit_tests, read_test
    from .lipschitz import lipschitz_bound, lipschitz_empirical
    from .material import as_material
    from .model import SurrogateModel
    from .modelfile import load, save
    from .simulation import simulate
    from .training import FitOptions, fit


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value  # later look-ups do not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
