"""The patient's care plan in the portal (/portal/care-plan/), beside the portal's own pages."""

from django.urls import path

from ketaclinic.careplan.views import portal

app_name = "careplan_portal"
urlpatterns = [
    path("", portal.plan, name="plan"),
]
