"""Rating scales, as stored: administrations and safety-flag notifications (``administrations``),
single-use links and the kiosk (``links``), schedules (``schedules``), and responses refused as
incomplete that raised an urgent flag all the same (``incomplete``). Importing this package
registers them all with the app."""

from ketaclinic.scales.models.administrations import (
    Administration,
    AdministrationMode,
    Notification,
)
from ketaclinic.scales.models.incomplete import IncompleteResponse
from ketaclinic.scales.models.links import LinkMode, PatientLink, RequestCount
from ketaclinic.scales.models.schedules import Phase, RuleKind, ScaleSchedule

__all__ = [
    "Administration",
    "AdministrationMode",
    "IncompleteResponse",
    "LinkMode",
    "Notification",
    "PatientLink",
    "Phase",
    "RequestCount",
    "RuleKind",
    "ScaleSchedule",
]
