from django.urls import path

from ketaclinic.letters.views import letters, referrals, setup

app_name = "letters"
urlpatterns = [
    path(
        "inquiries/<int:inquiry_id>/referrals/",
        referrals.inquiry_referrals,
        name="inquiry_referrals",
    ),
    path("referrals/<uuid:referral_id>/pdf/", referrals.referral_pdf, name="referral_pdf"),
    path("patients/<uuid:patient_id>/", letters.patient_letters, name="patient"),
    path("patients/<uuid:patient_id>/recipients/", letters.recipient_new, name="recipient_new"),
    path("<uuid:letter_id>/", letters.letter_detail, name="letter"),
    path("<uuid:letter_id>/sign/", letters.letter_sign, name="sign"),
    path("<uuid:letter_id>/send/", letters.letter_send, name="send"),
    path("<uuid:letter_id>/pdf/", letters.letter_pdf, name="pdf"),
    path("templates/", setup.template_list, name="templates"),
    path("templates/<slug:kind>/", setup.template_edit, name="template_edit"),
    path("templates/<slug:kind>/default/", setup.template_default, name="template_default"),
]
