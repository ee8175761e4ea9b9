"""The package as users get it: built into a wheel, installed (not editable) into a fresh virtual
environment and run from a folder outside the repository (issue 9, item 5).

The wheel is built from a copy of the source tree (no stale ``build/`` folder, nothing written into the
checkout), with the setuptools of this interpreter when it has a recent one and otherwise with pip's
build isolation (setuptools from the package index). The fresh environment gets the wheel only
(``--no-deps``); the dependencies (torch, ...) are the ones of this interpreter, made visible by a
``.pth`` file naming its site-packages folders. Folders added by a ``.pth`` line are not scanned for
``.pth`` files themselves, so an editable install of the project in this interpreter stays inactive
there, and the tests check that ``snsurrogate`` and ``fem`` are imported from the fresh environment.

Also here: ``import snsurrogate`` does not load the demo, and pyproject.toml lists every package folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import tomllib
import urllib.parse
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "examples" / "cases" / "plate_impact.toml"  # the README's quick-start case
IGNORED = (".git", ".venv", "venv", "build", "dist", "out", "runs", "*.egg-info", "__pycache__", "*.pyc",
           ".pytest_cache", ".ruff_cache")


def _clean_env(bin_dir: Path | None = None) -> dict[str, str]:
    """The environment of this process without what would point Python at the checkout."""
    drop = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "VIRTUAL_ENV", "__PYVENV_LAUNCHER__")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", PYTHONNOUSERSITE="1")
    if bin_dir is not None:
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


def _run(cmd, cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def _output(res: subprocess.CompletedProcess) -> str:
    return f"exit status {res.returncode}\n--- stdout\n{res.stdout[-4000:]}\n--- stderr\n{res.stderr[-4000:]}"


# --------------------------------------------------------------------------------------------- import


def test_import_leaves_the_demo_out():
    """``import snsurrogate`` loads neither the demo nor the process pools it uses; ``run_demo`` still works."""
    code = textwrap.dedent("""
        import json, sys
        import torch
        before = set(sys.modules)
        import snsurrogate
        new = sorted(set(sys.modules) - before)
        run_demo = snsurrogate.run_demo  # lazy: loads the demo now
        print(json.dumps({"new": new, "run_demo": f"{run_demo.__module__}.{run_demo.__name__}",
                          "demo_loaded_after": "snsurrogate.demo" in sys.modules,
                          "in_all": "run_demo" in snsurrogate.__all__, "in_dir": "run_demo" in dir(snsurrogate)}))
    """)
    res = _run([sys.executable, "-c", code], ROOT, os.environ.copy())
    assert res.returncode == 0, _output(res)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    ours = [m for m in out["new"] if m == "snsurrogate.demo" or m.startswith("snsurrogate.demo.")]
    assert not ours, f"import snsurrogate imported the demo: {ours}"
    pools = [m for m in out["new"] if m.startswith(("multiprocessing", "concurrent.futures.process"))]
    assert not pools, f"import snsurrogate imported process-pool modules beyond what torch imports: {pools}"
    assert out["run_demo"] == "snsurrogate.demo.run_demo" and out["demo_loaded_after"]
    assert out["in_all"] and out["in_dir"]


def test_unknown_attribute_is_still_an_attribute_error():
    import snsurrogate

    with pytest.raises(AttributeError, match="no attribute 'no_such_thing'"):
        snsurrogate.no_such_thing  # noqa: B018


# ------------------------------------------------------------------------------------------ packaging


def test_pyproject_lists_every_package_folder():
    """The packages are listed in pyproject.toml (the data folder needs a package-dir mapping), so a new
    package folder must be added there or the wheel silently lacks it."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(tool["packages"])
    folders = {".".join(p.parent.relative_to(ROOT).parts)
               for top in ("snsurrogate", "fem") for p in (ROOT / top).rglob("__init__.py")}
    missing = sorted(folders - listed)
    assert not missing, f"add these packages to [tool.setuptools] packages in pyproject.toml: {missing}"
    assert tool["package-dir"] == {"snsurrogate._datasets": "data"}
    assert listed - folders == {"snsurrogate._datasets"}
    assert (ROOT / "data" / "__init__.py").is_file()


def test_datasets_accessor_reads_every_bundled_file():
    from snsurrogate import datasets
    from snsurrogate.demo.settings import MATERIALS

    assert datasets.names() == sorted(p.name for p in (ROOT / "data").glob("*.csv"))
    for name in datasets.names():
        assert datasets.path(name).read_bytes() == (ROOT / "data" / name).read_bytes()
    for material in MATERIALS.values():
        assert material.path.is_file()
    for bad in ("missing.csv", "../pyproject.toml", "__init__.py/x"):
        with pytest.raises(FileNotFoundError, match="no bundled data file"):
            datasets.path(bad)


# -------------------------------------------------------------------------------- wheel, fresh venv


def _local_setuptools_can_build() -> bool:
    """Whether this interpreter's setuptools can build the wheel without build isolation (>= 70.1 has
    ``bdist_wheel`` built in; older ones need the ``wheel`` package)."""
    code = ("import setuptools, sys; v = tuple(int(x) for x in setuptools.__version__.split('.')[:2]); "
            "import importlib.util as u; "
            "sys.exit(0 if v >= (68, 0) and (v >= (70, 1) or u.find_spec('wheel')) else 1)")
    return _run([sys.executable, "-c", code], ROOT, _clean_env(), timeout=60).returncode == 0


def _index_url() -> str:
    return os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple")


def _index_reachable() -> bool:
    url = _index_url()
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":
        return True
    try:
        with socket.create_connection((parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)),
                                      timeout=5):
            return True
    except OSError:
        return False


