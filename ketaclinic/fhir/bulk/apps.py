from django.apps import AppConfig


class FhirBulkConfig(AppConfig):
    name = "ketaclinic.fhir.bulk"
    label = "fhir_bulk"
    verbose_name = "FHIR Bulk Data export and Groups"
