"""The house rules that keep the layout standing (docs/architecture.md): routers are HTTP
only. They never commit, roll back, close or query; the session dependency commits once."""

from __future__ import annotations

import ast
from pathlib import Path

import huntaze

SRC = Path(huntaze.__file__).parent
#: What a router must not call on anything: the transaction is the session dependency's, and
#: the SQL is the services'.
FORBIDDEN_CALLS = {"commit", "rollback", "close", "execute", "scalar", "scalars", "flush"}
FORBIDDEN_NAMES = {"select", "insert", "update", "delete", "text"}


def _routers() -> list[Path]:
    return sorted(p for p in SRC.rglob("*router*.py"))


def test_routers_never_commit_or_query() -> None:
    routers = _routers()
    assert len(routers) >= 6
    found = []
    for path in routers:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in FORBIDDEN_CALLS:
                found.append(f"{path.relative_to(SRC)}:{node.lineno} .{func.attr}()")
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_NAMES:
                found.append(f"{path.relative_to(SRC)}:{node.lineno} {func.id}()")
    assert found == []


def test_no_route_reads_the_untyped_app_state() -> None:
    found = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if "app.state.ctx" in path.read_text() and path.name not in ("api.py", "context.py")
    ]
    assert found == []


def test_every_benchmark_module_imports() -> None:
    """A restructuring that moves a name must move the benchmarks' imports too."""
    import importlib

    bench = SRC.parents[1] / "bench"
    modules = sorted(p.stem for p in bench.glob("*.py") if p.stem != "__init__")
    assert len(modules) >= 10
    for name in modules:
        importlib.import_module(f"bench.{name}")
