"""Every rater's trust at once, set-based (PostgreSQL): the figures `trust._trust_figures`
computes for one rater, for all of them in a few statements instead of a loop.

Same inputs, same results (tests/ratings/test_trust_batch.py compares the two): each
rater's latest 1000 live votes; gold pairs and control images answered; agreement with the
strict majority of the other counted raters' live votes on the same pair; the side-taking
observations; the median seconds of the latest 200 timed arena votes; what registered
`trust_batch_sources` add. One snapshot of everyone's trust is read first, so every
rater is judged against the same crowd (the one-by-one loop let a rater recomputed early
change the crowd of one recomputed later).

How: what one vote adds to its rater's figures depends only on the vote, its pair's check
item and the counted crowd's votes on that pair. Those parts are stored per vote
(TrustVoteFigures); a run recomputes the parts of the pairs whose crowd can have changed and
then sums the stored parts of the raters whose figures can have changed. A full run does that
for every pair and rater; given `since` (ratings.services.trust_runs decides), only the pairs
with votes made or undone since then or a voter who joined or left the crowd (`_PAIRS_CHANGED`),
and the raters on those pairs (`_CHANGED`). Every statement after that reads the raters to
recompute from the temporary table `trust_scope`, and so do the registered sources.

The scores, flags and exclusions are written by one UPDATE; the staff override is read in
that same statement, so an override set meanwhile is never undone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from scipy import stats

from ..models import RaterTrust
from . import trust

# Apps above ratings register a function here (as with trust.trust_sources) taking `since`
# (None: a full run) that returns {user id: CheckTally} for every rater in the temporary table
# trust_scope(user_id), refreshing whatever it stores per rating first.
trust_batch_sources: list[Callable[[dt.datetime | None], dict]] = []
# ... and the SQL of the raters whose figures their data may have changed since %(since)s:
# new ratings, and ratings beside those of a rater who joined or left the crowd since
# (temporary table trust_flipped(user_id)).
trust_changed_sources: list[str] = []

_TABLES = (
    "trust_counted, trust_state, trust_flipped, trust_pairs, trust_pair_votes, trust_crowd, trust_top, "
    "trust_pair, trust_scope, trust_heavy, trust_recent"
)

# The what-a-vote-says expression (trust.vote_winner: the better image's id, or tie / both_bad
# as two fixed ids that no image has, so every answer compares as a uuid).
_WINNER = """CASE v.choice WHEN 'left' THEN v.left_image_id WHEN 'right' THEN v.right_image_id
                   WHEN 'tie' THEN '00000000-0000-0000-0000-000000000001'::uuid
                   ELSE '00000000-0000-0000-0000-000000000002'::uuid END"""

_CROWD_STEPS = [
    # Temporary tables of this session; dropped first as well as at commit, for a caller that
    # runs the recompute twice in one transaction.
    f"DROP TABLE IF EXISTS {_TABLES}",
    # The sorts and hash joins over the votes stay in memory for this transaction (the default
    # 4 MB spills them to disk: 16 s instead of about 1 s for 1 M votes).
    "SET LOCAL work_mem = '256MB'",
    # ... and so do the index builds after a full run's bulk load (parts_indexes_drop).
    "SET LOCAL maintenance_work_mem = '256MB'",
    # Raters whose votes make the consensus: not excluded and calibrated (calibrated_raters_filter).
    """
    CREATE TEMP TABLE trust_counted ON COMMIT DROP AS
    SELECT u.id AS user_id FROM accounts_user u LEFT JOIN ratings_ratertrust t ON t.user_id = u.id
    WHERE NOT COALESCE(t.excluded, false)
      AND (%(no_calibration)s OR COALESCE(t.override = 'trusted', false)
           OR COALESCE(t.gold_votes >= %(checks)s AND t.gold_agreement >= %(agreement)s
                       AND t.arena_votes >= %(pairs)s, false))
    """,
    "CREATE UNIQUE INDEX ON trust_counted (user_id)",
    "ANALYZE trust_counted",
    # Everyone's standing as this run reads it (stored as crowd_counted / crowd_excluded at the end).
    """
    CREATE TEMP TABLE trust_state ON COMMIT DROP AS
    SELECT t.user_id, (c.user_id IS NOT NULL) AS counted, t.excluded
    FROM ratings_ratertrust t LEFT JOIN trust_counted c ON c.user_id = t.user_id
    """,
    # Who joined or left the crowd since the latest all-raters run read it.
    """
    CREATE TEMP TABLE trust_flipped ON COMMIT DROP AS
    SELECT s.user_id FROM trust_state s JOIN ratings_ratertrust t ON t.user_id = s.user_id
    WHERE s.counted <> t.crowd_counted OR s.excluded <> t.crowd_excluded
    """,
]

# The pairs whose votes' parts are recomputed: every voted pair ...
_PAIRS_ALL = "CREATE TEMP TABLE trust_pairs ON COMMIT DROP AS SELECT DISTINCT request_id FROM ratings_vote"
# ... or those whose crowd can have changed since %(since)s (an earlier run's start, less an
# overlap for transactions that were still open then): a vote made or undone since, or a voter
# who joined or left the crowd. (Check items' definitions and the settings are in trust_runs'
# digest: a change there recomputes everything.)
_PAIRS_CHANGED = """
CREATE TEMP TABLE trust_pairs ON COMMIT DROP AS
SELECT request_id FROM ratings_vote WHERE created_at >= %(since)s
UNION SELECT request_id FROM ratings_vote WHERE retracted_at >= %(since)s
UNION SELECT v.request_id FROM ratings_vote v JOIN trust_flipped f ON f.user_id = v.rater_id
"""

_CLEAR_ALL = "TRUNCATE ratings_trustvotefigures"
# Through the votes' own request index: the parts table keeps only its primary key, so that a
# full run's reload builds one index instead of three.
_CLEAR_PAIRS = """
DELETE FROM ratings_trustvotefigures WHERE vote_id IN (
    SELECT v.id FROM ratings_vote v WHERE v.request_id IN (SELECT request_id FROM trust_pairs))
