from django.urls import path

from ketaclinic.site import views

app_name = "site"
urlpatterns = [
    path("clinic/", views.clinic_home, name="home"),
    # Before the page patterns, so that no page can take these addresses.
    path("clinic/inquiry/", views.inquiry_create, name="inquiry"),
    path("clinic/inquiry/thanks/", views.inquiry_thanks, name="inquiry_thanks"),
    path("clinic/self-screen/", views.self_screen, name="self_screen"),
    path("clinic/<slug:slug>/", views.page_detail, name="page"),
    path("clinic/<slug:slug>/edit/", views.page_edit, name="page_edit"),
]
