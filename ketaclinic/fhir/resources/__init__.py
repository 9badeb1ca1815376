"""Our models as FHIR R4 resources, one module per resource, each validated with the
``fhir.resources`` R4B model before it is served (``common.validated``)."""
