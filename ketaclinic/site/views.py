"""The public site: pages anyone may read, the inquiry form, and the administrator's editor."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe

from ketaclinic.accounts.access import require, user_can
from ketaclinic.audit.middleware import client_address
from ketaclinic.intake import services as intake_services
from ketaclinic.intake.forms import InquiryForm
from ketaclinic.site import selectors, services
from ketaclinic.site.forms import PageForm
from ketaclinic.site.rendering import markdown_to_safe_html


def _clinic() -> dict[str, str]:
    return {
        "name": settings.KETACLINIC_CLINIC_NAME,
        "address": settings.KETACLINIC_CLINIC_ADDRESS,
        "hours": settings.KETACLINIC_CLINIC_HOURS,
        "phone": settings.KETACLINIC_CLINIC_PHONE,
        "email": settings.KETACLINIC_CLINIC_EMAIL,
    }


def clinic_home(request: HttpRequest) -> HttpResponse:
    context = {"clinic": _clinic(), "pages": selectors.page_list()}
    return render(request, "site/home.html", context)


def page_detail(request: HttpRequest, slug: str) -> HttpResponse:
    page = selectors.page_get(slug)
    context = {
        "clinic": _clinic(),
        "page": page,
        # Safe: nh3 keeps only the tags and attributes listed in rendering.py.
        "body_html": mark_safe(markdown_to_safe_html(page.body)),  # noqa: S308
        "pages": selectors.page_list(),
        "can_edit": user_can(request.user, "site.edit"),
    }
    return render(request, "site/page.html", context)


@login_required
def page_edit(request: HttpRequest, slug: str) -> HttpResponse:
    require(request.user, "site.edit")
    page = selectors.page_get(slug)
    form = PageForm(request.POST or None, instance=page)
    if request.method == "POST" and form.is_valid():
        try:
            services.page_update(
                acting_user=request.user,
                page=page,
                title=form.cleaned_data["title"],
                summary=form.cleaned_data["summary"],
                body=form.cleaned_data["body"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Page saved.")
            return redirect("site:page", slug=page.slug)
    return render(request, "site/page_edit.html", {"form": form, "page": page})


def inquiry_create(request: HttpRequest) -> HttpResponse:
    form = InquiryForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        honeypot = fields.pop("website", "")
        try:
            intake_services.inquiry_create(
                client_address=client_address(request), is_spam=bool(honeypot), **fields
            )
        except ValidationError as exc:
            form.add_error(None, exc)  # a dict of field errors lands beside those fields
        except intake_services.InquiryRateLimited:
            form.add_error(
                None,
                "We have received several inquiries from your connection in the last hour. "
                "Please try again later, or phone the clinic.",
            )
            status = 429
        else:
            return redirect("site:inquiry_thanks")
    context = {"clinic": _clinic(), "form": form}
    return render(request, "site/inquiry.html", context, status=status)


def inquiry_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "site/inquiry_thanks.html", {"clinic": _clinic()})
