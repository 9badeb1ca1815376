from django.urls import path

from ketaclinic.reminders.views import staff

app_name = "reminders"
urlpatterns = [
    path("attention/", staff.attention, name="attention"),
    path("patients/<uuid:patient_id>/", staff.patient_history, name="patient"),
]
