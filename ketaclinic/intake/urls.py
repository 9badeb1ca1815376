from django.urls import path

from ketaclinic.intake import views

app_name = "intake"
urlpatterns = [
    path("inquiries/", views.inquiry_board, name="inquiries"),
    path("inquiries/<int:inquiry_id>/", views.inquiry_detail, name="inquiry"),
    path("inquiries/<int:inquiry_id>/status/", views.inquiry_status, name="inquiry_status"),
    path("inquiries/<int:inquiry_id>/attempts/", views.inquiry_attempt, name="inquiry_attempt"),
    path("inquiries/<int:inquiry_id>/spam/", views.inquiry_spam, name="inquiry_spam"),
    path("inquiries/<int:inquiry_id>/convert/", views.inquiry_convert, name="inquiry_convert"),
]
