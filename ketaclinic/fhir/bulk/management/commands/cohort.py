"""`ketaclinic cohort define|list|delete`: the cohorts (FHIR Groups) an administrator defines
for Group/{id}/$export."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.accounts.access import user_can
from ketaclinic.accounts.models import User
from ketaclinic.fhir.bulk.members import cohort_patient_ids
from ketaclinic.fhir.bulk.models import Cohort
from ketaclinic.fhir.bulk.services import cohort_define, cohort_delete


class Command(BaseCommand):
    help = "Define, list or delete the cohorts (FHIR Groups) exported by Group/{id}/$export."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        define = sub.add_parser("define", help="a list of patients, or a protocol's patients")
        define.add_argument("name")
        define.add_argument("--by", required=True, help="the administrator's username")
        what = define.add_mutually_exclusive_group(required=True)
        what.add_argument("--protocol", help="every patient with a course on this code")
        what.add_argument("--patient", action="append", help="a patient id (repeat)")
        sub.add_parser("list", help="id, kind, members and name of every cohort")
        delete = sub.add_parser("delete", help="remove a cohort (exports with _since list it)")
        delete.add_argument("cohort_id")
        delete.add_argument("--by", required=True, help="the administrator's username")

    def _admin(self, username: str) -> User:
        user = User.objects.filter(username=username).first()
        if user is None or not user_can(user, "fhir.export"):
            raise CommandError(f"{username!r} is not an administrator who may export")
        return user

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for cohort in Cohort.objects.order_by("created_at"):
                members = cohort_patient_ids(cohort).count()
                self.stdout.write(f"{cohort.pk}\t{cohort.kind}\t{members}\t{cohort.name}")
            return
        admin = self._admin(options["by"])
        if options["action"] == "define":
            try:
                cohort = cohort_define(
                    acting_user=admin,
                    name=options["name"],
                    protocol_code=options["protocol"] or "",
                    patient_ids=options["patient"] or (),
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(str(cohort.pk))
            return
        found = Cohort.objects.filter(pk=options["cohort_id"]).first()
        if found is None:
            raise CommandError("no such cohort")
        cohort_delete(acting_user=admin, cohort=found)
