"""The walls between packages hold: imports point down only, and no module imports itself
back through others.

Every import in every module of the tree counts, wherever it is written: at the top, inside a
function, or under `if TYPE_CHECKING:` (a function-local import does not make a circle go
away, it only hides it until someone calls the function). The layers, top to bottom:

    mediation            the web shell: may import everything below
    seeds                the demo data, loaded by the shell's CLI through the domains' actions
    cases                the domains: may import courtwire and realtime
    courtwire, realtime  the wire to the court, the live rooms: import no layer above
    courtdesk            the court's own application: only courtwire and the vocabularies

`VOCABULARIES` are pure shared modules (no I/O, no models) that the wire and the court desk
may read although they sit in `cases` (dispute categories, the clock, evidence file checks,
pause points, the timeline's event kinds and labels); they import nothing of the project
themselves.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("mediation", "seeds", "cases", "courtwire", "realtime", "courtdesk")
VOCABULARIES = frozenset(
    {"cases.categories", "cases.clock", "cases.evidence_files", "cases.pause", "cases.timeline"}
)
# What each top-level package may import besides itself.
MAY_IMPORT: Mapping[str, frozenset[str]] = {
    "mediation": frozenset({"seeds", "cases", "courtwire", "realtime"}),
    "seeds": frozenset({"cases", "courtwire", "realtime"}),
    "cases": frozenset({"courtwire", "realtime"}),
    "courtwire": frozenset(),
    "realtime": frozenset(),
    "courtdesk": frozenset({"courtwire"}),
}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.relative_to(root).parts:
                continue  # historical snapshots of the schema, not code that runs beside it
            found[module_name(path, root)] = path
    return found


def imports_of(source: str, module: str, is_package: bool, known: Iterable[str]) -> set[str]:
    """The project modules `module` imports anywhere in its source."""
    known = set(known)
    here = module if is_package else module.rpartition(".")[0]
    named: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from a import b` imports the module a.b when there is one, else a name of a.
                named.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    found = set()
    for name in named:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name != module:
            found.add(name)
    return found


def import_graph(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, set[str]]:
    modules = project_modules(root, packages)
    return {
        name: imports_of(path.read_text(encoding="utf-8"), name, path.stem == "__init__", modules)
        for name, path in modules.items()
    }


def _top(module: str) -> str:
    return module.partition(".")[0]


def wrong_directions(graph: Mapping[str, set[str]]) -> list[str]:
    wrong = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            if _top(target) == _top(module):
                if module in VOCABULARIES and target not in VOCABULARIES:
                    wrong.append(f"{module} -> {target} (a vocabulary imports only vocabularies)")
                continue
            if target in VOCABULARIES and _top(module) in {"courtwire", "courtdesk"}:
                continue
            if _top(target) not in MAY_IMPORT.get(_top(module), frozenset()):
                wrong.append(f"{module} -> {target}")
    return wrong


def circles(graph: Mapping[str, set[str]]) -> set[tuple[str, ...]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[tuple[str, ...]] = set()
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.add(tuple(sorted(component)))
    return found


def test_imports_point_down_only() -> None:
    assert wrong_directions(import_graph(ROOT)) == []


def test_no_import_circles() -> None:
    assert circles(import_graph(ROOT)) == set()


def test_the_graph_sees_every_package() -> None:
    graph = import_graph(ROOT)
    assert {_top(module) for module in graph} == set(PACKAGES)
    assert "courtwire.package" in graph["courtwire.ecf"]
    assert "cases.models" in graph["cases.actions"]


# --- the checker itself, on planted trees -----------------------------------------------------


def _plant(root: Path, files: Mapping[str, str]) -> dict[str, set[str]]:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    for package in PACKAGES:
        (root / package).mkdir(exist_ok=True)
        (root / package / "__init__.py").touch()
    return import_graph(root)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # the shell may import a domain; a domain may import the wire and the rooms
        ({"mediation/web.py": "import cases.status\n", "cases/status.py": ""}, []),
        ({"cases/a.py": "from courtwire import ecf\nfrom realtime.text import x\n"}, []),
        # a domain importing the shell, at the top, late, or only for the type checker
        ({"cases/a.py": "from mediation.models import User\n"}, ["cases.a -> mediation"]),
        (
            {"cases/a.py": "def f():\n    from mediation import app\n", "mediation/app.py": ""},
            ["cases.a -> mediation.app"],
        ),
        (
            {
                "cases/a.py": "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from mediation.models import User\n",
                "mediation/models.py": "",
            },
            ["cases.a -> mediation.models"],
        ),
        # the rooms know nothing of cases; the wire nothing of the domains
        ({"realtime/hub.py": "import cases\n"}, ["realtime.hub -> cases"]),
        (
            {"courtwire/ecf.py": "from cases.court import privilege\n"},
            ["courtwire.ecf -> cases"],
        ),
        # the desk: the wire and the vocabularies, nothing else of the platform
        (
            {
                "courtdesk/web.py": "from cases.categories import BY_CODE\n",
                "cases/categories.py": "",
            },
            [],
        ),
        (
            {"courtdesk/web.py": "from cases.models import Case\n", "cases/models.py": ""},
            ["courtdesk.web -> cases.models"],
        ),
        ({"courtdesk/app.py": "import mediation.settings\n"}, ["courtdesk.app -> mediation"]),
        # nothing imports the desk; a vocabulary imports only vocabularies
        ({"courtwire/outbox.py": "import courtdesk\n"}, ["courtwire.outbox -> courtdesk"]),
        (
            {"cases/pause.py": "from cases.models import Case\n", "cases/models.py": ""},
            ["cases.pause -> cases.models (a vocabulary imports only vocabularies)"],
        ),
        # relative imports are resolved
        (
            {"realtime/hub.py": "from ..cases import models\n", "cases/models.py": ""},
            ["realtime.hub -> cases.models"],
        ),
    ],
)
def test_wrong_directions_are_found(
    tmp_path: Path, files: Mapping[str, str], expected: list[str]
) -> None:
    assert wrong_directions(_plant(tmp_path, files)) == expected


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"cases/a.py": "import cases.b\n", "cases/b.py": "import cases.c\n", "cases/c.py": ""},
            set(),
        ),
        (
            {"cases/a.py": "import cases.b\n", "cases/b.py": "from cases import a\n"},
            {("cases.a", "cases.b")},
        ),
        # hidden by a function-local import: still a circle
        (
            {
                "cases/a.py": "import cases.b\n",
                "cases/b.py": "import cases.c\n",
                "cases/c.py": "def f():\n    from cases.a import x\n",
            },
            {("cases.a", "cases.b", "cases.c")},
        ),
        # or by TYPE_CHECKING
        (
            {
                "cases/a.py": "import cases.b\n",
                "cases/b.py": "if TYPE_CHECKING:\n    import cases.a\n",
            },
            {("cases.a", "cases.b")},
        ),
    ],
)
def test_circles_are_found(
    tmp_path: Path, files: Mapping[str, str], expected: set[tuple[str, ...]]
) -> None:
    assert circles(_plant(tmp_path, files)) == expected
