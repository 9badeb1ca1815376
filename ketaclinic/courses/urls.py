from django.urls import path

from ketaclinic.courses import booking_views, views

app_name = "courses"
urlpatterns = [
    path("protocols/", views.protocol_list, name="protocols"),
    path("protocols/<int:protocol_id>/", views.protocol_detail, name="protocol"),
    path("protocols/<int:protocol_id>/edit/", views.protocol_edit, name="protocol_edit"),
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
    path("<uuid:course_id>/series/", booking_views.series, name="series"),
    path("sessions/<uuid:session_id>/", booking_views.session_page, name="session"),
    path("sessions/<uuid:session_id>/cancel/", booking_views.session_cancel, name="session_cancel"),
    path(
        "sessions/<uuid:session_id>/no-show/",
        booking_views.session_no_show,
        name="session_no_show",
    ),
    path(
        "sessions/<uuid:session_id>/reschedule/",
        booking_views.session_reschedule,
        name="session_reschedule",
    ),
    path("schedule/day/<str:day>/free/", booking_views.free_slots, name="free_slots"),
    path("chairs/", views.chairs, name="chairs"),
    path("chairs/<int:chair_id>/", booking_views.chair_edit, name="chair_edit"),
    path("schedule/", views.schedule_today, name="schedule"),
    path("schedule/day/<str:day>/", views.schedule_day, name="schedule_day"),
    path("schedule/day/<str:day>/presence/", views.presence_add, name="presence_add"),
    path("schedule/week/<str:day>/", views.schedule_week, name="schedule_week"),
]
