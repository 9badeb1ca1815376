from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "ketaclinic.web"
    label = "web"
    verbose_name = "Web pages shared by every app"

    def ready(self) -> None:
        # No exception message (where patient data leaks) in any log record: log_safety.py
        from ketaclinic.web import log_safety

        log_safety.install()
        # timestamptz read by psycopg's C loader (lib/pg_timestamps.py)
        from ketaclinic.lib import pg_timestamps

        pg_timestamps.install()
