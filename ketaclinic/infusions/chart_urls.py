from django.urls import path

from ketaclinic.infusions import chart_views as views

app_name = "infusions"
urlpatterns = [
    path("board/", views.board, name="board"),
    path("board/rows/", views.board_rows, name="board_rows"),
    path("sessions/<uuid:session_id>/", views.chart, name="chart"),
    path("sessions/<uuid:session_id>/record.pdf", views.record_pdf, name="record_pdf"),
    path("sessions/<uuid:session_id>/vitals/", views.vitals_add, name="vitals_add"),
    path(
        "sessions/<uuid:session_id>/alerts/<int:alert_id>/acknowledge/",
        views.alert_acknowledge,
        name="alert_acknowledge",
    ),
    path("sessions/<uuid:session_id>/sign/", views.sign, name="sign"),
    path("sessions/<uuid:session_id>/addenda/", views.addendum_add, name="addendum_add"),
]
