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
