"""Set up a private database for the monitor-feed drill (run as a separate process with
KETACLINIC_DATABASE_URL pointing at the drill's own PostgreSQL): migrate, the personas, an
infusing session of Pat's in Chair 1, a monitor registered to that chair. Prints
`session=<id> device=<id>`."""

from __future__ import annotations

import os


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketaclinic.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)

    from ketaclinic.infusions.tests.chart_driver import session_make
    from ketaclinic.monitors.feed import samples
    from ketaclinic.monitors.tests.conftest import device_on
    from ketaclinic.testing import make_clinic

    clinic = make_clinic()
    session = session_make(clinic, chair="Chair 1")
    from ketaclinic.infusions.models import Session

    Session.objects.filter(pk=session.pk).update(status="infusing")
    device = device_on("Chair 1", samples.GE_DEVICE)
    print(f"session={session.pk} device={device.device_id}", flush=True)


if __name__ == "__main__":
    main()