"""

# An incremental run whose changed pairs hold more than this share of the stored parts runs as a
# full run: the same figures (a full run recomputes everyone from scratch), and faster, as it
# empties the parts instead of deleting most of them and reads everyone's sums without a scope.
# (A crowd that has not settled can put nearly everyone in scope: 15-18 s incremental against
# 9-10 s full on the bench's random crowd.)
FULL_SHARE = 0.5
_MOSTLY_CHANGED = """
SELECT (SELECT count(*) FROM ratings_vote WHERE request_id IN (SELECT request_id FROM trust_pairs)) > %(full_share)s
       * GREATEST((SELECT reltuples FROM pg_class WHERE oid = 'ratings_trustvotefigures'::regclass), 1)
"""

# An incremental run that redoes more than this share of the stored parts reloads them as a full
# run does (run_part_steps); the share is read against the planner's row estimate of the table.
BULK_SHARE = 0.25
_MANY_CHANGED = """
SELECT (SELECT count(*) FROM trust_pair_votes) > %(bulk_share)s
       * GREATEST((SELECT reltuples FROM pg_class WHERE oid = 'ratings_trustvotefigures'::regclass), 1)
"""

# Markers in the part steps: where the parts are cleared, and where a full run's bulk load is over.
CLEAR = "-- clear"
REINDEX = "-- reindex"

_INDEXES = """
SELECT ic.relname, pg_get_indexdef(i.indexrelid), con.conname
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype = 'p'
WHERE i.indrelid = %s::regclass ORDER BY ic.relname
"""


def parts_indexes_drop(cursor, table: str) -> list[tuple[str, str, str | None]]:
    """Drop a parts table's indexes (its primary key too) before a full run's bulk load, and
    return what `parts_indexes_restore` needs to build them again, by the same names and
    definitions. Kept up row by row, the three indexes of a million-row load (random uuids)
    took most of the load's time: 17 s instead of 1 s plus 2.4 s to build them after. Inside
    the run's transaction, so a failed run leaves them as they were; the TRUNCATE before has
    already locked the table."""
    cursor.execute(_INDEXES, [table])
    indexes = cursor.fetchall()
    quote = connection.ops.quote_name
    for name, _definition, constraint in indexes:
        if constraint:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(constraint)}")
        else:
            cursor.execute(f"DROP INDEX {quote(name)}")
    return indexes


def parts_indexes_restore(cursor, table: str, indexes: list[tuple[str, str, str | None]]) -> None:
    quote = connection.ops.quote_name
    for name, definition, constraint in indexes:
        cursor.execute(definition)
        if constraint:
            cursor.execute(
                f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(constraint)} PRIMARY KEY USING INDEX {quote(name)}"
            )
    cursor.execute(f"ANALYZE {quote(table)}")


def run_part_steps(
    cursor,
    steps: list[str],
    params: dict,
    *,
    table: str,
    clear_all: str,
    clear_some: str,
    full: bool,
    many_changed: str,
) -> None:
    """Run a parts refresh: its steps, with the clearing (`CLEAR`: emptied whole in a full
    run, which beats deleting its rows, else `clear_some`) and the indexes dropped for the
    load and built again after it (`REINDEX`) in a full run, and in an incremental one when
    `many_changed` (SQL giving a boolean, read at `CLEAR`) says a large share of the parts is
    being redone: a crowd that has not settled can move most of them at once, and then the
    row-by-row index upkeep made an incremental run slower than a full one."""
    indexes = None
    for step in steps:
        if step == CLEAR:
            bulk = full
            if not full:
                cursor.execute(many_changed, params)
                bulk = bool(cursor.fetchone()[0])
            cursor.execute(clear_all if full else clear_some, params)
            if bulk:
                indexes = parts_indexes_drop(cursor, table)
        elif step == REINDEX:
            if indexes is not None:
                parts_indexes_restore(cursor, table, indexes)
        else:
            cursor.execute(step, params)


_PART_STEPS = [
    "CREATE UNIQUE INDEX ON trust_pairs (request_id)",
    "ANALYZE trust_pairs",
    # Their live votes, first and on their own: the planner then joins a few thousand rows
    # instead of filtering a million after the joins. Only the columns read below; what each
    # vote says (winner) and whether its rater is in the crowd (me: 1 or 0) are computed here
    # once: written inline below, the planner repeated them in every expression that named them
    # (2 s of 3.7 for 1 M votes).
    """
    CREATE TEMP TABLE trust_pair_votes ON COMMIT DROP AS
    SELECT v.id, v.request_id, v.rater_id, v.created_at, v.source = 'arena' AS arena, v.seconds_to_vote,
           v.choice IN ('left', 'right') AS picked_one, v.left_image_id, v.right_image_id, v.left_aesthetic,
           v.right_aesthetic, {winner} AS winner, CASE WHEN c.user_id IS NULL THEN 0 ELSE 1 END AS me
    FROM {pair_votes}
    LEFT JOIN trust_counted c ON c.user_id = v.rater_id
    WHERE v.retracted_at IS NULL
    """,
    # What the counted raters' live votes say, per pair.
    """
    CREATE TEMP TABLE trust_crowd ON COMMIT DROP AS
    SELECT request_id, winner, count(*) AS n FROM trust_pair_votes WHERE me = 1 GROUP BY 1, 2
    """,
    "CREATE INDEX ON trust_crowd (request_id, winner)",
    "ANALYZE trust_crowd",
    # Per pair: how many counted votes, and the two most common answers (a strict majority of
    # the others, once the rater's own vote is taken out, can only be one of those two).
    """
    CREATE TEMP TABLE trust_top ON COMMIT DROP AS
    SELECT request_id, sum(n) AS total,
           (array_agg(winner) FILTER (WHERE rank = 1))[1] AS w1, COALESCE(max(n) FILTER (WHERE rank = 1), 0) AS n1,
           (array_agg(winner) FILTER (WHERE rank = 2))[1] AS w2, COALESCE(max(n) FILTER (WHERE rank = 2), 0) AS n2
    FROM (SELECT *, row_number() OVER (PARTITION BY request_id ORDER BY n DESC, winner) AS rank FROM trust_crowd) r
    GROUP BY request_id
    """,
    "CREATE UNIQUE INDEX ON trust_top (request_id)",
    "ANALYZE trust_top",
    # Per pair, all that its votes are compared with, so that each vote below joins one row: the
    # crowd's totals; its two images (the jobs at positions 0 and 1, as a gold pair's "left" and
    # "right") with the pipeline that made each, how many counted votes picked it and its control
    # answer; the gold answer. (A join per figure cost about 0.25 s each over 1 M votes.)
    """
    CREATE TEMP TABLE trust_pair ON COMMIT DROP AS
    SELECT p.request_id, COALESCE(t.total, 0) AS total, t.w1, t.n1, t.w2, t.n2,
           i0.id AS image_a, j0.pipeline_id AS pipeline_a, COALESCE(c0.n, 0) AS picked_a,
           k0.image_id IS NOT NULL AS control_a, k0.expected_aesthetic AS expected_a,
           i1.id AS image_b, j1.pipeline_id AS pipeline_b, COALESCE(c1.n, 0) AS picked_b,
           k1.image_id IS NOT NULL AS control_b, k1.expected_aesthetic AS expected_b,
           g.request_id IS NOT NULL AS gold,
           CASE g.expected_choice WHEN 'left' THEN i0.id WHEN 'right' THEN i1.id
                WHEN 'tie' THEN '00000000-0000-0000-0000-000000000001'::uuid
                ELSE '00000000-0000-0000-0000-000000000002'::uuid END AS gold_expected
    FROM trust_pairs p
    LEFT JOIN trust_top t ON t.request_id = p.request_id
    LEFT JOIN generation_job j0 ON j0.request_id = p.request_id AND j0.position = 0
    LEFT JOIN generation_image i0 ON i0.job_id = j0.id
    LEFT JOIN generation_job j1 ON j1.request_id = p.request_id AND j1.position = 1
    LEFT JOIN generation_image i1 ON i1.job_id = j1.id
    LEFT JOIN trust_crowd c0 ON c0.request_id = p.request_id AND c0.winner = i0.id
    LEFT JOIN trust_crowd c1 ON c1.request_id = p.request_id AND c1.winner = i1.id
    LEFT JOIN ratings_controlimage k0 ON k0.image_id = i0.id AND k0.active
    LEFT JOIN ratings_controlimage k1 ON k1.image_id = i1.id AND k1.active
    LEFT JOIN ratings_goldpair g ON g.request_id = p.request_id AND g.active
    """,
    "CREATE UNIQUE INDEX ON trust_pair (request_id)",
    CLEAR,
    # One row per live vote of those pairs: what it adds to its rater's figures. Two fences
    # (OFFSET 0): each figure is computed once per vote, not again in every expression of the
    # level above that names it.
    """
    INSERT INTO ratings_trustvotefigures (vote_id, rater_id, created_at, arena, seconds_to_vote,
        checks, checks_right, consensus, agreed, left_pipeline_id, right_pipeline_id, picked_left, chance_left,
        chance_right)
    SELECT r.id, r.rater_id, r.created_at, r.arena, r.seconds_to_vote,
           r.checks, r.checks_right, r.others >= %(min_others)s AND r.majority IS NOT NULL,
           r.others >= %(min_others)s AND r.majority IS NOT NULL AND r.majority = r.winner,
           CASE WHEN r.decisive THEN r.left_pipeline END, CASE WHEN r.decisive THEN r.right_pipeline END,
           CASE WHEN r.decisive THEN r.winner = r.left_image_id END,
           CASE WHEN r.decisive THEN (r.others_left + CASE WHEN r.winner = r.left_image_id THEN 1 ELSE 0 END)::float8
                                     / (r.others + 1) END,
           CASE WHEN r.decisive THEN (r.others_right + CASE WHEN r.winner = r.right_image_id THEN 1 ELSE 0 END)::float8
                                     / (r.others + 1) END
    FROM (
        SELECT s.*, s.total - s.me AS others,
               CASE WHEN 2 * (s.n1 - CASE WHEN s.me = 1 AND s.winner = s.w1 THEN 1 ELSE 0 END) > s.total - s.me
                    THEN s.w1
                    WHEN 2 * (s.n2 - CASE WHEN s.me = 1 AND s.winner = s.w2 THEN 1 ELSE 0 END) > s.total - s.me
                    THEN s.w2 END AS majority,
               COALESCE(s.left_picked, 0) - CASE WHEN s.me = 1 AND s.winner = s.left_image_id THEN 1 ELSE 0 END
                   AS others_left,
               COALESCE(s.right_picked, 0) - CASE WHEN s.me = 1 AND s.winner = s.right_image_id THEN 1 ELSE 0 END
                   AS others_right,
               s.total - s.me >= %(min_others)s AND s.picked_one
                   AND s.left_pipeline IS NOT NULL AND s.right_pipeline IS NOT NULL
                   AND s.left_pipeline <> s.right_pipeline AS decisive,
               (CASE WHEN s.gold THEN 1 ELSE 0 END + CASE WHEN s.left_control THEN 1 ELSE 0 END
                + CASE WHEN s.right_control THEN 1 ELSE 0 END) AS checks,
               (CASE WHEN s.gold AND s.winner = s.gold_expected THEN 1 ELSE 0 END
                + CASE WHEN s.left_control AND s.left_aesthetic = s.left_expected THEN 1 ELSE 0 END
                + CASE WHEN s.right_control AND s.right_aesthetic = s.right_expected THEN 1 ELSE 0 END)
                   AS checks_right
        FROM (
            SELECT v.*, COALESCE(q.total, 0) AS total, q.w1, q.n1, q.w2, q.n2, COALESCE(q.gold, false) AS gold,
                   q.gold_expected,
                   CASE v.left_image_id WHEN q.image_a THEN q.pipeline_a WHEN q.image_b THEN q.pipeline_b END
                       AS left_pipeline,
                   CASE v.right_image_id WHEN q.image_a THEN q.pipeline_a WHEN q.image_b THEN q.pipeline_b END
                       AS right_pipeline,
                   CASE v.left_image_id WHEN q.image_a THEN q.picked_a WHEN q.image_b THEN q.picked_b END
                       AS left_picked,
                   CASE v.right_image_id WHEN q.image_a THEN q.picked_a WHEN q.image_b THEN q.picked_b END
                       AS right_picked,
                   COALESCE(CASE v.left_image_id WHEN q.image_a THEN q.control_a WHEN q.image_b THEN q.control_b END,
                            false) AS left_control,
                   COALESCE(CASE v.right_image_id WHEN q.image_a THEN q.control_a WHEN q.image_b THEN q.control_b END,
                            false) AS right_control,
                   CASE v.left_image_id WHEN q.image_a THEN q.expected_a WHEN q.image_b THEN q.expected_b END
                       AS left_expected,
                   CASE v.right_image_id WHEN q.image_a THEN q.expected_a WHEN q.image_b THEN q.expected_b END
                       AS right_expected
            FROM trust_pair_votes v LEFT JOIN trust_pair q ON q.request_id = v.request_id
            OFFSET 0
        ) s
        OFFSET 0
    ) r
    """,
    REINDEX,
]

# Everyone: whoever has voted or has a trust row.
_EVERYONE = """
CREATE TEMP TABLE trust_scope ON COMMIT DROP AS
SELECT DISTINCT rater_id AS user_id FROM ratings_vote
UNION SELECT user_id FROM ratings_ratertrust
"""

# The raters whose figures can have changed since %(since)s: everyone on the pairs recomputed
# (their parts, or their own votes, changed); whoever joined or left the crowd; accounts that
# stopped being young; trust rows never computed; and what the registered sources name.
_CHANGED = """
CREATE TEMP TABLE trust_scope ON COMMIT DROP AS
SELECT v.rater_id AS user_id FROM trust_pairs p JOIN ratings_vote v ON v.request_id = p.request_id
UNION SELECT user_id FROM trust_flipped
UNION SELECT id FROM accounts_user WHERE date_joined > %(young_from)s AND date_joined <= %(young_to)s
UNION SELECT user_id FROM ratings_ratertrust WHERE account_age_days IS NULL
{sources}
"""

_SCOPE_STEPS = [
    "CREATE UNIQUE INDEX ON trust_scope (user_id)",
    "ANALYZE trust_scope",
]

# The parts the sums read: every stored part in a full run (its scope is everyone), else those
# of the raters in trust_scope. With `timed_rank` 1 on each timed arena vote: every part counts
# for a rater within the cut-offs, which is nearly everyone.
_PARTS_ALL = """(SELECT f.*, CASE WHEN f.arena AND COALESCE(f.seconds_to_vote, 0) <> 0 THEN 1 END AS timed_rank
    FROM ratings_trustvotefigures f)"""
_PARTS_SCOPE = """(SELECT f.*, CASE WHEN f.arena AND COALESCE(f.seconds_to_vote, 0) <> 0 THEN 1 END AS timed_rank
    FROM ratings_trustvotefigures f WHERE f.rater_id IN (SELECT user_id FROM trust_scope))"""

# ... and for the raters past a cut-off (temporary table trust_heavy), only their latest live
# votes' parts, each ranked among their timed arena votes. Summed again for them alone: ranking
# everyone's parts took a sort of all of them, and a count before it another pass.
_RECENT_HEAVY = """
CREATE TEMP TABLE trust_recent ON COMMIT DROP AS
SELECT s.*, CASE WHEN s.timed THEN row_number() OVER (PARTITION BY s.rater_id, s.timed
                                                     ORDER BY s.created_at DESC) END AS timed_rank
