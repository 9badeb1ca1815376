"""Bulk Data URLs, included before the resource routes (``Patient/$export`` is not a read)."""

from django.urls import path

from ketaclinic.fhir.bulk import views

urlpatterns = [
    path("$export", views.system_export, name="bulk_system"),
    path("Patient/$export", views.patient_export, name="bulk_patient"),
    path("Group/<str:resource_id>/$export", views.group_export, name="bulk_group"),
    path("$export-poll/<uuid:export_id>", views.export_status, name="bulk_status"),
    path("$export-file/<uuid:export_id>/<str:name>", views.export_file, name="bulk_file"),
]
