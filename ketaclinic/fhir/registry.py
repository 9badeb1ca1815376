"""Every searchable resource type: its sources and the search parameters it supports.

The CapabilityStatement lists exactly these parameters (``capability.py`` reads them here)."""

from __future__ import annotations

from dataclasses import replace

from ketaclinic.fhir.resources.clinical_types import CLINICAL_TYPES
from ketaclinic.fhir.resources.consent import CONSENT_SOURCE
from ketaclinic.fhir.resources.encounter import ENCOUNTER_SOURCE
from ketaclinic.fhir.resources.group import GROUP_SOURCE
from ketaclinic.fhir.resources.medication import MEDICATION_ADMINISTRATION_SOURCE
from ketaclinic.fhir.resources.patient import PATIENT_SOURCE
from ketaclinic.fhir.resources.practitioner import LOCATION_SOURCE, PRACTITIONER_SOURCE
from ketaclinic.fhir.resources.stored import FLAG_SOURCE, RESPONSE_SOURCE, SCORE_SOURCE
from ketaclinic.fhir.resources.vitals import VITALS_SOURCES
from ketaclinic.fhir.search.engine import ResourceType, SearchParam
from ketaclinic.fhir.search.params import Kind

_ID = SearchParam("_id", Kind.TOKEN, "the resource id (several, comma-separated)")
_LAST_UPDATED = SearchParam(
    "_lastUpdated", Kind.DATE, "when the resource last changed: eq, gt, lt, ge, le prefixes"
)


def _patient(required: bool = False) -> tuple[SearchParam, SearchParam]:
    note = "required: " if required else ""
    return (
        SearchParam("patient", Kind.REFERENCE, f"{note}the patient (Patient/<id> or <id>)"),
        SearchParam("subject", Kind.REFERENCE, "the patient, as subject (Patient/<id>)"),
    )


def _date(what: str, name: str = "date") -> SearchParam:
    return SearchParam(name, Kind.DATE, f"{what}: eq (default), gt, lt, ge, le; YYYY[-MM[-DD]]")


TYPES: dict[str, ResourceType] = {
    t.name: t
    for t in (
        ResourceType(
            "Patient",
            (PATIENT_SOURCE,),
            (_ID, _LAST_UPDATED),
            audit_type="Patient",
            sortable=("_lastUpdated",),
            documentation="Patients see only themselves. No search by name or birth date: "
            "that would put patient data in URLs.",
        ),
        ResourceType(
            "Practitioner",
            (PRACTITIONER_SOURCE,),
            (_ID, _LAST_UPDATED, SearchParam("active", Kind.TOKEN, "true or false")),
            audit_type=None,
            sortable=("_lastUpdated",),
            documentation="The clinic's staff (ids staff-<n>).",
        ),
        ResourceType(
            "Location",
            (LOCATION_SOURCE,),
            (_ID, _LAST_UPDATED),
            audit_type=None,
            sortable=("_lastUpdated",),
            documentation="The infusion chairs (ids chair-<n>).",
        ),
        ResourceType(
            "Encounter",
            (ENCOUNTER_SOURCE,),
            (
                _ID,
                _LAST_UPDATED,
                *_patient(),
                _date("the session's booked start"),
                SearchParam("status", Kind.TOKEN, "planned, arrived, in-progress, finished, …"),
                SearchParam("location", Kind.REFERENCE, "the chair (Location/chair-<n>)"),
            ),
            audit_type="Encounter",
            patient_params=("patient", "subject"),
            documentation="Infusion sessions.",
        ),
        ResourceType(
            "Observation",
            (SCORE_SOURCE, *VITALS_SOURCES),
            (
                _ID,
                _LAST_UPDATED,
                *_patient(required=True),
                _date("when it was observed (effective)"),
                SearchParam("code", Kind.TOKEN, "e.g. http://loinc.org|70274-6 or |8867-4"),
                SearchParam("category", Kind.TOKEN, "survey (scale scores) or vital-signs"),
                SearchParam("encounter", Kind.REFERENCE, "the session (Encounter/<id>)"),
            ),
            audit_type="Observation",
            patient_params=("patient", "subject"),
            requires_patient=True,
            documentation="Rating-scale scores (category survey) and the vital signs charted "
            "in sessions (vital-signs profile, LOINC codes).",
        ),
        ResourceType(
            "QuestionnaireResponse",
            (RESPONSE_SOURCE,),
            (_ID, _LAST_UPDATED, *_patient(), _date("when it was authored", "authored")),
            audit_type="QuestionnaireResponse",
            patient_params=("patient", "subject"),
            sortable=("_lastUpdated", "authored"),
        ),
        ResourceType(
            "Flag",
            (FLAG_SOURCE,),
            (
                _ID,
                _LAST_UPDATED,
                *_patient(required=True),
                _date("when the flag was raised"),
                SearchParam("status", Kind.TOKEN, "active or inactive"),
            ),
            audit_type="SafetyFlag",
            patient_params=("patient", "subject"),
            requires_patient=True,
            documentation="Safety flags, active until a clinician acknowledges them.",
        ),
        ResourceType(
            "MedicationAdministration",
            (MEDICATION_ADMINISTRATION_SOURCE,),
            (
                _ID,
                _LAST_UPDATED,
                *_patient(),
                SearchParam("context", Kind.REFERENCE, "the session (Encounter/<id>)"),
                _date("the session's booked start", "effective-time"),
                SearchParam("status", Kind.TOKEN, "completed or not-done"),
            ),
            audit_type="MedicationAdministration",
            patient_params=("patient", "subject"),
            sortable=("_lastUpdated", "effective-time"),
            documentation="The ketamine dose given, from the signed session record (ids are "
            "the session's).",
        ),
        ResourceType(
            "Consent",
            (CONSENT_SOURCE,),
            (
                _ID,
                _LAST_UPDATED,
                SearchParam("patient", Kind.REFERENCE, "the patient (Patient/<id> or <id>)"),
                _date("when it was signed"),
                SearchParam("status", Kind.TOKEN, "active"),
            ),
            audit_type="ConsentSignature",
            patient_params=("patient",),
            documentation="Signed informed consents, one per document version signed.",
        ),
        ResourceType(
            "Group",
            (GROUP_SOURCE,),
            (_ID, _LAST_UPDATED),
            audit_type="Group",
            sortable=("_lastUpdated",),
            documentation="Cohorts an administrator defines (a list, or every patient with a "
            "course on a protocol), for Group/{id}/$export; only those who may export see them.",
        ),
    )
}


