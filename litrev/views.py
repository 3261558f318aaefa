"""SQL views: derived state shared by the CLI, the PRISMA diagram and Datasette.

`ensure_shape` drops and recreates every view here, so editing one is safe.
Views are created in order (a view may use those above it).
"""

from litrev.errors import LitrevError
from litrev.tags.suggest import SUGGESTED

# A `work_tags` row a person stands behind: set by hand, or a suggestion they accepted.
CONFIRMED = "(origin = 'manual' or status = 'accepted')"
# The tags that count (the gap map, `litrev gaps`, the public tables): confirmed ones and
# open suggestions at or above the tagger's threshold; weaker hints are left out.
COUNTED = f"({CONFIRMED} or coalesce(confidence, 0) >= {SUGGESTED})"


def _latest_decisions(kind: str, per_reviewer: bool, where: str = "") -> str:
    """The latest `kind` decision per canonical work and stage (and reviewer), unless undone.

    `where` narrows the decisions read before the window (see `one_work_votes`).
    """
    reviewer = ", decisions.reviewer" if per_reviewer else ""
    return f"""
        select work_id, stage, reviewer, decision, reason, decided_at, decision_id from (
            select canonical_works.canonical_id as work_id, decisions.stage, decisions.reviewer,
                   decisions.decision, decisions.reason, decisions.decided_at,
                   decisions.id as decision_id,
                   row_number() over (
                       partition by canonical_works.canonical_id, decisions.stage{reviewer}
                       order by decisions.id desc) as latest
            from decisions join canonical_works on canonical_works.work_id = decisions.work_id
            where decisions.kind = '{kind}'{f" and {where}" if where else ""}
        )
        where latest = 1 and decision != 'undo'
    """


# The screening_votes / screening_adjudications rows of one canonical work (:work) at one
# stage (:stage), by the same definition, for the screening session's check that a work is
# still open (~0.1 ms instead of ~20 ms for the whole view at 10,000 works). A work merged
# into :work has merged_into = :work (merges point straight at the canonical work).
_ONE_WORK = ("decisions.stage = :stage and decisions.work_id in "
             "(select id from works where id = :work or merged_into = :work)")
ONE_WORK_VOTES = _latest_decisions("vote", per_reviewer=True, where=_ONE_WORK)
ONE_WORK_ADJUDICATIONS = _latest_decisions("adjudication", per_reviewer=False, where=_ONE_WORK)
# One reviewer's (:reviewer) current votes at :stage, by the same definition.
REVIEWER_VOTES = _latest_decisions(
    "vote", per_reviewer=True, where="decisions.stage = :stage and decisions.reviewer = :reviewer")


def _work_tags(where: str = "") -> str:
    """Effective tags per canonical work (the work_tags view); `where` narrows the tags read."""
    where = f" and {where}" if where else ""
    return f"""
        with live as (
            select canonical_works.canonical_id as work_id, tags.id, tags.key, tags.value,
                   tags.origin, tags.status, tags.confidence, tags.evidence, tags.reviewer
            from tags join canonical_works on canonical_works.work_id = tags.work_id
            where ((tags.origin = 'manual' and tags.status = 'set')
               or (tags.origin = 'auto' and tags.status in ('suggested', 'accepted'))){where}
        ),
        manual_keys as (
            select distinct work_id, key from live where origin = 'manual'
            union
            select distinct work_id, 'nation' from live where origin = 'manual' and key = 'country'
        )
        select work_id, key, value, origin, max(confidence) as confidence, evidence, reviewer, status
        from live
        where origin = 'manual' or not exists (
            select 1 from manual_keys
            where manual_keys.work_id = live.work_id and manual_keys.key = live.key
        )
        group by work_id, key, value
    """


# The work_tags rows of one canonical work (:work), by the same definition.
ONE_WORK_TAGS = _work_tags("tags.work_id in (select id from works where id = :work or merged_into = :work)")


# The works each scope of `litrev gaps --stage`, `litrev tag review --stage` and the
# gap_map view covers, as subqueries of canonical work ids (the work_status view is below).
STAGE_WORKS = {
    "included": "select work_id from work_status where status = 'included'",
    "screened": "select work_id from work_status where status != 'unscreened'",
    "all": "select id as work_id from works where merged_into is null",
}


def _union_of_stages() -> str:
    """(work_id, stage) for every stage: a work is in each stage it reaches."""
    return " union all ".join(f"select work_id, '{stage}' as stage from ({sql})" for stage, sql in STAGE_WORKS.items())


def stage_works(stage: str) -> str:
    """The STAGE_WORKS subquery for `stage`; an unknown stage is an error naming the known ones."""
    if stage not in STAGE_WORKS:
        raise LitrevError(f"Unknown stage {stage!r}. Use one of: {', '.join(STAGE_WORKS)}.")
    return STAGE_WORKS[stage]


