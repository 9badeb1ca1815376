"""The care plan's pages and services: the editor's forms write a draft, signing freezes it,
editing again starts a new draft, the history lists every version; the therapist sees only
the plans that name them and writes signed integration notes (a positive risk check flags
the patient for the prescriber, who sees the latest notes at the session's pre-checks); the
patient reads their own signed plan in the portal. Every read and write audited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone, translation

from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.careplan.models import (
    CarePlanVersion,
    IntegrationNote,
    NoteStatus,
    VersionStatus,
)
from ketaclinic.careplan.samples import content_complete, plan_signed, therapist_get_or_create
from ketaclinic.careplan.services import notes as note_services
from ketaclinic.careplan.services import plans
from ketaclinic.infusions.tests.matrix import _chart
from ketaclinic.patients.models import FlagStatus, SafetyFlag
from ketaclinic.scales.models import AdministrationMode
from ketaclinic.scales.services import administration_record
from ketaclinic.testing import Clinic


def _editor_post(
    *, therapist_pk: int | None = None, review_in_days: int = 60, sign: bool = False
) -> dict[str, Any]:
    review = (timezone.localdate() + timedelta(days=review_in_days)).isoformat()
    data: dict[str, Any] = {
        "problems-TOTAL_FORMS": "1",
        "problems-INITIAL_FORMS": "0",
        "problems-0-text": "Panic on the bus; I stopped going out",
        "goals-TOTAL_FORMS": "2",
        "goals-INITIAL_FORMS": "0",
        "goals-0-text": "Feel less anxious",
        "goals-0-kind": "scale",
        "goals-0-instrument": "gad7",
        "goals-0-comparator": "lt",
        "goals-0-threshold": "10",
        "goals-1-text": "Back to work",
        "goals-1-kind": "target",
        "goals-1-comparator": "lt",
        "goals-1-target": "back to work three days a week",
        "goals-1-target_date": review,
        "review_on": review,
        "plan_status": "active",
        "course": "",
        "therapy_provider": "in_house" if therapist_pk else "external",
        "therapy_therapist": str(therapist_pk or ""),
        "external_name": "" if therapist_pk else "Dr Jo Rivera",
        "external_contact": "" if therapist_pk else "555-0100",
        "modality": "erp",
        "frequency": "weekly",
        "integration_therapist": "",
        "integration_timing": "",
        "medications": "Sertraline 100 mg, unchanged",
        "lifestyle_sleep": "Lights out by 23:00",
        "lifestyle_exercise": "",
        "lifestyle_alcohol": "None on infusion days",
        "lifestyle_substances": "",
        "safety_warning_signs": "Racing heart at night\nAvoiding calls",
        "safety_coping": "Breathing exercise",
        "safety_distraction": "Walk in the park",
        "safety_help_people": "Sam, 555-0111",
        "safety_professionals": "The clinic, 555-0123",
        "safety_environment": "Medicines locked away",
    }
    if sign:
        data["sign"] = "1"
    return data


@pytest.mark.django_db
def test_clinician_writes_signs_and_revises_a_plan_through_the_forms(clinic: Clinic) -> None:
    ada = clinic.client("ada")
    base = f"/care-plans/patients/{clinic.pat.pk}/"
    assert ada.get(base).status_code == 200
    assert ada.post(base + "draft/").status_code == 302
    assert ada.get(base + "edit/").status_code == 200
    saved = ada.post(base + "edit/", _editor_post())
    assert saved.status_code == 302
    draft = CarePlanVersion.objects.get(plan__patient=clinic.pat)
    assert draft.status == VersionStatus.DRAFT
    assert draft.content["psychotherapy"]["external_name"] == "Dr Jo Rivera"
    assert draft.content["goals"][0]["threshold"] == 10
    signed = ada.post(base + "edit/", _editor_post(sign=True))
    assert signed.status_code == 302
    v1 = CarePlanVersion.objects.get(plan__patient=clinic.pat, number=1)
    assert v1.status == VersionStatus.SIGNED and v1.signed_by == clinic.users["ada"]
    assert len(v1.digest) == 64
    assert any("988" in item for item in v1.content["safety_plan"]["professionals"])
    page = ada.get(base).content.decode()
    assert "Feel less anxious" in page and "No score yet" in page
    # Editing again: a new draft copied from version 1, which never changes.
    assert ada.post(base + "draft/").status_code == 302
    v2 = CarePlanVersion.objects.get(plan__patient=clinic.pat, number=2)
    assert v2.status == VersionStatus.DRAFT and v2.content == v1.content
    changed = _editor_post()
    changed["problems-0-text"] = "Panic is less; still avoid crowds"
    assert ada.post(base + "edit/", changed).status_code == 302
    v1.refresh_from_db()
    assert v1.content["problems"] == ["Panic on the bus; I stopped going out"]
    with pytest.raises(plans.VersionLocked):
        plans.careplan_draft_save(
            acting_user=clinic.users["ada"],
            version=v1,
            content=v1.content,
            review_on=v1.review_on,
            plan_status="active",
        )
    history = ada.get(base + "versions/").content.decode()
    assert "Version 1" in history and "Version 2" in history and "Draft" in history
    assert ada.get(base + "versions/1/").status_code == 200
    actions = set(
        AuditEvent.objects.filter(object_type="CarePlanVersion").values_list("action", flat=True)
    )
    assert {Action.CREATE, Action.UPDATE, Action.EXECUTE, Action.READ} <= actions


@pytest.mark.django_db
def test_signing_an_incomplete_draft_is_refused_with_reasons(clinic: Clinic) -> None:
    ada = clinic.client("ada")
    base = f"/care-plans/patients/{clinic.pat.pk}/"
    ada.post(base + "draft/")
    incomplete = _editor_post(sign=True)
    incomplete["safety_environment"] = ""
    response = ada.post(base + "edit/", incomplete)
    assert response.status_code == 422
    assert "Making the environment safe" in response.content.decode()
    assert CarePlanVersion.objects.get(plan__patient=clinic.pat).status == VersionStatus.DRAFT


@pytest.mark.django_db
def test_goal_shows_where_the_latest_score_stands(clinic: Clinic) -> None:
    plan_signed(clinician=clinic.users["ada"], patient=clinic.pat)
    administration_record(
        acting_user=clinic.users["ben"],
        patient=clinic.pat,
        instrument_code="gad7",
        answers={"1": 1, "2": 1, "3": 1, "4": 1, "5": 1, "6": 0, "7": 0},
        administered_at=timezone.now(),
        mode=AdministrationMode.STAFF_ENTRY,
    )
    page = clinic.client("ada").get(f"/care-plans/patients/{clinic.pat.pk}/").content.decode()
    assert "Met" in page and "latest 5" in page


@pytest.mark.django_db
def test_nurse_reads_but_may_not_edit_and_intake_may_not_read(clinic: Clinic) -> None:
    plan_signed(clinician=clinic.users["ada"], patient=clinic.pat)
    base = f"/care-plans/patients/{clinic.pat.pk}/"
    nurse = clinic.client("ben")
    assert nurse.get(base).status_code == 200
    assert nurse.post(base + "draft/").status_code == 403
    assert clinic.client("cleo").get(base).status_code == 403
    assert clinic.client("pat").get(base).status_code == 403


@pytest.mark.django_db
def test_review_due_shows_on_the_staff_patient_page(clinic: Clinic) -> None:
    version = plan_signed(clinician=clinic.users["ada"], patient=clinic.pat)
    page = clinic.client("ada").get(f"/patients/{clinic.pat.pk}/").content.decode()
    assert "Open the care plan" in page and "Care plan review due" not in page
    CarePlanVersion.objects.filter(pk=version.pk).update(
        review_on=timezone.localdate() - timedelta(days=1)
    )
    page = clinic.client("ada").get(f"/patients/{clinic.pat.pk}/").content.decode()
    assert "Care plan review due" in page


@pytest.mark.django_db
def test_therapist_sees_only_the_plans_that_name_them(clinic: Clinic) -> None:
    theo = therapist_get_or_create()
    plan_signed(clinician=clinic.users["ada"], patient=clinic.pat, therapist=theo)
    plan_signed(clinician=clinic.users["ada"], patient=clinic.quinn)
    client = clinic.client(None)
    client.force_login(theo)
    assert client.get(f"/care-plans/patients/{clinic.pat.pk}/").status_code == 200
    assert client.get(f"/care-plans/patients/{clinic.quinn.pk}/").status_code == 404
    landing = client.get("/care-plans/therapist/")
    assert landing.status_code == 200 and "Pat" in landing.content.decode()
    assert "Quinn" not in landing.content.decode()
    assert client.get("/today/")["Location"] == "/care-plans/therapist/"
    # No record, ledger, dose or chart rights.
    assert client.get(f"/patients/{clinic.pat.pk}/").status_code == 404
    assert client.get("/ledger/").status_code == 403
    assert client.get("/api/v1/ledger/containers").status_code in (401, 403)
    chart = _chart(clinic, "checked_in")
    assert client.get(f"/infusions/sessions/{chart.session.pk}/").status_code in (403, 404)
    dose = client.post(f"/infusions/sessions/{chart.session.pk}/dose/", {})
    assert dose.status_code in (403, 404)
    assert client.get(f"/courses/patients/{clinic.pat.pk}/").status_code in (403, 404)


@pytest.mark.django_db
def test_integration_note_signed_is_locked_and_positive_risk_flags_the_prescriber(
    clinic: Clinic,
) -> None:
    theo = therapist_get_or_create()
    plan_signed(clinician=clinic.users["ada"], patient=clinic.pat, therapist=theo)
    client = clinic.client(None)
    client.force_login(theo)
    form = {
        "session_on": timezone.localdate().isoformat(),
        "themes": "Felt distant from the worry for the first time",
        "intentions": "Notice the body before the thought",
        "goal_g1": "Slept six hours twice this week",
        "goal_g2": "",
        "risk_positive": "yes",
        "risk_note": "",
    }
    refused = client.post(f"/care-plans/patients/{clinic.pat.pk}/notes/new/", form)
    assert refused.status_code == 422  # a positive risk check needs what was said and done
    form["risk_note"] = "Passive thoughts last week; safety plan reviewed; no plan or intent"
    draft = client.post(f"/care-plans/patients/{clinic.pat.pk}/notes/new/", form)
    note = IntegrationNote.objects.get(patient=clinic.pat)
    assert draft.status_code == 302 and note.status == NoteStatus.DRAFT
    assert not SafetyFlag.objects.filter(patient=clinic.pat, code="integration-risk").exists()
    signed = client.post(f"/care-plans/notes/{note.pk}/", {**form, "sign": "1"})
    assert signed.status_code == 302
    note.refresh_from_db()
    assert note.status == NoteStatus.SIGNED and len(note.digest) == 64
    assert note.goal_progress[0]["progress"] == "Slept six hours twice this week"
    flag = SafetyFlag.objects.get(patient=clinic.pat, code="integration-risk")
    assert flag.status == FlagStatus.ACTIVE and note.flag_id == flag.pk
    # Locked: a POST of the form changes nothing; an addendum is added beside it.
    assert client.post(f"/care-plans/notes/{note.pk}/", {**form, "themes": "x"}).status_code == 404
    with pytest.raises(note_services.NoteLocked):
        note_services.integration_note_save(
            acting_user=theo,
            plan=note.plan,
            note=note,
            session_on=note.session_on,
            themes="changed",
            intentions="",
            goal_progress=[],
            risk_positive=False,
            risk_note="",
        )
    client.post(f"/care-plans/notes/{note.pk}/addenda/", {"text": "Called on Friday: well."})
    note.refresh_from_db()
    assert note.themes.startswith("Felt distant") and note.addenda.count() == 1
    # The prescriber sees it before the next infusion: the session's pre-check step.
    chart = _chart(clinic, "checked_in")
    page = clinic.client("ada").get(f"/infusions/sessions/{chart.session.pk}/").content.decode()
    assert "Latest integration notes" in page and "Felt distant from the worry" in page
    assert "Called on Friday" in page
    assert AuditEvent.objects.filter(
        object_type="IntegrationNote", action=Action.READ, actor_id=clinic.users["ada"].pk
    ).exists()


@pytest.mark.django_db
def test_unassigned_therapist_cannot_write_notes(clinic: Clinic) -> None:
    plan_signed(clinician=clinic.users["ada"], patient=clinic.pat)
    other = therapist_get_or_create("tess")
    client = clinic.client(None)
    client.force_login(other)
    assert client.get(f"/care-plans/patients/{clinic.pat.pk}/notes/new/").status_code == 404


@pytest.mark.django_db
def test_patient_reads_only_their_own_signed_plan_in_the_portal(clinic: Clinic) -> None:
    ada = clinic.users["ada"]
    draft = plans.careplan_draft_start(acting_user=ada, patient=clinic.pat)
    plans.careplan_draft_save(
        acting_user=ada,
        version=draft,
        content=content_complete(),
        review_on=timezone.localdate() + timedelta(days=30),
        plan_status="active",
    )
    pat = clinic.client("pat")
    page = pat.get("/portal/care-plan/").content.decode()
    assert "has not finished your care plan" in page  # a draft never shows
    plans.careplan_sign(acting_user=ada, version=draft)
    page = pat.get("/portal/care-plan/").content.decode()
    assert "Feel calm enough to sleep" in page and "988" in page
    assert clinic.pat.mrn not in page and "Stanley" not in page
    assert "Read my care plan" in pat.get("/portal/").content.decode()
    quinn = clinic.client("quinn").get("/portal/care-plan/").content.decode()
    assert "Feel calm enough to sleep" not in quinn
    assert clinic.client("ada").get("/portal/care-plan/").status_code == 403
    assert AuditEvent.objects.filter(
        object_type="CarePlanVersion", action=Action.READ, actor_id=clinic.users["pat"].pk
    ).exists()


@pytest.mark.django_db
def test_portal_care_plan_in_spanish(clinic: Clinic) -> None:
    """The app's own catalogue (careplan/locale/es): the page in Spanish, the patient's words
    as they wrote them. (The language switcher is the portal's, issue 15 item 8.)"""
    plan_signed(clinician=clinic.users["ada"], patient=clinic.pat)
    with translation.override("es"):
        assert translation.gettext("My care plan") == "Mi plan de cuidado"
    with override_settings(LANGUAGE_CODE="es"):
        page = clinic.client("pat").get("/portal/care-plan/").content.decode()
    assert "Mi plan de seguridad" in page and "Mis metas" in page
    assert "Meta: una puntuación menor de 10." in page
    assert "Feel calm enough to sleep" in page  # the patient's own words are not translated
