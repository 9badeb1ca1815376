"""HTTP for the record-wide reads (``records.py``): ``Binary/{id}``, ``{type}/{id}/_history``,
``{type}/{id}/_history/{vid}`` and ``Patient/{id}/$everything``. Thin, like ``views.py``,
whose authentication, errors and responses they share."""

from __future__ import annotations

import base64
import json
import uuid
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from ketaclinic.fhir import records
from ketaclinic.fhir.bundle import searchset
from ketaclinic.fhir.outcome import FhirProblem, Issue
from ketaclinic.fhir.search.params import Handling, handling
from ketaclinic.fhir.views import _read_response, fhir_endpoint, fhir_response


def _wants_fhir_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return "fhir+json" in accept or "application/json" in accept


@fhir_endpoint(("GET",), params=("_format",))
def binary_read(request: HttpRequest, resource_id: str) -> HttpResponse:
    """The document itself (``application/pdf``), or as a FHIR Binary resource when the client
    asks for FHIR JSON (``Accept: application/fhir+json``), as FHIR R4's Binary read allows."""
    content = records.binary_read(request.user, resource_id)
    if _wants_fhir_json(request):
        resource = {
            "resourceType": "Binary",
            "id": content.resource_id,
            "contentType": content.content_type,
            "data": base64.b64encode(content.data).decode("ascii"),
        }
        response = fhir_response(json.dumps(resource))
    else:
        response = HttpResponse(content.data, content_type=content.content_type)
        extension = "pdf" if content.content_type == "application/pdf" else "txt"
        response["Content-Disposition"] = f'inline; filename="{content.resource_id}.{extension}"'
    response["Cache-Control"] = "no-store"
    return response


@fhir_endpoint(("GET",), params=("_format",))
def history(request: HttpRequest, type_name: str, resource_id: str) -> HttpResponse:
    """A history Bundle with the versions kept, newest first (``records.py`` says which)."""
    versions = records.history(request.user, type_name, resource_id)
    url = request.build_absolute_uri(f"/fhir/R4/{type_name}/{resource_id}")
    head = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": timezone.now().isoformat()},
        "type": "history",
        "total": len(versions),
        "link": [{"relation": "self", "url": f"{url}/_history"}],
    }
    entries = []
    for position, built in enumerate(versions):
        first = position == len(versions) - 1 and len(versions) > 1
        request_json = (
            {"method": "POST", "url": type_name}
            if first
            else {"method": "PUT", "url": f"{type_name}/{resource_id}"}
        )
        response: dict[str, object] = {"status": "200 OK", "etag": f'W/"{built.version_id}"'}
        if built.last_updated is not None:
            response["lastModified"] = built.last_updated.isoformat()
        entries.append(
            '{"fullUrl":' + json.dumps(url) + ',"resource":' + built.served_text()
            + ',"request":' + json.dumps(request_json)
            + ',"response":' + json.dumps(response) + "}"
        )  # fmt: skip
    text = json.dumps(head, separators=(",", ":"))
    return fhir_response(text[:-1] + ',"entry":[' + ",".join(entries) + "]}")


@fhir_endpoint(("GET",), params=("_format",))
def version_read(
    request: HttpRequest, type_name: str, resource_id: str, version_id: str
) -> HttpResponse:
    """One version: the current one by its versionId; any other is a 404 OperationOutcome."""
    return _read_response(
        request, records.version_read(request.user, type_name, resource_id, version_id)
    )


EVERYTHING_PARAMS = ("_count", "_since", "_type", "_cursor", "_format")


@fhir_endpoint(("GET",), params=None)
def patient_everything(request: HttpRequest, resource_id: str) -> HttpResponse:
    """Unknown parameters are ignored and named in an OperationOutcome entry, or refused under
    ``Prefer: handling=strict``, as in every search."""
    unknown = sorted(set(request.GET) - set(EVERYTHING_PARAMS))
    strict = handling(request.headers.get("Prefer", "")) == Handling.STRICT
    ignored = [
        Issue(
            "not-supported",
            f"unknown parameter {name!r}" + (" (strict)" if strict else " was ignored"),
            name,
            severity="error" if strict else "warning",
        )
        for name in unknown
    ]
    if ignored and strict:
        raise FhirProblem(400, ignored)
    raw_count = request.GET.get("_count")
    if raw_count is not None and not raw_count.isdigit():
        raise FhirProblem(400, [Issue("value", "_count is a whole number (0 or more)", "_count")])
    since, types = request.GET.get("_since"), request.GET.get("_type")
    result = records.everything(
        request.user,
        resource_id,
        count=None if raw_count is None else int(raw_count),
        since=since,
        types=types,
        cursor=request.GET.get("_cursor"),
    )
    applied = [("_count", str(result.count))]
    applied += [(name, value) for name, value in (("_since", since), ("_type", types)) if value]
    url = request.build_absolute_uri(f"/fhir/R4/Patient/{resource_id}/$everything")
    base = request.build_absolute_uri("/fhir/R4/")
    links = []
    if result.next_cursor is not None:
        links.append(("next", f"{url}?{urlencode([*applied, ('_cursor', result.next_cursor)])}"))
    return fhir_response(
        searchset(
            f"{url}?{urlencode(applied)}",
            [(f"{base}{kind}/{e.resource_id}", e.served_text()) for kind, e in result.entries],
            total=result.total,
            links=links,
            ignored=ignored,
        )
    )
