"""Reads for the Today page, one module per role; each runs a fixed number of queries whatever
the clinic's history (guarded by ``tests/test_today_queries.py``)."""

from ketaclinic.today.selectors.admin import AdminDay, admin_day_for_user
from ketaclinic.today.selectors.clinician import ClinicianDay, clinician_day_for_user
from ketaclinic.today.selectors.intake import IntakeDay, intake_day_for_user
from ketaclinic.today.selectors.nurse import NurseDay, nurse_day_for_user

__all__ = [
    "AdminDay",
    "ClinicianDay",
    "IntakeDay",
    "NurseDay",
    "admin_day_for_user",
    "clinician_day_for_user",
    "intake_day_for_user",
    "nurse_day_for_user",
]
