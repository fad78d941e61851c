"""List the package borders of `caseapp`: upward imports, import circles, package sizes.

    python -m devtools.imports            # the summary and every upward import / circle
    python -m devtools.imports --check    # exit 1 when the goals of the architecture step fail

Layers follow `../shared/spec/style.md` (lowest first). An import from a lower layer to a
higher one is "upward"; two packages that import each other form a circle.
`TYPE_CHECKING`-only imports are reported apart: they cost nothing at run time.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "caseapp"

# Lowest first; packages on one line share a layer and may not import each other either way
# without it counting as a circle.
LAYERS: list[tuple[str, ...]] = [
    ("core", "extensions"),
    ("audit",),
    ("accounts", "directory", "stats"),
    ("screening", "referrals", "facts"),
    # Shelter intake admits the person of an accepted referral: it builds on referrals.
    ("shelters",),
    ("maintenance",),
    ("intake",),
    # register import: screening and facts in bulk, beside the intake workflow
    ("imports",),
    # Exchange formats: cases through intake, the directory through directory.
    ("exchange",),
    ("reports",),
    ("web",),
    # `models` only gathers every model for Alembic; it sits with the app's wiring.
    ("cli", "app", "models", "__init__"),
]
RANK = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}
MAX_PACKAGE_SHARE = 0.20
MAX_MODULE_LINES = 800
# Code tables and pure rule modules may be long (they read like the spec).
LONG_OK = {"core/codes.py"}
MAX_UPWARD = 6


#: `extensions.py` holds the shared handles (db, login manager, CSRF, Babel) that core's
#: own tables and helpers use: it is counted as part of the bottom layer, `core`.
ALIASES = {"extensions": "core"}


def package_of(path: Path) -> str:
    rel = path.relative_to(ROOT)
    name = rel.parts[0].removesuffix(".py") if rel.parts else "__init__"
    return ALIASES.get(name, name)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path) -> list[tuple[str, int, bool]]:
    """(imported caseapp package, line, type_checking_only) for one module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, int, bool]] = []
    module_parts = list(path.relative_to(ROOT).with_suffix("").parts)

    def visit(node: ast.AST, typing_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.body:
                    visit_stmt(sub, True)
                for sub in child.orelse:
                    visit_stmt(sub, typing_only)
                continue
            visit_stmt(child, typing_only)

    def visit_stmt(child: ast.AST, typing_only: bool) -> None:
        if isinstance(child, ast.Import):
            for alias in child.names:
                parts = alias.name.split(".")
                if parts[0] == "caseapp" and len(parts) > 1:
                    found.append((parts[1], child.lineno, typing_only))
        elif isinstance(child, ast.ImportFrom):
            if child.level:
                base = module_parts[: len(module_parts) - child.level]
                if path.name == "__init__.py":
                    base = module_parts[: len(module_parts) - child.level + 1][:-1] or base
                parts = [*base, *(child.module.split(".") if child.module else [])]
                if parts:
                    found.append((parts[0], child.lineno, typing_only))
                else:
                    for alias in child.names:
                        found.append((alias.name, child.lineno, typing_only))
            elif child.module and child.module.split(".")[0] == "caseapp":
                parts = child.module.split(".")
                if len(parts) > 1:
                    found.append((parts[1], child.lineno, typing_only))
                else:
                    for alias in child.names:
                        found.append((alias.name, child.lineno, typing_only))
        visit(child, typing_only)

    visit(tree, False)
    return found


def analyse(root: Path = ROOT) -> dict:
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    typing_edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    lines: dict[str, int] = defaultdict(int)
    long_modules: list[tuple[str, int]] = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        n = len(path.read_text(encoding="utf-8").splitlines())
        pkg = package_of(path)
        lines[pkg] += n
        if n > MAX_MODULE_LINES and rel not in LONG_OK and not rel.endswith("rules.py"):
            long_modules.append((rel, n))
        for target, lineno, typing_only in imports_of(path):
            target = ALIASES.get(target, target)
            if target == pkg or target not in RANK:
                continue
            (typing_edges if typing_only else edges)[(pkg, target)].append(f"{rel}:{lineno}")
    upward = {edge: where for edge, where in edges.items() if RANK[edge[1]] > RANK[edge[0]]}
    circles = sorted({tuple(sorted(edge)) for edge in edges if (edge[1], edge[0]) in edges})
    total = sum(lines.values())
    return {
        "upward": upward,
        "circles": circles,
        "typing_only": typing_edges,
        "lines": dict(lines),
        "total": total,
        "long_modules": long_modules,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal fails")
    args = parser.parse_args(argv)
    result = analyse()
    n_upward = sum(len(w) for w in result["upward"].values())
    print(f"upward imports: {n_upward} (goal <= {MAX_UPWARD})")
    for (src, dst), where in sorted(result["upward"].items()):
        for w in where:
            print(f"  {src} -> {dst}  {w}")
    print(f"package circles: {len(result['circles'])} (goal 0)")
    for a, b in result["circles"]:
        print(f"  {a} <-> {b}")
    print("package sizes (share of caseapp/, goal <= 20 %):")
    total = result["total"]
    too_big = []
    for pkg, n in sorted(result["lines"].items(), key=lambda kv: -kv[1]):
        share = n / total
        print(f"  {pkg:12} {n:6} lines  {share:5.1%}")
        if share > MAX_PACKAGE_SHARE:
            too_big.append(pkg)
    print(
        f"modules over {MAX_MODULE_LINES} lines (rules and code tables excepted): "
        f"{len(result['long_modules'])}"
    )
    for rel, n in result["long_modules"]:
        print(f"  {rel} {n}")
    failed = n_upward > MAX_UPWARD or result["circles"] or too_big or result["long_modules"]
    return 1 if (args.check and failed) else 0


if __name__ == "__main__":
    sys.exit(main())
