"""The README's roles table is the role table in ``accounts/roles.py``, row for row."""

from __future__ import annotations

from pathlib import Path

from ketaclinic.accounts.roles import IN, PERMISSIONS, A, C, N, P, Role

README = Path(__file__).resolve().parents[3] / "README.md"
COLUMNS = (A, C, N, IN, P, Role.THERAPIST)  # the README's column order


def _readme_table() -> dict[str, frozenset[str]]:
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index("| permission | admin | clinician | nurse | intake | patient | therapist |")
    table: dict[str, frozenset[str]] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        table[cells[0]] = frozenset(
            role for role, cell in zip(COLUMNS, cells[1:], strict=True) if cell == "yes"
        )
    return table


def test_the_readme_lists_every_permission_as_roles_py_grants_it() -> None:
    assert _readme_table() == {name: frozenset(roles) for name, roles in PERMISSIONS.items()}
