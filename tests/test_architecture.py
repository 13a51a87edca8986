"""The package's layers only point down, and no two parts import each other.

Every module of ``catmodel`` is parsed with ``ast``; every import counts (at module level,
inside functions, and under ``if TYPE_CHECKING:``), so a lazy import cannot hide an upward
dependency. A *part* is a subpackage (``catmodel.fitting``) or a top-level module
(``catmodel.results``). The order is written once, here and in DEVELOPERS.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "catmodel"

#: parts from the bottom up; parts on one line are peers (neither may import the other)
LAYERS: tuple[tuple[str, ...], ...] = (
    ("interrupt",),
    ("errors", "atomic"),
    ("data",),
    ("kernels",),
    ("models",),
    ("fitting", "simulate"),
    ("compare",),
    ("results",),
    ("plots",),
    ("figures",),
    ("demo",),
    ("cli",),
)
LEVEL = {part: level for level, parts in enumerate(LAYERS) for part in parts}


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def part_of(module: str) -> str | None:
    """The part a ``catmodel.*`` module belongs to; None for the package root itself."""
    names = module.split(".")
    if names[0] != "catmodel" or len(names) < 2:
        return None
    return names[1]


def imported_modules(tree: ast.AST, here: str) -> list[tuple[str, int]]:
    """Every module an AST imports, with line numbers (relative imports resolved)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")[: len(here.split(".")) - node.level]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((base, node.lineno))
            # `from catmodel import results` imports the part `results`
            found += [(f"{base}.{alias.name}", node.lineno) for alias in node.names]
    return found


def import_edges(package: Path = PACKAGE) -> list[tuple[str, str, str, int]]:
    """(importing part, imported part, file, line) for every import across parts."""
    edges = []
    for path in sorted(package.rglob("*.py")):
        here = module_name(path, package)
        source = part_of(here)
        if source is None:
            continue
        for target_module, line in imported_modules(ast.parse(path.read_text()), here):
            target = part_of(target_module)
            if target is None or target == source:
                continue
            if target_module.count(".") >= 1 and target not in LEVEL and not _is_part(target):
                continue  # `from catmodel import __version__`: a name, not a part
            edges.append((source, target, str(path.relative_to(package.parent)), line))
    return edges


def _is_part(name: str) -> bool:
    return (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").exists()


def violations(edges) -> list[str]:
    """Upward or sideways imports, and pairs of parts that import each other."""
    problems = []
    for source, target, file, line in edges:
        if source not in LEVEL or target not in LEVEL:
            problems.append(f"{file}:{line}: part {source!r} or {target!r} has no layer")
        elif LEVEL[target] >= LEVEL[source]:
            problems.append(
                f"{file}:{line}: {source} (layer {LEVEL[source]}) imports {target} "
                f"(layer {LEVEL[target]})"
            )
    pairs = {(s, t) for s, t, _, _ in edges}
    for s, t in sorted(pairs):
        if (t, s) in pairs and s < t:
            problems.append(f"parts {s} and {t} import each other")
    return problems


def test_every_part_has_a_layer():
    parts = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    parts |= {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    parts |= {p.name for p in PACKAGE.iterdir() if p.is_dir() and any(p.glob("*.py"))}
    assert sorted(parts - set(LEVEL)) == []


def test_layers_only_point_down():
    assert violations(import_edges()) == []


def test_no_relative_imports():
    relative = [
        f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
        for path in PACKAGE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.level
    ]
    assert relative == []


def test_the_order_is_the_one_developers_md_documents():
    text = (PACKAGE.parent / "DEVELOPERS.md").read_text()
    documented = " < ".join(", ".join(f"`{p}`" for p in parts) for parts in LAYERS)
    assert documented in text


@pytest.mark.parametrize(
    "source, extra",
    [
        ("data/io.py", "from catmodel.fitting.fit import fit\n"),
        ("kernels/common.py", "def f():\n    from catmodel.models import registry\n"),
        (
            "models/base.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import catmodel.results\n",
        ),
        ("fitting/fit.py", "import catmodel.simulate.simulate\n"),
        ("errors.py", "from catmodel import atomic\n"),
    ],
)
def test_the_check_fails_on_an_upward_or_sideways_import(tmp_path, source, extra):
    """A copy of the package with one import added that breaks the layering is caught."""
    import shutil

    copy = tmp_path / "catmodel"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / source
    target.write_text(target.read_text() + "\n" + extra)
    assert violations(import_edges(copy)) != []
