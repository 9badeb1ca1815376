"""The public site: pages anyone may read, the inquiry form, and the administrator's editor."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ketaclinic.accounts.access import require, user_can
from ketaclinic.audit.middleware import client_address
from ketaclinic.intake import services as intake_services
from ketaclinic.intake.forms import InquiryForm
from ketaclinic.intake.self_screen import (
    SHORT_NAMES,
    self_screen_instrument,
    self_screen_score,
    self_screen_urgent_flags,
)
from ketaclinic.intake.self_screen.token import self_screen_token_make
from ketaclinic.scales.instruments import Instrument, translations
from ketaclinic.site import selectors, services
from ketaclinic.site.forms import PageForm, SelfScreenChooseForm, SelfScreenInstrumentForm
from ketaclinic.site.rendering import markdown_to_safe_html
from ketaclinic.site.translated import PageShown, page_shown


def _clinic() -> dict[str, str]:
    return {
        "name": settings.KETACLINIC_CLINIC_NAME,
        "address": settings.KETACLINIC_CLINIC_ADDRESS,
        "hours": settings.KETACLINIC_CLINIC_HOURS,
        "phone": settings.KETACLINIC_CLINIC_PHONE,
        "email": settings.KETACLINIC_CLINIC_EMAIL,
    }


def clinic_home(request: HttpRequest) -> HttpResponse:
    context = {"clinic": _clinic(), "pages": _shown_pages()}
    return render(request, "site/home.html", context)


def _shown_pages() -> list[PageShown]:
    language = get_language()
    return [page_shown(page, language) for page in selectors.page_list()]


def page_detail(request: HttpRequest, slug: str) -> HttpResponse:
    page = page_shown(selectors.page_get(slug), get_language())
    context = {
        "clinic": _clinic(),
        "page": page,
        # Safe: nh3 keeps only the tags and attributes listed in rendering.py.
        "body_html": mark_safe(markdown_to_safe_html(page.body)),  # noqa: S308
        "pages": _shown_pages(),
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


def _add_service_errors(form: InquiryForm, exc: ValidationError) -> None:
    """Field errors beside their fields; self-screen errors beside its checkbox."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, problems in exc.message_dict.items():
        if field in form.fields:
            form.add_error(field, problems)
        elif field.startswith("self_screen"):
            form.add_error("attach_self_screen", "Your self-screen results could not be scored.")
        else:
            form.add_error(None, problems)


@never_cache
def inquiry_create(request: HttpRequest) -> HttpResponse:
    # "Send an inquiry with these results" on the self-screen result page posts its token
    # here with `self_screen_start`: an empty form with the results attached, not errors.
    starting = request.method == "POST" and "self_screen_start" in request.POST
    if starting:
        token = request.POST.get("self_screen_token", "")
        form = InquiryForm(initial={"self_screen_token": token, "attach_self_screen": True})
    else:
        form = InquiryForm(request.POST or None)
    status = 200
    if request.method == "POST" and not starting and form.is_valid():
        fields = dict(form.cleaned_data)
        honeypot = fields.pop("website", "")
        fields.pop("self_screen_token", None)
        fields.pop("attach_self_screen", None)
        try:
            intake_services.inquiry_create(
                client_address=client_address(request), is_spam=bool(honeypot), **fields
            )
        except ValidationError as exc:
            _add_service_errors(form, exc)
        except intake_services.InquiryRateLimited:
            form.add_error(
                None,
                "We have received several inquiries from your connection in the last hour. "
                "Please try again later, or phone the clinic.",
            )
            status = 429
        else:
            return redirect("site:inquiry_thanks")
    attached, attach_problem = form.self_screen_attached()
    context = {
        "clinic": _clinic(),
        "form": form,
        "self_screen": attached,
        "self_screen_problem": attach_problem,
        "self_screen_urgent": any(result.urgent_flags for result in attached),
    }
    return render(request, "site/inquiry.html", context, status=status)


def inquiry_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "site/inquiry_thanks.html", {"clinic": _clinic()})


def _shown(instrument: Instrument) -> Instrument:
    return translations.localised(instrument, get_language()) or instrument


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def self_screen(request: HttpRequest) -> HttpResponse:
    """The anonymous GAD-7 / PHQ-9 self-screen. Stores nothing: no row, no session, no log
    line, nothing in the URL. Everything is POSTed, and the answers leave the server only in
    the page (and in the signed token of "send an inquiry with these results").

    GET: choose the questionnaires. POST step "choose": their questions. POST step "answer":
    the result, or the questions again with the missing ones listed and the answers kept.
    """
    choose = SelfScreenChooseForm(request.POST if request.method == "POST" else None)
    context: dict[str, object] = {"clinic": _clinic(), "choose": choose}
    if request.method == "GET" or not choose.is_valid():
        return render(request, "site/self_screen_choose.html", context)

    answering = request.POST.get("step") == "answer"
    forms = [
        SelfScreenInstrumentForm(
            request.POST if answering else None,
            # The official Spanish wording when Spanish is active (both have one).
            instrument=_shown(self_screen_instrument(code)),
        )
        for code in choose.codes()
    ]
    if answering:
        valid = [form.is_valid() for form in forms]
        if all(valid):
            results = [self_screen_score(f.instrument.code, f.answers()) for f in forms]
            context |= {
                "results": results,
                "urgent": any(result.urgent_flags for result in results),
                "token": self_screen_token_make(results),
            }
            return render(request, "site/self_screen_result.html", context)
        context["urgent"] = any(
            self_screen_urgent_flags(form.instrument.code, form.answers()) for form in forms
        )
        context["problems"] = [
            (SHORT_NAMES[form.instrument.code], item_id, label)
            for form in forms
            for item_id, label in form.problem_items()
        ]
    context |= {"forms": forms, "codes": choose.codes()}
    return render(request, "site/self_screen.html", context)
