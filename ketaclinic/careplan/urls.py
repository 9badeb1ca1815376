from django.urls import path

from ketaclinic.careplan.views import staff, therapist

app_name = "careplan"
urlpatterns = [
    path("patients/<uuid:patient_id>/", staff.plan, name="plan"),
    path("patients/<uuid:patient_id>/draft/", staff.draft_start, name="draft_start"),
    path("patients/<uuid:patient_id>/edit/", staff.edit, name="edit"),
    path("patients/<uuid:patient_id>/versions/", staff.history, name="history"),
    path("patients/<uuid:patient_id>/versions/<int:number>/", staff.version, name="version"),
    path("patients/<uuid:patient_id>/checkins/", staff.checkin, name="checkin"),
    # The integration therapist's pages.
    path("therapist/", therapist.home, name="therapist_home"),
    path("patients/<uuid:patient_id>/notes/new/", therapist.note_new, name="note_new"),
    path("notes/<int:note_id>/", therapist.note_edit, name="note_edit"),
    path("notes/<int:note_id>/addenda/", therapist.note_addendum, name="note_addendum"),
]
