"""HTTP of the Bulk Data export (IG v2.0.0): kick-off (202 + Content-Location), status
(202 + X-Progress + Retry-After, 429 when polled too fast, 200 + the manifest, an
OperationOutcome when the job failed), DELETE to cancel, and the files (same token)."""

from __future__ import annotations

import json
from typing import Any, cast
from uuid import UUID

from django.http import FileResponse, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import http_date
from fhir.resources.R4B.parameters import Parameters as FhirParameters
from pydantic import ValidationError

from ketaclinic.fhir.bulk import config, services
from ketaclinic.fhir.bulk.access import export_allowed
from ketaclinic.fhir.bulk.models import BulkExport, Cohort, ExportKind, ExportStatus, FilePart
from ketaclinic.fhir.bulk.params import kick_off_params
from ketaclinic.fhir.bulk.writer import attempt_dir
from ketaclinic.fhir.outcome import FhirProblem, Issue, issues_from_validation_error
from ketaclinic.fhir.search.params import Handling
from ketaclinic.fhir.smart.access import current_grant
from ketaclinic.fhir.views import _body, fhir_endpoint, outcome_response

NDJSON = "application/fhir+ndjson"


def _prefer(request: HttpRequest) -> list[str]:
    prefer = request.headers.get("Prefer", "")
    return [p.strip().lower().replace(" ", "") for p in prefer.replace(";", ",").split(",")]


def _respond_async(request: HttpRequest) -> bool:
    return "respond-async" in _prefer(request)


def _handling(request: HttpRequest) -> Handling:
    """Strict unless the client asks ``Prefer: handling=lenient`` (the IG: an unsupported
    export parameter is an error by default, unlike a search's)."""
    return Handling.LENIENT if "handling=lenient" in _prefer(request) else Handling.STRICT


# A Parameters parameter's value, by its type (IG: _outputFormat string, _since/_until
# instant, _type and _typeFilter string, patient Reference, includeAssociatedData code).
_VALUE_KEYS = ("valueString", "valueInstant", "valueDateTime", "valueCode", "valueUri")


def _parameters_values(body: Any) -> dict[str, list[str]]:
    """A POST kick-off's ``Parameters`` as the same name -> values as a GET's query."""
    try:
        FhirParameters.model_validate(body)
    except ValidationError as exc:
        raise FhirProblem(400, issues_from_validation_error(exc, "Parameters")) from None
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise FhirProblem(400, [Issue("structure", "a POST kick-off's body is a Parameters")])
    values: dict[str, list[str]] = {}
    for index, parameter in enumerate(body.get("parameter") or []):
        name = str(parameter.get("name"))
        if isinstance(parameter.get("valueReference"), dict):
            value = parameter["valueReference"].get("reference")
        else:
            value = next((parameter[k] for k in _VALUE_KEYS if k in parameter), None)
        if not isinstance(value, str) or not value:
            raise FhirProblem(
                400,
                [
                    Issue(
                        "value",
                        f"{name}: expected a value (string, instant, code or Reference)",
                        f"Parameters.parameter[{index}]",
                    )
                ],
            )
        values.setdefault(name, []).append(value)
    return values


def _kick_off(request: HttpRequest, kind: str, cohort_id: str | None = None) -> HttpResponse:
    if request.method == "POST":
        values = _parameters_values(_body(request, "Parameters"))
        if request.GET:
            raise FhirProblem(
                400, [Issue("invalid", "a POST kick-off takes its parameters in the body alone")]
            )
    else:
        values = {key: request.GET.getlist(key) for key in request.GET}
        if "patient" in values:
            raise FhirProblem(
                400, [Issue("not-supported", "patient is a POST parameter (IG)", "patient")]
            )
    kick_off = kick_off_params(values, kind=kind, handling=_handling(request))
    grant = current_grant()
    kick_off.types = export_allowed(
        request.user, kind=kind, types=kick_off.types, named=bool(values.get("_type")), grant=grant
    )
    if grant is not None:
        kick_off.grant_scope = grant.scope_text
    if not _respond_async(request):
        raise FhirProblem(
            400, [Issue("invalid", "a Bulk Data export needs the header Prefer: respond-async")]
        )
    cohort = None
    if cohort_id is not None:
        cohort = Cohort.objects.filter(pk=cohort_id).first() if _uuid(cohort_id) else None
        if cohort is None:
            raise FhirProblem(404, [Issue("not-found", f"Group/{cohort_id} is not known")])
    if kick_off.patients:
        kick_off.patients = services.export_patients_check(
            user=request.user, references=kick_off.patients, cohort=cohort
        )
    export = services.bulk_export_start(
        acting_user=request.user,
        kind=kind,
        cohort=cohort,
        kick_off=kick_off,
        request_url=request.build_absolute_uri(),
    )
    status_url = request.build_absolute_uri(
        reverse("fhir:bulk_status", kwargs={"export_id": export.pk})
    )
    response = HttpResponse(status=202)
    response["Content-Location"] = status_url
    return response


