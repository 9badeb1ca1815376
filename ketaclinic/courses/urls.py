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
    path("patients/<uuid:patient_id>/start/", views.course_start, name="course_start"),
    path("<uuid:course_id>/change/", views.course_change, name="course_change"),
    path("<uuid:course_id>/dose-orders/", views.dose_order_add, name="dose_order_add"),
    path("<uuid:course_id>/sessions/", views.session_book, name="session_book"),
    path("chairs/", views.chairs, name="chairs"),
    path("schedule/", views.schedule_today, name="schedule"),
    path("schedule/day/<str:day>/", views.schedule_day, name="schedule_day"),
    path("schedule/day/<str:day>/presence/", views.presence_add, name="presence_add"),
    path("schedule/week/<str:day>/", views.schedule_week, name="schedule_week"),
]
