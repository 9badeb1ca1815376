from django.apps import AppConfig


class SmartConfig(AppConfig):
    name = "ketaclinic.fhir.smart"
    label = "smart"
    verbose_name = "SMART backend services"
