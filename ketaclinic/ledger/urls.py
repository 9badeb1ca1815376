from django.urls import path

from ketaclinic.ledger import location_views, movement_views, views

app_name = "ledger"
urlpatterns = [
    path("", views.home, name="home"),
    path("locations/", location_views.locations, name="locations"),
    path("locations/<int:location_id>/storage/", location_views.storage_add, name="storage_add"),
    path(
        "locations/<int:location_id>/witness-policy/",
        location_views.witness_policy,
        name="witness_policy",
    ),
    path("containers/<int:container_id>/", views.container, name="container"),
    path("containers/<int:container_id>/draw/", movement_views.draw, name="draw"),
    path(
        "containers/<int:container_id>/quarantine/",
        movement_views.quarantine,
        name="quarantine",
    ),
    path("containers/<int:container_id>/release/", movement_views.release, name="release"),
    path("draws/<int:draw_id>/waste/", movement_views.waste, name="waste"),
    path("entries/<int:entry_id>/correct/", movement_views.correct, name="correct"),
    path("receipts/new/", movement_views.receipt_new, name="receipt_new"),
    path("counts/new/", movement_views.count_new, name="count_new"),
    path(
        "investigations/<int:investigation_id>/resolve/",
        movement_views.investigation_resolve,
        name="investigation_resolve",
    ),
    path("reports/dispensing/", views.dispensing_report, name="dispensing_report"),
    path("reports/reconciliation/", views.reconciliation_report, name="reconciliation_report"),
]
