"""Pages: consent signing on the clinic's tablet or through a single-use link, and the PDF copy
of a signature."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from ketaclinic.accounts.access import require
from ketaclinic.audit.middleware import client_address
from ketaclinic.consent import selectors as consent_selectors
from ketaclinic.consent import services as consent_services
from ketaclinic.consent.forms import ConsentSignForm, ConsentVersionForm
from ketaclinic.consent.models import ConsentDocument, ConsentSignature
from ketaclinic.consent.pdf import consent_pdf_bytes
from ketaclinic.lib.forms import service_errors_onto
from ketaclinic.lib.link_pages import patient_link_page
from ketaclinic.patients.models import Patient
from ketaclinic.patients.selectors import patient_get_for_user, patient_open_flags
from ketaclinic.scales.links import RATE_WINDOW, rate_limit_allows


def _sign_context(
    form: ConsentSignForm, documents: list[ConsentDocument], **extra: object
) -> dict[str, object]:
    return {"form": form, "documents": documents, **extra}


@login_required
@require_http_methods(["GET", "POST"])
def consent_tablet(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    """Staff open this page on the clinic's tablet and hand it to the patient to sign."""
    require(request.user, "consent.record")
    try:
        patient = patient_get_for_user(request.user, patient_id)
    except Patient.DoesNotExist:
        raise Http404 from None
    documents = consent_services.consent_missing(patient)
    form = ConsentSignForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if documents and form.is_valid():
            try:
                signed = consent_services.consent_sign_tablet(
                    acting_user=request.user,
                    patient=patient,
                    signed_name=form.cleaned_data["signed_name"],
                    signature_image=form.cleaned_data["signature"],
                    document_ids=[d.pk for d in documents],
                )
            except ValidationError as exc:
                service_errors_onto(form, exc)
            else:
                messages.success(request, f"Signed: {', '.join(s.document.title for s in signed)}.")
                return redirect("consent:consent_tablet", patient_id=patient.pk)
        status = 422
    context = _sign_context(
        form,
        documents,
        patient=patient,
        flags=patient_open_flags(patient),
        signatures=consent_selectors.consent_signatures_for_patient(request.user, patient),
    )
    return render(request, "consent/consent_tablet.html", context, status=status)


def _gone(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    return render(request, "consent/consent_link_gone.html", {"reason": reason}, status=status)


@patient_link_page
@never_cache
@require_http_methods(["GET", "POST"])
def consent_link(request: HttpRequest, token: str) -> HttpResponse:
    """The signing page a patient opens from a single-use link: no login, no patient details."""
    if not rate_limit_allows(f"consent-link:{client_address(request)}"):
        response = _gone(request, "too_many", 429)
        response["Retry-After"] = str(int(RATE_WINDOW.total_seconds()))
        return response
    try:
        link = consent_services.consent_link_find(token)
    except consent_services.LinkUnknown:
        return _gone(request, "unknown", 404)
    if link.used_at is not None:
        return _gone(request, "used", 410)
    if not link.is_usable():
        return _gone(request, "expired", 410)
    documents = consent_services.consent_link_documents(link)
    form = ConsentSignForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                consent_services.consent_link_sign(
                    token=token,
                    signed_name=form.cleaned_data["signed_name"],
                    signature_image=form.cleaned_data["signature"],
                )
            except consent_services.LinkGone:
                return _gone(request, "used", 410)
            except ValidationError as exc:
                service_errors_onto(form, exc)
            else:
                return render(request, "consent/consent_link_done.html")
        status = 422
    return render(
        request, "consent/consent_link.html", _sign_context(form, documents), status=status
    )


@login_required
def consent_pdf(request: HttpRequest, signature_id: int) -> HttpResponse:
    """The PDF copy of a signed document, for the patient (their own) and staff."""
    try:
        signature = consent_selectors.consent_signature_get_for_user(request.user, signature_id)
    except ConsentSignature.DoesNotExist:
        raise Http404 from None
    response = HttpResponse(consent_pdf_bytes(signature), content_type="application/pdf")
    name = f"consent-{signature.document.code}-v{signature.document.version}-{signature.pk}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


# -- the administrator's consent documents (setup) ---------------------------------------------


@login_required
@require_GET
def document_list(request: HttpRequest) -> HttpResponse:
    """Every consent document with its versions, and which one patients sign now."""
    require(request.user, "site.edit")
    documents = consent_selectors.consent_document_versions(request.user)
    return render(request, "consent/document_list.html", {"documents": documents})


@login_required
@require_http_methods(["GET", "POST"])
def document_new_version(request: HttpRequest, code: str) -> HttpResponse:
    """A new version of one document, starting from the current text; saving never changes a
    version already stored."""
    require(request.user, "site.edit")
    versions = consent_selectors.consent_document_versions(request.user).get(code)
    if not versions:
        raise Http404
    current = next((doc for doc in versions if doc.active), versions[0])
    form = ConsentVersionForm(
        request.POST or None,
        initial={
            "title": current.title,
            "body": current.body,
            "required": current.required,
            "effective_from": timezone.localdate(),
        },
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created = consent_services.consent_document_version_add(
                    acting_user=request.user, code=code, **form.cleaned_data
                )
            except ValidationError as exc:
                service_errors_onto(form, exc)
            else:
                messages.success(
                    request, f"{created.title}: version {created.version} saved and now in use."
                )
                return redirect("consent:documents")
        status = 422
    context = {
        "form": form,
        "current": current,
        "versions": versions,
        "next_version": versions[0].version + 1,
    }
    return render(request, "consent/document_new_version.html", context, status=status)