def _in_stdlib(folder: Path, stdlib: list[str]) -> bool:
    for d in stdlib:
        base = Path(d).resolve()
        if folder.is_relative_to(base):
            return not any(part in ("site-packages", "dist-packages") for part in folder.relative_to(base).parts)
    return False


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A wheel of the repository, installed into a fresh venv: ``(venv folder, bin folder, wheel, env)``."""
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(*IGNORED))
    dist = tmp / "dist"
    env = _clean_env()
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", dist, src]
    if _local_setuptools_can_build():
        res = _run([*pip_wheel[:4], "--no-build-isolation", *pip_wheel[4:]], tmp, env)
    else:
        res = _run(pip_wheel, tmp, env)  # setuptools from the package index
        if res.returncode != 0 and not _index_reachable():
            pytest.skip("cannot build the wheel: this interpreter has no setuptools >= 70.1 (or >= 68 with "
                        f"'wheel') and the package index is unreachable for build isolation ({_index_url()})")
    assert res.returncode == 0, f"building the wheel failed:\n{_output(res)}"
    (wheel,) = dist.glob("snsurrogate-*.whl")

    target = tmp / "venv"
    pip_version = tuple(int(x) for x in re.findall(r"\d+", _run([sys.executable, "-m", "pip", "--version"], tmp,
                                                                    env).stdout)[:2])
    with_pip = pip_version < (22, 3)  # older pip has no --python
    venv.EnvBuilder(with_pip=with_pip, symlinks=True).create(target)
    bin_dir = target / "bin"
    python = bin_dir / "python"
    purelib = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp,
                        env).stdout.strip())
    # The dependencies: the import path of this interpreter as configured (site-packages, and what their
    # .pth files add), less its standard library and the checkout's sources (its .venv is kept).
    code = ("import json, sys, sysconfig; p = sysconfig.get_paths(); "
            "print(json.dumps([[d for d in sys.path if d], [p['stdlib'], p['platstdlib']]]))")
    res = _run([sys.executable, "-c", code], tmp, env, timeout=60)
    assert res.returncode == 0, _output(res)
    path, stdlib = json.loads(res.stdout)
    lines = []
    prefix = Path(sys.prefix).resolve()  # the project's venv, which CI keeps inside the checkout (.venv)
    for d in path:
        p = Path(d).resolve()
        in_checkout = p.is_relative_to(ROOT) and not p.is_relative_to(prefix)
        if p.is_dir() and not in_checkout and not _in_stdlib(p, stdlib) and str(p) not in lines:
            lines.append(str(p))
    (purelib / "_project_dependencies.pth").write_text("\n".join(lines) + "\n", encoding="utf-8")

    pip = [python, "-m", "pip"] if with_pip else [sys.executable, "-m", "pip", "--python", python]
    res = _run([*pip, "install", "--no-deps", "--quiet", wheel], tmp, env)
    assert res.returncode == 0, f"installing the wheel failed:\n{_output(res)}"
    return target, bin_dir, wheel, _clean_env(bin_dir)


def _outside(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    assert not work.resolve().is_relative_to(ROOT)
    return work


def test_wheel_contains_the_packages_and_the_data(installed):
    _, _, wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {p.relative_to(ROOT).as_posix() for top in ("snsurrogate", "fem") for p in (ROOT / top).rglob("*.py")
               if "__pycache__" not in p.parts}
    assert sources - names == set(), "source files missing from the wheel"
    data = {f"snsurrogate/_datasets/{p.name}" for p in (ROOT / "data").glob("*.csv")}
    assert len(data) >= 7 and data - names == set(), "data files missing from the wheel"
    assert not any(n.startswith(("data/", "tests/", "examples/")) for n in names)


def test_installed_package_is_imported_from_the_fresh_venv(installed, tmp_path):
    target, bin_dir, _, env = installed
    code = textwrap.dedent("""
        import json, sys
        import fem, snsurrogate
        from snsurrogate import datasets
        from snsurrogate.demo.settings import MATERIALS
        print(json.dumps({"snsurrogate": snsurrogate.__file__, "fem": fem.__file__,
                          "data": [str(m.path) for m in MATERIALS.values()],
                          "names": datasets.names()}))
    """)
    res = _run([bin_dir / "python", "-c", code], _outside(tmp_path), env)
    assert res.returncode == 0, _output(res)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    venv_root = target.resolve()
    for key in ("snsurrogate", "fem"):
        assert Path(out[key]).resolve().is_relative_to(venv_root), f"{key} imported from {out[key]}, not the venv"
    for path in out["data"]:
        assert Path(path).resolve().is_relative_to(venv_root) and Path(path).is_file(), path
    assert out["names"] == sorted(p.name for p in (ROOT / "data").glob("*.csv"))


def test_installed_demo_quick_runs_outside_the_repository(installed, tmp_path):
    _, bin_dir, _, env = installed
    work = _outside(tmp_path)
    res = _run([bin_dir / "snsurrogate", "demo", "--quick", "--quiet", "--out", "demo"], work, env, timeout=600)
    assert res.returncode == 0, _output(res)
    out = work / "demo"
    assert (out / "report.md").is_file()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["claim"]["holds"] and summary["seeds"] == 2
    assert (out / "fits.png").is_file()


def test_installed_simulate_runs_a_readme_case(installed, tmp_path):
    _, bin_dir, _, env = installed
    work = _outside(tmp_path)
    shutil.copy(CASE, work / CASE.name)
    res = _run([bin_dir / "snsurrogate", "simulate", CASE.name, "--out", "plate"], work, env)
    assert res.returncode == 0, _output(res)
    summary = json.loads((work / "plate" / "summary.json").read_text(encoding="utf-8"))
    assert summary["stable"] is True
