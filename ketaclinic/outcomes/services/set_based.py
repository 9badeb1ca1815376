"""The recompute on PostgreSQL, set-based: every course's outcome rows computed by the database
in a few statements (window functions and grouped joins over all courses at once), instead of
streaming each patient's rows through Python.

It computes exactly what the pure rules compute (``outcomes.rules.course``), and the rules stay
the reference: ``tests/test_set_based.py`` runs both on the same cohorts (ties at every threshold,
missing baselines, one score, lost response, two courses) and compares every row and column.
Every threshold comes from the definitions passed in (JSON parameters), never from this text.

Steps, each one statement over all courses:
1. ``oc_infusion``: every infusion given, numbered in its course, with the window its scores
   fall in (to the next infusion, or 14 days after the last);
   ``oc_course``: courses with an infusion given, their first and last infusion and the disorder
   of the patient's latest evaluation (the first diagnosis, in the order listed, that matches a
   disorder's ICD-10-CM prefix, as ``OutcomeDefinitions.disorder_of``).
2. ``oc_cm``: the measures each course is counted on (GAD-7 and PHQ-9, the disorder's own, and
   any other defined measure the patient has scores for), with the baseline (the last score in
   the window before the first infusion).
3. ``oc_score``: the scores from the first infusion on, with the infusion window each falls in
   and whether it meets response; then the course outcome rows and the timepoint rows.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.db import connection

from ketaclinic.courses.models import Course, Protocol
from ketaclinic.eligibility.models import Evaluation
from ketaclinic.infusions.models import Session
from ketaclinic.outcomes.models import CourseOutcome, DirtyPatient, Timepoint, TimepointResult
from ketaclinic.outcomes.rules.course import LAST_INFUSION_DAYS, Status
from ketaclinic.outcomes.rules.definitions import OutcomeDefinitions
from ketaclinic.scales.models import Administration


def _parameters(
    defs: OutcomeDefinitions, core: tuple[str, ...], given: tuple[str, ...]
) -> dict[str, Any]:
    measures = [
        {
            "code": m.code,
            "pct": m.response_fall_percent,
            "remit": m.remission_at_most,
            "caseness": m.caseness_at_least,
            "rc": m.reliable_change_points,
            "jt": None if m.jacobson_truax is None else m.jacobson_truax.points,
        }
        for m in defs.measures.values()
    ]
    prefixes = [
        {"disorder": d.code, "d_ord": i, "p_ord": j, "prefix": p.replace(".", "").upper()}
        for i, d in enumerate(defs.disorders.values())
        for j, p in enumerate(d.icd10_prefixes)
    ]
    specific = [
        {"disorder": d.code, "measure": m}
        for d in defs.disorders.values()
        for m in d.specific_measures
    ]
    follow_ups = [
        {"code": f.code, "days_from": f.days_from, "days_to": f.days_to, "anchor": f.anchor}
        for f in defs.follow_ups
    ]
    return {
        "measures": json.dumps(measures),
        "prefixes": json.dumps(prefixes),
        "specific": json.dumps(specific),
        "follow_ups": json.dumps(follow_ups),
        "core": list(core),
        "given": list(given),
        "window": defs.baseline_window_days,
        "last_days": LAST_INFUSION_DAYS,
    }


def _tables() -> dict[str, str]:
    return {
        "session": Session._meta.db_table,
        "course": Course._meta.db_table,
        "protocol": Protocol._meta.db_table,
        "evaluation": Evaluation._meta.db_table,
        "administration": Administration._meta.db_table,
        "outcome": CourseOutcome._meta.db_table,
        "timepoint": TimepointResult._meta.db_table,
        "dirty": DirtyPatient._meta.db_table,
    }


# Only the courses of the patients in ``oc_scope`` (the drained dirty patients).
SCOPE = """
CREATE TEMP TABLE oc_scope ON COMMIT DROP AS
WITH drained AS (DELETE FROM {dirty} RETURNING patient_id)
SELECT DISTINCT patient_id FROM drained
"""
SCOPED = {
    "scope_sessions": """
  AND s.course_id IN (
      SELECT id FROM {course} WHERE patient_id IN (SELECT patient_id FROM oc_scope))""",
    "scope_scores": " AND patient_id IN (SELECT patient_id FROM oc_scope)",
}
UNSCOPED = {"scope_sessions": "", "scope_scores": ""}


INFUSIONS = """
CREATE TEMP TABLE oc_infusion ON COMMIT DROP AS
SELECT s.course_id, row_number() OVER w AS n, s.start,
       coalesce(lead(s.start) OVER w, s.start + make_interval(days => %(last_days)s)) AS until
