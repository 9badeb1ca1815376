"""The letters' PDFs (fpdf2): a letter to a clinician (``letter``) and the patient's discharge
instructions (``discharge``). Named ``printing``, not ``pdf``: signing (a service) renders the
PDF it stores, and a ``pdf`` module sits above the services in the layers contract."""
