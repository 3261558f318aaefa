"""SQL views: derived state shared by the CLI, the PRISMA diagram and Datasette.

`ensure_shape` drops and recreates every view here, so editing one is safe.
Views are created in order (a view may use those above it).
"""

from collections.abc import Iterable

from litrev.errors import LitrevError
from litrev.tags.suggest import SUGGESTED

# A `work_tags` row a person stands behind: set by hand, or a suggestion they accepted.
CONFIRMED = "(origin = 'manual' or status = 'accepted')"
# The tags that count (the gap map, `litrev gaps`, the public tables): confirmed ones and
# open suggestions at or above the tagger's threshold; weaker hints are left out.
COUNTED = f"({CONFIRMED} or coalesce(confidence, 0) >= {SUGGESTED})"
NOT_TAGGED = ""  # the one spelling of "no country / design tag" in every gap view
UK = "GB"
BASES = ("counted", "confirmed")  # the gap map from every counted tag, or from confirmed ones only


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


def _gap_works_of_basis(basis: str, counts: str) -> str:
    """gap_works' rows for one basis: tags for which `counts` holds, else NOT_TAGGED.

    Each join names the key (work_id = ? and key = ?), and there is no join on a table of
    bases: either way SQLite scanned every tag for every work (75 s at 10,000 works) instead
    of building an automatic index for the join."""
    return f"""
        select staged.stage, '{basis}' as basis, staged.work_id, works.year,
               coalesce(country.value, '{NOT_TAGGED}') as country,
               coalesce(design.value, '{NOT_TAGGED}') as design,
               (coalesce(country.confirmed, 1) = 0 or coalesce(design.confirmed, 1) = 0) as suggested
        from staged
        join works on works.id = staged.work_id
        left join tagged as country on country.work_id = staged.work_id and country.key = 'country'
            and {counts.format(tag="country")}
        left join tagged as design on design.work_id = staged.work_id and design.key = 'design'
            and {counts.format(tag="design")}
    """


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
    # --- the evidence gap map: one computation, read by `litrev gaps`, `litrev publish`
    # and Datasette. Everything below counts the same tags (COUNTED) the same way.
    # The country, nation and design tags that count, once per (work, key, value), with
    # whether a person stands behind them (confirmed) and the suggestion's confidence.
    "gap_tags": f"""
        select work_id, key, value, max{CONFIRMED} as confirmed, max(confidence) as confidence
        from work_tags
        where key in ('country', 'nation', 'design') and value is not null and value != ''
          and {COUNTED}
        group by work_id, key, value
    """,
    # One row per stage, basis, work, country and design: the gap map's cells before counting.
    # basis 'counted' counts every COUNTED tag; 'confirmed' only tags a person stands behind.
    # A multi-country study has a row per country; no tag is NOT_TAGGED (''). `suggested`
    # marks a row resting on a suggestion (its country or design tag is not confirmed).
    "gap_works": f"""
        with status as materialized (select work_id, status from work_status),
        staged as materialized ({_union_of_stages().replace("from work_status", "from status")}),
        tagged as materialized (
            select work_id, key, value, confirmed from gap_tags where key in ('country', 'design'))
        {_gap_works_of_basis("counted", "1")}
        union all
        {_gap_works_of_basis("confirmed", "{tag}.confirmed")}
    """,
}

# The gap map's counts, each a query over `{works}`: the gap_works view (the views below),
# or one snapshot of it when a reader needs them all (`gap_counts`).
# '' is NOT_TAGGED and 'GB' is UK (spelled out: the text is formatted with `works`).
GAP_COUNTS: dict[str, str] = {
    # Works per stage, basis, country and design (a two-country study counts in both rows),
    # and how many of them are in the cell by a suggestion.
    "gap_map": """
        select stage, basis, country, design, count(distinct work_id) as works,
               count(distinct case when suggested then work_id end) as on_suggestions
        from {works} group by stage, basis, country, design
    """,
    # Works per stage, basis, country and publication year (`litrev gaps --by year`).
    "gap_country_years": """
        select stage, basis, country, year, count(distinct work_id) as works
        from {works} group by stage, basis, country, year
    """,
    # Row totals: works per country, any design (each work once).
    "gap_countries": """
        select stage, basis, country, count(distinct work_id) as works
        from {works} group by stage, basis, country
    """,
    # Column totals: works per design, any country (each work once).
    "gap_designs": """
        select stage, basis, design, count(distinct work_id) as works
        from {works} group by stage, basis, design
    """,
    # Works and UK works per publication year (year null: undated).
    "gap_years": """
        select stage, basis, year, count(distinct work_id) as works,
               count(distinct case when country = 'GB' then work_id end) as uk_works
        from {works} group by stage, basis, year
    """,
    # UK works per UK nation named as the setting.
    "gap_uk_nations": """
        with nations as materialized (
            select work_id, key, value, confirmed from gap_tags where key = 'nation'),
        uk as materialized (select distinct stage, basis, work_id from {works} where country = 'GB')
        select uk.stage, uk.basis, nation.value as nation, count(distinct uk.work_id) as works
        from uk join nations as nation
            on nation.work_id = uk.work_id and nation.key = 'nation'
            and (uk.basis = 'counted' or nation.confirmed)
        group by uk.stage, uk.basis, nation.value
    """,
    # One row per stage and basis: works, works with a country, UK works, and the works
    # whose place on the map rests on at least one suggestion (none for basis 'confirmed').
    "gap_totals": """
        with bases(basis) as (values ('counted'), ('confirmed')),
        stages(stage) as (values {stages})
        select stages.stage, bases.basis,
               count(distinct {works}.work_id) as works,
               count(distinct case when {works}.country != '' then {works}.work_id end)
                   as works_with_country,
               count(distinct case when {works}.country = 'GB' then {works}.work_id end) as uk_works,
               count(distinct case when {works}.suggested then {works}.work_id end) as on_suggestions
        from stages join bases
        left join {works} on {works}.stage = stages.stage and {works}.basis = bases.basis
        group by stages.stage, bases.basis
    """,
}
_STAGES = ", ".join(f"('{s}')" for s in STAGE_WORKS)
VIEWS.update({name: sql.format(works="gap_works", stages=_STAGES) for name, sql in GAP_COUNTS.items()})


def gap_counts(db, stages: Iterable[str], bases: Iterable[str]) -> dict[str, list[dict]]:
    """Every GAP_COUNTS query's rows for `stages` and `bases`, from one evaluation of gap_works.

    The views recompute gap_works each (2 s at 10,000 works); `litrev gaps` and `litrev
    publish` need them all, so they count from a temporary snapshot of it, with the views' SQL.
    """
    stages, bases = list(stages), list(bases)
    for value in stages + bases:
        if value not in STAGE_WORKS and value not in BASES:
            raise LitrevError(f"Unknown stage or basis {value!r}.")
    wanted = (f"stage in ({', '.join(repr(s) for s in stages)}) "
              f"and basis in ({', '.join(repr(b) for b in bases)})")
    db.execute("drop table if exists temp.gap_works_snapshot")
    db.execute(f"create temp table gap_works_snapshot as select * from gap_works where {wanted}")
    try:
        return {name: list(db.query(f"select * from ({sql.format(works='temp.gap_works_snapshot', stages=_STAGES)}) "
                                    f"where {wanted}"))
                for name, sql in GAP_COUNTS.items()}
    finally:
        db.execute("drop table if exists temp.gap_works_snapshot")
