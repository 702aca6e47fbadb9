"""The rules of the house (README, "How the code is laid out"), read from the imports of `screening/`."""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "screening"
ENGINE = "screening.engine"
STORE = "screening.store"
NOT_IN_THE_ENGINE = {"flask", "flask_babel", "flask_login", "flask_wtf", "wtforms", "babel", "werkzeug"}
MOST_LINES = 400
MOST_TOP_MODULES = 12


@dataclass(frozen=True)
class Import:
    """One imported module, or one name taken from a module, at a line of the importing module."""

    importer: str
    module: str
    name: str | None
    line: int


def modules(root: Path, package: str) -> dict[str, Path]:
    """Return every module of the package by its dotted name ('screening.engine' is its __init__.py)."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> list[Import]:
    """Return everything a module imports, at any depth (an import inside a function counts too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [Import(name, alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                if submodule in known:
                    found.append(Import(name, submodule, None, node.lineno))
                else:
                    found.append(Import(name, module, alias.name, node.lineno))
    return found


def all_imports(root: Path, package: str) -> list[Import]:
    known = modules(root, package)
    return [found for name, path in known.items() for found in imports(name, path, known)]


def graph(root: Path, package: str) -> dict[str, set[str]]:
    """Return which of the package's modules each of its modules imports.

    A package's __init__ importing its own submodules (to hand them on, or to register pages) is left
    out: that is how a package is put together, not a circle.
    """
    known = modules(root, package)
    edges: dict[str, set[str]] = {name: set() for name in known}
    for found in all_imports(root, package):
        own_part = known[found.importer].name == "__init__.py" and found.module.startswith(
            found.importer + "."
        )
        if found.module in known and found.module != found.importer and not own_part:
            edges[found.importer].add(found.module)
    return edges


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Return each group of modules that import each other, directly or round a circle (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def private_imports(root: Path, package: str) -> list[Import]:
    """Return each underscore name one module takes from another (dunders such as __version__ aside)."""
    return [
        found
        for found in all_imports(root, package)
        if found.name and found.name.startswith("_") and not found.name.endswith("__")
    ]


def wing_breaches(root: Path, package: str, wing: str, not_allowed=frozenset()) -> list[Import]:
    """Return what a wing imports from the packages not allowed in it, or from the project outside it."""
    return [
        found
        for found in all_imports(root, package)
        if (found.importer == wing or found.importer.startswith(wing + "."))
        and (
            found.module.split(".")[0] in not_allowed
            or (found.module.split(".")[0] == package and not (found.module + ".").startswith(wing + "."))
        )
    ]


def test_the_engine_imports_no_web_stack_and_nothing_outside_itself():
    breaches = wing_breaches(ROOT, PACKAGE, ENGINE, NOT_IN_THE_ENGINE)
    assert [f"{f.importer}:{f.line} {f.module}" for f in breaches] == []


def test_the_store_imports_nothing_of_the_rest_of_the_app_but_the_fault_names():
    breaches = [f for f in wing_breaches(ROOT, PACKAGE, STORE) if f.module != "screening.faults"]
    assert [f"{f.importer}:{f.line} {f.module}" for f in breaches] == []


def test_no_modules_import_each_other_in_a_circle():
    assert circles(graph(ROOT, PACKAGE)) == []


def test_no_module_takes_an_underscore_name_from_another():
    assert [f"{f.importer}:{f.line} {f.module}.{f.name}" for f in private_imports(ROOT, PACKAGE)] == []


def test_no_module_is_over_400_lines():
    lengths = {name: len(path.read_text().splitlines()) for name, path in modules(ROOT, PACKAGE).items()}
    assert {name: lines for name, lines in lengths.items() if lines > MOST_LINES} == {}


def test_the_top_of_the_package_holds_at_most_12_modules():
    top = sorted(path.name for path in (ROOT / PACKAGE).glob("*.py"))
    assert len(top) <= MOST_TOP_MODULES, top


def test_every_package_says_what_lives_there_and_what_it_may_import():
    for init in sorted((ROOT / PACKAGE).rglob("__init__.py")):
        docstring = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert "import" in docstring, f"{init.relative_to(ROOT)}: say what lives here and what it may import"


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


@pytest.fixture
def crooked(tmp_path):
    """A small package that breaks the rules: a circle (one side lazy), a private name, Flask in the engine."""
    write_tree(
        tmp_path,
        {
            "pkg/__init__.py": '"""The package."""\nfrom . import a, engine\n',
            "pkg/a.py": "from .b import helper\n",
            "pkg/b.py": "def helper():\n    from . import a\n    from .c import _secret, __version__\n",
            "pkg/c.py": "_secret = 1\n__version__ = '1'\n",
            "pkg/engine/__init__.py": '"""The engine."""\nfrom . import rules\n',
            "pkg/engine/rules.py": "import flask\nfrom ..a import helper\nfrom . import questions\n",
            "pkg/engine/questions.py": "import json\n",
        },
    )
    return tmp_path


def test_the_house_checks_find_a_circle_a_private_name_and_flask_in_the_engine(crooked):
    assert circles(graph(crooked, "pkg")) == [["pkg.a", "pkg.b"]]
    assert [(f.importer, f.module, f.name) for f in private_imports(crooked, "pkg")] == [
        ("pkg.b", "pkg.c", "_secret")
    ]
    assert [(f.module, f.line) for f in wing_breaches(crooked, "pkg", "pkg.engine", {"flask"})] == [
        ("flask", 1),
        ("pkg.a", 2),
    ]
