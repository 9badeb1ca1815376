from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ketaclinic.ledger"
    label = "ledger"
    verbose_name = "Ketamine ledger (DEA Schedule III)"
