from django.apps import AppConfig


class InfusionsConfig(AppConfig):
    name = "ketaclinic.infusions"
    label = "infusions"
    verbose_name = "Infusion sessions"

    def ready(self) -> None:
        # Signing stores the record's PDF in its own transaction; the PDF is drawn a layer
        # above the services (infusions/pdf), so it is handed in here (services/record_document.py).
        from ketaclinic.infusions.pdf import record_pdf_bytes
        from ketaclinic.infusions.services import record_renderer_set

        record_renderer_set(record_pdf_bytes)
