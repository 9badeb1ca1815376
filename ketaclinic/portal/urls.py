from django.urls import path

from ketaclinic.messaging.views import patient as message_pages
from ketaclinic.portal.views import documents, patient, staff, welcome

app_name = "portal"
urlpatterns = [
    path("", patient.home, name="home"),
    path("sessions/<uuid:session_id>/ride/", patient.ride, name="ride"),
    path("questionnaires/<slug:code>/", patient.questionnaire, name="questionnaire"),
    path("questionnaires-sent/", patient.questionnaire_done, name="questionnaire_done"),
    path("scores/", patient.scores, name="scores"),
    path("contact/", patient.contact_details, name="contact"),
    # The patient's documents (issue 15 item 2): consent copies, discharge instructions, letters.
    path("documents/", documents.documents, name="documents"),
    path("documents/letters/<uuid:letter_id>/", documents.letter_pdf, name="letter_pdf"),
    path(
        "documents/sessions/<uuid:session_id>/after/",
        documents.discharge_pdf,
        name="discharge_pdf",
    ),
    # The invitation link: its id (base64) and token, nothing about the patient.
    path("welcome/", welcome.welcome_base, name="welcome_base"),
    path("welcome/<str:uidb64>/<str:token>/", welcome.welcome, name="welcome"),
    # Staff: invite the patient (from the patient's staff page).
    path("invite/<uuid:patient_id>/", staff.invite, name="invite"),
    # Secure messages with the care team (ketaclinic/messaging/): the patient's own threads.
    path("messages/", message_pages.thread_list, name="messages"),
    path("messages/new/", message_pages.thread_new, name="message_new"),
    path("messages/<uuid:thread_id>/", message_pages.thread_page, name="message_thread"),
    path(
        "messages/attachments/<uuid:attachment_id>/",
        message_pages.attachment,
        name="message_attachment",
    ),
]
