from django.urls import path

from ketaclinic.intake import views

app_name = "intake"
urlpatterns = [
    path("inquiries/", views.inquiry_list, name="inquiries"),
]
