"""The data files bundled with the package (the repository's ``data/`` folder): :func:`path`, :func:`names`.

``data/`` is installed as the package ``snsurrogate._datasets`` (``pyproject.toml``), so the files are
read with :mod:`importlib.resources` and work from a wheel, an editable install and a source checkout
alike::

    from snsurrogate import datasets, read_curves
    curve = read_curves(datasets.path("treloar1944_uniaxial_tension.csv"),
                        stretch="stretch", stress=["nominal_stress_MPa"])

Units: stress in MPa, strain and stretch dimensionless (``data/README.md`` describes every file).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib.resources
from importlib.resources.abc import Traversable
from pathlib import Path

PACKAGE = "snsurrogate._datasets"

_extracted = contextlib.ExitStack()  # files copied out of a zip import, removed at exit
atexit.register(_extracted.close)


@functools.cache
def files() -> Traversable:
    """The folder of the bundled files (a :class:`~importlib.resources.abc.Traversable`)."""
    try:
        return importlib.resources.files(PACKAGE)
    except ModuleNotFoundError:
        # Not installed: the package imported straight from a source checkout (PYTHONPATH or the
        # current directory), where the mapping of pyproject.toml does not apply.
        checkout = Path(__file__).resolve().parent.parent / "data"
        if (checkout / "__init__.py").is_file() and any(checkout.glob("*.csv")):
            return checkout
        raise


def names() -> list[str]:
    """Names of the bundled CSV files, sorted."""
    return sorted(f.name for f in files().iterdir() if f.name.endswith(".csv") and f.is_file())


@functools.cache
def path(name: str) -> Path:
    """A file system path of the bundled file ``name`` (e.g. ``"synthetic_cubic_1d.csv"``).

    The path is the installed file itself; only when the package is imported from a zip archive is
    the file copied to a temporary file, removed when the interpreter exits.

    Raises
    ------
    FileNotFoundError
        When no bundled file has that name.
    """
    resource = files() / name
    if "/" in name or "\\" in name or not resource.is_file():
        raise FileNotFoundError(f"no bundled data file {name!r}; bundled: {', '.join(names())}")
    return _extracted.enter_context(importlib.resources.as_file(resource))
