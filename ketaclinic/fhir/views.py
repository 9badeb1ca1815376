"""HTTP for /fhir/R4/: bearer-token authentication, JSON in and out (application/fhir+json,
application/json accepted), every error an OperationOutcome. Thin: selectors and services do
the work; this module only reads parameters and writes responses."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt

from ketaclinic.fhir import include, selectors, services
from ketaclinic.fhir.bundle import searchset
from ketaclinic.fhir.capability import capability_statement
from ketaclinic.fhir.importing.transaction import transaction_import
from ketaclinic.fhir.include import Included
from ketaclinic.fhir.outcome import FhirProblem, Issue, operation_outcome_json
from ketaclinic.fhir.registry import ORGANIZATION, QUESTIONNAIRE, TYPES
from ketaclinic.fhir.search import engine
from ketaclinic.fhir.search.engine import Built, Page
from ketaclinic.fhir.search.params import handling
from ketaclinic.fhir.smart.access import fhir_caller, grant_bound
from ketaclinic.fhir.smart.check import request_refusal, response_refusal
from ketaclinic.lib.strict_json import json_path
from ketaclinic.web.request_body import FHIR_MEDIA_TYPES, BodyRefused, json_body

CONTENT_TYPE = "application/fhir+json"
MAX_BODY = 1_000_000

View = Callable[..., HttpResponse]


def fhir_response(text: str, status: int = 200, **headers: str) -> HttpResponse:
    response = HttpResponse(text, status=status, content_type=f"{CONTENT_TYPE}; charset=utf-8")
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def outcome_response(status: int, issues: list[Issue] | tuple[Issue, ...]) -> HttpResponse:
    response = fhir_response(json.dumps(operation_outcome_json(list(issues))), status)
    if status == 401:
        response["WWW-Authenticate"] = "Bearer"
    return response


def fhir_endpoint(
    methods: tuple[str, ...], *, params: tuple[str, ...] | None = ()
) -> Callable[[View], View]:
    """Authenticate by bearer token, allow ``methods``, refuse unknown search parameters
    (``params=None``: the search layer handles them, leniently unless told to be strict), and
    answer every ``FhirProblem`` as an OperationOutcome."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            # A person's API token, or a program's SMART access token with its grant.
            user, grant = fhir_caller(request)
            if user is None:
                return outcome_response(401, [Issue("login", "send Authorization: Bearer <token>")])
            if grant is not None and (refused := request_refusal(grant, request)):
                return outcome_response(403, [Issue("forbidden", refused)])
            if request.method not in methods:
                response = outcome_response(
                    405, [Issue("not-supported", f"{request.method} is not supported here")]
                )
                response["Allow"] = ", ".join(methods)
                return response
            if request.method == "GET" and params is not None:
                unknown = sorted(set(request.GET) - set(params) - {"_format"})
                repeated = sorted(k for k in request.GET if len(request.GET.getlist(k)) > 1)
                problems = [
                    Issue("not-supported", f"unknown search parameter {name!r}", name)
                    for name in unknown
                ] + [Issue("not-supported", f"{name!r} is given twice", name) for name in repeated]
                if problems:
                    return outcome_response(400, problems)
            with grant_bound(grant):
                try:
                    response = view(request, *args, **kwargs)
                except FhirProblem as problem:
                    return outcome_response(problem.status, problem.issues)
            if grant is not None and (refused := response_refusal(grant, request, response)):
                return outcome_response(403, [Issue("forbidden", refused)])
            return response

        return wrapper

    return decorate


def _body(request: HttpRequest, resource_type: str) -> Any:
    # The API's strict reader (ketaclinic/web/request_body.py): FHIR media types, UTF-8
    # without a byte-order mark, the size and depth limits, no NUL or lone surrogate.
    try:
        return json_body(request, FHIR_MEDIA_TYPES, max_size=MAX_BODY)
    except BodyRefused as refusal:
        raise FhirProblem(refusal.status, _issues(refusal, resource_type)) from None


def _issues(refusal: BodyRefused, resource_type: str) -> list[Issue]:
    if refusal.status == 415:
        return [Issue("not-supported", refusal.detail)]
    if refusal.status == 413 or refusal.kind == "too_deep":
        return [Issue("too-costly", refusal.detail)]
    if not refusal.errors:
        return [Issue("structure", refusal.detail)]
    # NUL or a lone surrogate: 400, as fhir.resources already answered a surrogate; the
    # expression is the string's FHIRPath (``QuestionnaireResponse.item[0].text``).
    return [
        Issue("value", p.message, f"{resource_type}.{json_path(p.path)}" if p.path else None)
        for p in refusal.errors
    ]


def _page_response(
    request: HttpRequest, type_name: str, page: Page, extra: Included | None = None
) -> HttpResponse:
    """The searchset: ``self`` echoes the parameters applied (ignored ones are named in the
    OperationOutcome entry instead); ``next``/``previous`` add the paging cursor."""
    parsed = page.parsed
    applied = [(name, value) for name, values in parsed.filters.items() for value in values]
    applied.append(("_count", str(parsed.result.count)))
    if parsed.result.sort is not None:
        name, descending = parsed.result.sort
        applied.append(("_sort", f"-{name}" if descending else name))
    if parsed.result.summary_count:
        applied.append(("_summary", "count"))
    applied += extra.applied if extra is not None else []
    url = request.build_absolute_uri(f"/fhir/R4/{type_name}")
    base = request.build_absolute_uri("/fhir/R4/")
    links = [
        (relation, f"{url}?{urlencode([*applied, ('_cursor', cursor)])}")
        for relation, cursor in (("next", page.next_cursor), ("previous", page.previous_cursor))
        if cursor is not None
    ]
    return fhir_response(
        searchset(
            f"{url}?{urlencode(applied)}",
            [(f"{url}/{e.resource_id}", e.served_text()) for e in page.entries],
            total=page.total,
            links=links,
            ignored=parsed.ignored,
            included=[
                (f"{base}{kind}/{e.resource_id}", e.served_text())
                for kind, e in (extra.entries if extra is not None else [])
            ],
        )
    )


