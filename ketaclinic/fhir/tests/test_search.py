"""The shared search layer: paging that survives concurrent inserts, total and
_summary=count, lenient and strict handling, dates, tokens, _sort, the cursor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.test import Client
from fhir.resources.R4B.bundle import Bundle

from ketaclinic.audit.models import AuditEvent
from ketaclinic.fhir.registry import TYPES
from ketaclinic.testing import Clinic, make_patient

pytestmark = pytest.mark.django_db


def _get(client: Client, url: str, **headers: str) -> dict[str, Any]:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.content
    Bundle.model_validate_json(response.content)
    body: dict[str, Any] = response.json()
    return body


def _link(bundle: dict[str, Any], relation: str) -> str | None:
    for link in bundle["link"]:
        if link["relation"] == relation:
            return str(link["url"])
    return None


def _ids(bundle: dict[str, Any]) -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def _walk(
    client: Client, url: str, relation: str = "next", between: Callable[[int], None] | None = None
) -> tuple[list[str], list[dict[str, Any]]]:
    """Follow ``relation`` links from ``url``; ``between(n)`` runs after page n."""
    seen: list[str] = []
    pages: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url is not None:
        bundle = _get(client, next_url)
        pages.append(bundle)
        seen.extend(_ids(bundle))
        if between is not None:
            between(len(pages))
        next_url = _link(bundle, relation)
        assert len(pages) < 50
    return seen, pages


def _patients(count: int, name: str = "Paging") -> list[str]:
    return [str(make_patient(given_name=f"{name}{i}", email="").pk) for i in range(count)]


@pytest.mark.parametrize("sort", ["", "&_sort=_lastUpdated", "&_sort=-_lastUpdated"])
def test_paging_under_concurrent_inserts_shows_each_entry_once_and_skips_none(
    clinic: Clinic, sort: str
) -> None:
    _patients(9)
    client = clinic.api("ada")
    before = {r["resource"]["id"] for r in _get(client, "/fhir/R4/Patient?_count=200")["entry"]}
    assert len(before) == 11  # Pat, Quinn and nine more

    added: list[str] = []
    seen, pages = _walk(
        client, f"/fhir/R4/Patient?_count=3{sort}", between=lambda n: added.extend(_patients(2))
    )
    assert len(seen) == len(set(seen)), "an entry was shown twice"
    assert set(seen) == before, "an entry was skipped, or a later insert leaked in"
    assert {p["total"] for p in pages} == {11}
    assert len(pages) == 4
    assert added and not set(added) & set(seen)
    # Back from the last page with ``previous``: the same entries in reverse page order.
    last_url = next(_link(p, "next") for p in pages[-2:-1])
    assert last_url is not None
    back, back_pages = _walk(client, last_url, "previous")
    assert sorted(back) == sorted(seen)
    assert [i for p in reversed(back_pages) for i in _ids(p)] == seen


def test_observation_pages_merge_scores_and_vital_signs(clinic: Clinic) -> None:
    from ketaclinic.fhir.tests.helpers import post, response_body
    from ketaclinic.infusions.tests.chart_driver import chart_for

    chart = chart_for(clinic)
    chart.check_in()
    for _ in range(3):
        assert chart.vitals().status_code in (200, 201)
    ben = clinic.api("ben")
    for weights in ([1, 1, 1, 1, 1, 1, 1], [2, 2, 2, 2, 2, 2, 2]):
        answered = post(ben, "QuestionnaireResponse", response_body("gad7", clinic.pat.pk, weights))
        assert answered.status_code == 201
    url = f"/fhir/R4/Observation?patient={clinic.pat.pk}"
    everything = _ids(_get(ben, f"{url}&_count=200"))
    assert len(everything) == 2 + 3 * 4  # two scores, three readings of four vital signs
    for sort in ("", "&_sort=date", "&_sort=-date", "&_sort=-_lastUpdated"):
        seen, pages = _walk(ben, f"{url}&_count=4{sort}")
        assert sorted(seen) == sorted(everything) and len(seen) == len(set(seen)), sort
        assert {p["total"] for p in pages} == {14}
    dated = [
        e["resource"]["effectiveDateTime"]
        for p in _walk(ben, f"{url}&_count=5&_sort=-date")[1]
        for e in p.get("entry", [])
    ]
    assert dated == sorted(dated, reverse=True)
    heart = _get(ben, f"{url}&code=http://loinc.org|8867-4")
    assert heart["total"] == 3
    assert {e["resource"]["code"]["coding"][0]["code"] for e in heart["entry"]} == {"8867-4"}
    vital = _get(ben, f"{url}&category=vital-signs&_count=1")
    assert vital["total"] == 12
    resource = vital["entry"][0]["resource"]
    assert resource["category"][0]["coding"][0]["code"] == "vital-signs"
    assert resource["meta"]["profile"][0].startswith("http://hl7.org/fhir/StructureDefinition/")
    assert _get(ben, f"{url}&category=survey")["total"] == 2


def test_summary_count_and_count_zero_answer_the_total_only(clinic: Clinic) -> None:
    _patients(4)
    client = clinic.api("ada")
    for query in ("_summary=count", "_count=0", "_count=0&_totalMethod=count"):
        bundle = _get(client, f"/fhir/R4/Patient?{query}")
        assert bundle["total"] == 6
        assert _ids(bundle) == []
    audited = AuditEvent.objects.filter(object_type="Patient", action="R").count()
    _get(client, "/fhir/R4/Patient?_summary=count")
    assert AuditEvent.objects.filter(object_type="Patient", action="R").count() == audited


def test_unknown_parameters_are_ignored_and_named_or_refused_when_strict(clinic: Clinic) -> None:
    client = clinic.api("ada")
    url = f"/fhir/R4/Flag?patient={clinic.pat.pk}&colour=blue&status:not=active"
    bundle = _get(client, url)
    outcome = [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    assert len(outcome) == 1
    named = {i["expression"][0] for i in outcome[0]["resource"]["issue"]}
    assert named == {"colour", "status:not"}
    assert {i["severity"] for i in outcome[0]["resource"]["issue"]} == {"warning"}
    applied = parse_qs(urlsplit(_link(bundle, "self") or "").query)
    assert applied == {"patient": [str(clinic.pat.pk)], "_count": ["20"]}
    lenient = client.get(url, headers={"Prefer": "handling=lenient"})
    assert lenient.status_code == 200
    strict = client.get(url, headers={"Prefer": "return=minimal, handling=strict"})
    assert strict.status_code == 400
    issues = strict.json()["issue"]
    assert {i["expression"][0] for i in issues} == {"colour", "status:not"}
    # Known parameters only: strict is as good as lenient.
    ok = client.get(f"/fhir/R4/Flag?patient={clinic.pat.pk}", headers={"Prefer": "handling=strict"})
    assert ok.status_code == 200
    assert all(e["search"]["mode"] == "match" for e in ok.json().get("entry", []))


def test_bad_values_are_400_with_the_parameter_named(clinic: Clinic) -> None:
    client = clinic.api("ada")
    for query, where in (
        ("_count=ten", "_count"),
        ("_sort=name", "_sort"),
        ("_lastUpdated=ne2026-01-01", "_lastUpdated"),
        ("_lastUpdated=yesterday", "_lastUpdated"),
        ("_cursor=not-ours", "_cursor"),
    ):
        response = client.get(f"/fhir/R4/Patient?{query}")
        assert response.status_code == 400, query
        assert response.json()["issue"][0]["expression"] == [where], query


def test_last_updated_and_date_prefixes(clinic: Clinic) -> None:
    from datetime import UTC, datetime

    from ketaclinic.infusions.tests.chart_driver import session_make

    early = session_make(clinic, start=datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    late = session_make(clinic, start=datetime(2026, 3, 12, 9, 0, tzinfo=UTC), chair="Chair 2")
    client = clinic.api("ada")

    def found(query: str) -> set[str]:
        return set(_ids(_get(client, f"/fhir/R4/Encounter?{query}&_count=200")))

    both = {str(early.pk), str(late.pk)}
    assert found("date=2026-03") == both
    assert found("date=2026-03-10") == {str(early.pk)}
    assert found("date=ge2026-03-11") == {str(late.pk)}
    assert found("date=gt2026-03-10") == {str(late.pk)}
    assert found("date=lt2026-03-12") == {str(early.pk)}
    assert found("date=le2026-03-12") == both
    assert found("date=ge2026-03-10&date=le2026-03-10") == {str(early.pk)}
    assert found("date=ge2026-03-10T09:00:00Z&date=lt2026-03-10T09:01:00Z") == {str(early.pk)}
    assert found("_lastUpdated=ge2000-01-01") == both
    assert found("_lastUpdated=gt2999-01-01") == set()
    assert found(f"patient=Patient/{clinic.pat.pk}&status=planned") == both
    assert found("status=finished") == set()
    assert found(f"location=Location/chair-{late.chair_id}") == {str(late.pk)}


def test_the_cursor_is_signed_and_carries_no_patient_data(clinic: Clinic) -> None:
    _patients(3, name="Secretname")
    bundle = _get(clinic.api("ada"), "/fhir/R4/Patient?_count=2")
    url = _link(bundle, "next") or ""
    cursor = parse_qs(urlsplit(url).query)["_cursor"][0]
    kind, snapshot, source, pk, backward = signing.loads(
        cursor, salt="ketaclinic.fhir.search.cursor"
    )
    assert (kind, source, backward) == ("Patient", 0, False)
    assert pk == bundle["entry"][-1]["resource"]["id"]  # the FHIR id, nothing else
    assert "Secretname" not in url and "1988" not in url
    assert snapshot.startswith("20")
    tampered = url.replace("_cursor=", "_cursor=x")
    assert clinic.api("ada").get(tampered).status_code == 400
    other_type = clinic.api("ada").get(f"/fhir/R4/Practitioner?_cursor={cursor}")
    assert other_type.status_code == 400


def test_patients_see_only_themselves(clinic: Clinic) -> None:
    _patients(2)
    mine = _get(clinic.api("pat"), "/fhir/R4/Patient")
    assert _ids(mine) == [str(clinic.pat.pk)] and mine["total"] == 1
    assert clinic.api("pat").get(f"/fhir/R4/Patient/{clinic.quinn.pk}").status_code == 404
    assert clinic.api("quinn").get(f"/fhir/R4/Encounter?patient={clinic.pat.pk}").status_code == 404
    assert _get(clinic.api("quinn"), "/fhir/R4/Consent")["total"] == 0


def test_read_has_an_etag_and_if_none_match_answers_304_audited(clinic: Clinic) -> None:
    client = clinic.api("ada")
    url = f"/fhir/R4/Patient/{clinic.pat.pk}"
    first = client.get(url)
    assert first.status_code == 200
    version = first.json()["meta"]["versionId"]
    assert first["ETag"] == f'W/"{version}"'
    reads = AuditEvent.objects.filter(object_type="Patient", object_id=str(clinic.pat.pk))
    before = reads.count()
    for sent in (first["ETag"], version, f'"{version}"', f'"other", W/"{version}"'):
        again = client.get(url, headers={"If-None-Match": sent})
        assert again.status_code == 304, sent
        assert again["ETag"] == first["ETag"]
    assert reads.count() == before + 4
    assert client.get(url, headers={"If-None-Match": 'W/"stale"'}).status_code == 200
    clinic.pat.phone = "555-0199"
    clinic.pat.save(update_fields=["phone"])
    changed = client.get(url, headers={"If-None-Match": first["ETag"]})
    assert changed.status_code == 200
    assert changed.json()["meta"]["versionId"] != version


def test_capability_statement_lists_every_supported_parameter(clinic: Clinic) -> None:
    statement = clinic.api("ada").get("/fhir/R4/metadata").json()
    listed = {
        r["type"]: {p["name"] for p in r.get("searchParam", [])}
        for r in statement["rest"][0]["resource"]
    }
    for name, kind in TYPES.items():
        assert {p.name for p in kind.params} | {"_count", "_sort", "_summary"} <= listed[name]
    assert listed["Questionnaire"] == {"_id", "code", "url", "name", "_count", "_summary"}
    assert listed["Organization"] == {"_id", "_count", "_summary"}


def test_served_meta_merges_with_a_meta_the_resource_already_has() -> None:
    import json
    from datetime import UTC, datetime

    from ketaclinic.fhir.search.engine import Built

    at = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    own = '{"resourceType":"Questionnaire","meta":{"profile":["http://x/p"]},"status":"active"}'
    served = json.loads(Built("q1", own, None, at).served_text())
    assert served["meta"]["profile"] == ["http://x/p"]
    assert served["meta"]["lastUpdated"] == at.isoformat() and served["meta"]["versionId"]
    plain = json.loads(Built("q2", '{"resourceType":"Flag"}', None, None).served_text())
    assert set(plain["meta"]) == {"versionId"}


def test_a_page_costs_the_same_queries_however_many_entries(clinic: Clinic) -> None:
    """No query per entry: a page of 2 sessions and a page of 8 take as many queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ketaclinic.infusions.tests.chart_driver import session_make

    for n in range(8):
        session_make(clinic, chair=f"Chair {n}")
    client = clinic.api("ada")
    client.get("/fhir/R4/Encounter?_count=1")  # the token's first use is not measured

    def queries(count: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            bundle = _get(client, f"/fhir/R4/Encounter?_count={count}")
        assert len(_ids(bundle)) == count
        return len(captured)

    assert queries(2) == queries(8)


def test_medication_administration_period_never_ends_before_it_starts() -> None:
    import json

    from ketaclinic.fhir.resources.medication import medication_administration_json
    from ketaclinic.infusions.models import SignedRecord

    def period(start: str, stop: str) -> dict[str, Any]:
        snapshot = {
            "patient": {"id": "p1"},
            "protocol": {"medication": "racemic ketamine", "route": "IV"},
            "administered_mg": "36.3",
            "administered_volume_ml": "3.63",
            "entries": [
                {"kind": "infusion_start", "at": start},
                {"kind": "infusion_stop", "at": stop},
            ],
        }
        record = SignedRecord(session_id="5e0c3f3e-0000-4000-8000-000000000001")
        record.snapshot_json = json.dumps(snapshot)
        resource = medication_administration_json(record)
        assert resource["dosage"]["dose"] == {
            "value": 36.3, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"
        }  # fmt: skip
        found: dict[str, Any] = resource["effectivePeriod"]
        return found

    assert period("2026-01-05T09:00:00Z", "2026-01-05T09:40:00Z") == {
        "start": "2026-01-05T09:00:00Z", "end": "2026-01-05T09:40:00Z"
    }  # fmt: skip
    assert period("2026-01-05T09:00:00Z", "2026-01-05T08:00:00Z") == {
        "start": "2026-01-05T09:00:00Z"
    }
