"""The scales' JSON API: questionnaires, responses and flags (``responses``), single-use links
(``links``). ``ketaclinic.api.v1`` mounts both routers."""
