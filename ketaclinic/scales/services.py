"""Recording rating-scale administrations, and the safety flags and alerts they raise.

The score comes from the pure ``scoring.score``; this module stores it, audits it and, in the
same transaction, opens a safety flag for each urgent concern. Clinicians are told after commit,
in the app and by e-mail, without the patient's name or any health detail in the e-mail.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from ketaclinic.accounts.access import user_can
from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import Action
from ketaclinic.audit.services import audit_record
from ketaclinic.patients.models import FlagStatus, Patient, SafetyFlag
from ketaclinic.scales import instruments
from ketaclinic.scales.instruments import Instrument, InstrumentUnknown
from ketaclinic.scales.models import (
    Administration,
    AdministrationMode,
    IncompleteResponse,
    Notification,
)
from ketaclinic.scales.scoring import (
    RaisedFlag,
    ResponseInvalid,
    ScoreResult,
    flags_raised,
    score,
)

logger = logging.getLogger(__name__)

# Raised flags of these severities open a safety flag on the patient's record.
FLAG_OPENING_SEVERITIES: Final = frozenset({"urgent", "high"})

# Risk levels that open a safety flag, for instruments scored as a risk level rather than by
# flag rules: (instrument, level) -> (flag code, flag severity). The C-SSRS screener's levels
# are Posner 2011's (see cssrs_screener.json); the issue's rule is that moderate and high risk
# open a suicide-risk flag, as PHQ-9 item 9 does.
RISK_LEVEL_FLAGS: Final[Mapping[tuple[str, str], tuple[str, str]]] = {
    ("cssrs_screener", "high"): ("suicide_risk", "urgent"),
    ("cssrs_screener", "moderate"): ("suicide_risk", "high"),
}

# Clocks of tablets and kiosks drift; an administration a little in the future is accepted.
CLOCK_SKEW: Final = timedelta(minutes=5)

EMAIL_SUBJECT: Final = "KetaClinic: a safety flag needs your review"

# Added to the title of a flag raised by a response refused as incomplete.
INCOMPLETE_NOTE: Final = "; incomplete response, no total"


def short_name(instrument: Instrument) -> str:
    """ "PHQ-9" from "Patient Health Questionnaire ... (PHQ-9)"; else the code."""
    found = re.search(r"\(([^()]+)\)\s*$", instrument.name)
    return found.group(1) if found else instrument.code


def _problems_error(
    problems: ResponseInvalid, kept: IncompleteResponse | None = None
) -> ValidationError:
    errors: dict[str, list[ValidationError]] = {}
    for problem in problems.problems:
        errors.setdefault(f"answers.{problem.link_id}", []).append(
            ValidationError(problem.message, code=problem.code)
        )
    if kept is not None:
        errors["flags"] = [ValidationError(incomplete_flag_message(kept), code="flag_raised")]
    return ValidationError(errors)


def incomplete_flag_message(kept: IncompleteResponse) -> str:
    """What staff are told when a refused response still raised a flag (no health detail
    beyond the flag's name, which the record shows anyway)."""
    names = ", ".join(_label(str(flag["code"])) for flag in kept.flags)
    missing = ", ".join(str(link_id) for link_id in kept.missing)
    if not kept.missing:
        total = "there is no total until the response is corrected"
    elif len(kept.missing) == 1:
        total = f"the total is missing until item {missing} is answered"
    else:
        total = f"the total is missing until items {missing} are answered"
    return (
        f"These answers raised an urgent safety flag ({names}): it is open in the patient's "
        f"record and the clinicians were told, although {total}."
    )


def _instrument(code: str) -> Instrument:
    try:
        return instruments.get(code)
    except InstrumentUnknown:
        known = ", ".join(instruments.BUILTIN_CODES)
        raise ValidationError(
            {"instrument": [ValidationError(f"unknown instrument; one of {known}", "unknown")]}
        ) from None


def _check_moment(administered_at: datetime, patient: Patient) -> None:
    if timezone.is_naive(administered_at):
        raise ValidationError({"administered_at": ["must have a time zone offset"]})
    if administered_at > timezone.now() + CLOCK_SKEW:
        raise ValidationError({"administered_at": ["must not be in the future"]})
    if administered_at.date() < patient.birth_date:
        raise ValidationError({"administered_at": ["must not be before the patient's birth"]})


def _flags_to_open(
    instrument: Instrument, result: ScoreResult, *, note: str = ""
) -> list[tuple[str, str, str]]:
    """(code, severity, title) of each flag the result opens, one per code. ``note`` is added
    to the title (e.g. that the response was incomplete, so that there is no total)."""
    wanted: dict[str, tuple[str, str, str]] = {}
    name = short_name(instrument)
    for raised in result.flags:
        if raised.severity in FLAG_OPENING_SEVERITIES:
            title = f"{_label(raised.code)} ({name} item {raised.link_id}{note})"
            wanted.setdefault(raised.code, (raised.code, raised.severity, title))
    if result.risk_level is not None:
        rule = RISK_LEVEL_FLAGS.get((instrument.code, result.risk_level))
        if rule is not None:
            code, severity = rule
            title = f"{_label(code)} ({name}: {result.risk_level} risk{note})"
            wanted.setdefault(code, (code, severity, title))
    return list(wanted.values())


def _label(code: str) -> str:
    return code.replace("_", " ").capitalize()


def _flags_open(
    *,
    acting_user: Any,
    patient: Patient,
    administration: Administration | IncompleteResponse | None = None,
    instrument: Instrument,
    result: ScoreResult,
    note: str = "",
    source: tuple[str, str] | None = None,
    opened_at: datetime | None = None,
) -> list[SafetyFlag]:
    """Open the flags the administration raises, unless an active one with that code exists;
    the clinicians are told after commit.

    ``source`` (type, id) and ``opened_at`` (when the answers were given) for answers that
    are not an administration (a self-screen sent with an inquiry); else the administration
    and now. The caller holds the patient row's lock, so two administrations cannot both
    open one.
    """
    if source is None:
        if administration is None:
            raise TypeError("_flags_open needs an administration or a source")
        source = (type(administration).__name__, str(administration.pk))
    opened: list[SafetyFlag] = []
    for code, severity, title in _flags_to_open(instrument, result, note=note):
        if SafetyFlag.objects.filter(patient=patient, code=code, status=FlagStatus.ACTIVE).exists():
            continue
        flag = SafetyFlag(
            patient=patient,
            code=code,
            title=title,
            severity=severity,
            status=FlagStatus.ACTIVE,
            opened_at=opened_at or timezone.now(),
            source_object_type=source[0],
            source_object_id=source[1],
        )
        flag.full_clean()
        flag.save(force_insert=True)
        audit_record(
            actor=acting_user,
            action=Action.CREATE,
            object_type="SafetyFlag",
            object_id=flag.pk,
            patient_id=patient.pk,
        )
        opened.append(flag)
    if opened:
        flag_ids = [flag.pk for flag in opened]
        transaction.on_commit(lambda: clinicians_notify(flag_ids=flag_ids))
    return opened


def _require_may_record(
    acting_user: Any, patient: Patient, instrument: Instrument, mode: AdministrationMode
) -> None:
    """Staff enter any scale; a patient records only their own self-report scales."""
    if user_can(acting_user, "scales.enter"):
        return
    if (
        user_can(acting_user, "scales.self_report")
        and getattr(acting_user, "patient_id", None) == patient.pk
        and mode is AdministrationMode.PATIENT_SELF
        and "self" in instrument.respondents
    ):
        return
    raise PermissionDenied("scales.enter")


def administration_record(
    *,
    acting_user: Any,
    patient: Patient,
    instrument_code: str,
    answers: Mapping[str, Any],
    administered_at: datetime,
    mode: AdministrationMode | str = AdministrationMode.STAFF_ENTRY,
) -> Administration:
    """Score and store one administration; open safety flags for urgent concerns.

    Raises ValidationError listing every problem (field paths ``answers.<link_id>``,
    ``instrument``, ``administered_at``, ``mode``); no administration is stored then. But
    when the refused answers raise an urgent flag all the same (PHQ-9 item 9 "whatever the
    total"), that flag is opened and the answers kept (``incomplete_response_keep``, in its
    own transaction, committed unless the caller's own transaction rolls back) and the error
    says so under ``flags``.
    """
    if mode not in AdministrationMode.values:
        raise ValidationError({"mode": [f"one of {', '.join(AdministrationMode.values)}"]})
    instrument = _instrument(instrument_code)
    _require_may_record(acting_user, patient, instrument, AdministrationMode(mode))
    _check_moment(administered_at, patient)
    try:
        result = score(instrument, answers)
    except ResponseInvalid as invalid:
        kept = _incomplete_keep(
            acting_user=acting_user,
            patient=patient,
            instrument=instrument,
            answers=answers,
            invalid=invalid,
            administered_at=administered_at,
            mode=AdministrationMode(mode),
        )
        raise _problems_error(invalid, kept) from None
    return _administration_store(
        acting_user=acting_user,
        patient=patient,
        instrument=instrument,
        answers=answers,
        result=result,
        administered_at=administered_at,
        mode=AdministrationMode(mode),
    )


def incomplete_response_keep(
    *,
    acting_user: Any,
    patient: Patient,
    instrument_code: str,
    answers: Mapping[str, Any],
    administered_at: datetime,
    mode: AdministrationMode | str = AdministrationMode.STAFF_ENTRY,
) -> IncompleteResponse | None:
    """Keep a response that scoring refuses when its answers raise an urgent flag all the
    same: store the valid answers with the missing items, open the flag (attributed to this
    row, its title saying there is no total), audit both and tell the clinicians after commit,
    exactly as for a complete response. None when the response scores (use
    ``administration_record``) or raises no flag that opens; nothing is stored then.

    For callers whose own checks refuse the response before ``administration_record`` (a
    form, the FHIR reader), or whose transaction rolls the refusal back (a link's answers).
    """
    if mode not in AdministrationMode.values:
        raise ValidationError({"mode": [f"one of {', '.join(AdministrationMode.values)}"]})
    instrument = _instrument(instrument_code)
    _require_may_record(acting_user, patient, instrument, AdministrationMode(mode))
    _check_moment(administered_at, patient)
    try:
        score(instrument, answers)
    except ResponseInvalid as invalid:
        return _incomplete_keep(
            acting_user=acting_user,
            patient=patient,
            instrument=instrument,
            answers=answers,
            invalid=invalid,
            administered_at=administered_at,
            mode=AdministrationMode(mode),
        )
    return None


def _flags_json(flags: Sequence[RaisedFlag]) -> list[dict[str, Any]]:
    """The raised flags as stored beside the answers."""
    return [
        {"code": f.code, "severity": f.severity, "link_id": f.link_id, "message": f.message}
        for f in flags
    ]


def _opening(flags: tuple[RaisedFlag, ...]) -> tuple[RaisedFlag, ...]:
    return tuple(flag for flag in flags if flag.severity in FLAG_OPENING_SEVERITIES)


@transaction.atomic
def _incomplete_keep(
    *,
    acting_user: Any,
    patient: Patient,
    instrument: Instrument,
    answers: Mapping[str, Any],
    invalid: ResponseInvalid,
    administered_at: datetime,
    mode: AdministrationMode,
) -> IncompleteResponse | None:
    raised = _opening(invalid.flags)
    if not raised:
        return None
    wrong = {p.link_id for p in invalid.problems if p.code != "missing"}
    kept_answers = {
        link_id: answers[link_id]
        for link_id in instrument.link_ids
        if link_id in answers and link_id not in wrong
    }
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    kept = IncompleteResponse(
        patient=locked,
        instrument=instrument.code,
        answers=kept_answers,
        missing=list(invalid.missing),
        flags=_flags_json(raised),
        administered_at=administered_at,
        entered_by=acting_user,
        mode=mode,
    )
    kept.full_clean(exclude=["patient", "entered_by"], validate_unique=False)
    kept.save(force_insert=True)
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="IncompleteResponse",
        object_id=kept.pk,
        patient_id=locked.pk,
    )
    _flags_open(
        acting_user=acting_user,
        patient=locked,
        administration=kept,
        instrument=instrument,
        result=ScoreResult(instrument_code=instrument.code, total=None, flags=raised),
        note=INCOMPLETE_NOTE,
    )
    return kept


