"""The care plan's pure rules: goal measures, versions and signing, the safety plan's sections.

No Django here (import-linter keeps it so); the services call these."""
