from django.apps import AppConfig


class LettersConfig(AppConfig):
    name = "ketaclinic.letters"
    label = "letters"
    verbose_name = "Referrals and letters"
