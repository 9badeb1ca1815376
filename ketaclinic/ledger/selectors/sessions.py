"""A session's draws and whether its ketamine is accounted for, for signing the chart."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from django.db.models import OuterRef, Subquery, UUIDField

from ketaclinic.ledger.arithmetic import DrawState, reconcile_session
from ketaclinic.ledger.entries import ZERO, ml_text
from ketaclinic.ledger.models import Container, EntryKind, LedgerEntry
from ketaclinic.ledger.selectors.chain import (
    MG_TOLERANCE,
    ContainerLedger,
    container_ledger,
    containers_replayed,
    entry_ref,
    ml_quantize,
)
from ketaclinic.lib.compiled_read import CompiledRead, Slot


def administration_split(
    draws: Sequence[tuple[LedgerEntry, DrawState]], mg: Decimal
) -> tuple[list[tuple[LedgerEntry, Decimal]], Decimal]:
    """Split an administered dose over a session's open draws, in the order drawn.

    Returns (draw row, mL) pairs and the milligrams that did not fit in any draw.
    """
    remaining = mg
    split: list[tuple[LedgerEntry, Decimal]] = []
    for row, draw in draws:
        if remaining <= ZERO:
            break
        open_ml = draw.open_ml
        if open_ml <= ZERO:
            continue
        need_ml = ml_quantize(remaining / draw.mg_per_ml)
        take = min(need_ml, open_ml)
        split.append((row, take))
        remaining = remaining - take * draw.mg_per_ml
        if take == need_ml:
            remaining = ZERO
    return split, max(remaining, ZERO)


def session_draws(session: Any) -> list[tuple[LedgerEntry, DrawState, ContainerLedger]]:
    """The session's draws, in the order drawn, each with its replayed state. One query: the
    whole history of each container the session drew from (its draws among them)."""
    drawn_from = LedgerEntry.objects.filter(session=session, kind=EntryKind.DRAW).values(
        "container_id"
    )
    by_container: dict[int, list[LedgerEntry]] = {}
    draws: list[LedgerEntry] = []
    for row in (
        LedgerEntry.objects.filter(container_id__in=drawn_from)
        .select_related("container")
        .order_by("seq")
    ):
        by_container.setdefault(row.container_id, []).append(row)
        if row.kind == EntryKind.DRAW and row.session_id == session.pk:
            draws.append(row)
    ledgers: dict[int, ContainerLedger] = {}
    result = []
    for row in draws:
        if row.container_id not in ledgers:
            ledgers[row.container_id] = container_ledger(
                row.container, by_container[row.container_id]
            )
        ledger = ledgers[row.container_id]
        result.append((row, ledger.draw_state(row), ledger))
    return result


class SessionDrawState(NamedTuple):
    container_id: int
    lot: str
    state: DrawState


# Each container's draws, replayed, kept per process by the chain hash of the container's last
# entry (as ``pages._STATES``): entries are append-only and a container's row never changes, so
# the same last entry means the same draws' states. A chart view then replays a vial only when
# it was written to since (a vial's ~100 entries, ~3 ms, on every view before). Bounded: cleared
# past ``_DRAWS_KEPT`` containers.
_DRAWS: dict[int, tuple[str, Mapping[str, DrawState]]] = {}
_DRAWS_KEPT = 2000

# The session's draws with their container's lot and last entry's hash, compiled once per
# process (lib/compiled_read.py: building this queryset cost more than running it).
_SESSION_DRAWS = CompiledRead(
    lambda: (
        LedgerEntry.objects.filter(session_id=Slot("session", UUIDField()), kind=EntryKind.DRAW)
        .order_by("seq")
        .annotate(
            last_hash=Subquery(
                LedgerEntry.objects.filter(container_id=OuterRef("container_id"))
                .order_by("-seq")
                .values("hash")[:1]
            )
        )
        .values("container_id", "container__lot", "seq", "last_hash")
    )
)


def session_draw_states(session: Any) -> list[SessionDrawState]:
    """The session's draws, in the order drawn, each with its container's lot and its state
    replayed from the container's entries (as ``session_draws``, without the rows): one query
    when no container drawn from was written to since this process last replayed it, two more
    otherwise."""
    draws = [
        (row["container_id"], row["container__lot"], row["seq"], row["last_hash"])
        for row in _SESSION_DRAWS.dicts(session=session.pk)
    ]
    states: dict[int, Mapping[str, DrawState]] = {}
    stale: set[int] = set()
    for container_id, _, _, hash_ in draws:
        kept = _DRAWS.get(container_id)  # one read: another thread may clear the dict meanwhile
        if kept is not None and kept[0] == hash_:
            states[container_id] = kept[1]
        else:
            stale.add(container_id)
    if stale:
        containers = {c.pk: c for c in Container.objects.filter(pk__in=stale)}
        ledgers = containers_replayed(containers, stale)
        if len(_DRAWS) + len(stale) > _DRAWS_KEPT:
            _DRAWS.clear()
        for pk, ledger in ledgers.items():
            states[pk] = ledger.state.draws
            # keyed by the last entry replayed (a later entry than the first query saw is
            # replayed too, and then kept under its own hash)
            _DRAWS[pk] = (ledger.rows[-1].hash, states[pk])
    return [
        SessionDrawState(container_id, lot, states[container_id][entry_ref(seq)])
        for container_id, lot, seq, _ in draws
    ]


def _mg_text(value: Decimal) -> str:
    # Read by people at signing: 32 mg, 36.3 mg (the database hands back 32.0000).
    return f"{value.quantize(Decimal('0.001')).normalize():f} mg"


def session_ledger_problems(session: Any) -> list[str]:
    """Why the session may not be signed as far as the ledger is concerned (empty: it may).

    * ketamine charted as given (`administered_mg`) but never drawn from the ledger;
    * draws but no administered dose charted;
    * the ledger's recorded administrations differ from the chart;
    * a draw whose administered + wasted (+ broken or lost) differs from what was drawn.
    """
    charted: Decimal | None = getattr(session, "administered_mg", None)
    draws = session_draws(session)
    if not draws:
        if charted is not None and charted > ZERO:
            return [
                f"Ketamine is charted as given ({_mg_text(charted)}) but no draw from the "
                "ledger is recorded for this session (0 mg drawn)."
            ]
        return []
    problems: list[str] = []
    if charted is None:
        problems.append(
            "Ketamine was drawn from the ledger for this session but no administered dose is "
            "charted."
        )
        charted = ZERO
    recorded_mg = sum((draw.administered_mg for _, draw, _ in draws), ZERO)
    extra_ml: dict[int, Decimal] = {}
    if recorded_mg == ZERO and charted > ZERO:
        # Not yet recorded in the ledger: check the split the chart would record.
        split, unplaced = administration_split([(r, d) for r, d, _ in draws], charted)
        extra_ml = {row.pk: ml for row, ml in split}
        if unplaced > MG_TOLERANCE:
            drawn_mg = sum((d.drawn * d.mg_per_ml for _, d, _ in draws), ZERO)
            problems.append(
                f"The chart says {_mg_text(charted)} was given but only {_mg_text(drawn_mg)} "
                "was drawn from the ledger for this session."
            )
    else:
        for mismatch in reconcile_session(
            {str(session.pk): charted},
            [d for _, d, _ in draws],
            tolerance_mg=MG_TOLERANCE,
        ):
            problems.append(
                f"The chart says {_mg_text(charted)} was given; the ledger records "
                f"{_mg_text(mismatch.ledger_mg)} administered. Record the administration again "
                "or correct it."
            )
    for row, draw, ledger in draws:
        administered = draw.administered + extra_ml.get(row.pk, ZERO)
        open_ml = draw.drawn - administered - draw.wasted - draw.broken - draw.lost
        if open_ml != ZERO:
            problems.append(
                f"Draw {entry_ref(row.seq)} from container {ledger.container.pk}: drawn "
                f"{ml_text(draw.drawn)}, administered {ml_text(administered)}, wasted "
                f"{ml_text(draw.wasted)}; "
                + (
                    f"{ml_text(open_ml)} is not accounted for (record its waste)."
                    if open_ml > ZERO
                    else f"{ml_text(-open_ml)} more is accounted for than was drawn."
                )
            )
    return problems
