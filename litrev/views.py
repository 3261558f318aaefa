"""SQL views: derived state shared by the CLI, the PRISMA diagram and Datasette.

`ensure_shape` drops and recreates every view here, so editing one is safe.
Views are created in order (a view may use those above it).
"""

VIEWS: dict[str, str] = {
    # A work's canonical id: itself, or the work it was merged into.
    "canonical_works": """
        select id as work_id, coalesce(merged_into, id) as canonical_id from works
    """,
    # Records found per PRISMA source label (one record counts once per label).
    "records_by_source": """
        select harvest_runs.source_name, count(distinct provenance.record_id) as records
        from provenance join harvest_runs on harvest_runs.id = provenance.run_id
        group by harvest_runs.source_name
    """,
}
