"""Pure rules of the letters: placeholders filled from the record, the scores table, the
signed snapshot. No Django, no other app (import-linter contract in pyproject.toml)."""
