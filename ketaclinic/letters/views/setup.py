"""The administrator's letter templates: the active text of each kind (the published default
until a version is made), a new version, or back to the default."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ketaclinic.accounts.access import require
from ketaclinic.letters.forms import TemplateForm
from ketaclinic.letters.models import LetterKind, LetterTemplate
from ketaclinic.letters.rules.content import PLACEHOLDERS
from ketaclinic.letters.services import templates
from ketaclinic.lib.forms import service_errors_onto


@login_required
@require_GET
def template_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "letter.templates")
    rows = [(kind, label, templates.template_active(kind)) for kind, label in LetterKind.choices]
    return render(request, "letters/templates.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, kind: str) -> HttpResponse:
    require(request.user, "letter.templates")
    if kind not in LetterKind.values:
        raise Http404
    active = templates.template_active(kind)
    initial = {"subject": active.text.subject, "body": active.text.body}
    form = TemplateForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                row = templates.template_version_add(
                    acting_user=request.user, kind=kind, **form.cleaned_data
                )
            except ValidationError as exc:
                service_errors_onto(form, exc)
            else:
                messages.success(request, f"Version {row.version} is in use from now on.")
                return redirect("letters:templates")
        status = 422
    context = {
        "kind": kind,
        "label": LetterKind(kind).label,
        "active": active,
        "form": form,
        "placeholders": PLACEHOLDERS[kind],
        "versions": LetterTemplate.objects.filter(kind=kind).select_related("created_by"),
    }
    return render(request, "letters/template_edit.html", context, status=status)


@login_required
@require_POST
def template_default(request: HttpRequest, kind: str) -> HttpResponse:
    require(request.user, "letter.templates")
    if kind not in LetterKind.values:
        raise Http404
    templates.template_default_restore(acting_user=request.user, kind=kind)
    messages.success(request, "The published default is in use again.")
    return redirect("letters:templates")
