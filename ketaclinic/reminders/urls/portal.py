from django.urls import path

from ketaclinic.reminders.views import patient

app_name = "reminders_portal"
urlpatterns = [path("", patient.preferences, name="preferences")]