# Questionnaires are searched as a list (built-ins are part of the software, not rows):
# ``engine.list_search``; the parameters are parsed and listed the same way.
QUESTIONNAIRE = ResourceType(
    "Questionnaire",
    (),
    (
        SearchParam("_id", Kind.TOKEN, "the id"),
        SearchParam("code", Kind.TOKEN, "the LOINC panel code (system|code)"),
        SearchParam("url", Kind.URI, "the canonical URL"),
        SearchParam("name", Kind.STRING, "name or title, starts with, any case"),
    ),
    audit_type=None,
    sortable=(),
    documentation="Every built-in rating scale; create (admin) imports a definition linked "
    "by LOINC code to a built-in instrument.",
)


# The clinic as one Organization, searched as a list like the Questionnaires.
ORGANIZATION = ResourceType(
    "Organization",
    (),
    (SearchParam("_id", Kind.TOKEN, "the id (clinic)"),),
    audit_type=None,
    sortable=(),
    documentation="The clinic (id clinic); it manages the chairs.",
)


# Condition, AllergyIntolerance, Medication, MedicationRequest (resources/clinical_types.py).
TYPES.update({t.name: t for t in CLINICAL_TYPES})


# Staff roles, stored documents, the audit trail and signatures (issue 16, h16-records).
from ketaclinic.fhir.resources.audit_event import AUDIT_EVENT_SOURCE  # noqa: E402
from ketaclinic.fhir.resources.document_reference import DOCUMENT_REFERENCE_SOURCE  # noqa: E402
from ketaclinic.fhir.resources.form_versions import FORM_SOURCE  # noqa: E402
from ketaclinic.fhir.resources.letter_document import LETTER_DOCUMENT_SOURCE  # noqa: E402
from ketaclinic.fhir.resources.provenance import PROVENANCE_SOURCES  # noqa: E402
from ketaclinic.fhir.resources.staff_role import PRACTITIONER_ROLE_SOURCE  # noqa: E402

