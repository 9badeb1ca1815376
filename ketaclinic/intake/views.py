from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ketaclinic.intake import selectors


@login_required
def inquiry_list(request: HttpRequest) -> HttpResponse:
    inquiries = selectors.inquiry_list_for_user(request.user)
    return render(request, "intake/inquiry_list.html", {"inquiries": inquiries})
