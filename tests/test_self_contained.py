"""Nothing in the project reads outside the repository.

A fresh clone must test and run on its own (issue 9, finding 15: the court desk and the tests
once read the ECF schemas and the domain notes from a folder beside the project, so a clone
failed 35 tests and a deployed desk answered 500 to every ECF filing). This scans every code,
test, script and CI file for a path that leaves the repository: a `Path(__file__)` walked
above the root, a shell script's `$(dirname "$0")` walked above the root, a `shared` folder
beside the project, or an absolute path into the machine the project was written on.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Folders that are not the project's own files (tools' caches, the virtualenv, artefacts).
_SKIP_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
_SKIP_DIR_SUFFIXES = (".egg-info",)
_SKIP_TOP = {"data", "build", "test-artifacts"}
_TEXT_SUFFIXES = {".py", ".sh", ".toml", ".cfg", ".ini", ".yml", ".yaml", ".js", ".html"}
_SCRIPT_DIRS = {"scripts", ".ci"}

# Written so that this file does not match itself.
_SHARED = "sha" + "red"
_TEXT_RULES = [
    (re.compile(r"\.\./+" + _SHARED + r"\b"), "a ../" + _SHARED + " path"),
    (
        re.compile(r"(?:/|,|joinpath\()\s*[\"']" + _SHARED + r"[\"']"),
        "a path through a '" + _SHARED + "' folder",
    ),
    (re.compile(r"(?<![\w.:/])/wor" + "k/"), "an absolute path into the authoring machine"),
]
_DIRNAME_UP = re.compile(
    r"dirname\s+\"?\$(?:0|\{BASH_SOURCE\[0\]\}|BASH_SOURCE)\"?\)\"?((?:/\.\.)+)"
)


def project_files(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        # Pruned as the walk goes: the virtualenv alone holds tens of thousands of files.
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in _SKIP_DIRS
            and not d.endswith(_SKIP_DIR_SUFFIXES)
            and not (here == root and d in _SKIP_TOP)
        )
        top = here.relative_to(root).parts[:1]
        for name in sorted(files):
            path = here / name
            if path.suffix in _TEXT_SUFFIXES or (
                top and top[0] in _SCRIPT_DIRS and not path.suffix
            ):
                yield path


def _file_level(node: ast.expr) -> int | None:
    """How many folders up from the file an expression rooted at `Path(__file__)` points.

    0 is the file itself, 1 its folder; `.resolve()`/`.absolute()` change nothing.
    """
    if isinstance(node, ast.Call):
        func = node.func
        if (
            isinstance(func, ast.Name)
            and func.id == "Path"
            and len(node.args) == 1
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id == "__file__"
        ):
            return 0
        if isinstance(func, ast.Attribute) and func.attr in {"resolve", "absolute"}:
            return _file_level(func.value)
        return None
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        inner = _file_level(node.value)
        return None if inner is None else inner + 1
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "parents"
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, int)
    ):
        inner = _file_level(node.value.value)
        return None if inner is None else inner + 1 + node.slice.value
    return None


def problems_in(relative: Path, text: str) -> list[str]:
    """Each way `text` (the file at `relative` in the repository) reaches outside it."""
    found = [
        f"{relative}:{text.count(chr(10), 0, match.start()) + 1}: {what}"
        for pattern, what in _TEXT_RULES
        for match in pattern.finditer(text)
    ]
    # The repository's root is this many folders up from the file.
    root_level = len(relative.parts)
    if relative.suffix == ".py":
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.expr):
                level = _file_level(node)
                if level is not None and level > root_level:
                    found.append(f"{relative}:{node.lineno}: Path(__file__) above the root")
    else:
        for match in _DIRNAME_UP.finditer(text):
            # dirname "$0" is the script's folder, one below the file itself.
            level = 1 + match.group(1).count("..")
            if level > root_level:
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{relative}:{line}: $(dirname) above the root")
    return found


def test_no_project_file_reads_outside_the_repository() -> None:
    scanned = list(project_files(ROOT))
    # The scan sees the code, the tests, the scripts and CI (not an empty walk).
    names = {path.relative_to(ROOT).as_posix() for path in scanned}
    assert {"courtwire/ecf.py", "scripts/test", ".ci/run", "pyproject.toml"} <= names
    problems = [
        problem
        for path in scanned
        for problem in problems_in(path.relative_to(ROOT), path.read_text(encoding="utf-8"))
    ]
    assert problems == []


@pytest.mark.parametrize(
    ("relative", "text", "outside"),
    [
        ("tests/cases/t.py", 'X = Path(__file__).resolve().parents[2] / "cases"\n', False),
        ("tests/cases/t.py", "X = Path(__file__).resolve().parents[3]\n", True),
        ("tests/cases/t.py", "X = Path(__file__).resolve().parents[2].parent\n", True),
        ("mediation/web.py", "X = Path(__file__).resolve().parent.parent\n", False),
        ("mediation/web.py", "X = Path(__file__).parent.parent.parent\n", True),
        ("courtwire/ecf.py", 'X = ROOT / "' + _SHARED + '" / "ecf-4.01"\n', True),
        ("courtwire/ecf.py", 'X = os.path.join(root, "' + _SHARED + '")\n', True),
        ("courtwire/ecf.py", 'X = "../' + _SHARED + '/DOMAIN.md"\n', True),
        ("courtwire/ecf.py", 'X = "/wor' + 'k/x/DOMAIN.md"\n', True),
        ("courtwire/ecf.py", 'broker.shared = True  # "a ' + _SHARED + ' broker"\n', False),
        ("scripts/test", 'cd "$(dirname "$0")/.."\n', False),
        ("scripts/test", 'cd "$(dirname "$0")/../.."\n', True),
        (".ci/run", 'cat "$(dirname "$0")/../../' + _SHARED + '/x"\n', True),
    ],
)
def test_the_scan_tells_inside_from_outside(relative: str, text: str, outside: bool) -> None:
    assert bool(problems_in(Path(relative), text)) is outside