@transaction.atomic
def answers_flags_open(
    *,
    acting_user: Any,
    patient: Patient,
    instrument_code: str,
    answers: Mapping[str, int],
    answered_at: datetime,
    source_object_type: str,
    source_object_id: str,
    note: str,
) -> list[SafetyFlag]:
    """Open on the patient's record the flags that answers given outside a rating-scale
    administration raise (a public self-screen attached to an inquiry, when the inquiry
    becomes this patient): attributed to ``source_object_*``, opened at ``answered_at`` (when
    the answers were given), ``note`` added to the title; audited, clinicians told after
    commit. The flag rules are the instrument's (``scoring.flags_raised``), complete or not.
    An active flag with the same code is not opened twice.
    """
    instrument = _instrument(instrument_code)
    raised = _opening(flags_raised(instrument, answers))
    if not raised:
        return []
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    opened = _flags_open(
        acting_user=acting_user,
        patient=locked,
        instrument=instrument,
        result=ScoreResult(instrument_code=instrument.code, total=None, flags=raised),
        note=note,
        source=(source_object_type, source_object_id),
        opened_at=answered_at,
    )
    return opened


@transaction.atomic
def _administration_store(
    *,
    acting_user: Any,
    patient: Patient,
    instrument: Instrument,
    answers: Mapping[str, Any],
    result: ScoreResult,
    administered_at: datetime,
    mode: AdministrationMode,
) -> Administration:
    # Serialises administrations of one patient, so that flags are not opened twice.
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    administration = Administration(
        patient=locked,
        instrument=instrument.code,
        answers=dict(answers),
        total=result.total,
        subscales=dict(result.subscales),
        band=result.band or "",
        risk_level=result.risk_level or "",
        flags=_flags_json(result.flags),
        administered_at=administered_at,
        entered_by=acting_user,
        mode=AdministrationMode(mode),
    )
    # The patient row was just locked and the user is the one signed in: skip re-reading both.
    # The only unique field is the fresh random id: no uniqueness query either.
    administration.full_clean(exclude=["patient", "entered_by"], validate_unique=False)
    administration.save(force_insert=True)
    audit_record(
        actor=acting_user,
        action=Action.CREATE,
        object_type="Administration",
        object_id=administration.pk,
        patient_id=locked.pk,
    )
    _flags_open(
        acting_user=acting_user,
        patient=locked,
        administration=administration,
        instrument=instrument,
        result=result,
    )
    return administration


