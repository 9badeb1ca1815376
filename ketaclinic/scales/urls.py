from django.urls import path

from ketaclinic.scales.views import public as views_public
from ketaclinic.scales.views import staff as views

app_name = "scales"
urlpatterns = [
    path("due/", views.due_list, name="due"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read/", views.notification_read, name="notifications_read_all"),
    path(
        "notifications/<int:notification_id>/read/",
        views.notification_read,
        name="notification_read",
    ),
    path("patients/<uuid:patient_id>/", views.patient_scales, name="patient"),
    path(
        "patients/<uuid:patient_id>/enter/<slug:code>/",
        views.administration_enter,
        name="enter",
    ),
    path("patients/<uuid:patient_id>/links/", views.link_create, name="link_create"),
    path("patients/<uuid:patient_id>/kiosk/", views.kiosk_start, name="kiosk_start"),
    path("patients/<uuid:patient_id>/schedules/", views.schedule_add, name="schedule_add"),
    path("patients/<uuid:patient_id>/trends/", views.patient_trends, name="trends"),
    path(
        "patients/<uuid:patient_id>/administrations/<uuid:administration_id>/",
        views.administration_answers,
        name="answers",
    ),
    # The link's token is the only thing in its URL: no patient id, name or instrument.
    path("q/<str:token>/", views_public.answer, name="answer"),
]