FROM (
    SELECT f.*, (f.arena AND COALESCE(f.seconds_to_vote, 0) <> 0) AS timed,
           row_number() OVER (PARTITION BY f.rater_id ORDER BY f.created_at DESC) AS recent_rank
    FROM ratings_trustvotefigures f WHERE f.rater_id IN (SELECT user_id FROM trust_heavy)
) s
WHERE s.recent_rank <= %(recent)s
"""

_HEAVY = "CREATE TEMP TABLE trust_heavy ON COMMIT DROP AS SELECT unnest(%s::bigint[]) AS user_id"

# Per rater: the sums, the median seconds of the timed votes within the cut-off, and how many
# parts and timed parts were read (past a cut-off, the rater is summed again from trust_recent).
_PER_RATER = """
SELECT rater_id, sum(checks), sum(checks_right), count(*) FILTER (WHERE consensus), count(*) FILTER (WHERE agreed),
       count(*) FILTER (WHERE arena),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds_to_vote) FILTER (WHERE timed_rank <= %(timed)s),
       count(*), count(timed_rank)
FROM {parts} r GROUP BY rater_id
"""

# The side-taking observations (trust.side_taking), summed per rater and pipeline: both
# pipelines' side of each decisive vote on a pair with enough other counted votes.
_PER_PIPELINE = """
WITH observation AS (
    SELECT rater_id, left_pipeline_id AS pipeline_id, picked_left AS picked, chance_left AS chance
    FROM {parts} r WHERE left_pipeline_id IS NOT NULL
    UNION ALL
    SELECT rater_id, right_pipeline_id, NOT picked_left, chance_right
    FROM {parts} r WHERE right_pipeline_id IS NOT NULL
)
SELECT rater_id, pipeline_id, count(*), count(*) FILTER (WHERE picked), sum(chance)
FROM observation GROUP BY rater_id, pipeline_id ORDER BY rater_id, pipeline_id
"""

_RATERS = "SELECT u.id, u.date_joined FROM accounts_user u JOIN trust_scope s ON s.user_id = u.id"

# Everyone else's age moves on too (their score cannot: an account that stopped being young is
# in the scope).
_AGES = """
UPDATE ratings_ratertrust t SET account_age_days = extract(epoch FROM (%(now)s - u.date_joined)) / 86400
FROM accounts_user u WHERE u.id = t.user_id AND t.user_id NOT IN (SELECT user_id FROM trust_scope)
"""

# The standing this run read becomes the one the next run compares with.
_REMEMBER_STATE = """
UPDATE ratings_ratertrust t SET crowd_counted = s.counted, crowd_excluded = s.excluded
FROM trust_state s WHERE s.user_id = t.user_id AND (t.crowd_counted <> s.counted OR t.crowd_excluded <> s.excluded)
"""

_WRITE = """
UPDATE ratings_ratertrust t SET
    gold_votes = f.gold_votes, gold_agreement = f.gold_agreement, consensus_votes = f.consensus_votes,
    consensus_agreement = f.consensus_agreement, votes_per_minute = f.votes_per_minute,
    account_age_days = f.account_age_days, arena_votes = f.arena_votes, flagged = f.flagged,
    bias_pipeline_id = f.bias_pipeline_id, bias_opportunities = f.bias_opportunities, bias_sided = f.bias_sided,
    bias_expected_rate = f.bias_expected_rate, bias_p_value = f.bias_p_value, score = f.score, updated_at = %s,
    excluded = CASE WHEN t.override = 'blocked' THEN true WHEN t.override = 'trusted' THEN false
                    ELSE f.flagged OR f.score < %s END
