"""The ``snsurrogate`` command line: a thin layer over the Python API.

Each subcommand lives in its own module with ``add_args(parser)`` and ``run(args) -> int``.
`main` turns every :class:`~snsurrogate.errors.SnsurrogateError` and :class:`fem.errors.FemError`
into ``error: <message>`` on stderr and exit status 2, never a traceback.

Start-up is cheap on purpose: this module imports nothing heavy, the subcommand modules are imported
inside :func:`main`'s ``try`` and only the chosen subcommand's options are built, so ``--version`` and
``--help`` do not load torch, and Ctrl-C at any instant (even while torch loads) prints
``interrupted`` with exit status 130 instead of a traceback. A closed stdout (``snsurrogate info M
--json | head``) ends the command quietly.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

COMMANDS = ("fit", "info", "simulate", "stability", "demo")
"""The subcommands, in the order ``--help`` lists them; each is the module ``snsurrogate.cli.<name>``."""


def _module(name: str):
    from importlib import import_module

    return import_module(f"{__name__}.{name}")


def _chosen(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (the first argument that is not a top-level option), if any."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; the options of ``command`` only (all subcommands with ``command="*"``)."""
    import argparse

    from ..version import __version__

    parser = argparse.ArgumentParser(
        prog="snsurrogate",
        description="Certified spectrally-normalized neural material laws. Units are never assumed: "
        "stresses keep the unit of the data, strains are dimensionless (engineering, Voigt).",
    )
    parser.add_argument("--version", action="version", version=f"snsurrogate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = _module(name)
        p = sub.add_parser(name, help=module.HELP, description=module.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        if command in (name, "*"):  # building the others' options would import what they need (pydantic, ...)
            module.add_args(p)
        p.set_defaults(handler=module.run)
    return parser


def _version_only(argv: Sequence[str]) -> bool:
    """True when argparse would answer ``argv`` with the version (``--version`` before any -h or command)."""
    for arg in argv:
        if arg == "--version":
            return True
        if arg in ("-h", "--help") or not arg.startswith("-"):
            return False
    return False


PRELOAD = {
    "fit": ("snsurrogate.training", "snsurrogate.data", "snsurrogate.report", "snsurrogate.modelfile",
            "matplotlib.pyplot"),
    "info": ("snsurrogate.modelfile", "snsurrogate.report"),
    "simulate": ("snsurrogate.simulation", "snsurrogate.case"),
    "stability": ("snsurrogate.case.build", "fem.stability"),
    "demo": ("snsurrogate.demo",),
}
"""What each subcommand imports before it starts working: loaded while a Ctrl-C simply ends the process."""


def _main(argv: Sequence[str] | None, sigint: _Sigint) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if _version_only(argv):
        from ..version import __version__

        print(f"snsurrogate {__version__}")
        return 0
    args = build_parser(_chosen(argv)).parse_args(argv)
    from importlib import import_module

    from fem.errors import FemError

    from ..errors import SnsurrogateError

    for name in PRELOAD.get(args.command, ()):
        import_module(name)
    sigint.loaded()
    try:
        return int(args.handler(args) or 0)
    except (SnsurrogateError, FemError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    sigint = _Sigint(exit_while_loading=argv is None)
    try:
        sigint.install()
        try:
            status = _main(argv, sigint)
        except SystemExit:  # argparse: --help, --version, a usage error
            sys.stdout.flush()
            raise
        sys.stdout.flush()  # here, so that a closed pipe is caught below and not at interpreter exit
        return status
    except KeyboardInterrupt:
        _interrupted()
        return 130
    except BrokenPipeError:
        _stdout_to_devnull()
        return 1
    except Exception:
        # A Ctrl-C while a library loads can come out as another error (numpy turns the failed import of
        # one of its C modules into an ImportError): after a Ctrl-C, every error is the interrupt.
        if sigint.seen:
            _interrupted()
            return 130
        raise
    finally:
        sigint.restore()


class _Sigint:
    """The SIGINT handler of :func:`main`.

    While the libraries load (torch, numpy, matplotlib: seconds), a Ctrl-C must not interrupt an import:
    libraries catch or convert the KeyboardInterrupt there (it can even be lost, and the command go on).
    So when ``main`` is the process's entry point (``argv`` None), a Ctrl-C in that phase prints
    ``interrupted`` and ends the process at once with status 130: nothing has been written yet. Called
    with an ``argv`` (from Python, tests), it raises KeyboardInterrupt as Python's own handler does. Once
    loaded, it always raises KeyboardInterrupt (the commands clean up on the way out), noting the signal
    in ``seen``.
    """

    def __init__(self, exit_while_loading: bool):
        self.exit_while_loading = exit_while_loading
        self.loading = True
        self.seen = False
        self.previous = None

    def install(self) -> None:
        import signal

        try:
            current = signal.getsignal(signal.SIGINT)
            if current is signal.default_int_handler:  # not when the caller has its own
                signal.signal(signal.SIGINT, self)
                self.previous = current
        except (ValueError, OSError):  # not the main thread
            pass

    def loaded(self) -> None:
        self.loading = False

    def __call__(self, signum, frame) -> None:
        self.seen = True
        if self.loading and self.exit_while_loading:
            import os

            try:
                print("interrupted", file=sys.stderr)
                sys.stderr.flush()
            finally:
                os._exit(130)
        raise KeyboardInterrupt

    def restore(self) -> None:
        if self.previous is None:
            return
        import signal

        try:
            signal.signal(signal.SIGINT, self.previous)
        except (ValueError, OSError, TypeError):
            pass


def _interrupted() -> None:
    try:
        print("\ninterrupted" if sys.stderr.isatty() else "interrupted", file=sys.stderr)
    except (OSError, ValueError):
        pass
    _forget_unhandled_interrupt()


def _forget_unhandled_interrupt() -> None:
    """Keep the exit status 130 although the Ctrl-C was handled here.

    When a KeyboardInterrupt leaves code that a C extension ran through ``PyRun_*`` (some run Python code
    so while they are imported), CPython notes it as unhandled, and at exit kills the process with SIGINT
    (status -2 to the parent) whatever ``main`` returned. Every ``PyRun_*`` call clears that note first,
    so running an empty one clears it.
    """
    try:
        import ctypes

        ctypes.pythonapi.PyRun_SimpleString(b"pass")
    except Exception:  # no ctypes, another interpreter: the status is then at worst death by SIGINT
        pass


def _stdout_to_devnull() -> None:
    """The reader of stdout went away (``| head``): send what is still buffered to /dev/null, so that
    Python's flush at exit does not print a BrokenPipeError (the recipe of the Python documentation)."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
