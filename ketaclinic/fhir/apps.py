from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "ketaclinic.fhir"
    label = "fhir"
    verbose_name = "FHIR R4 API"
