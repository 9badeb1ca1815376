from datetime import UTC
from zoneinfo import ZoneInfo

import pytest

from ketaclinic.lib.clinic_time import instant_local_text, instant_parse

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("text", "zone", "shown"),
    [
        ("2026-11-24T14:05:09.000000Z", BERLIN, "2026-11-24 15:05:09 CET"),
        ("2026-07-01T14:05:09Z", BERLIN, "2026-07-01 16:05:09 CEST"),
        ("2026-11-24T03:00:00+00:00", NEW_YORK, "2026-11-23 22:00:00 EST"),
        ("2026-11-24T14:05:09.000000Z", UTC, "2026-11-24 14:05:09 UTC"),
        # The night the clocks go back in Berlin: the same wall time twice, told apart by the zone.
        ("2026-10-25T00:30:00Z", BERLIN, "2026-10-25 02:30:00 CEST"),
        ("2026-10-25T01:30:00Z", BERLIN, "2026-10-25 02:30:00 CET"),
        (None, BERLIN, ""),
        ("", BERLIN, ""),
    ],
)
def test_an_instant_is_shown_in_the_clinic_zone_with_the_zone_named(
    text: str | None, zone: ZoneInfo, shown: str
) -> None:
    assert instant_local_text(text, zone) == shown


def test_a_time_without_an_offset_is_refused_as_naming_no_instant() -> None:
    with pytest.raises(ValueError, match="offset"):
        instant_parse("2026-11-24T14:05:09")
