"""Importing a transaction Bundle (``POST /fhir/R4/``): Patients with their Conditions, score
Observations and QuestionnaireResponses, all or nothing.

``entries.py`` checks the Bundle and every entry before anything is written (structure,
fhir.resources validation, what we import of each type) and resolves the references between
entries (``urn:uuid:`` full URLs, ``Patient/<id>`` of an entry or of a patient we have, and
conditional ``Patient?identifier=<our MRN system>|<MRN>``); ``transaction.py`` writes them in
one database transaction, each entry in a savepoint so that a refusal of one entry is reported
beside the others', then rolls everything back if anything was refused. Every refused entry is
named in one OperationOutcome (``Bundle.entry[<index>]...``)."""
