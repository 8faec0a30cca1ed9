"""Adjusted & sensitivity (issue 17): naive vs adjusted vs weighted hazard ratios, the balance (love) plot, the
propensity overlap and the specification plot of the fever comparison over every what-if."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..plotspec import FigureSpec, scatter
from .style import _colors, _esc, _style, empty_figure

_DOT = "#0072B2"
_MARK = "#D55E00"


def build_hr_comparison_figure(rows: Sequence[Mapping], title: str = "Hazard ratio of defervescence") -> object:
    """One row per estimate (``label``, ``hr``, ``ci``: (low, high) or None, ``note``: shown when no estimate):
    dot and 95% CI on a log axis with the line of no difference at 1."""
    rows = list(rows)
    if not rows:
        return empty_figure("No estimate for this selection.", title)
    labels = [_esc(r["label"]) for r in rows]
    fig = FigureSpec()
    xs, ys, lo, hi, text = [], [], [], [], []
    missing = []
    for lab, r in zip(labels, rows):
        ci = r.get("ci") or (None, None)
        if r.get("hr") is None or ci[0] is None or ci[1] is None:
            missing.append((lab, r.get("note") or "not estimable"))
            continue
        xs.append(r["hr"])
        ys.append(lab)
        lo.append(r["hr"] - ci[0])
        hi.append(ci[1] - r["hr"])
        text.append(f"{r['hr']:.2f} ({ci[0]:.2f}–{ci[1]:.2f})")
    fig.add_trace(
        scatter(
            x=xs,
            y=ys,
            mode="markers+text",
            marker={"color": _DOT, "size": 11},
            error_x={"type": "data", "symmetric": False, "array": hi, "arrayminus": lo, "color": _DOT},
            text=text,
            textposition="top center",
            hovertemplate="%{y}: HR %{text}<extra></extra>",
            showlegend=False,
        )
    )
    for lab, note in missing:
        fig.add_trace(
            scatter(x=[1.0], y=[lab], mode="markers", marker={"color": "#999999", "symbol": "x", "size": 9},
                    hovertemplate=f"%{{y}}: {_esc(note)}<extra></extra>", showlegend=False)
        )  # fmt: skip
        fig.add_annotation(x=0, xref="paper", y=lab, text=f"<i>{_esc(note)[:90]}</i>", showarrow=False,
                           xanchor="left", yshift=-14, font={"size": 11, "color": "#666666"})  # fmt: skip
    fig.add_vline(x=1.0, line={"dash": "dot", "color": "#555555"})
    fig.update_xaxes(type="log", title={"text": "Hazard ratio of defervescence (second vs first group), 95% CI"})
    # room above the top row for its label (the estimate text sits above each point)
    top = len(labels) - 0.5 + 0.45
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(labels)), range=[-0.6, top])
    sub = "HR > 1: the second group defervesces faster; the dotted line = no difference"
    return _style(fig, title, sub, height=max(300, 150 + 70 * len(rows)), legend="none").figure()


def build_balance_figure(rows: Sequence[Mapping], threshold: float = 0.1, title: str = "Covariate balance") -> object:
    """Love plot: |SMD| per covariate before (open) and after (filled) weighting, the ``threshold`` line."""
    rows = [r for r in rows if r.get("before") is not None]
    if not rows:
        return empty_figure("No covariate to balance.", title)
    names = [_esc(r["covariate"]) for r in rows]
    fig = FigureSpec()
    fig.add_trace(
        scatter(x=[abs(r["before"]) for r in rows], y=names, mode="markers", name="Before weighting",
                marker={"symbol": "circle-open", "size": 11, "color": "#555555"},
                hovertemplate="%{y}: |SMD| %{x:.3f} before<extra></extra>")
    )  # fmt: skip
    after = [r for r in rows if r.get("after") is not None]
    if after:
        fig.add_trace(
            scatter(x=[abs(r["after"]) for r in after], y=[_esc(r["covariate"]) for r in after], mode="markers",
                    name="After weighting (IPTW)", marker={"symbol": "circle", "size": 11, "color": _DOT},
                    hovertemplate="%{y}: |SMD| %{x:.3f} after<extra></extra>")
        )  # fmt: skip
    fig.add_vline(x=threshold, line={"dash": "dash", "color": _MARK})
    fig.update_xaxes(
        title={"text": f"|standardised mean difference| (balanced below {threshold:g})"}, rangemode="tozero"
    )
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(names)))
    return _style(fig, title, "Before vs after weighting", height=max(300, 170 + 40 * len(rows))).figure()


def build_overlap_figure(
    propensity: Mapping[str, Sequence[float]], order: Sequence[str], colors: Mapping[str, str] | None = None
) -> object:
    """Propensity score (probability of the second group) by group: one strip of points per group."""
    title = "Propensity overlap"
    present = [g for g in order if len(propensity.get(g, ())) > 0]
    if not present:
        return empty_figure("No propensity scores.", title)
    cmap = _colors(present, colors)
    fig = FigureSpec()
    for g in present:
        ps = list(propensity[g])
        fig.add_trace(
            scatter(x=ps, y=[_esc(g)] * len(ps), mode="markers", name=f"{_esc(g)} (n = {len(ps)})",
                    marker={"color": cmap.get(g, _DOT), "size": 10, "opacity": 0.7},
                    hovertemplate="propensity %{x:.3f}<extra></extra>")
        )  # fmt: skip
    fig.update_xaxes(title={"text": f"Propensity score: P({_esc(present[-1])} | covariates)"}, range=[-0.02, 1.02])
    sub = "Where one group's points have no counterpart in the other, adjustment extrapolates"
    return _style(fig, title, sub, height=320).figure()


def build_specification_figure(rows: Sequence[Mapping], title: str = "Every what-if at once") -> object:
    """Specification plot: HR with 95% CI per specification (``label``, ``hr``, ``ci``, ``p``, ``default``), the
    default marked in orange."""
    rows = list(rows)
    if not rows:
        return empty_figure("No specification could be fitted.", title)
    labels = [_esc(r["label"]) for r in rows]
    fig = FigureSpec()
    for default in (False, True):
        sel = [(lab, r) for lab, r in zip(labels, rows) if bool(r.get("default")) == default and r.get("hr")]
        if not sel:
            continue
        fig.add_trace(
            scatter(
                x=[r["hr"] for _, r in sel],
                y=[lab for lab, _ in sel],
                mode="markers",
                name="Default (the Fever page's settings)" if default else "Other specifications",
                marker={"color": _MARK if default else _DOT, "size": 12 if default else 8,
                        "symbol": "diamond" if default else "circle"},
                error_x={"type": "data", "symmetric": False, "color": _MARK if default else _DOT,
                         "array": [r["ci"][1] - r["hr"] for _, r in sel],
                         "arrayminus": [r["hr"] - r["ci"][0] for _, r in sel]},
                text=[_esc(r.get("p_text", "")) for _, r in sel],
                hovertemplate="%{y}<br>HR %{x:.2f}, %{text}<extra></extra>",
            )
        )  # fmt: skip
    fig.add_vline(x=1.0, line={"dash": "dot", "color": "#555555"})
    fig.update_xaxes(type="log", title={"text": "Hazard ratio of defervescence (second vs first group), 95% CI"})
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(labels)))
    sub = "Origin × fever threshold × sustained: a presenter cannot pick the one that looks best"
    return _style(fig, title, sub, height=max(360, 150 + 24 * len(rows))).figure()