FROM {session} s
WHERE s.status = ANY(%(given)s){scope_sessions}
WINDOW w AS (PARTITION BY s.course_id ORDER BY s.start, s.id)
"""

COURSES = """
CREATE TEMP TABLE oc_course ON COMMIT DROP AS
WITH given AS (
    SELECT i.course_id, c.patient_id, p.code AS protocol_code, p.route, c.started_by_id,
           i.first_at, i.last_at, i.n_given
    FROM (
        SELECT course_id, MIN(start) AS first_at, MAX(start) AS last_at, COUNT(*) AS n_given
        FROM oc_infusion GROUP BY course_id
    ) i
    JOIN {course} c ON c.id = i.course_id JOIN {protocol} p ON p.id = c.protocol_id
), latest AS (
    SELECT DISTINCT ON (e.patient_id) e.patient_id, e.input_json -> 'diagnoses' AS diagnoses
    FROM {evaluation} e WHERE e.patient_id IN (SELECT patient_id FROM given)
    ORDER BY e.patient_id, e.created_at DESC, e.id DESC
), disorder AS (
    SELECT DISTINCT ON (l.patient_id) l.patient_id, p.disorder
    FROM latest l
    CROSS JOIN LATERAL jsonb_array_elements_text(
        CASE WHEN jsonb_typeof(l.diagnoses) = 'array' THEN l.diagnoses ELSE '[]'::jsonb END
    ) WITH ORDINALITY AS d(code, ord)
    JOIN jsonb_to_recordset(%(prefixes)s::jsonb)
        AS p(disorder text, d_ord int, p_ord int, prefix text)
        ON starts_with(replace(upper(d.code), '.', ''), p.prefix)
    ORDER BY l.patient_id, d.ord, p.d_ord, p.p_ord
)
SELECT g.*, coalesce(d.disorder, '') AS disorder
FROM given g LEFT JOIN disorder d ON d.patient_id = g.patient_id
"""

MEASURES = """
CREATE TEMP TABLE oc_cm ON COMMIT DROP AS
WITH m AS (
    SELECT * FROM jsonb_to_recordset(%(measures)s::jsonb)
        AS m(code text, pct int, remit int, caseness int, rc int, jt float8)
), wanted AS (
    SELECT c.course_id, x.measure
    FROM oc_course c CROSS JOIN unnest(%(core)s::text[]) AS x(measure)
    UNION
    SELECT c.course_id, s.measure
    FROM oc_course c JOIN jsonb_to_recordset(%(specific)s::jsonb) AS s(disorder text, measure text)
        ON s.disorder = c.disorder
    UNION
    SELECT c.course_id, a.instrument
    FROM oc_course c JOIN (
        SELECT DISTINCT patient_id, instrument FROM {administration}
        WHERE total IS NOT NULL AND instrument <> ALL(%(core)s::text[])
          AND instrument IN (SELECT code FROM m){scope_scores}
    ) a ON a.patient_id = c.patient_id
)
SELECT w.course_id, w.measure, c.patient_id, c.first_at, c.last_at,
       m.pct, m.remit, m.caseness, m.rc, m.jt, b.total AS baseline, b.administered_at AS baseline_at
FROM wanted w JOIN oc_course c ON c.course_id = w.course_id JOIN m ON m.code = w.measure
LEFT JOIN LATERAL (
    SELECT a.total, a.administered_at FROM {administration} a
    WHERE a.patient_id = c.patient_id AND a.instrument = w.measure AND a.total IS NOT NULL
      AND a.administered_at < c.first_at
      AND a.administered_at >= c.first_at - make_interval(days => %(window)s)
    ORDER BY a.administered_at DESC, a.id DESC LIMIT 1
) b ON true
"""

SCORES = """
CREATE TEMP TABLE oc_score ON COMMIT DROP AS
SELECT x.*,
       x.infusion IS NOT NULL AND row_number() OVER (
           PARTITION BY x.course_id, x.measure, x.infusion ORDER BY x.at DESC, x.aid DESC
       ) = 1 AS last_in_window,
       row_number() OVER latest = 1 AS is_latest,
       min(x.at) FILTER (WHERE x.responded) OVER latest_all AS response_at
