"""The shape of the code (issue 9): which way imports go, and the size of modules and functions."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*ROOT.glob("fem/*.py"), *ROOT.glob("snsurrogate/**/*.py")])  # data/make_synthetic.py: a script


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(ROOT.glob("fem/*.py")), ids=lambda p: p.name)
def test_fem_never_imports_snsurrogate(path):
    assert not any(n == "snsurrogate" or n.startswith("snsurrogate.") for n in _imports(path))


def test_importing_fem_loads_no_snsurrogate_module():
    code = ("import sys, fem, fem.stability, fem.meshfiles; "
            "print([m for m in sys.modules if m.startswith('snsurrogate')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr


def _code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of a function without its docstring (numpy-style docstrings of public functions are long)."""
    n = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        n -= first.end_lineno - first.lineno + 1
    return n


def test_no_module_over_500_lines_and_no_function_over_80():
    """Functions count without their docstrings; a long one that a comment justifies (``# long: <why>`` on the
    line of the ``def``) is allowed."""
    too_long = []
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        if len(lines) > 500:
            too_long.append(f"{path.relative_to(ROOT)}: {len(lines)} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = _code_lines(node)
                if n > 80 and "# long:" not in lines[node.lineno - 1]:
                    too_long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {n} lines")
    assert too_long == []
