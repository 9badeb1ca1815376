from django.urls import path

from ketaclinic.reminders.views import staff

app_name = "reminders"
urlpatterns = [
    path("attention/", staff.attention, name="attention"),
    path("attention/<uuid:delivery_id>/send-again/", staff.send_again, name="send_again"),
    path("attention/<uuid:delivery_id>/handled/", staff.mark_handled, name="handled"),
    path("patients/<uuid:patient_id>/", staff.patient_history, name="patient"),
]
