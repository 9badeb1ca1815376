from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from ketaclinic.audit.middleware import client_address
from ketaclinic.intake import services
from ketaclinic.intake.schemas import Detail, InquiryIn, InquiryReceipt

router = Router(tags=["intake"])

RECEIPT: dict[str, object] = {
    "received": True,
    "message": "Thank you. The clinic's intake team will contact you within two working days.",
}
RATE_LIMITED = (
    "Too many inquiries from this address in the last hour. Please try again later, "
    "or phone the clinic."
)


@router.post(
    "/inquiries",
    auth=None,
    response={201: InquiryReceipt, 429: Detail},
    url_name="inquiries",
)
def inquiry_create(request: HttpRequest, payload: InquiryIn) -> Status[dict[str, object]]:
    """Anyone may ask; a filled honeypot is answered like success and stored as spam."""
    fields = payload.model_dump(exclude={"website"})
    try:
        services.inquiry_create(
            client_address=client_address(request), is_spam=bool(payload.website), **fields
        )
    except services.InquiryRateLimited:
        return Status(429, {"detail": RATE_LIMITED})
    return Status(201, RECEIPT)
