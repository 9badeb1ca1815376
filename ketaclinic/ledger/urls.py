from django.urls import path

from ketaclinic.ledger import views

app_name = "ledger"
urlpatterns = [
    path("reports/dispensing/", views.dispensing_report, name="dispensing_report"),
]
