from django.urls import path

from ketaclinic.messaging.views import staff

app_name = "messaging"
urlpatterns = [
    path("", staff.inbox, name="inbox"),
    path("threads/<uuid:thread_id>/", staff.thread_page, name="thread"),
    path("threads/<uuid:thread_id>/assign/", staff.thread_assign, name="assign"),
    path("threads/<uuid:thread_id>/urgent-clear/", staff.thread_urgent_clear, name="urgent_clear"),
    path("attachments/<uuid:attachment_id>/", staff.attachment, name="attachment"),
    path("patients/<uuid:patient_id>/", staff.patient_threads, name="patient"),
    path("patients/<uuid:patient_id>/new/", staff.thread_new, name="new"),
    path("urgent-words/", staff.urgent_words, name="urgent_words"),
]
