"""The cost of the SMART per-entry check in the searchset writer (``fhir/bundle.py``).

``python -m bench.smart [--entries 20] [--repeat 20000]``: one Bundle of ``--entries``
Observations written ``--repeat`` times, for a person's API token (no grant), a
``system/Observation.rs`` token, a ``?category=`` constrained token (each entry parsed), and
the floor (the writer with the check replaced by ``True``), with the load average beside.
"""

from __future__ import annotations

import argparse
import json
import os
import timeit
from unittest import mock

import django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=20000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketaclinic.settings")
    django.setup()
    from ketaclinic.fhir import bundle
    from ketaclinic.fhir.smart.access import grant_bound
    from ketaclinic.fhir.smart.rules.scopes import Grant, scope_parse

    category = "http://terminology.hl7.org/CodeSystem/observation-category"
    resource = {
        "resourceType": "Observation",
        "id": "x",
        "status": "final",
        "category": [{"coding": [{"system": category, "code": "vital-signs"}]}],
        "code": {"text": "Heart rate"},
    }
    text = json.dumps(resource)
    entries = [(f"http://h/fhir/R4/Observation/{i}", text) for i in range(args.entries)]

    def per_bundle(grant: Grant | None) -> float:
        with grant_bound(grant):
            seconds = timeit.timeit(
                lambda: bundle.searchset("http://h/fhir/R4/Observation", entries),
                number=args.repeat,
            )
        return float(seconds / int(args.repeat) * 1e6)

    cases: list[tuple[str, Grant | None]] = [
        ("a person's API token (no grant)", None),
        ("system/Observation.rs", Grant((scope_parse("system/Observation.rs"),))),
        (
            "system/Observation.rs?category=vital-signs",
            Grant((scope_parse("system/Observation.rs?category=vital-signs"),)),
        ),
    ]
    print(f"{args.entries} entries a Bundle, {args.repeat} Bundles; load {os.getloadavg()}")
    per_bundle(None)  # warm up
    best: dict[str, float] = {}
    for _round in range(3):  # interleaved, best of three: the machine is shared
        with mock.patch.object(bundle, "entry_permitted", lambda full_url, text: True):
            floor = per_bundle(None)
        best["floor, no per-entry check"] = min(best.get("floor, no per-entry check", 1e9), floor)
        for name, grant in cases:
            best[name] = min(best.get(name, 1e9), per_bundle(grant))
    for name, micros in best.items():
        print(f"  {name}: {micros:.1f} us a Bundle")
    print(f"load {os.getloadavg()}")


if __name__ == "__main__":
    main()
