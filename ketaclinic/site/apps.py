from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "ketaclinic.site"
    label = "site"
    verbose_name = "Public site"