FROM (
    SELECT cm.course_id, cm.measure, a.administered_at AS at, a.id AS aid, a.total AS score,
           i.n AS infusion,
           cm.baseline > 0 AND (cm.baseline - a.total) * 100 >= cm.pct * cm.baseline AS responded
    FROM oc_cm cm
    JOIN {administration} a ON a.patient_id = cm.patient_id AND a.instrument = cm.measure
        AND a.total IS NOT NULL AND a.administered_at >= cm.first_at
    LEFT JOIN oc_infusion i ON i.course_id = cm.course_id
        AND a.administered_at >= i.start AND a.administered_at < i.until
) x
WINDOW latest AS (PARTITION BY x.course_id, x.measure ORDER BY x.at DESC, x.aid DESC),
       latest_all AS (latest ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
"""

# The judgement of one score against the baseline (``rules.course.assess``), as columns.
ASSESS = """
    s.score,
    CASE WHEN cm.baseline IS NULL OR cm.baseline = 0 THEN NULL
         ELSE round(((cm.baseline - s.score) * 100)::float8 / cm.baseline * 10) / 10 END,
    cm.baseline IS NOT NULL,
    CASE WHEN cm.baseline IS NULL THEN NULL
         ELSE cm.baseline > 0 AND (cm.baseline - s.score) * 100 >= cm.pct * cm.baseline END,
    CASE WHEN cm.baseline IS NULL THEN NULL ELSE s.score <= cm.remit END,
    CASE WHEN cm.baseline IS NULL OR cm.rc IS NULL THEN NULL
         ELSE cm.baseline - s.score >= cm.rc END,
    CASE WHEN cm.baseline IS NULL OR cm.rc IS NULL THEN NULL
         ELSE s.score - cm.baseline >= cm.rc END,
    CASE WHEN cm.baseline IS NULL OR cm.caseness IS NULL THEN NULL
         ELSE cm.baseline >= cm.caseness AND s.score < cm.caseness END,
    CASE WHEN cm.baseline IS NULL OR cm.caseness IS NULL THEN NULL
         WHEN cm.rc IS NOT NULL
             THEN cm.baseline >= cm.caseness AND s.score < cm.caseness
                  AND cm.baseline - s.score >= cm.rc
         WHEN cm.jt IS NOT NULL
             THEN cm.baseline >= cm.caseness AND s.score < cm.caseness
                  AND (cm.baseline - s.score) >= cm.jt
         ELSE NULL END
"""

OUTCOMES = """
INSERT INTO {outcome} (
    course_id, patient_id, measure, disorder, protocol_code, route, clinician_id,
    first_infusion_at, infusions_given, baseline, baseline_at, status, response_infusion,
    response_days, durability_days, durability_event, definitions_label, computed_at)
WITH summary AS (
    SELECT course_id, measure,
           min(response_at) AS response_at,
           min(at) FILTER (WHERE NOT responded AND at > response_at) AS lost_at,
           max(at) AS last_at,
           min(infusion) FILTER (WHERE responded AND last_in_window) AS response_infusion,
           bool_or(responded) FILTER (WHERE is_latest) AS latest_responded,
           min(score) FILTER (WHERE is_latest) AS latest_score
    FROM oc_score
    GROUP BY course_id, measure
)
SELECT cm.course_id, cm.patient_id, cm.measure, c.disorder, c.protocol_code, c.route,
       c.started_by_id, c.first_at, c.n_given, cm.baseline, cm.baseline_at,
       CASE WHEN cm.baseline IS NULL THEN %(no_baseline)s
            WHEN su.latest_score IS NULL THEN %(no_score_yet)s
            WHEN su.latest_responded AND su.latest_score <= cm.remit THEN %(remitted)s
            WHEN su.latest_responded THEN %(responding)s
            WHEN su.response_at IS NOT NULL THEN %(lost_response)s
            ELSE %(not_yet)s END,
       CASE WHEN cm.baseline IS NULL THEN NULL ELSE su.response_infusion END,
       CASE WHEN cm.baseline IS NULL THEN NULL
            ELSE floor(extract(epoch FROM su.response_at - c.first_at) / 86400)::int END,
       CASE WHEN cm.baseline IS NULL OR su.response_at IS NULL THEN NULL
            ELSE floor(extract(epoch FROM coalesce(su.lost_at, su.last_at) - su.response_at)
                       / 86400)::int END,
       cm.baseline IS NOT NULL AND su.lost_at IS NOT NULL,
       %(label)s, %(now)s
FROM oc_cm cm JOIN oc_course c ON c.course_id = cm.course_id
LEFT JOIN summary su ON su.course_id = cm.course_id AND su.measure = cm.measure
"""

TIMEPOINTS = """
INSERT INTO {timepoint} (
    outcome_id, timepoint, infusion_number, score, percent_fall, has_baseline, responded,
    remitted, reliable_improvement, reliable_deterioration, recovered, reliable_recovery)
WITH picked AS (
    SELECT course_id, measure, %(infusion)s AS timepoint, infusion AS number, at, aid, score
    FROM oc_score WHERE last_in_window
), follow_up AS (
    SELECT DISTINCT ON (s.course_id, s.measure, f.code)
        s.course_id, s.measure, f.code AS timepoint, 0 AS number, s.at, s.aid, s.score
    FROM oc_score s JOIN oc_cm cm ON cm.course_id = s.course_id AND cm.measure = s.measure
    CROSS JOIN jsonb_to_recordset(%(follow_ups)s::jsonb)
        AS f(code text, days_from int, days_to int, anchor text)
    WHERE cm.baseline IS NOT NULL
      AND s.at >= CASE WHEN f.anchor = 'first_infusion' THEN cm.first_at ELSE cm.last_at END
                  + make_interval(days => f.days_from)
      AND s.at < CASE WHEN f.anchor = 'first_infusion' THEN cm.first_at ELSE cm.last_at END
                  + make_interval(days => f.days_to + 1)
    ORDER BY s.course_id, s.measure, f.code, s.at DESC, s.aid DESC
), latest AS (
    SELECT s.course_id, s.measure, %(latest)s AS timepoint, 0 AS number, s.at, s.aid, s.score
    FROM oc_score s WHERE s.is_latest AND s.responded IS NOT NULL
), every AS (
    SELECT * FROM picked UNION ALL SELECT * FROM follow_up UNION ALL SELECT * FROM latest
)
SELECT o.id, s.timepoint, s.number, {assess}
FROM every s
JOIN oc_cm cm ON cm.course_id = s.course_id AND cm.measure = s.measure
JOIN {outcome} o ON o.course_id = s.course_id AND o.measure = s.measure
"""

# Sort and hash memory for this transaction's statements: the windows and groups over every
# score (about 1.7 million rows at 100,000 patients) spill to disk at PostgreSQL's default 4 MB.
# Server memory, for the length of the recompute; nothing of it comes into Python.
WORK_MEM = "256MB"


def refresh_set_based(
    defs: OutcomeDefinitions,
    *,
    now: datetime,
    core: tuple[str, ...],
    given: tuple[str, ...],
    changed_only: bool = False,
) -> tuple[int, int]:
    """Replace the outcome rows; returns (courses, course outcome rows). Every course's, or with
    ``changed_only`` those of the patients marked dirty (drained in this transaction). The dirty
    marks go either way: the rows written here are computed from every committed source row.
    With ``changed_only`` the drained patients stay in the temporary table ``oc_scope`` for the
    caller (the safety rows are recomputed for the same patients), who drops it.
    PostgreSQL only; the caller holds the transaction (the temporary tables go with it)."""
    tables = _tables()
    params = (
        _parameters(defs, core, given)
        | {
            "label": defs.label,
            "now": now,
            "infusion": Timepoint.INFUSION.value,
            "latest": Timepoint.LATEST.value,
        }
        | {status.name.lower(): status.value for status in Status}
    )
    scope = {k: v.format(**tables) for k, v in (SCOPED if changed_only else UNSCOPED).items()}
    outcome, timepoint = tables["outcome"], tables["timepoint"]
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        if changed_only:
            cursor.execute(SCOPE.format(**tables))
            cursor.execute(
                f"DELETE FROM {timepoint} t USING {outcome} o WHERE o.id = t.outcome_id"  # noqa: S608  table names from models
                " AND o.patient_id IN (SELECT patient_id FROM oc_scope)"
            )
            cursor.execute(
                f"DELETE FROM {outcome} WHERE patient_id IN (SELECT patient_id FROM oc_scope)"  # noqa: S608
            )
        else:
            cursor.execute(f"DELETE FROM {tables['dirty']}")  # noqa: S608
            cursor.execute(f"DELETE FROM {timepoint}")  # noqa: S608
            cursor.execute(f"DELETE FROM {outcome}")  # noqa: S608
        for statement in (INFUSIONS, COURSES, MEASURES):
            cursor.execute(statement.format(**tables, **scope), params)
        cursor.execute("CREATE INDEX ON oc_infusion (course_id)")
        cursor.execute("ANALYZE oc_course; ANALYZE oc_infusion; ANALYZE oc_cm")
        cursor.execute(SCORES.format(**tables), params)
        cursor.execute("ANALYZE oc_score")
        cursor.execute(OUTCOMES.format(**tables), params)
        outcomes = cursor.rowcount
        cursor.execute(TIMEPOINTS.format(assess=ASSESS, **tables), params)
        cursor.execute("SELECT count(*) FROM oc_course")
        row = cursor.fetchone()
        courses = int(row[0]) if row else 0
        for table in ("oc_score", "oc_cm", "oc_infusion", "oc_course"):
            cursor.execute(f"DROP TABLE {table}")
    return courses, outcomes
