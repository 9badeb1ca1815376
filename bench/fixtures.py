"""Creates the bench clinic in the app's database (run as `python -m bench.fixtures` with the
app's environment): the personas, one infusing session per connection, and an API token for
Nurse Ben. Prints them as JSON on the last line (ketaclinic/testing/infusing.py)."""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketaclinic.settings")
    import django

    django.setup()
    from ketaclinic.testing.infusing import main

    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
