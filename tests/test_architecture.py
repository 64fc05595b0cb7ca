"""ARCHITECTURE.md's rule, checked: every module has a stage, and none imports a later one
(imports inside functions included; ``if TYPE_CHECKING:`` blocks excluded)."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "colorpast"
ROW = re.compile(r"^\| (\d) [a-z ]+ \| `([\w/]+\.py)` \|")


def _stages() -> dict[str, int]:
    """``{"colorpast.data.prepare": 1, ...}`` from ARCHITECTURE.md's table."""
    stages = {}
    for line in (ROOT / "ARCHITECTURE.md").read_text().splitlines():
        m = ROW.match(line)
        if m:
            parts = m.group(2)[:-3].split("/")
            if parts[-1] == "__init__":
                parts = parts[:-1]
            stages[".".join(["colorpast", *parts])] = int(m.group(1))
    return stages


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(tree: ast.AST, known: set[str]) -> set[str]:
    """The package's modules a module imports anywhere, as dotted names."""
    skip = set()
    for node in ast.walk(tree):  # `if TYPE_CHECKING:` imports are for annotations alone
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            skip.update(id(n) for n in ast.walk(node))
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
        else:
            continue
        for name in names:
            # the longest known module the name starts with: "colorpast.data.shards.Split" -> colorpast.data.shards
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def _modules() -> dict[str, ast.AST]:
    return {_module_name(p): ast.parse(p.read_text()) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_has_a_stage():
    stages, modules = _stages(), _modules()
    assert sorted(set(modules) - set(stages)) == [], "add these to ARCHITECTURE.md's table"
    assert sorted(set(stages) - set(modules)) == [], "ARCHITECTURE.md lists modules that do not exist"


def test_no_stage_imports_a_later_one():
    stages, modules = _stages(), _modules()
    later = []
    for name, tree in modules.items():
        for dep in _imported(tree, set(modules)):
            if dep != "colorpast" and stages.get(dep, -1) > stages.get(name, 99):
                later.append(f"{name} (stage {stages[name]}) imports {dep} (stage {stages[dep]})")
    assert later == []


def test_the_checker_sees_imports_inside_functions():
    tree = ast.parse("def f():\n    from colorpast import fid\n    import colorpast.data.shards\n")
    assert _imported(tree, {"colorpast", "colorpast.fid", "colorpast.data", "colorpast.data.shards"}) == {
        "colorpast", "colorpast.fid", "colorpast.data.shards"}


def _circles(modules: dict) -> list[list[str]]:
    """The package's import circles (strongly connected groups of two or more modules),
    imports inside functions and under ``if TYPE_CHECKING:`` included: a type needed by
    two modules that import each other is a shared piece without a home."""
    known = set(modules)
    graph = {}
    for name, tree in modules.items():
        deps = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
            else:
                continue
            for dep in names:
                while dep and dep not in known:
                    dep = dep.rpartition(".")[0]
                if dep and dep not in (name, "colorpast"):
                    deps.add(dep)
        graph[name] = deps
    index, low, stack, found = {}, {}, [], []

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while not group or group[-1] != v:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


# There are none: a new circle fails this test.
REMAINING_CIRCLES = []


def test_no_new_import_circles():
    assert _circles(_modules()) == REMAINING_CIRCLES


def test_the_circle_finder_sees_type_checking_imports():
    a = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from colorpast.b import X\n")
    b = ast.parse("def f():\n    import colorpast.a\n")
    assert _circles({"colorpast.a": a, "colorpast.b": b, "colorpast.c": ast.parse("")}) == [["colorpast.a", "colorpast.b"]]


def test_every_folder_of_the_package_installs():
    """pyproject.toml lists the package's folders by hand (weights/ goes in as the package
    data of colorpast.bundled_weights, which a find would not see): a new folder must be
    listed, or a wheel (`pip install git+...`, Colab) would install without it."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {_module_name(p) for p in PACKAGE.rglob("__init__.py")}
    assert folders - listed == set(), "add these to pyproject.toml's [tool.setuptools] packages"
    assert listed - folders == {"colorpast.bundled_weights"}
