"""Recorded-style ORU^R01 messages of both vendors, with every quirk interop.md section 4
lists, for the tests and the simulated monitor (`ketaclinic monitors simulate`).

Synthetic: no real patient, device or site. Shaped on the GE B-series HL7 Reference Manual
(2062665-001, IHE PCD-01, MDC codes) and the Philips Efficia CM Data Export Guide (MDIL).
Each is a template: `{now}` the observation time, `{nibp}` the NIBP's own time (OBX-14),
`{control}` the message control id, `{device}` the EUI-64, `{facility}` MSH-4, and the values.
Segments are separated by <CR> as HL7 requires, except where a quirk says otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

GE_DEVICE = "00A0C8FFFE3C0001"
PHILIPS_DEVICE = "EFFICIA-CM12-0042"


def _msg(*segments: str) -> str:
    return "\r".join(segments) + "\r"


GE_PERIODIC = _msg(
    "MSH|^~\\&|GE_B125^{device}^EUI-64|{facility}|||{now}||ORU^R01^ORU_R01|{control}|P|2.6|||AL|NE"
    "||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO",
    "PID|||||^^^^^^U",
    "PV1||I|^^{bed}",
    "OBR|1|{control}^GE_B125^{device}^EUI-64|{control}^GE_B125^{device}^EUI-64"
    "|182777000^monitoring of patient^SNOMED-CT|||{now}",
    "OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X|||||||{device}^^{device}^EUI-64",
    "OBX|2|NM|147842^MDC_ECG_HEART_RATE^MDC|1.13.1.147842|{hr}|264864^MDC_DIM_BEAT_PER_MIN^MDC"
    "|50-120||||R|||{now}||||{device}^^{device}^EUI-64",
    "OBX|3|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.150456|{spo2}|262688^MDC_DIM_PERCENT^MDC"
    "|90-100||||R|||{now}||||{device}^^{device}^EUI-64",
    "OBX|4|NM|149530^MDC_PULS_OXIM_PULS_RATE^MDC|1.3.1.149530|{hr}|264864^MDC_DIM_BEAT_PER_MIN^MDC"
    "|||||R|||{now}||||{device}^^{device}^EUI-64",
    "OBX|5|NM|151562^MDC_RESP_RATE^MDC|1.5.1.151562|{rr}|264928^MDC_DIM_RESP_PER_MIN^MDC"
    "|||||R|||{now}||||{device}^^{device}^EUI-64",
    "OBX|6|NM|150301^MDC_PRESS_CUFF_SYS^MDC|1.3.1.150301|{sys}|266016^MDC_DIM_MMHG^MDC"
    "|||||R|||{nibp}|||APERIODIC|{device}^^{device}^EUI-64",
    "OBX|7|NM|150302^MDC_PRESS_CUFF_DIA^MDC|1.3.1.150302|{dia}|266016^MDC_DIM_MMHG^MDC"
    "|||||R|||{nibp}|||APERIODIC|{device}^^{device}^EUI-64",
    "OBX|8|NM|150303^MDC_PRESS_CUFF_MEAN^MDC|1.3.1.150303|{mean}|266016^MDC_DIM_MMHG^MDC"
    "|||||R|||{nibp}|||APERIODIC|{device}^^{device}^EUI-64",
    "OBX|9|NM|150344^MDC_TEMP^MDC|1.9.1.150344|36.8|268192^MDC_DIM_DEGC^MDC"
    "|||||R|||{now}||||{device}^^{device}^EUI-64",
)
"""A GE B125 periodic PCD-01 message: ECG HR, SpO2, pleth pulse, RR, the last NIBP with its
own time and APERIODIC, temperature; the MDS row with status X and no value."""

PHILIPS_PERIODIC = _msg(
    "MSH|^~\\&|Efficia CM12^{device}|{facility}||KETACLINIC|{now}||ORU^R01|{control}|P|2.4"
    "|||NE|NE||8859/1",
    "PID|||||Unbekannt^Müller",
    "PV1||I|^^{bed}",
    "OBR|1|||Monitoring^Patient monitoring|||{now}",
    "OBX|1|NM|0002-4182^HR^MDIL|0|{hr}|0004-0aa0^bpm^MDIL|||||R",
    "OBX|2|NM|0002-4bb8^SpO2^MDIL|0|{spo2}|0004-0220^%^MDIL|||||R",
    "OBX|3|NM|0002-480a^Pulse^MDIL|0|{hr}|0004-0aa0^bpm^MDIL|||||R",
    "OBX|4|NM|0002-5000^Resp^MDIL|0|{rr}|0004-0ae0^rpm^MDIL|||||R",
    "OBX|5|NM|0002-4a05^NBPs^MDIL|0|{sys}|0004-0f20^mmHg^MDIL|||||R|||{nibp}",
    "OBX|6|NM|0002-4a06^NBPd^MDIL|0|{dia}|0004-0f20^mmHg^MDIL|||||R|||{nibp}",
    "OBX|7|NM|0002-4a07^NBPm^MDIL|0|{mean}|0004-0f20^mmHg^MDIL|||||R|||{nibp}",
    "OBX|8|NM|0002-f0c7^T1^MDIL|0||0004-17a0^°C^MDIL|||||X",
    "OBX|9|TX|2^Yellow Alarm^MDIL-ALERT|0|**SpO2 Low||||||R",
)
"""A Philips Efficia CM LAN export: MDIL codes and units; T1 showing "?" (empty, status X);
an alarm as text (kept, not charted); a non-ASCII name (python-hl7 #54 with ascii)."""

QUIRK_SENTINELS = _msg(
    "MSH|^~\\&|GE_B125^{device}^EUI-64|{facility}|||{now}||ORU^R01^ORU_R01|{control}|P|2.6",
    "OBR|1|||182777000^monitoring of patient^SNOMED-CT|||{now}",
    "OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC|1.13.1.147842|-999|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R",
    "OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.150456|-100|262688^MDC_DIM_PERCENT^MDC|||||R",
    "OBX|3|NM|151562^MDC_RESP_RATE^MDC|1.5.1.151562|-1|264928^MDC_DIM_RESP_PER_MIN^MDC|||||R",
    "OBX|4|NM|150344^MDC_TEMP^MDC|1.9.1.150344|8388607|268192^MDC_DIM_DEGC^MDC|||||R",
    "OBX|5|NM|149530^MDC_PULS_OXIM_PULS_RATE^MDC|1.3.1.149530|-99.9|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R",
    "OBX|6|NM|150301^MDC_PRESS_CUFF_SYS^MDC|1.3.1.150301|{sys}|266016^MDC_DIM_MMHG^MDC|||||R|||{nibp}",
    "OBX|7|NM|150302^MDC_PRESS_CUFF_DIA^MDC|1.3.1.150302|{dia}|266016^MDC_DIM_MMHG^MDC|||||R|||{nibp}",
)
"""No-value sentinels -999, -100, -1, 8388607 (IEEE 11073 NaN), -99.9: none charted."""

QUIRK_VENDOR = _msg(
    "MSH|^~\\&|VENDOR_X^{device}^EUI-64|{facility}|||{now}||ORU^R01^ORU_R01|{control}|P|2.6",
    "OBR|1|||182777000^monitoring of patient^SNOMED-CT|||{now}",
    "OBX|1|NM|150031^MDC_PRESS_CUFF_SYS^MDC|1.3.1.150301|{sys}|266016^MDC_DIM_MMHG^MDC|||||R|||{nibp}|||APERIODIC",
    "OBX|2|NM|150302^MDC_PRESS_CUFF_DIA^MDC|1.3.1.150302|{dia}|mm[Hg]^mm[Hg]^UCUM|||||R|||{nibp}|||APERIODIC",
    "OBX|3|ST|147842^MDC_ECG_HEART_RATE^MDC|1.13.1.147842|{hr}|{{beats}}/min^{{beats}}/min^UCUM|||||R",
    "OBX|4|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.150456|{spo2}|%^%^UCUM|||||R",
    "OBX|5|NM|151562^MDC_RESP_RATE^MDC|1.5.1.151562|{rr}|264928^MDC_DIM_RESP_PER_MIN^MDC|||||R",
    "OBX|6|NM|150344^MDC_TEMP^MDC|1.9.1.150344|36.9|Cel^Cel^UCUM|||||R",
    "OBX|7|NM|150344^MDC_TEMP^MDC|1.9.2.150344|384.5|268192^MDC_DIM_DEGC^MDC|||||R",
)
"""A third vendor's quirks: 150031 in OBX-3 for systolic with OBX-4 ending 150301; OBX-2 ST
for a number; UCUM units (mm[Hg], {beats}/min, %, Cel); a second temperature channel in
tenths (384.5); NIBP with its own OBX-14 and APERIODIC."""

WAVEFORM = _msg(
    "MSH|^~\\&|GE_B125^{device}^EUI-64|{facility}|||{now}||ORU^W01^ORU_W01|{control}|P|2.6",
    "OBR|1|||182777000^monitoring of patient^SNOMED-CT|||{now}",
    "OBX|1|NA|131329^MDC_ECG_ELEC_POTL_I^MDC|1.1.1.1|1^2^3^4^5^6^7^8|266418^MDC_DIM_MILLI_VOLT^MDC|||||R",
)
"""ORU^W01 waveform: skipped (acknowledged, nothing charted)."""


@dataclass(frozen=True)
class Sample:
    name: str
    template: str
    device: str
    vendor: str


SAMPLES: Mapping[str, Sample] = {
    "ge": Sample("ge", GE_PERIODIC, GE_DEVICE, "GE"),
    "philips": Sample("philips", PHILIPS_PERIODIC, PHILIPS_DEVICE, "Philips"),
    "sentinels": Sample("sentinels", QUIRK_SENTINELS, GE_DEVICE, "GE"),
    "vendor": Sample("vendor", QUIRK_VENDOR, GE_DEVICE, "other"),
    "waveform": Sample("waveform", WAVEFORM, GE_DEVICE, "GE"),
}


def hl7_time(at: datetime) -> str:
    """HL7 DTM with seconds and offset (PCD-01 asks for the offset)."""
    return at.strftime("%Y%m%d%H%M%S%z")


def render(
    sample: Sample,
    *,
    now: datetime,
    nibp: datetime,
    control: str,
    facility: str = "KETACLINIC-DEMO",
    device: str = "",
    bed: str = "CHAIR-1",
    hr: int = 72,
    spo2: int = 97,
    rr: int = 14,
    sys: int = 118,
    dia: int = 76,
) -> str:
    """The sample as text with these values (segments separated by <CR>)."""
    return sample.template.format(
        now=hl7_time(now),
        nibp=hl7_time(nibp),
        control=control,
        facility=facility,
        device=device or sample.device,
        bed=bed,
        hr=hr,
        spo2=spo2,
        rr=rr,
        sys=sys,
        dia=dia,
        mean=(sys + 2 * dia) // 3,
    )