TYPES.update(
    {
        t.name: t
        for t in (
            ResourceType(
                "PractitionerRole",
                (PRACTITIONER_ROLE_SOURCE,),
                (
                    _ID,
                    _LAST_UPDATED,
                    SearchParam("practitioner", Kind.REFERENCE, "Practitioner/staff-<n>"),
                    SearchParam(
                        "role",
                        Kind.TOKEN,
                        "doctor or nurse (http://terminology.hl7.org/CodeSystem/practitioner-role"
                        "), or admin, clinician, nurse, intake in our staff-role code system",
                    ),
                    SearchParam("active", Kind.TOKEN, "true or false"),
                ),
                audit_type=None,
                sortable=("_lastUpdated",),
                documentation="Each staff member's role at the clinic (ids role-<n>, beside "
                "Practitioner/staff-<n>); prescribers and nurses work at the chairs.",
            ),
            ResourceType(
                "DocumentReference",
                (DOCUMENT_REFERENCE_SOURCE, FORM_SOURCE, LETTER_DOCUMENT_SOURCE),
                (
                    _ID,
                    _LAST_UPDATED,
                    *_patient(),
                    _date("when the document was signed"),
                    SearchParam("type", Kind.TOKEN, "http://loinc.org|59284-0 (consent)"),
                    SearchParam(
                        "category",
                        Kind.TOKEN,
                        "consent (signed copies), consent-form (the forms' versions) or letter "
                        "(signed letters), in our "
                        "document-category code system",
                    ),
                    SearchParam("related", Kind.REFERENCE, "the Consent (Consent/<id>)"),
                ),
                audit_type="DocumentReference",
                patient_params=("patient", "subject"),
                documentation="Signed consent PDFs (ids consent-<n>; the attachment's url "
                "Binary/consent-<n> serves the PDF, with its size and SHA-1 hash) and the consent "
                "forms (ids consentform-<code>, versioned: meta.versionId is the form's version, "
                "_history lists every version, _history/<n> reads one; text in "
                "Binary/consentform-<code>-v<n>), and signed letters to other clinicians "
                "(ids letter-<uuid>, category letter; the PDF stored at signing in "
                "Binary/letter-<uuid>).",
            ),
            ResourceType(
                "AuditEvent",
                (AUDIT_EVENT_SOURCE,),
                (
                    _ID,
                    _LAST_UPDATED,
                    _date("when it happened"),
                    SearchParam("patient", Kind.REFERENCE, "the patient (Patient/<id>)"),
                    SearchParam(
                        "entity",
                        Kind.REFERENCE,
                        "the record (Type/id; a Patient: anything of theirs)",
                    ),
                    SearchParam(
                        "agent", Kind.REFERENCE, "who (Practitioner/staff-<n>, Patient/<id>)"
                    ),
                    SearchParam("action", Kind.TOKEN, "C, R, U, D or E"),
                ),
                audit_type="AuditEvent",
                patient_params=("patient",),
                documentation="The hash-chained audit trail (ids audit-<seq>); administrators "
                "only (403 for anyone else).",
            ),
            ResourceType(
                "Provenance",
                PROVENANCE_SOURCES,
                (
                    _ID,
                    _LAST_UPDATED,
                    SearchParam("patient", Kind.REFERENCE, "the patient whose record was signed"),
                    SearchParam(
                        "target",
                        Kind.REFERENCE,
                        "Encounter/, MedicationAdministration/, Consent/ or DocumentReference/<id>",
                    ),
                    SearchParam("agent", Kind.REFERENCE, "who signed (Practitioner/staff-<n>)"),
                    _date("when it was signed", "recorded"),
                ),
                audit_type="Provenance",
                patient_params=("patient",),
                sortable=("_lastUpdated", "recorded"),
                documentation="Who signed which record and when: signed sessions "
                "(session-<id>), eligibility decisions (decision-<n>), consents (consent-<n>), "
                "with the record's SHA-256 as signature data.",
            ),
        )
    }
)


# Care plans (issue 15, h15-careplan): the signed versions, versioned reads.
from ketaclinic.fhir.resources.care_plan import CARE_PLAN_SOURCE  # noqa: E402

TYPES["CarePlan"] = ResourceType(
    "CarePlan",
    (CARE_PLAN_SOURCE,),
    (
        _ID,
        _LAST_UPDATED,
        *_patient(),
        _date("when the current version was signed (period start)"),
        SearchParam("status", Kind.TOKEN, "active, completed or revoked"),
        SearchParam("intent", Kind.TOKEN, "plan"),
    ),
    audit_type="CarePlan",
    patient_params=("patient", "subject"),
    documentation="Each patient's care plan, from its last signed version (drafts are never "
    "served): goals as contained Goal resources, interventions and the Stanley-Brown safety "
    "plan as activities. Versioned: meta.versionId is the version number, _history lists "
    "every signed version, _history/<n> reads one.",
)

# The signed infusion session records (issue 16, h16-rest): another DocumentReference source.
from ketaclinic.fhir.resources.session_record import SESSION_RECORD_SOURCE  # noqa: E402

TYPES["DocumentReference"] = replace(
    TYPES["DocumentReference"],
    sources=(*TYPES["DocumentReference"].sources, SESSION_RECORD_SOURCE),
    documentation=TYPES["DocumentReference"].documentation
    + " Signed infusion session records (ids sessionrecord-<session id>, type LOINC 28570-0, "
    "category session-record; versioned: version 1 is the PDF as signed, each addendum adds "
    "one; the PDF of version n is Binary/sessionrecord-<session id>-v<n>).",
)
