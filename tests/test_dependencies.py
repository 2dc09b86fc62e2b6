"""Dependencies are used through their public APIs: no private module (a name starting with
"_") of a third-party package is imported anywhere in playground/, nor a private name from one.
The dependency map between our own apps is import-linter's (pyproject.toml, run by make test)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "playground"


def _private(dotted: str) -> bool:
    return any(
        part.startswith("_") and not (part.startswith("__") and part.endswith("__")) for part in dotted.split(".")
    )


def private_imports(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [(alias.name, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [(node.module, node.module)]
            modules += [(node.module, f"{node.module}.{alias.name}") for alias in node.names]
        else:
            continue
        for module, dotted in modules:
            top = module.split(".")[0]
            if top == "playground" or top in sys.stdlib_module_names:
                continue
            if _private(dotted):
                found.append(f"line {node.lineno}: {dotted}")
    return found


def test_no_private_module_or_name_of_a_dependency_is_imported():
    problems = {}
    for path in sorted(ROOT.rglob("*.py")):
        found = private_imports(ast.parse(path.read_text(), filename=str(path)))
        if found:
            problems[str(path.relative_to(ROOT.parent))] = found
    assert problems == {}


def test_the_check_sees_a_private_module_and_a_private_name():
    code = "import httpcore._async\nfrom httpx._client import Client\nfrom anyio import _core\nimport json._x\n"
    assert private_imports(ast.parse(code)) == [
        "line 1: httpcore._async",
        "line 2: httpx._client",
        "line 2: httpx._client.Client",
        "line 3: anyio._core",
    ]
