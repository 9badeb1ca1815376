from django.urls import path

from ketaclinic.monitors import views

app_name = "monitors"
urlpatterns = [
    path("devices/", views.devices, name="devices"),
    path("devices/<int:device_id>/", views.device_edit, name="device_edit"),
    path("unassigned/", views.unassigned, name="unassigned"),
    path("unassigned/<int:message_id>/assign/", views.assign, name="assign"),
    path("unassigned/<int:message_id>/dismiss/", views.dismiss, name="dismiss"),
]
