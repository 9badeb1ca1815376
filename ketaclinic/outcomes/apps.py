from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ketaclinic.outcomes"
    verbose_name = "Outcomes"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from ketaclinic.outcomes.services.upkeep import on_post_migrate

        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="outcomes_triggers")