def notification_text(flag: SafetyFlag) -> str:
    """What the inbox shows: the concern and where to look, never the patient's name."""
    title = flag.title[:1].lower() + flag.title[1:]
    return f"Safety flag opened: {title} — open the patient's record"[:200]


def clinicians_notify(*, flag_ids: list[int]) -> None:
    """Tell every active clinician about newly opened flags: an in-app notification each, and
    an e-mail to those with an address. Runs after commit; a failing mail server is logged,
    never undoes the flag (the banner shows it either way)."""
    flags = list(SafetyFlag.objects.filter(pk__in=flag_ids).order_by("pk"))
    clinicians = list(User.objects.filter(role=Role.CLINICIAN.value, is_active=True).order_by("pk"))
    if not flags or not clinicians:
        return
    now = timezone.now()
    notifications = []
    for flag in flags:
        link = reverse("patients:detail", kwargs={"patient_id": flag.patient_id})
        for clinician in clinicians:
            notifications.append(
                Notification(
                    user=clinician, text=notification_text(flag), link=link, created_at=now
                )
            )
    Notification.objects.bulk_create(notifications)

    links = sorted({reverse("patients:detail", kwargs={"patient_id": f.patient_id}) for f in flags})
    body = (
        "A safety flag was opened on a patient's record and needs a clinician's review.\n\n"
        "Sign in to KetaClinic and open:\n"
        + "\n".join(f"  {link}" for link in links)
        + f"\n\nYour KetaClinic inbox: {reverse('scales:notifications')}\n"
        "This e-mail holds no patient details on purpose; the inbox and the record show "
        "the concern.\n"
    )
    for clinician in clinicians:
        if not clinician.email:
            continue
        try:
            send_mail(EMAIL_SUBJECT, body, None, [clinician.email], fail_silently=False)
        except Exception:
            logger.exception("could not e-mail clinician %s about safety flags", clinician.pk)


def notification_mark_read(*, acting_user: Any, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications read (``notification_id``), or all of their
    unread ones; returns how many changed. ``Notification.DoesNotExist`` for an id that is not
    the user's. Notifications name no patient, so this is not an audited clinical write."""
    rows = Notification.objects.filter(user=acting_user)
    if notification_id is not None:
        rows = rows.filter(pk=notification_id)
        if not rows.exists():
            raise Notification.DoesNotExist(notification_id)
    return rows.filter(read_at__isnull=True).update(read_at=timezone.now())
