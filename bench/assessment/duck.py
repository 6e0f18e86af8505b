"""DuckDB's side of the assessment bench: the same events as Parquet, the same department totals
in SQL, timed; then every total compared with the one core computed (totals.csv).

    python3 bench/assessment/duck.py DIR      # DIR as written by `assessment-bench gen` and `run`

The rules are the bench's scheme (`rules()` in src/main.rs), in hundredths of a point: a serious
finding or a media exposure vetoes; each indicator's count times its points, capped; each rate
below its target deducts per point short, capped, from its smallest sample on; the total never
below 0. What counts is what core counts: findings not withdrawn or overturned, their bulletin
exposures once per scope, ratings whose last review counts them and never overturned.
"""

import os
import sys
import time

import duckdb

TOTALS = """
WITH e AS (SELECT * FROM read_parquet($events)),
dropped AS (SELECT DISTINCT aggregate_id AS id FROM e WHERE kind IN ('finding.overturned', 'finding.withdrawn')),
f AS (
    SELECT aggregate_id AS id, department_id AS d, a AS sev FROM e
    WHERE kind = 'finding.confirmed' AND aggregate_id NOT IN (SELECT id FROM dropped)
),
expo AS (SELECT DISTINCT f.d, f.id, e.a AS scope FROM e JOIN f ON e.kind = 'bulletin.published' AND e.b = f.id),
rv AS (
    SELECT aggregate_id AS id,
        max(department_id) FILTER (WHERE kind = 'rating.given') AS d,
        max(a) FILTER (WHERE kind = 'rating.given') AS good,
        bool_or(kind = 'rating.overturned') AS overturned,
        arg_max(CASE kind WHEN 'rating.given' THEN 1 - b WHEN 'rating.released' THEN 1 ELSE 0 END, seq)
            FILTER (WHERE kind <> 'rating.overturned') AS counted
    FROM e WHERE kind LIKE 'rating.%' GROUP BY aggregate_id
),
r AS (SELECT d, good FROM rv WHERE counted = 1 AND NOT overturned),
facts AS (
    SELECT d, CASE sev WHEN 0 THEN 'minor' WHEN 1 THEN 'general' ELSE 'serious' END AS ind FROM f
    UNION ALL SELECT d, CASE scope WHEN 0 THEN 'internal' WHEN 1 THEN 'public' ELSE 'media' END FROM expo
    UNION ALL SELECT department_id, kind FROM e
        WHERE kind IN ('order.overdue', 'ticket.overdue', 'case.yellow_card', 'case.red_card', 'inquiry.lapse_upheld')
    UNION ALL SELECT d, 'bad' FROM r WHERE good = 0
),
rules(ind, each, cap) AS (VALUES
    ('general', 200, 1000), ('minor', 50, 500), ('public', 100, 300), ('internal', 50, 200),
    ('order.overdue', 300, 600), ('case.yellow_card', 20, 200), ('case.red_card', 100, 500),
    ('ticket.overdue', 100, 500), ('bad', 10, 300), ('inquiry.lapse_upheld', 100, 300)
),
ded AS (
    SELECT d, sum(least(n * each, cap)) AS pts
    FROM (SELECT d, ind, count(*) AS n FROM facts GROUP BY d, ind) JOIN rules USING (ind) GROUP BY d
),
veto AS (SELECT DISTINCT d FROM facts WHERE ind IN ('serious', 'media')),
rates AS (
    SELECT d, count(*) FILTER (WHERE good = 1) AS good, count(*) AS total, 9500 AS target, 100 AS per, 500 AS cap, 30 AS smallest
    FROM r GROUP BY d
    UNION ALL SELECT department_id, count(*) FILTER (WHERE a = 1), count(*), 9800, 100, 500, 30
    FROM e WHERE kind = 'case.completed' GROUP BY department_id
    UNION ALL SELECT department_id, count(*) FILTER (WHERE a = 1), count(*), 9000, 50, 300, 10
    FROM e WHERE kind = 'ticket.called_back' GROUP BY department_id
),
rate_ded AS (
    SELECT d, sum(CASE WHEN total >= smallest
        THEN least(cap, (greatest(target - (good * 10000) // total, 0) * per + 50) // 100) ELSE 0 END) AS pts
    FROM rates GROUP BY d
),
depts AS (SELECT id AS d FROM read_csv($org, header = false, columns = {'k': 'VARCHAR', 'id': 'BIGINT', 'g': 'VARCHAR', 'dept': 'BIGINT'}) WHERE k = 'd')
SELECT d, CASE WHEN d IN (SELECT d FROM veto) THEN NULL
    ELSE greatest(10000 - coalesce(ded.pts, 0) - coalesce(rate_ded.pts, 0), 0) END AS total
FROM depts LEFT JOIN ded USING (d) LEFT JOIN rate_ded USING (d) ORDER BY d
"""


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    folder = sys.argv[1]
    events = os.path.join(folder, "events.parquet")
    con = duckdb.connect()
    con.execute("SET threads = 2")
    if not os.path.exists(events):
        con.execute(
            "COPY (SELECT * FROM read_csv($csv, header = true, columns = {'seq': 'BIGINT', 'kind': 'VARCHAR', "
            "'aggregate_id': 'BIGINT', 'department_id': 'BIGINT', 'person_id': 'BIGINT', 'at': 'BIGINT', "
            "'a': 'BIGINT', 'b': 'BIGINT'})) TO '" + events.replace("'", "''") + "' (FORMAT PARQUET)",
            {"csv": os.path.join(folder, "events.csv")},
        )
    args = {"events": events, "org": os.path.join(folder, "org.csv")}
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        rows = con.execute(TOTALS, args).fetchall()
        runs.append(time.perf_counter() - started)
    ours = {}
    with open(os.path.join(folder, "totals.csv")) as f:
        next(f)
        for line in f:
            d, total = line.strip().split(",")
            ours[int(d)] = None if total == "veto" else int(total)
    theirs = {d: total for d, total in rows}
    differ = [d for d in theirs if theirs[d] != ours.get(d, "missing")]
    print(f"duckdb_departments {len(rows)}")
    print(f"duckdb_totals_s_median {sorted(runs)[1]:.2f}  (runs: {', '.join(f'{r:.2f}' for r in runs)})")
    print(f"totals_differing {len(differ)}" + (f"  e.g. {differ[:5]}: duckdb {[theirs[d] for d in differ[:5]]}, core {[ours.get(d) for d in differ[:5]]}" if differ else ""))
    sys.exit(1 if differ or len(ours) != len(theirs) else 0)


main()
