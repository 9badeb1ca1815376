from django.apps import AppConfig


class ScalesConfig(AppConfig):
    name = "ketaclinic.scales"
    label = "scales"
    verbose_name = "Rating scales and measurement-based care"
