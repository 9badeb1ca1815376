"""The integration therapist's pages: their patients (landing page), and their notes: write a
draft, sign it (locked), add addenda. Only the plans that name them; anything else is 404."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from ketaclinic.accounts.access import require
from ketaclinic.careplan import selectors
from ketaclinic.careplan.forms import AddendumForm, IntegrationNoteForm
from ketaclinic.careplan.models import IntegrationNote, NoteStatus
from ketaclinic.careplan.services import notes as note_services
from ketaclinic.careplan.views.staff import _banner
from ketaclinic.patients.models import Patient


@login_required
def home(request: HttpRequest) -> HttpResponse:
    require(request.user, "integration.write")
    rows = selectors.therapist_rows(request.user)
    return render(
        request,
        "careplan/therapist_home.html",
        {"rows": rows, "due": [r for r in rows if r.note_due or r.drafts]},
    )


def _goals(patient: Patient) -> list[dict[str, Any]]:
    signed = selectors.latest_signed(patient)
    if signed is None:
        raise Http404
    return list(signed.content.get("goals", []))


def _note_save(
    request: HttpRequest, form: IntegrationNoteForm, note: IntegrationNote | None, patient: Patient
) -> IntegrationNote:
    care_plan = selectors.plan_of(patient)
    if care_plan is None:
        raise Http404
    saved = note_services.integration_note_save(
        acting_user=request.user,
        plan=care_plan,
        note=note,
        session_on=form.cleaned_data["session_on"],
        themes=form.cleaned_data["themes"],
        intentions=form.cleaned_data["intentions"],
        goal_progress=form.goal_progress(),
        risk_positive=form.cleaned_data["risk_positive"],
        risk_note=form.cleaned_data["risk_note"],
    )
    if "sign" in request.POST:
        saved = note_services.integration_note_sign(acting_user=request.user, note=saved)
        messages.success(
            request,
            "Note signed."
            + (" The prescriber has been told about the risk." if saved.risk_positive else ""),
        )
    else:
        messages.success(request, "Draft saved.")
    return saved


@login_required
@require_http_methods(["GET", "POST"])
def note_new(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    require(request.user, "integration.write")
    patient = selectors.patient_for_plan(request.user, patient_id)
    goals = _goals(patient)
    if request.method == "POST":
        form = IntegrationNoteForm(request.POST, goals=goals)
        if form.is_valid():
            saved = _note_save(request, form, None, patient)
            if saved.status == NoteStatus.SIGNED:
                return redirect("careplan:plan", patient_id=patient.pk)
            return redirect("careplan:note_edit", note_id=saved.pk)
        status = 422
    else:
        form = IntegrationNoteForm(
            initial={"session_on": timezone.localdate(), "risk_positive": "no"}, goals=goals
        )
        status = 200
    return render(
        request,
        "careplan/note_form.html",
        {**_banner(patient), "form": form, "note": None},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def note_edit(request: HttpRequest, note_id: int) -> HttpResponse:
    """A draft is edited here; a signed note is shown with its addenda and an addendum form."""
    note = selectors.note_for_therapist(request.user, note_id)
    patient = note.patient
    if note.status == NoteStatus.SIGNED:
        if request.method == "POST":
            raise Http404
        return render(
            request,
            "careplan/note_signed.html",
            {**_banner(patient), "note": note, "addendum_form": AddendumForm()},
        )
    goals = _goals(patient)
    if request.method == "POST":
        form = IntegrationNoteForm(request.POST, goals=goals)
        if form.is_valid():
            saved = _note_save(request, form, note, patient)
            if saved.status == NoteStatus.SIGNED:
                return redirect("careplan:plan", patient_id=patient.pk)
            return redirect("careplan:note_edit", note_id=saved.pk)
        status = 422
    else:
        initial: dict[str, Any] = {
            "session_on": note.session_on,
            "themes": note.themes,
            "intentions": note.intentions,
            "risk_positive": "yes" if note.risk_positive else "no",
            "risk_note": note.risk_note,
        }
        for row in note.goal_progress:
            initial[f"goal_{row['goal']}"] = row["progress"]
        form = IntegrationNoteForm(initial=initial, goals=goals)
        status = 200
    return render(
        request,
        "careplan/note_form.html",
        {**_banner(patient), "form": form, "note": note},
        status=status,
    )


@login_required
@require_POST
def note_addendum(request: HttpRequest, note_id: int) -> HttpResponse:
    note = selectors.note_for_therapist(request.user, note_id)
    if note.status != NoteStatus.SIGNED:
        raise Http404
    form = AddendumForm(request.POST)
    if form.is_valid():
        note_services.integration_addendum_add(
            acting_user=request.user, note=note, text=form.cleaned_data["text"]
        )
        messages.success(request, "Addendum added.")
    else:
        messages.error(request, "Write the addendum first.")
    return redirect("careplan:note_edit", note_id=note.pk)
