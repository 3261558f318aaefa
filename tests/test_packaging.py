"""pyproject.toml declares every import and only package data that exists."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def declared(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


def imported_modules(folder: Path) -> set[str]:
    names = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "litrev"}


def test_every_third_party_import_in_litrev_is_a_declared_dependency():
    deps = declared(PROJECT["project"]["dependencies"])
    owners = packages_distributions()
    missing = {}
    for module in imported_modules(ROOT / "litrev"):
        dists = {d.lower().replace("_", "-") for d in owners.get(module, [module])}
        if not dists & deps:
            missing[module] = sorted(dists)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_every_package_data_pattern_matches_a_file():
    for pattern in PROJECT["tool"]["setuptools"]["package-data"]["litrev"]:
        assert list((ROOT / "litrev").glob(pattern)), f"package-data {pattern!r} matches nothing"


def test_every_file_the_package_reads_is_in_its_package_data():
    """A wheel holds only what the patterns match (setuptools globs them recursively): the public
    site's home page, navigation and study pages were left out of it once."""
    patterns = PROJECT["tool"]["setuptools"]["package-data"]["litrev"]
    packaged = {p for pattern in patterns for p in (ROOT / "litrev").glob(pattern) if p.is_file()}
    data = {p for p in (ROOT / "litrev").rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts}
    data |= set((ROOT / "litrev" / "web" / "plugins").glob("*.py"))  # loaded by Datasette as files
    assert sorted(map(str, data - packaged)) == []
