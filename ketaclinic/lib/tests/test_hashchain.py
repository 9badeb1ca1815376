"""`chain_text_before`: the text the database finishes an audit hash from."""

from __future__ import annotations

from typing import Any

import pytest

from ketaclinic.lib.hashchain import GENESIS_HASH, chain_hash, chain_text_before, sha256_hex

PAYLOADS: list[dict[str, Any]] = [
    {},
    {"action": "C", "actor": 7, "at": "2026-01-05T09:30:00.000000Z", "patient_id": None},
    {"object_id": 'Zoë "quoted" \\ back', "request_id": "r-1", "client_address": "::1"},
]


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("seq", [1, 9, 10, 1234567890123])
def test_the_text_before_seq_finished_with_seq_gives_the_chain_hash(
    payload: dict[str, Any], seq: int
) -> None:
    prev = sha256_hex("previous")
    finished = sha256_hex(prev + "\n" + chain_text_before(payload, "seq") + str(seq) + "}")
    assert finished == chain_hash(prev, payload | {"seq": seq})
    assert chain_hash(GENESIS_HASH, payload | {"seq": seq}) == sha256_hex(
        GENESIS_HASH + "\n" + chain_text_before(payload, "seq") + f"{seq}}}"
    )


def test_a_key_that_does_not_sort_last_is_refused() -> None:
    with pytest.raises(ValueError, match="sort after"):
        chain_text_before({"zone": 1}, "seq")
