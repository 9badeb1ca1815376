"""Infusion protocols: typed definitions and the shipped defaults (JSON, every number sourced)."""

from __future__ import annotations

from ketaclinic.infusions.protocols.definitions import (
    Action,
    Comparator,
    DischargeGate,
    DoseBasis,
    DoseInputLimits,
    DosingParams,
    MonitoringRules,
    Note,
    Phase,
    PhaseRule,
    Preparation,
    Protocol,
    Range,
    RateVolume,
    Rounding,
    Route,
    Sourced,
    Threshold,
    VitalField,
)
from ketaclinic.infusions.protocols.loader import (
    ProtocolDataError,
    protocol_from_dict,
    protocol_from_json,
    shipped_protocol,
    shipped_protocols,
)

IV_RACEMIC_0_5_MG_KG_40_MIN = "iv-racemic-ketamine-0.5-mg-kg-40-min"
INTRANASAL_ESKETAMINE_56_MG = "intranasal-esketamine-56-mg"
SC_RACEMIC_GLUE = "sc-racemic-ketamine-glue-ascending"

__all__ = [
    "INTRANASAL_ESKETAMINE_56_MG",
    "IV_RACEMIC_0_5_MG_KG_40_MIN",
    "SC_RACEMIC_GLUE",
    "Action",
    "Comparator",
    "DischargeGate",
    "DoseBasis",
    "DoseInputLimits",
    "DosingParams",
    "MonitoringRules",
    "Note",
    "Phase",
    "PhaseRule",
    "Preparation",
    "Protocol",
    "ProtocolDataError",
    "Range",
    "RateVolume",
    "Rounding",
    "Route",
    "Sourced",
    "Threshold",
    "VitalField",
    "protocol_from_dict",
    "protocol_from_json",
    "shipped_protocol",
    "shipped_protocols",
]
