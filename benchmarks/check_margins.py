"""Check: does plotly.js have to push any figure's margins (automargin) on the default cohort?

A push makes plotly draw the figure a second time, so the builders size their margins for their labels
(figures.style._margins_for_labels). This renders every figure the pages draw, for a few filters and groupings,
and every view's figures for a 3,000-patient synthetic cohort (the band forms), with the plotly.js bundled in the
plotly package, and prints the figures whose final margins differ from the ones the builder set.
Prints; asserts nothing.
    .venv/bin/python benchmarks/check_margins.py
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def figures_to_check():
    from misc_dash import analyses as A
    from misc_dash import derive, figures
    from misc_dash import filters as F
    from misc_dash import literature as L
    from misc_dash.loading import load_default_cohort

    cohort = load_default_cohort()
    pf = derive.patient_frame(cohort)
    lit = L.load_literature()
    yield "case003", L.build_case003_timeline(lit)
    for fname, flt in {"all": F.CohortFilter(), "CV shock": F.CohortFilter(phenotype=("CV shock",))}.items():
        for by in ("treatment", "anakinra", "phenotype", "sex"):
            ctx = A.prepare(cohort, flt, F.Grouping(by=by), pf_all=pf)
            colors = figures.group_colors(ctx.groups)
            tag = f"{fname} / {by}"
            er = A.echo(ctx, "lvef", A.AnalysisOptions())
            yield (
                f"{tag} / trajectories",
                figures.build_echo_trajectories(
                    er.trajectories, ctx.groups, er.measure, er.normal_threshold, colors=colors
                ),
            )
            yield (
                f"{tag} / slope",
                figures.build_paired_slope(
                    er.pairs,
                    ctx.groups,
                    er.measure,
                    er.normal_threshold,
                    tests={g.group: g.test for g in er.groups},
                    colors=colors,
                ),
            )
            fr = A.fever(ctx, A.AnalysisOptions())
            yield (
                f"{tag} / KM",
                figures.build_km_figure(fr.curves, ctx.groups, fr.at_risk_days, logrank=fr.logrank, colors=colors),
            )
            cr = A.cytokines(ctx)
            yield f"{tag} / cytokines", figures.build_cytokine_figure(cr.values, ctx.groups, colors=colors)
            yield f"{tag} / cytokine heatmap", figures.build_cytokine_heatmap(list(cr.records), ctx.groups)
            lr = A.labs(ctx)
            for analyte in A.LAB_LABELS:
                yield (
                    f"{tag} / labs {analyte}",
                    figures.build_labs_figure(lr.trajectories, analyte, ctx.groups, colors=colors),
                )
            yield f"{tag} / dosing", figures.build_dosing_figure(A.dosing(ctx).daily)
            yield (
                f"{tag} / adverse events",
                figures.build_ae_figure(list(A.adverse_events(ctx).records), ctx.groups, colors=colors),
            )
            yield f"{tag} / flow", figures.build_flow_figure(A.cohort_flow(ctx))
            yield (
                f"{tag} / literature LVEF",
                L.build_lvef_literature_figure(L.lvef_recovery_points(lit), A.lvef_since_anakinra(ctx)),
            )


def large_cohort_figures(n: int = 3000):
    """Every figure of every view (each chart) for an n-patient synthetic cohort: the band / precomputed-box forms
    (more subtitle lines, other traces) must fit their margins too."""
    from misc_dash import analyses as A
    from misc_dash import views
    from misc_dash.loading import _make_cohort, load_default_cohort
    from misc_dash.synth import synthesize

    base = load_default_cohort()
    cohort = _make_cohort(synthesize(n, seed=1, base=base), f"synth {n}", True, "", "", ())
    vc = views.ViewContext(A.prepare(cohort), cohort.n_patients)
    for name, view in views.VIEWS.items():
        for options in view.all_chart_options(view.options()) if view.options else [None]:
            for card in views.build_cards(name, vc, options):
                if card.figure is not None:
                    yield f"synth {n} / {card.key}", card.figure


def main():
    import plotly
    import plotly.io as pio
    from playwright.sync_api import sync_playwright

    js = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1600, "height": 1100})
        page.set_content("<html><body><div id='g' style='width:1100px'></div></body></html>")
        page.add_script_tag(content=js)
        n = pushed = 0
        for name, fig in itertools.chain(figures_to_check(), large_cohort_figures()):
            spec = json.loads(pio.to_json(fig, validate=False))
            r = page.evaluate(
                """async (s) => { const g = document.getElementById('g'); Plotly.purge(g);
                   await Plotly.newPlot(g, s.data, s.layout); const f = g._fullLayout;
                   return {m: f.margin, s: f._size}; }""",
                spec,
            )
            n += 1
            d = {k: round(r["s"][k] - r["m"][k]) for k in ("l", "r", "t", "b") if abs(r["s"][k] - r["m"][k]) > 0.5}
            if d:
                pushed += 1
                print(f"pushed: {name:<50} {d}")
        print(f"{pushed} of {n} figures had their margins pushed by plotly (each such figure is drawn twice)")
        browser.close()


if __name__ == "__main__":
    main()