VIEWS: dict[str, str] = {
    # A work's canonical id: itself, or the work it was merged into.
    # The cast gives canonical_id INTEGER affinity: a bare coalesce() has none, and
    # SQLite then cannot index joins on it (work_status took 20 s at 10,000 works).
    "canonical_works": """
        select id as work_id, cast(coalesce(merged_into, id) as integer) as canonical_id from works
    """,
    # Records found per PRISMA source label (one record counts once per label).
    "records_by_source": """
        select harvest_runs.source_name, count(distinct provenance.record_id) as records
        from provenance join harvest_runs on harvest_runs.id = provenance.run_id
        group by harvest_runs.source_name
    """,
    # --- screening (issue 4) --------------------------------------------------
    # Decisions are append-only; everything below is derived. Decisions made on a
    # work later merged into another count for the canonical work.
    # A reviewer's current vote on a (canonical work, stage): their latest vote row;
    # an `undo` as the latest row means no vote. Notes stay out (they are private).
    "screening_votes": _latest_decisions("vote", per_reviewer=True),
    # The latest adjudication per (canonical work, stage); it overrides the votes.
    "screening_adjudications": _latest_decisions("adjudication", per_reviewer=False),
    # One row per canonical work and stage with any decision. Screeners needed per
    # stage come from review_settings (1 when the stage has no row). Any disagreement
    # between current votes is a conflict; fewer agreeing votes than needed is pending.
    # When excluders agree but give different reasons, the earliest vote's reason counts.
    "screening_outcomes": """
        with touched as (
            select distinct canonical_works.canonical_id as work_id, decisions.stage
            from decisions join canonical_works on canonical_works.work_id = decisions.work_id
        ),
        tally as (
            select work_id, stage, count(*) as votes, count(distinct decision) as kinds,
                   min(decision) as decision
            from screening_votes group by work_id, stage
        ),
        first_reason as (
            select work_id, stage, reason, min(decision_id) as first_id
            from screening_votes where decision = 'exclude' group by work_id, stage
        )
        select touched.work_id, touched.stage,
            case
                when adj.decision is not null then adj.decision
                when tally.kinds > 1 then 'conflict'
                when tally.votes >= coalesce(review_settings.screeners, 1) then tally.decision
                else 'pending'
            end as outcome,
            case
                when adj.decision is not null then adj.reason
                when tally.kinds = 1 and tally.decision = 'exclude'
                     and tally.votes >= coalesce(review_settings.screeners, 1)
                    then first_reason.reason
            end as reason
        from touched
        left join tally on tally.work_id = touched.work_id and tally.stage = touched.stage
        left join first_reason
            on first_reason.work_id = touched.work_id and first_reason.stage = touched.stage
        left join screening_adjudications as adj
            on adj.work_id = touched.work_id and adj.stage = touched.stage
        left join review_settings on review_settings.stage = touched.stage
    """,
    # Each reviewer's current votes per stage (the team app's progress per reviewer).
    "screening_progress": """
        select stage, reviewer, count(*) as votes, sum(decision = 'include') as included,
               sum(decision = 'exclude') as excluded, sum(decision = 'maybe') as maybe,
               max(decided_at) as last_decided_at
        from screening_votes group by stage, reviewer
    """,
    # One row per canonical work. Full text only counts for works included at
    # title-abstract; a review without a full-text stage in review_settings ends at
    # title-abstract. stage_reached is the stage the work is at (or was decided at).
    "work_status": """
        with final as (
            select not exists (select 1 from review_settings)
                or exists (select 1 from review_settings where stage = 'full-text') as has_full_text
        ),
        outcomes as (
            select works.id as work_id, ta.outcome as ta, ta.reason as ta_reason,
                   ft.outcome as ft, ft.reason as ft_reason, final.has_full_text
            from works
            join final
            left join screening_outcomes as ta
                on ta.work_id = works.id and ta.stage = 'title-abstract'
            left join screening_outcomes as ft
                on ft.work_id = works.id and ft.stage = 'full-text'
            where works.merged_into is null
        )
        select work_id,
            case
                when ta is null then 'unscreened'
                when ta = 'pending' then 'in-progress'
                when ta != 'include' then
                    case ta when 'exclude' then 'excluded' else ta end
                when not has_full_text then 'included'
                when ft is null or ft = 'pending' then 'in-progress'
                else case ft when 'include' then 'included' when 'exclude' then 'excluded'
                     else ft end
            end as status,
            case
                when ta = 'include' and has_full_text then 'full-text'
                else 'title-abstract'
            end as stage_reached,
            case
                when ta = 'exclude' then ta_reason
                when ta = 'include' and has_full_text and ft = 'exclude' then ft_reason
            end as exclusion_reason
        from outcomes
    """,
    # --- tagging (issue 5) ---------------------------------------------------
    # Effective tags per canonical work. For each (work, key) a person's tags
    # (origin=manual, status=set) replace every suggestion (origin=auto); a
    # manual country also hides the suggested UK nation. Rejected suggestions
    # and replaced manual tags never show. Tags of merged works count for the
    # work they were merged into, so nothing is lost by a merge or an unmerge.
    "work_tags": _work_tags(),
    # The evidence gap map for Datasette: works per stage, country and design, counted
    # as `litrev gaps` counts them (COUNTED: people's tags, accepted suggestions,
    # suggestions with confidence >= 0.5). A multi-country study counts in each of its countries;
    # country '' means no country tag, design 'untagged' no design tag.
    "gap_map": f"""
        with counted as (
            select work_id, key, value from work_tags
            where key in ('country', 'design')
              and {COUNTED}
        ),
        staged as ({_union_of_stages()})
        select staged.stage, coalesce(country.value, '') as country,
               coalesce(design.value, 'untagged') as design,
               count(distinct staged.work_id) as works
        from staged
        left join counted as country on country.work_id = staged.work_id and country.key = 'country'
        left join counted as design on design.work_id = staged.work_id and design.key = 'design'
        group by staged.stage, country.value, design.value
    """,
}
