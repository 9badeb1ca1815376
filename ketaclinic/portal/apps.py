from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "ketaclinic.portal"
    label = "portal"
    verbose_name = "Patient portal"
