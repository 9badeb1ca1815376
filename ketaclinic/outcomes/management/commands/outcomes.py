from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ketaclinic.outcomes.publishing import figures_refresh
from ketaclinic.outcomes.services import outcomes_refresh
from ketaclinic.outcomes.tracking import curves_refit, not_on_track_check


class Command(BaseCommand):
    help = (
        "Outcomes jobs. `ketaclinic outcomes refresh` recomputes every course's outcome rows; "
        "`refit` refits the expected curves of cells with enough completed inductions (a "
        "failed or non-converged fit keeps the previous curve and says so); `check` raises "
        "not-on-track flags to prescribers. Schedule them nightly, in that order."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("refresh", help="Recompute every course's outcome rows.")
        refit = sub.add_parser("refit", help="Refit the expected curves (MixedLM).")
        refit.add_argument("--min-inductions", type=int, default=None)
        sub.add_parser("check", help="Flag courses below their expected band.")
        sub.add_parser("publish-refresh", help="Refresh the public figures' snapshots.")

    def handle(self, *args: Any, **options: Any) -> None:
        command = options["subcommand"]
        if command == "refresh":
            run = outcomes_refresh(acting_user=None)
            self.stdout.write(f"outcomes recomputed: {run.courses} courses, {run.rows} rows")
        elif command == "refit":
            for row in curves_refit(acting_user=None, minimum=options["min_inductions"]):
                cell = f"{row.protocol_code} / {row.disorder or '-'} / {row.measure}"
                if row.in_use:
                    self.stdout.write(f"{cell}: fitted on {row.completed_inductions} inductions")
                else:
                    self.stdout.write(f"{cell}: kept the previous curve: {row.message}")
        elif command == "check":
            flags = not_on_track_check(acting_user=None)
            self.stdout.write(f"not-on-track flags raised: {len(flags)}")
        elif command == "publish-refresh":
            self.stdout.write(f"public figures refreshed: {figures_refresh()}")
