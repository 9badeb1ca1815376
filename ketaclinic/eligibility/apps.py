from django.apps import AppConfig


class EligibilityConfig(AppConfig):
    name = "ketaclinic.eligibility"
    label = "eligibility"
    verbose_name = "Eligibility evaluations and decisions"
