from django.urls import path

from ketaclinic.infusions.views import board, monitor, steps

app_name = "infusions"
urlpatterns = [
    path("board/", board.board, name="board"),
    path("board/rows/", board.board_rows, name="board_rows"),
    path("sessions/<uuid:session_id>/", board.chart, name="chart"),
    path("sessions/<uuid:session_id>/record.pdf", board.record_pdf, name="record_pdf"),
    path(
        "sessions/<uuid:session_id>/alerts/<int:alert_id>/acknowledge/",
        board.alert_acknowledge,
        name="alert_acknowledge",
    ),
    path(
        "sessions/<uuid:session_id>/monitor/confirm/",
        monitor.monitor_confirm,
        name="monitor_confirm",
    ),
    path(
        "sessions/<uuid:session_id>/monitor/<int:reading_id>/artefact/",
        monitor.monitor_artefact,
        name="monitor_artefact",
    ),
    # The chart's steps, in chart order.
    path("sessions/<uuid:session_id>/check-in/", steps.check_in, name="check_in"),
    path("sessions/<uuid:session_id>/pre-checks/", steps.prechecks, name="prechecks"),
    path("sessions/<uuid:session_id>/vitals/", steps.vitals_add, name="vitals_add"),
    path(
        "sessions/<uuid:session_id>/clinician-review/",
        steps.clinician_review,
        name="clinician_review",
    ),
    path("sessions/<uuid:session_id>/dose/", steps.dose, name="dose"),
    path(
        "sessions/<uuid:session_id>/dose/second-check/",
        steps.second_check,
        name="second_check",
    ),
    path(
        "sessions/<uuid:session_id>/draw-exception/",
        steps.draw_exception,
        name="draw_exception",
    ),
    path("sessions/<uuid:session_id>/start/", steps.start, name="start"),
    path("sessions/<uuid:session_id>/infusion/", steps.infusion_event, name="infusion_event"),
    path("sessions/<uuid:session_id>/stop/", steps.stop, name="stop"),
    path("sessions/<uuid:session_id>/side-effects/", steps.side_effect, name="side_effect"),
    path("sessions/<uuid:session_id>/assessments/", steps.assessment, name="assessment"),
    path("sessions/<uuid:session_id>/discharge/", steps.discharge, name="discharge"),
    path("sessions/<uuid:session_id>/sign/", steps.sign, name="sign"),
    path("sessions/<uuid:session_id>/addenda/", steps.addendum_add, name="addendum_add"),
]
