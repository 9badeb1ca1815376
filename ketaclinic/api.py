"""The JSON API under /api/v1/: Django Ninja, OpenAPI at /api/v1/openapi.json.

Programs authenticate with `Authorization: Bearer <token>` (see `ketaclinic apitoken`); the web
UI uses its session (with CSRF, and a verified second factor where the role requires one).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, SessionAuth

from ketaclinic.accounts.models import user_is_verified
from ketaclinic.accounts.selectors import user_for_api_token


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_api_token(token)
        if user is None:
            return None
        request.user = user
        return user


class VerifiedSessionAuth(SessionAuth):
    """The browser session, refused for roles that must use 2FA until it is verified."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if not user.is_authenticated:
            return None
        if getattr(user, "two_factor_required", False) and not user_is_verified(user):
            return None
        return user


api = NinjaAPI(
    title="KetaClinic API",
    version="1",
    urls_namespace="api",
    auth=[BearerTokenAuth(), VerifiedSessionAuth()],
    docs_url=None,  # the interactive docs page loads its assets from a CDN; the schema suffices
)


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    # loc is ("body", "payload", "birth_date") or ("query", "q"): keep the part a caller wrote.
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[2:] if len(parts) > 2 else parts[1:]
    elif parts and parts[0] in {"query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def problems_response(
    request: HttpRequest, problems: list[dict[str, Any]], status: int = 422
) -> HttpResponse:
    return api.create_response(request, {"detail": problems}, status=status)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    problems = []
    for error in exc.errors:
        loc = error.get("loc", ())
        problems.append(
            {
                "loc": list(loc),
                "field": _field_path(loc),
                "msg": error.get("msg", "invalid"),
                "type": error.get("type", "invalid"),
            }
        )
    return problems_response(request, problems)


@api.exception_handler(DjangoValidationError)
def _model_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    problems = []
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for message in errors:
                problems.append(
                    {"loc": ["body", field], "field": field, "msg": message, "type": "invalid"}
                )
    else:
        for message in exc.messages:
            problems.append({"loc": ["body"], "field": "body", "msg": message, "type": "invalid"})
    return problems_response(request, problems)


@api.exception_handler(ObjectDoesNotExist)
def _not_found(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
    return api.create_response(request, {"detail": "Not found"}, status=404)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": "Forbidden"}, status=403)


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": "Unauthorized"}, status=401)


def _register_routers() -> None:
    from ketaclinic.audit.api import router as audit_router
    from ketaclinic.courses.api import router as courses_router
    from ketaclinic.infusions.api import router as chart_router
    from ketaclinic.intake.api import router as intake_router
    from ketaclinic.intake.evaluation_api import router as evaluation_router
    from ketaclinic.ledger.api import router as ledger_router
    from ketaclinic.patients.api import router as patients_router
    from ketaclinic.scales.api import router as scales_router
    from ketaclinic.scales.links_api import router as scale_links_router

    api.add_router("/patients", patients_router)
    api.add_router("/audit", audit_router)
    api.add_router("/ledger", ledger_router)
    api.add_router("", intake_router)  # /inquiries, /evaluations, ...
    api.add_router("", evaluation_router)  # /patients/{id}/evaluations, /consent-documents, ...
    api.add_router("", scales_router)  # /patients/{id}/flags, /questionnaires, ...
    api.add_router("", courses_router)  # /protocols, /patients/{id}/courses, /chairs, ...
    api.add_router("", scale_links_router)  # /patients/{id}/links
    api.add_router("", chart_router)  # /sessions/{id}/vitals, /sessions/{id}/dose, ...


_register_routers()