def _uuid(raw: str) -> bool:
    try:
        UUID(raw)
    except ValueError:
        return False
    return True


@fhir_endpoint(("GET", "POST"), params=None)
def system_export(request: HttpRequest) -> HttpResponse:
    return _kick_off(request, ExportKind.SYSTEM)


@fhir_endpoint(("GET", "POST"), params=None)
def patient_export(request: HttpRequest) -> HttpResponse:
    return _kick_off(request, ExportKind.PATIENT)


@fhir_endpoint(("GET", "POST"), params=None)
def group_export(request: HttpRequest, resource_id: str) -> HttpResponse:
    return _kick_off(request, ExportKind.GROUP, resource_id)


def _file_url(request: HttpRequest, export: BulkExport, name: str) -> str:
    return request.build_absolute_uri(
        reverse("fhir:bulk_file", kwargs={"export_id": export.pk, "name": name})
    )


def manifest(request: HttpRequest, export: BulkExport) -> dict[str, Any]:
    """The complete export's manifest, from its published file rows only."""
    parts: dict[str, list[dict[str, Any]]] = {p: [] for p in FilePart.values}
    for row in export.files.all():
        item: dict[str, Any] = {
            "type": row.resource_type,
            "url": _file_url(request, export, row.name),
        }
        if row.part != FilePart.ERROR:
            item["count"] = row.count
        parts[row.part].append(item)
    return {
        "transactionTime": export.transaction_time.isoformat(),
        "request": export.request_url,
        "requiresAccessToken": True,
        "output": parts[FilePart.OUTPUT],
        "deleted": parts[FilePart.DELETED],
        "error": parts[FilePart.ERROR],
    }


def _progress(export: BulkExport) -> str:
    if export.status == ExportStatus.QUEUED:
        return "queued" if export.attempt == 1 else f"queued again (attempt {export.attempt})"
    text = f"{export.progress} resources written"
    return f"{text}; now {export.progress_type}"[:99] if export.progress_type else text


@fhir_endpoint(("GET", "DELETE"))
def export_status(request: HttpRequest, export_id: UUID) -> HttpResponse:
    if request.method == "DELETE":
        services.bulk_export_cancel(acting_user=request.user, export_id=export_id)
        return HttpResponse(status=202)
    poll = services.bulk_export_poll(user=request.user, export_id=export_id)
    export = poll.export
    wait = str(config.retry_after())
    if poll.too_soon:
        response = outcome_response(
            429, [Issue("throttled", f"poll at most every {wait} seconds (Retry-After)")]
        )
        response["Retry-After"] = wait
        return response
    if export.status == ExportStatus.FAILED:
        return outcome_response(500, [Issue("exception", export.error or "the export failed")])
    if export.status != ExportStatus.COMPLETED:
        response = HttpResponse(status=202)
        response["X-Progress"] = _progress(export)
        response["Retry-After"] = wait
        return response
    response = HttpResponse(
        json.dumps(manifest(request, export)), content_type="application/json; charset=utf-8"
    )
    if export.expires_at is not None:
        response["Expires"] = http_date(export.expires_at.timestamp())
    return response


@fhir_endpoint(("GET",))
def export_file(request: HttpRequest, export_id: UUID, name: str) -> HttpResponse:
    export, row = services.bulk_export_file(user=request.user, export_id=export_id, name=name)
    path = attempt_dir(export) / row.name
    if not path.is_file():
        raise FhirProblem(404, [Issue("not-found", "this file is no longer here")])
    # Streamed from the file (constant memory); fhir_endpoint's type says HttpResponse, and
    # Django treats the two alike on the way out.
    return cast(HttpResponse, FileResponse(path.open("rb"), content_type=NDJSON))
