"""The portal's pages: the patient's own (``patient.py``), the invitation's welcome page
(``welcome.py``) and the staff's invite button (``staff.py``)."""
