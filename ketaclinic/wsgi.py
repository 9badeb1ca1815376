"""WSGI entry point, served by granian through `ketaclinic serve`."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

from ketaclinic.web.serving import exit_with_server

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketaclinic.settings")
exit_with_server()  # a worker of `ketaclinic serve` ends with its server (web/serving.py)
application = get_wsgi_application()
