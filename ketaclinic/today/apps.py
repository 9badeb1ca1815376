from django.apps import AppConfig


class TodayConfig(AppConfig):
    name = "ketaclinic.today"
    label = "today"
    verbose_name = "Today"
    default_auto_field = "django.db.models.BigAutoField"
