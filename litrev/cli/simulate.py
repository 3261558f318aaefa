"""`litrev simulate`: replay a labelled screening set through the screening ranker."""

import click

from litrev.cli.common import echo_json, json_option, progress_bar, quiet_option


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--label", "label_column", default="label_included", show_default=True,
              help="The 0/1 column to simulate, e.g. label_abstract_screening.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed for the prior records; run k uses seed + k.")
@click.option("--runs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Replays with different priors; the metrics are averaged.")
@click.option("--prior-included", type=click.IntRange(min=1), default=1, show_default=True,
              help="Random includes known at the start.")
@click.option("--prior-excluded", type=click.IntRange(min=1), default=1, show_default=True,
              help="Random excludes known at the start.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False),
              help="Write the recall curve(s) to this PNG.")
@click.option("--recall-target", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.95, show_default=True, help="The stopping rule's recall target.")
@click.option("--confidence", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.95, show_default=True, help="The stopping rule's confidence.")
@json_option
@quiet_option
def simulate(file, label_column, seed, runs, prior_included, prior_excluded, plot_path,
             recall_target, confidence, as_json, quiet):
    """Replay a labelled screening set and report the work prioritisation saves.

    FILE is a CSV with title, abstract and 0/1 label columns (as ASReview's
    benchmark sets). The records are screened in the order `litrev screen`
    would show them, retraining after each decision, and WSS@95, RRF@10,
    recall at 10/25/50% screened and where the stopping rule (and, for
    comparison, 50 or 100 excludes in a row) would have stopped are printed.

    Example:

        litrev simulate labelled.csv --runs 5 --plot recall.png
    """
    from litrev.screen import simulate as sim

    data = sim.read_labelled_csv(file, label_column)
    with progress_bar(quiet or as_json) as progress:
        task = progress.add_task(f"Simulating {data.name}", total=runs)
        results = sim.simulate(
            data, seed=seed, runs=runs, n_prior_included=prior_included,
            n_prior_excluded=prior_excluded,
            progress=lambda n: progress.update(task, advance=n),
            recall_target=recall_target, confidence=confidence,
        )
    summary = sim.summarise(results)
    stops = sim.summarise_stops([r.stopping for r in results], recall_target)
    baselines = {name: sim.summarise_stops([r.baselines[name] for r in results], recall_target)
                 for name in results[0].baselines}
    if plot_path:
        sim.plot_recall(results, plot_path, title=f"{data.name} ({label_column})")
    if as_json:
        echo_json({
            "file": str(file),
            "label": label_column,
            "records": len(data.labels),
            "relevant": int(data.labels.sum()),
            "runs": [
                {"seed": r.seed, "priors": [data.record_ids[i] for i in r.priors],
                 "metrics": r.metrics, "stopping": r.stopping, "baselines": r.baselines}
                for r in results
            ],
            "stopping_rule": {"recall_target": recall_target, "confidence": confidence},
            "mean": {**{k: v["mean"] for k, v in summary.items()},
                     "stopping": stops, "baselines": baselines},
            "plot": plot_path,
        })
        return
    click.echo(f"{data.name}: {len(data.labels)} records, {int(data.labels.sum())} relevant "
               f"({label_column}); {runs} run(s), {prior_included} + {prior_excluded} priors, "
               f"seed {seed}")
    spread = runs > 1
    for key, label, fmt in (
        ("wss@95", "WSS@95", "{:.1%}"),
        ("rrf@10", "RRF@10", "{:.1f}%"),
        ("recall@10", "Recall at 10% screened", "{:.1%}"),
        ("recall@25", "Recall at 25% screened", "{:.1%}"),
        ("recall@50", "Recall at 50% screened", "{:.1%}"),
    ):
        s = summary[key]
        line = f"  {label:<24}{fmt.format(s['mean'])}"
        if spread:
            line += f"  (min {fmt.format(s['min'])}, max {fmt.format(s['max'])})"
        click.echo(line)
    click.echo(f"Stopping rule ({recall_target:.0%} recall, {confidence:.0%} confidence), "
               "mean over the runs:")
    for label, s in (("statistical test", stops),
                     *((f"{n.rsplit('_', 1)[1]} excludes in a row", b)
                       for n, b in baselines.items())):
        click.echo(f"  {label:<24}stops after {s['screened']:.0f} records, recall "
                   f"{s['recall']:.1%}, work saved {s['work_saved']:.1%}; recall at or above "
                   f"target in {s['reached_target']:.0%} of runs")
    if plot_path:
        click.echo(f"Recall curve written to {plot_path}")
