"""Roles and what each may do: the one place where rights are written down.

Read the table as "permission: roles that hold it". A patient's rights to their own record are
checked by the access functions (``ketaclinic.accounts.access``), which add ownership on top.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    CLINICIAN = "clinician"
    NURSE = "nurse"
    INTAKE = "intake"
    PATIENT = "patient"
    # A program registered by the administrator (SMART Backend Services, ketaclinic/fhir/smart/):
    # its account is the audit trail's actor; it holds nothing in the table below, its rights
    # come from its access token's scopes (``access.user_can`` reads them).
    CLIENT = "client"
    # An in-house integration therapist (issue 15): sees the care plans, scores and their own
    # integration notes of the patients a signed care plan assigns to them; no ledger, dose,
    # chart or eligibility rights.
    THERAPIST = "therapist"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.ADMIN: "Administrator",
    Role.CLINICIAN: "Clinician (prescriber)",
    Role.NURSE: "Infusion nurse",
    Role.INTAKE: "Intake coordinator",
    Role.PATIENT: "Patient",
    Role.CLIENT: "Program (SMART client)",
    Role.THERAPIST: "Integration therapist",
}

STAFF_ROLES = frozenset({Role.ADMIN, Role.CLINICIAN, Role.NURSE, Role.INTAKE, Role.THERAPIST})

# Roles that must use a second factor (TOTP); optional for the others.
# HIPAA 45 CFR 164.312(d): person or entity authentication, 2FA for clinical staff.
TWO_FACTOR_REQUIRED = frozenset({Role.ADMIN, Role.CLINICIAN})

A, C, N, IN, P = Role.ADMIN, Role.CLINICIAN, Role.NURSE, Role.INTAKE, Role.PATIENT

PERMISSIONS: dict[str, frozenset[Role]] = {
    # patients
    "patient.view_any": frozenset({A, C, N, IN}),
    "patient.view_own": frozenset({P}),
    "patient.create": frozenset({A, C, IN}),
    "patient.change": frozenset({A, C, N, IN}),
    # protocols, courses and scheduling
    "protocol.view": frozenset({A, C, N, IN}),
    "protocol.edit": frozenset({A}),
    "course.start": frozenset({C}),
    "course.change": frozenset({C}),
    "dose.order": frozenset({C}),
    "session.book": frozenset({A, C, N, IN}),
    "chair.edit": frozenset({A}),
    "presence.edit": frozenset({A, C, N}),
    # the session chart: nurses and clinicians chart; clinicians review a pre-dose hold and
    # override the dose maximum or the discharge gates; the administrator may read
    "session.view": frozenset({A, C, N}),
    "session.chart": frozenset({C, N}),
    "session.override": frozenset({C}),
    "session.sign": frozenset({C, N}),
    # audit trail
    "audit.view": frozenset({A}),
    # lifting a sign-in lockout before it ends (accounts/lockouts.py), audited
    "account.unlock": frozenset({A}),
    # staff accounts: create, role, password reset, lock, two-factor reset
    "user.manage": frozenset({A}),
    # public site and inquiries
    "site.edit": frozenset({A}),
    "inquiry.view": frozenset({A, C, IN}),
    # working inquiries: status, contact attempts, spam, conversion into a patient record
    "inquiry.manage": frozenset({A, C, IN}),
    # eligibility: clinicians evaluate and decide, the administrator edits the rules
    "evaluation.create": frozenset({C}),
    "evaluation.view": frozenset({A, C, N, IN}),
    "eligibility.decide": frozenset({C}),
    "rules.edit": frozenset({A}),
    # informed consent: staff record signatures; a patient reads their own
    "consent.record": frozenset({A, C, N, IN}),
    "consent.view": frozenset({A, C, N, IN, P}),
    # rating scales and safety flags
    "scales.enter": frozenset({A, C, N, IN}),
    "scales.self_report": frozenset({P}),  # their own record, self-report scales only
    "flag.acknowledge": frozenset({C}),
    # outcomes: the clinic's figures (aggregates) and their recomputation
    "outcomes.view": frozenset({A, C}),
    "outcomes.refresh": frozenset({A, C}),
    "research.export": frozenset({A}),
    # public figures: the administrator chooses, a clinician approves before they show
    "outcomes.publish": frozenset({A}),
    "outcomes.approve": frozenset({C}),
    # FHIR: importing Questionnaire definitions (licensed wording, scoring expressions)
    "fhir.import": frozenset({A}),
    # FHIR Bulk Data export: every patient's record leaves the clinic (and Groups list them)
    "fhir.export": frozenset({A}),
    # ketamine ledger (DEA Schedule III): nurses draw and waste, clinicians and nurses
    # witness, the administrator (the registrant's delegate) receives, counts, destroys and
    # reports; patients never see it
    "ledger.view": frozenset({A, C, N}),
    "ledger.draw": frozenset({N}),
    "ledger.waste": frozenset({N}),
    "ledger.administer": frozenset({C, N}),
    "ledger.witness": frozenset({C, N}),
    "ledger.breakage": frozenset({A, N}),
    "ledger.manage": frozenset({A}),
    "ledger.report": frozenset({A}),
    # care plans (ketaclinic/careplan/): a therapist reads only the plans of the patients a
    # signed plan assigns to them (careplan/selectors.py adds the assignment)
    "careplan.view": frozenset({A, C, N, Role.THERAPIST}),
    "careplan.edit": frozenset({C}),
    "careplan.sign": frozenset({C}),
    "careplan.checkin": frozenset({C, N, Role.THERAPIST}),
    "careplan.view_own": frozenset({P}),
    # integration notes: the assigned therapist writes and signs; prescribers read them
    "integration.write": frozenset({Role.THERAPIST}),
    "integration.view": frozenset({C, Role.THERAPIST}),
    # secure messages (ketaclinic/messaging/): the care team reads, replies and assigns any
    # patient's threads; a patient writes and reads their own; the administrator edits the
    # urgent-word list
    "message.staff": frozenset({A, C, N, IN}),
    "message.own": frozenset({P}),
    "message.words_edit": frozenset({A}),
    # referrals in and letters out (ketaclinic/letters/): clinicians draft and sign letters,
    # staff read them; intake and clinicians record referrals; the administrator edits the
    # letter templates (published defaults otherwise)
    "letter.draft": frozenset({C}),
    "letter.sign": frozenset({C}),
    "letter.view": frozenset({A, C, N, IN}),
    "letter.templates": frozenset({A}),
    "referral.manage": frozenset({A, C, IN}),
}


def role_has(role: Role | str | None, permission: str) -> bool:
    """Whether a role holds a permission; unknown permissions are refused, never granted."""
    if role is None:
        return False
    holders = PERMISSIONS.get(permission)
    if holders is None:
        raise KeyError(f"unknown permission {permission!r}")
    return Role(role) in holders


def permission_table() -> list[tuple[str, dict[Role, bool]]]:
    """The table, one row per permission, for the documentation page and the README."""
    return [
        (perm, {role: role in holders for role in Role}) for perm, holders in PERMISSIONS.items()
    ]
