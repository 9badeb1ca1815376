from django.urls import path

from ketaclinic.courses import views

app_name = "courses"
urlpatterns = [
    path("protocols/", views.protocol_list, name="protocols"),
    path("protocols/<int:protocol_id>/", views.protocol_detail, name="protocol"),
    path(
        "protocols/<int:protocol_id>/new-version/",
        views.protocol_new_version,
        name="protocol_new_version",
    ),
    path("patients/<uuid:patient_id>/", views.patient_courses, name="patient_courses"),
    path("schedule/", views.schedule_today, name="schedule"),
    path("schedule/day/<str:day>/", views.schedule_day, name="schedule_day"),
    path("schedule/day/<str:day>/presence/", views.presence_add, name="presence_add"),
    path("schedule/week/<str:day>/", views.schedule_week, name="schedule_week"),
]
