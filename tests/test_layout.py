"""Dependencies point one way: `recognition` and `lrs` never import `app`."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package, forbidden", [
    ("recognition", {"app", "flask", "flask_sqlalchemy", "sqlalchemy", "lrs"}),
    ("lrs", {"app", "recognition"}),
])
def test_library_packages_do_not_import_app(package, forbidden):
    offenders = {str(path.relative_to(ROOT)): _imported_modules(path) & forbidden
                 for path in (ROOT / package).rglob("*.py")}
    assert {path: names for path, names in offenders.items() if names} == {}


def _app_modules() -> dict[str, Path]:
    """Every module of the ``app`` package by dotted name (a package by its ``__init__``)."""
    modules = {}
    for path in (ROOT / "app").rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _owner(name: str, modules: dict[str, Path]) -> str | None:
    """The app module that ``name`` (a module or a name inside one) lives in."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _import_targets(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The app modules ``module`` imports, at module level or inside functions alike."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets.update(_owner(alias.name, modules) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            targets.update(_owner(f"{base}.{alias.name}", modules) for alias in node.names)
    return targets - {None, module}


def _import_graph() -> dict[str, set[str]]:
    """Who imports whom inside ``app``. A package's ``__init__`` loading its own submodules (a
    blueprint registering its routes, which import ``bp`` from it) is containment, not a
    dependency, so that edge is left out; every other import counts."""
    modules = _app_modules()
    return {module: {target for target in _import_targets(module, path, modules)
                     if not target.startswith(module + ".")}
            for module, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
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
                    found.append(sorted(component))
    return found


def test_app_modules_import_without_cycles():
    assert _cycles(_import_graph()) == []


def test_cycle_finder_sees_a_cycle_through_a_function_level_import():
    graph = {"app.a": {"app.b"}, "app.b": {"app.c"}, "app.c": {"app.a"}, "app.d": {"app.a"}}
    assert _cycles(graph) == [["app.a", "app.b", "app.c"]]


def test_import_targets_count_function_level_and_relative_imports(tmp_path):
    source = tmp_path / "worker.py"
    source.write_text("from . import sibling\n\ndef run():\n    from app.services import study\n")
    modules = {"app.services.worker": source, "app.services.sibling": source, "app.services.study": source,
               "app.services": source}
    assert _import_targets("app.services.worker", source, modules) == {"app.services.sibling", "app.services.study"}