def _resource_search(request: HttpRequest, type_name: str) -> HttpResponse:
    values = {key: request.GET.getlist(key) for key in request.GET}
    prefer = handling(request.headers.get("Prefer", ""))
    parsed, cursor = engine.parse(TYPES[type_name], values, prefer)
    wanted = include.requested(type_name, values, prefer, parsed)
    if type_name == "Flag":
        page = selectors.flag_search(request.user, parsed, cursor)
    else:
        page = selectors.resource_search(type_name, request.user, parsed, cursor)
    extra = include.included(request.user, type_name, page.entries, wanted)
    return _page_response(request, type_name, page, extra)


def _etag_matches(header: str, version_id: str) -> bool:
    """``If-None-Match``: ``W/"v"``, ``"v"``, bare ``v`` (fhirpy sends it bare), or ``*``."""
    for tag in header.split(","):
        value = tag.strip().removeprefix("W/").strip('"')
        if value in ("*", version_id):
            return True
    return False


def _read_response(request: HttpRequest, built: Built) -> HttpResponse:
    if _etag_matches(request.headers.get("If-None-Match", ""), built.version_id):
        response = HttpResponse(status=304)
    else:
        response = fhir_response(built.served_text())
    response["ETag"] = f'W/"{built.version_id}"'
    if built.last_updated is not None:
        response["Last-Modified"] = http_date(built.last_updated.timestamp())
    return response


@fhir_endpoint(("GET",))
def metadata(request: HttpRequest) -> HttpResponse:
    return fhir_response(json.dumps(capability_statement(request.build_absolute_uri("/fhir/R4/"))))


@fhir_endpoint(("GET", "POST"), params=None)
def questionnaire_type(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        stored = services.questionnaire_import(
            acting_user=request.user, body=_body(request, "Questionnaire")
        )
        return fhir_response(
            stored.json_text,
            201,
            Location=f"/fhir/R4/Questionnaire/{stored.resource_id}",
        )
    values = {key: request.GET.getlist(key) for key in request.GET}
    prefer = handling(request.headers.get("Prefer", ""))
    parsed, cursor = engine.parse(QUESTIONNAIRE, values, prefer)
    params = {name: given[-1] for name, given in parsed.filters.items() if given}
    items = selectors.questionnaire_search(params, cursor.snapshot if cursor else None)
    return _page_response(
        request, "Questionnaire", engine.list_search(QUESTIONNAIRE, items, parsed, cursor)
    )


@fhir_endpoint(("GET",))
def questionnaire_read(request: HttpRequest, resource_id: str) -> HttpResponse:
    return _read_response(request, selectors.questionnaire_get(resource_id))


@fhir_endpoint(("GET", "POST"), params=None)
def questionnaire_response_type(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _resource_search(request, "QuestionnaireResponse")
    recorded = services.questionnaire_response_record(
        acting_user=request.user, body=_body(request, "QuestionnaireResponse")
    )
    return fhir_response(
        recorded.response.json_text,
        201,
        Location=f"/fhir/R4/QuestionnaireResponse/{recorded.response.resource_id}",
    )


@fhir_endpoint(("GET",), params=None)
def resource_type(request: HttpRequest, type_name: str) -> HttpResponse:
    """Search any resource type of the registry (``registry.TYPES``)."""
    return _resource_search(request, type_name)


@fhir_endpoint(("GET",))
def resource_read(request: HttpRequest, type_name: str, resource_id: str) -> HttpResponse:
    """Read one resource; ETag is its version, ``If-None-Match`` answers 304."""
    return _read_response(request, selectors.resource_read(type_name, request.user, resource_id))


@fhir_endpoint(("GET",), params=None)
def organization_type(request: HttpRequest) -> HttpResponse:
    values = {key: request.GET.getlist(key) for key in request.GET}
    parsed, cursor = engine.parse(ORGANIZATION, values, handling(request.headers.get("Prefer", "")))
    wanted = {i for given in parsed.filters.get("_id", []) for i in given.split(",")}
    items = [
        o
        for o in selectors.organization_list(request.user)
        if not wanted or o.resource_id in wanted
    ]
    return _page_response(
        request, "Organization", engine.list_search(ORGANIZATION, items, parsed, cursor)
    )


@fhir_endpoint(("GET",))
def organization_read(request: HttpRequest, resource_id: str) -> HttpResponse:
    found = [o for o in selectors.organization_list(request.user) if o.resource_id == resource_id]
    if not found:
        raise FhirProblem(404, [Issue("not-found", f"Organization/{resource_id} is not known")])
    return _read_response(request, found[0])


@fhir_endpoint(("POST",))
def transaction(request: HttpRequest) -> HttpResponse:
    """``POST [base]`` with a transaction Bundle (``importing/``): all or nothing."""
    body = _body(request, "Bundle")
    return fhir_response(json.dumps(transaction_import(acting_user=request.user, body=body)))