FROM (SELECT * FROM unnest(%s::int[], %s::int[], %s::float8[], %s::int[], %s::float8[], %s::float8[], %s::float8[],
                           %s::int[], %s::bool[], %s::int[], %s::int[], %s::int[], %s::float8[], %s::float8[],
                           %s::float8[])
      AS f(user_id, gold_votes, gold_agreement, consensus_votes, consensus_agreement, votes_per_minute,
           account_age_days, arena_votes, flagged, bias_pipeline_id, bias_opportunities, bias_sided,
           bias_expected_rate, bias_p_value, score)) f
WHERE t.user_id = f.user_id
"""

_COLUMNS = [
    "gold_votes",
    "gold_agreement",
    "consensus_votes",
    "consensus_agreement",
    "votes_per_minute",
    "account_age_days",
    "arena_votes",
    "flagged",
    "bias_pipeline_id",
    "bias_opportunities",
    "bias_sided",
    "bias_expected_rate",
    "bias_p_value",
    "score",
]


def _side_taking_all(rows: list[tuple]) -> dict[int, dict]:
    """trust.side_taking for every rater at once: the same one-sided binomial test
    (binomtest's "greater" p-value is binom.sf(k - 1, n, p)), Bonferroni over the rater's
    pipelines, the most one-sided pipeline (the first in pipeline order on a tie)."""
    if not rows:
        return {}
    raters = np.array([row[0] for row in rows])
    counts = np.array([row[2] for row in rows], dtype=float)
    sided = np.array([row[3] for row in rows], dtype=float)
    expected = np.array([row[4] for row in rows], dtype=float) / counts
    tests = defaultdict(int)
    for rater_id in raters.tolist():
        tests[rater_id] += 1
    multiplier = np.array([tests[rater_id] for rater_id in raters.tolist()], dtype=float)
    p_values = np.minimum(1.0, multiplier * np.minimum(1.0, stats.binom.sf(sided - 1, counts, expected)))
    worst: dict[int, dict] = {}
    alpha, min_sided = settings.RATINGS_FLAG_ALPHA, settings.RATINGS_FLAG_MIN_SIDED
    for index, (rater_id, pipeline_id, count, picked, _) in enumerate(rows):
        p_value = float(p_values[index])
        if rater_id in worst and not p_value < worst[rater_id]["bias_p_value"]:
            continue
        worst[rater_id] = {
            "bias_pipeline_id": pipeline_id,
            "bias_opportunities": count,
            "bias_sided": picked,
            "bias_expected_rate": round(float(expected[index]), 4),
            "bias_p_value": p_value,
            "flagged": p_value < alpha and picked >= min_sided,
        }
    return worst


def _sums(cursor, parts: str, params: dict) -> tuple[dict[int, tuple], list[tuple]]:
    """The per-rater and per-pipeline sums of the parts `parts` (SQL) gives."""
    cursor.execute(_PER_RATER.replace("{parts}", parts), params)
    per_rater = {row[0]: row[1:] for row in cursor.fetchall()}
    cursor.execute(_PER_PIPELINE.replace("{parts}", parts), params)
    return per_rater, cursor.fetchall()


def trust_figures_all(*, now: dt.datetime, since: dt.datetime | None = None) -> tuple[dict[int, dict], bool]:
    """{user id: the figures trust._trust_figures gives} for every rater who has voted or has a
    trust row, or (given `since`) for those whose figures can have changed since then, after
    refreshing the stored per-vote parts those figures are summed from; and whether it ran as a
    full run (asked for, or an incremental one that would have redone most parts: see
    FULL_SHARE). Call it inside a transaction; its temporary tables stay until
    `trust_tables_drop` or the commit."""
    params = {
        "no_calibration": settings.RATINGS_CALIBRATION_CHECKS <= 0,
        "checks": settings.RATINGS_CALIBRATION_CHECKS,
        "agreement": settings.RATINGS_CALIBRATION_AGREEMENT,
        "pairs": settings.RATINGS_CALIBRATION_PAIRS,
        "recent": trust.RECENT_VOTES,
        "timed": trust.TIMED_VOTES,
        "min_others": settings.RATINGS_CONSENSUS_MIN_OTHERS,
        "since": since,
        "bulk_share": BULK_SHARE,
        "young_from": since - dt.timedelta(days=settings.RATINGS_TRUST_YOUNG_ACCOUNT_DAYS) if since else None,
        "young_to": now - dt.timedelta(days=settings.RATINGS_TRUST_YOUNG_ACCOUNT_DAYS),
    }
    with connection.cursor() as cursor:
        for step in _CROWD_STEPS:
            cursor.execute(step, params)
        if since is not None:
            cursor.execute(_PAIRS_CHANGED, params)
            cursor.execute(_MOSTLY_CHANGED, {"full_share": FULL_SHARE})
            if cursor.fetchone()[0]:
                cursor.execute("DROP TABLE trust_pairs")
                since = None
                params.update(since=None, young_from=None)
        # A full run reads every vote: no list of pairs to join them with.
        pair_votes = "trust_pairs p JOIN ratings_vote v ON v.request_id = p.request_id"
        if since is None:
            cursor.execute(_PAIRS_ALL)
            scope, pair_votes = _EVERYONE, "ratings_vote v"
        else:
            sources = "".join(f"UNION ({sql})\n" for sql in trust_changed_sources)
            scope = _CHANGED.replace("{sources}", sources)
        run_part_steps(
            cursor,
            [step.replace("{winner}", _WINNER).replace("{pair_votes}", pair_votes) for step in _PART_STEPS],
            params,
            table="ratings_trustvotefigures",
            clear_all=_CLEAR_ALL,
            clear_some=_CLEAR_PAIRS,
            full=since is None,
            many_changed=_MANY_CHANGED,
        )
        for step in [scope, *_SCOPE_STEPS]:
            cursor.execute(step, params)
        cursor.execute(_RATERS)
        raters = cursor.fetchall()
        per_rater, per_pipeline = _sums(cursor, _PARTS_ALL if since is None else _PARTS_SCOPE, params)
        # Raters past a cut-off (the last two figures: parts and timed parts read).
        heavy = [
            rater for rater, row in per_rater.items() if row[-2] > trust.RECENT_VOTES or row[-1] > trust.TIMED_VOTES
        ]
        if heavy:
            cursor.execute(_HEAVY, [heavy])
            cursor.execute(_RECENT_HEAVY, params)
            recent_rater, recent_pipeline = _sums(cursor, "trust_recent", params)
            per_rater.update(recent_rater)
            per_pipeline = [row for row in per_pipeline if row[0] not in recent_rater] + recent_pipeline
            per_pipeline.sort(key=lambda row: (row[0], row[1]))
        bias = _side_taking_all(per_pipeline)
    extra = [source(since) for source in trust_batch_sources]
    figures = {}
    for user_id, date_joined in raters:
        checks, right, consensus, agreed, arena, median = per_rater.get(user_id, (0, 0, 0, 0, 0, None))[:6]
        checks, right, consensus, agreed = int(checks or 0), int(right or 0), int(consensus), int(agreed)
        for tallies in extra:
            tally = tallies.get(user_id)
            if tally is not None:
                checks += tally.checks
                right += tally.checks_right
                consensus += tally.consensus
                agreed += tally.consensus_right
        side = bias.get(user_id) or {
            "flagged": False,
            "bias_pipeline_id": None,
            "bias_opportunities": 0,
            "bias_sided": 0,
            "bias_expected_rate": None,
            "bias_p_value": None,
        }
        figures[user_id] = {
            "gold_votes": checks,
            "gold_agreement": right / checks if checks else None,
            "consensus_votes": consensus,
            "consensus_agreement": agreed / consensus if consensus else None,
            "votes_per_minute": 60.0 / median if median else None,
            "account_age_days": (now - date_joined).total_seconds() / 86400,
            "arena_votes": int(arena),
            **side,
        }
    return figures, since is None


def trust_tables_drop() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_TABLES}")


def _array_literal(values: list) -> str:
    """A PostgreSQL array literal ('{1,NULL,2.5}') for a column of the write: one string to
    parse instead of a constant per value (psycopg2 sends a list as ARRAY[...]), which took
    0.7 s instead of 0.24 for 20,000 raters."""

    def item(value) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, (bool, np.bool_)):
            return "t" if value else "f"
        if isinstance(value, (int, np.integer)):
            return str(int(value))
        return repr(float(value))

    return "{" + ",".join(map(item, values)) + "}"


def rater_trust_recompute_all_batched(*, now: dt.datetime, since: dt.datetime | None = None) -> tuple[int, bool]:
    """Recompute the figures, score, flag and exclusion of every rater (or, given `since`, of
    those whose figures can have changed since then) in a few statements; returns how many,
    and whether it ran as a full run (see trust_figures_all). The crowd standing this run read
    is kept for the next run to compare with."""
    with transaction.atomic():
        figures, full = trust_figures_all(now=now, since=since)
        existing = set(RaterTrust.objects.filter(user_id__in=list(figures)).values_list("user_id", flat=True))
        RaterTrust.objects.bulk_create(
            [RaterTrust(user_id=user_id) for user_id in figures if user_id not in existing], ignore_conflicts=True
        )
        users = list(figures)
        scores = {user_id: trust.trust_score(figures[user_id]) for user_id in users}
        columns = [[figures[user_id][name] for user_id in users] for name in _COLUMNS[:-1]]
        columns.append([scores[user_id] for user_id in users])
        with connection.cursor() as cursor:
            cursor.execute(_WRITE, [now, settings.RATINGS_TRUST_THRESHOLD, *map(_array_literal, [users, *columns])])
            if not full:
                cursor.execute(_AGES, {"now": now})
            cursor.execute(_REMEMBER_STATE)
        trust_tables_drop()
    return len(users), full
