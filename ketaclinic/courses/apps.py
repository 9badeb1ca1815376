from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "ketaclinic.courses"
    label = "courses"
    verbose_name = "Protocols, courses and scheduling"
