"""The code's layout as STYLE.md and issue 11 set it: a folder says what a file belongs to (no
file-name prefixes), no module passes 600 lines, and the architecture contracts (import-linter,
in pyproject.toml) hold and catch a breach."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ketaclinic"
MAX_LINES = 600
# Prefixes that said which room a file belonged to before the rooms existed.
ROOM_PREFIXES = ("chart_", "evaluation_", "pipeline_", "consent_", "models_", "views_", "api_")
# Names where one is another's prefix for a reason other than belonging: a FHIR resource's name
# (QuestionnaireResponse is a resource of its own, not a part of Questionnaire).
PREFIX_EXCEPTIONS = {("ketaclinic/fhir", "questionnaire", "questionnaire_response")}


def _code_files() -> list[Path]:
    return [
        path
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts and "static" not in path.parts
    ]


def _names_in(folder: Path) -> set[str]:
    names = set()
    for child in folder.iterdir():
        if child.name.startswith(("_", ".")) or child.name == "tests":
            continue
        if child.suffix == ".py":
            names.add(child.stem)
        elif child.is_dir() and (child / "__init__.py").exists():
            names.add(child.name)
    return names


def test_no_file_name_says_which_room_it_belongs_to() -> None:
    prefixed = sorted(
        str(path.relative_to(ROOT))
        for path in _code_files()
        if "tests" not in path.parts and path.name.startswith(ROOM_PREFIXES)
    )
    assert prefixed == []


def test_no_module_is_named_after_a_sibling_plus_a_suffix() -> None:
    found = []
    for folder in {path.parent for path in _code_files()}:
        if "tests" in folder.parts:
            continue
        names = _names_in(folder)
        where = str(folder.relative_to(ROOT))
        for name in names:
            for other in names:
                if (
                    other != name
                    and other.startswith(name + "_")
                    and (where, name, other) not in PREFIX_EXCEPTIONS
                ):
                    found.append(f"{where}: {other} (beside {name})")
    assert sorted(found) == []


def test_no_module_passes_600_lines() -> None:
    long = sorted(
        f"{path.relative_to(ROOT)}: {n} lines"
        for path in _code_files()
        if (n := len(path.read_text("utf-8").splitlines())) > MAX_LINES
    )
    assert long == []


def _lint_imports(cwd: Path, package_parent: Path) -> subprocess.CompletedProcess[str]:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    if not lint_imports.exists():
        pytest.skip(f"{lint_imports} is missing (pip install import-linter)")
    return subprocess.run(  # noqa: S603  our own venv's tool, fixed arguments
        [str(lint_imports), str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        env={"PYTHONPATH": str(package_parent), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_architecture_contracts_hold() -> None:
    result = _lint_imports(ROOT, ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith(" kept, 0 broken."), result.stdout


def test_a_django_import_in_a_pure_module_breaks_a_contract(tmp_path: Path) -> None:
    shutil.copytree(PACKAGE, tmp_path / "ketaclinic", ignore=shutil.ignore_patterns("static"))
    engine = tmp_path / "ketaclinic" / "eligibility" / "rules" / "engine.py"
    engine.write_text(engine.read_text("utf-8") + "\nfrom django.db import models  # noqa\n")

    result = _lint_imports(tmp_path, tmp_path)

    assert result.returncode != 0
    assert "The eligibility rules engine is pure" in result.stdout
    assert "ketaclinic.eligibility.rules.engine -> django" in result.stdout
