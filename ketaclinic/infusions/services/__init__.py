"""Writes to the session chart. Each runs in one transaction with its audit event, on the
session row locked first, and refuses (`ChartRefused`, HTTP 409) what the clinic's rules refuse;
a signed session refuses every write (`SessionFrozen`, also 409) except addenda.

The clinical rules themselves are the pure functions of `dosing` and `monitoring`.

One module per step of the session: `common` (refusals, the locked row, chart entries),
`check_in`, `dose`, `draws` (the ledger draw the start needs), `infusion`, `vitals`,
`side_effects`, `discharge` and `signing`. Callers
import from here (`services.infusion_start`); the names below are the public ones.
"""

from ketaclinic.infusions.assessments import ASSESSMENT_INSTRUMENTS
from ketaclinic.infusions.services.check_in import (
    CHECK_IN_EARLIEST,
    PREGNANCY_RESULTS,
    PreChecks,
    clinician_review_record,
    prechecks_problems,
    prechecks_record,
    session_check_in,
)
from ketaclinic.infusions.services.common import (
    BEFORE_START,
    CHARTING,
    ChartRefused,
    SessionFrozen,
    entry_data,
    protocol_definition,
    session_protocol,
)
from ketaclinic.infusions.services.discharge import session_discharge
from ketaclinic.infusions.services.dose import dose_calculate_record, dose_second_check
from ketaclinic.infusions.services.draws import (
    SessionDraw,
    dose_draw_problems,
    draw_exception,
    draw_exception_record,
    session_draws_list,
)
from ketaclinic.infusions.services.infusion import (
    INFUSION_ACTIONS,
    PredoseHoldState,
    infusion_event_record,
    infusion_paused,
    infusion_start,
    infusion_stop,
    predose_hold_state,
    questionnaire_problems,
    start_problems,
)
from ketaclinic.infusions.services.monitor_feed import (
    MonitorCharted,
    MonitorFeedIn,
    MonitorSet,
    monitor_awaiting_problems,
    vitals_autoconfirm_due,
    vitals_confirm_monitor,
    vitals_mark_artefact,
    vitals_record_from_monitor,
    vitals_record_from_monitor_many,
)
from ketaclinic.infusions.services.record_document import (
    record_document_latest_or_store,
    record_document_store,
    record_renderer_set,
)
from ketaclinic.infusions.services.side_effects import (
    SEVERITIES,
    SIDE_EFFECTS,
    assessment_record,
    side_effect_record,
)
from ketaclinic.infusions.services.signing import (
    addendum_add,
    open_alert_problems,
    session_sign,
    signed_record_verify,
)
from ketaclinic.infusions.services.vitals import (
    NOTE_MAX,
    VitalsIn,
    VitalsRecorded,
    alert_acknowledge,
    vitals_record,
)

__all__ = [
    "ASSESSMENT_INSTRUMENTS",
    "BEFORE_START",
    "CHARTING",
    "CHECK_IN_EARLIEST",
    "INFUSION_ACTIONS",
    "NOTE_MAX",
    "PREGNANCY_RESULTS",
    "SEVERITIES",
    "SIDE_EFFECTS",
    "ChartRefused",
    "MonitorCharted",
    "MonitorFeedIn",
    "MonitorSet",
    "PreChecks",
    "PredoseHoldState",
    "SessionDraw",
    "SessionFrozen",
    "VitalsIn",
    "VitalsRecorded",
    "addendum_add",
    "alert_acknowledge",
    "assessment_record",
    "clinician_review_record",
    "dose_calculate_record",
    "dose_draw_problems",
    "dose_second_check",
    "draw_exception",
    "draw_exception_record",
    "entry_data",
    "infusion_event_record",
    "infusion_paused",
    "infusion_start",
    "infusion_stop",
    "monitor_awaiting_problems",
    "open_alert_problems",
    "prechecks_problems",
    "prechecks_record",
    "predose_hold_state",
    "protocol_definition",
    "questionnaire_problems",
    "record_document_latest_or_store",
    "record_document_store",
    "record_renderer_set",
    "session_check_in",
    "session_discharge",
    "session_draws_list",
    "session_protocol",
    "session_sign",
    "side_effect_record",
    "signed_record_verify",
    "start_problems",
    "vitals_autoconfirm_due",
    "vitals_confirm_monitor",
    "vitals_mark_artefact",
    "vitals_record",
    "vitals_record_from_monitor",
    "vitals_record_from_monitor_many",
]
