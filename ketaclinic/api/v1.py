"""The JSON API under /api/v1/: Django Ninja, OpenAPI at /api/v1/openapi.json.

Programs authenticate with `Authorization: Bearer <token>` (see `ketaclinic apitoken`); the web
UI uses its session (with CSRF, and a verified second factor where the role requires one).

This module is the wiring: the NinjaAPI object, its exception handlers, and every app's router
mounted. Only the project's ``urls.py`` imports it; apps import ``ketaclinic.api.auth`` and
``ketaclinic.api.errors``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.operation import Operation

from ketaclinic.api import errors
from ketaclinic.api.auth import BearerTokenAuth, VerifiedSessionAuth
from ketaclinic.api.openapi import errors_documented
from ketaclinic.audit.api import router as audit_router
from ketaclinic.consent.api import router as consent_router
from ketaclinic.courses.api import router as courses_router
from ketaclinic.eligibility.api import router as evaluation_router
from ketaclinic.idempotency.api import idempotency_document, idempotency_install
from ketaclinic.infusions.api import chart_refused
from ketaclinic.infusions.api import router as chart_router
from ketaclinic.infusions.api import vitals as vitals_post
from ketaclinic.infusions.services import ChartRefused
from ketaclinic.intake.api import router as intake_router
from ketaclinic.ledger.api import router as ledger_router
from ketaclinic.ledger.api.core import ledger_refused
from ketaclinic.ledger.entries import LedgerRefused
from ketaclinic.outcomes.api import router as outcomes_router
from ketaclinic.patients.api import router as patients_router
from ketaclinic.scales.api.links import router as scale_links_router
from ketaclinic.scales.api.responses import router as scales_router
from ketaclinic.web.request_body import StrictJsonParser

# An operation's id is part of the published OpenAPI document (client generators name their
# methods after it). Django Ninja derives it from the view's module, so code moved between
# modules keeps the id it was published under: new module -> the module it was published from.
PUBLISHED_MODULES: dict[str, str] = {
    "ketaclinic.eligibility.api": "ketaclinic.intake.evaluation_api",
    "ketaclinic.consent.api": "ketaclinic.intake.evaluation_api",
    "ketaclinic.scales.api.responses": "ketaclinic.scales.api",
    "ketaclinic.scales.api.links": "ketaclinic.scales.links_api",
    "ketaclinic.infusions.api": "ketaclinic.infusions.chart_api",
    **{
        f"ketaclinic.ledger.api.{part}": "ketaclinic.ledger.api"
        for part in ("core", "locations", "containers", "movements", "counts", "reports")
    },
}


class KetaClinicAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        module = operation.view_func.__module__
        module = PUBLISHED_MODULES.get(module, module)
        return (module + "_" + operation.view_func.__name__).replace(".", "_")

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        return errors_documented(idempotency_document(schema))


api = KetaClinicAPI(
    title="KetaClinic API",
    version="1",
    urls_namespace="api",
    auth=[BearerTokenAuth(), VerifiedSessionAuth()],
    docs_url=None,  # the interactive docs page loads its assets from a CDN; the schema suffices
    parser=StrictJsonParser(),  # every body read strictly: ketaclinic/web/request_body.py
)

# Every error an RFC 9457 problem (ketaclinic/api/errors.py); the most general first, since
# Django Ninja picks the handler of the exception's nearest class.
api.exception_handler(Exception)(errors.server_error)
api.exception_handler(OperationalError)(errors.database_unavailable)
api.exception_handler(InterfaceError)(errors.database_unavailable)
api.exception_handler(RequestDataTooBig)(errors.too_large)
api.exception_handler(OverflowError)(errors.out_of_range)
api.exception_handler(DataError)(errors.out_of_range)
api.exception_handler(HttpError)(errors.http_error)
api.exception_handler(Http404)(errors.not_found)
api.exception_handler(NinjaValidationError)(errors.validation_error)
api.exception_handler(DjangoValidationError)(errors.model_validation_error)
api.exception_handler(ObjectDoesNotExist)(errors.not_found)
api.exception_handler(PermissionDenied)(errors.forbidden)
api.exception_handler(AuthenticationError)(errors.unauthorized)
# The apps' rule refusals: 409 with their reasons.
api.exception_handler(ChartRefused)(chart_refused)
api.exception_handler(LedgerRefused)(ledger_refused)

api.add_router("/patients", patients_router)
api.add_router("/audit", audit_router)
api.add_router("/ledger", ledger_router)
api.add_router("/outcomes", outcomes_router)
api.add_router("", intake_router)  # /inquiries
api.add_router("", evaluation_router)  # /patients/{id}/evaluations, /evaluations/{id}, ...
api.add_router("", consent_router)  # /consent-documents, /patients/{id}/consents, ...
api.add_router("", scales_router)  # /patients/{id}/flags, /questionnaires, ...
api.add_router("", courses_router)  # /protocols, /patients/{id}/courses, /chairs, ...
api.add_router("", scale_links_router)  # /patients/{id}/links
api.add_router("", chart_router)  # /sessions/{id}/vitals, /sessions/{id}/dose, ...

# Every POST, PUT and PATCH honours Idempotency-Key (ketaclinic/idempotency). The vitals post
# keeps its own key on the reading (the chair-side tablets' hot path: one locked query).
idempotency_install(api, own_mechanism=[vitals_post])
