"""No module takes a private name (`_name`) from another capability: a capability is used only
through its public functions. (The direction of imports is import-linter's job: `lint-imports`
with the contracts in pyproject.toml.)"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("server", "sync", "schemas", "migrations")


def capability(module: str) -> str:
    """`server.safety.rules` → `server.safety`; outside server, the top-level package (`sync`'s
    protocol and device side are kept apart by import-linter's contracts)."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "server" else parts[0]


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def private_borrowings(module: str, source: str) -> list[str]:
    """Every private name `module` takes from another capability: imported by name, imported as
    a module, or read as an attribute of a module it imported."""
    mine = capability(module)
    found: list[str] = []
    imported_modules: dict[str, str] = {}  # local name → first-party module of another capability
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] not in PACKAGES or capability(node.module) == mine:
                continue
            for alias in node.names:
                if any(is_private(part) for part in node.module.split(".")) or is_private(
                    alias.name
                ):
                    found.append(f"{module}:{node.lineno} {node.module}.{alias.name}")
                else:
                    imported_modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] not in PACKAGES or capability(alias.name) == mine:
                    continue
                if any(is_private(part) for part in alias.name.split(".")):
                    found.append(f"{module}:{node.lineno} {alias.name}")
                elif alias.asname:
                    imported_modules[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in imported_modules
            and is_private(node.attr)
        ):
            found.append(f"{module}:{node.lineno} {imported_modules[node.value.id]}.{node.attr}")
    return found


def test_no_module_takes_a_private_name_from_another_capability():
    borrowed = [
        hit
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for hit in private_borrowings(module_name(path), path.read_text())
    ]
    assert borrowed == []


def test_the_check_sees_each_way_of_borrowing():
    source = """
from server.safety.alerts import _view, alert_view
from server.maps import _private_module
import server.areas._internal
from server.safety import alerts
from server.core import db
alerts._alert(1)
db.__name__
"""
    assert private_borrowings("server.notify.worker", source) == [
        "server.notify.worker:2 server.safety.alerts._view",
        "server.notify.worker:3 server.maps._private_module",
        "server.notify.worker:4 server.areas._internal",
        "server.notify.worker:7 server.safety.alerts._alert",
    ]
    assert private_borrowings("server.safety.rules", "from server.safety.alerts import _x") == []
    assert private_borrowings("schemas.sync", "from sync.protocol import _x") == [
        "schemas.sync:1 sync.protocol._x"
    ]
