from django.apps import AppConfig


class MonitorsConfig(AppConfig):
    name = "ketaclinic.monitors"
    label = "monitors"
    verbose_name = "Bedside monitors"
