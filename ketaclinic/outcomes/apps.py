from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ketaclinic.outcomes"
    verbose_name = "Outcomes"
