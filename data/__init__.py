"""The bundled data files, installed as the package ``snsurrogate._datasets``.

This folder is the source of truth for the CSV files; ``pyproject.toml`` maps it to
``snsurrogate._datasets`` (``[tool.setuptools.package-dir]``) so that wheels and editable installs
carry it. Read the files through :mod:`snsurrogate.datasets`, not by a path relative to a module.
"""
