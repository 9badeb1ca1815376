from django.apps import AppConfig


class CarePlanConfig(AppConfig):
    name = "ketaclinic.careplan"
    label = "careplan"
    verbose_name = "Care plans and integration notes"
