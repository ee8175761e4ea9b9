"""Ctrl-C at any instant of a real ``snsurrogate`` process: ``interrupted`` and exit status 130, never a traceback.

The clock starts when the interpreter itself is up: each process is a small launcher that writes one byte to
a pipe and then runs ``snsurrogate`` as ``python -m`` does (``runpy.run_module``); the signal is sent at
each delay after that byte. Before it, the interpreter is still starting (its own imports of runpy, os,
contextlib, and an editable install's ``.pth`` finder: 15-50 ms on a loaded machine), where no package code
has run and Python prints its own traceback for a Ctrl-C; nothing can be done about that from the package.
From ``snsurrogate.__main__`` on (a few milliseconds later), everything is under a ``try``; while the libraries
load, a Ctrl-C ends the process at once (``interrupted``, 130), later it is a KeyboardInterrupt that the command
handles. Several of these instants once gave tracebacks, an ImportError made by numpy out of the interrupt, a
status -2 although ``main`` returned 130, or a lost Ctrl-C (the fit went on training).

A process killed by SIGINT itself (returncode -2) is accepted too: that is what Python does when the signal
arrives before it installs its handler or after it removed it at exit (a run that had just finished), and
what a shell reports as 130.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
AL = ROOT / "data" / "al6061t6_uniaxial_tension_CA-RD-01.csv"
CASE = ROOT / "examples" / "cases" / "bar_impact.toml"
DELAYS = (0.02, 0.05, 0.2, 0.5, 1.0, 2.0, 4.0)
LAUNCH = ("import os, runpy, sys; os.write(int(sys.argv[1]), b'!'); sys.argv = ['snsurrogate', *sys.argv[2:]]; "
          "runpy.run_module('snsurrogate', run_name='__main__', alter_sys=True)")


def _env() -> dict[str, str]:
    env = os.environ.copy()
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), sysconfig.get_paths()["purelib"]])
    return env


def _start(args: list[str], cwd: Path) -> subprocess.Popen:
    """Start ``snsurrogate ARGS``; return once the interpreter is up (the launcher wrote its byte)."""
    r, w = os.pipe()
    try:
        proc = subprocess.Popen([sys.executable, "-c", LAUNCH, str(w), *map(str, args)], cwd=cwd, env=_env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, pass_fds=(w,))
        os.close(w)
        w = -1
        assert os.read(r, 1) == b"!", proc.communicate()
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)
    return proc


def _commands(tmp_path: Path) -> dict[str, list]:
    return {
        "fit": ["fit", AL, "--strain", "engineering_strain", "--stress", "engineering_stress_MPa", "--epochs", "3000",
                "--quiet", "--out", tmp_path / "model"],
        "simulate": ["simulate", CASE, "--quiet", "--out", tmp_path / "sim"],
    }


@pytest.mark.parametrize("delay", DELAYS)
def test_ctrl_c_early_is_clean(tmp_path, delay):
    procs = {}
    for name, args in _commands(tmp_path).items():
        procs[name] = p = _start(args, tmp_path)
        time.sleep(delay)
        p.send_signal(signal.SIGINT)
    for name, p in procs.items():
        out, err = p.communicate(timeout=120)
        assert "Traceback" not in err, (name, delay, err)
        assert p.returncode in (130, -signal.SIGINT, 0, 2), (name, delay, p.returncode, err)
        if p.returncode == 130:
            assert err.strip().endswith("interrupted"), (name, delay, err)
        if p.returncode == 2:
            assert err.startswith("error: "), (name, delay, err)


def test_version_and_help_do_not_load_torch(tmp_path):
    code = ("import sys; from snsurrogate.cli import main\n"
            "for argv in (['--version'], ['--help']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "print('torch' in sys.modules, 'snsurrogate.training' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(), capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "False False", res.stdout


def test_import_snsurrogate_is_lazy():
    code = ("import sys, snsurrogate\n"
            "lazy = 'torch' not in sys.modules\n"
            "names = set(snsurrogate.__all__) == set(snsurrogate._LAZY) | {'__version__'}\n"
            "every = all(getattr(snsurrogate, n) is not None for n in snsurrogate.__all__)\n"
            "print(lazy, names, every, set(snsurrogate.__all__) <= set(dir(snsurrogate)))")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(), capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["True"] * 4, res.stdout
