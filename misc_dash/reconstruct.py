"""Deterministic generator of the default, SYNTHETIC 46-patient MIS-C cohort.

No patient-level data were published with the index study (single-centre MIS-C cohort, IVIG monotherapy vs
IVIG + anakinra; Tables 1–4 and the Results text). This module reconstructs a synthetic cohort whose
patient-level rows reproduce the paper's published summary numbers under the rules of
``docs/CONVENTIONS.md`` (weibull quantiles, R-style Mann–Whitney / Wilcoxon, Fisher, lifelines log-rank).

How: the published targets are written below, one block per published table / Results sentence. For every
block a small deterministic local search (simulated annealing with a fixed seed, see :func:`_anneal`) picks
per-patient values on a realistic grid until every published median [Q1, Q3] and p-value is hit at published
precision; the patients are then assembled (doses, temperature curves, echo studies, lab trajectories).
Every choice where the paper is silent or contradicts itself is listed in ``docs/RECONSTRUCTION.md``;
``data/published.json`` (written by :func:`write_published`) lists every published value.

Run ``python -m misc_dash.reconstruct`` to regenerate ``data/default_cohort/`` and ``data/published.json``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as sps

REPO_ROOT = Path(__file__).resolve().parent.parent
_VERBOSE = False
DEFAULT_SEED = 20201115  # end of the study period (15 Nov 2020); any fixed integer works

CYTOKINE_NAMES = ("IFNγ", "IL-1β", "IL-2", "IL-6", "IL-8", "IL-12", "IL-17", "sIL-2R", "TNFα")

# =============================================================================================== TARGETS
# Numbers are strings exactly as printed in the paper; their number of decimals is the published precision.

# ---- Table 1: "Comparison of MIS-C patients in the IVIG monotherapy versus IVIG + anakinra groups" ----------
# rows: (label, all "n, %", monotherapy "n, %", all IVIG + anakinra "n, %", Fisher p as printed)
TABLE1_N = {"all": 46, "mono": 14, "ana": 32}
TABLE1_COUNTS = {
    "male": ("Male", "25, 54%", "8, 57%", "17, 53%", "> 0.99"),
    "african_american": ("African American", "25, 54%", "8, 57%", "17, 53%", "> 0.99"),
    "latin_american": ("Latin-American", "20, 43%", "6, 43%", "14, 44%", "> 0.99"),
    "caucasian": ("Caucasian", "1, 2%", "0, 0%", "1, 3%", "> 0.99"),
    "sars_cov2_pcr": ("SARS-CoV2 PCR +", "19, 41%", "5, 36%", "14, 44%", "0.75"),
    "non_specific": ("Non-specific", "15, 33%", "9, 64%", "6, 19%", "0.005"),
    "kd_like": ("KD-like", "20, 43%", "3, 21%", "17, 53%", "0.06"),
    "cv_shock": ("CV shock", "23, 50%", "3, 21%", "20, 63%", "0.02"),
    "kdss_like": ("KDSS-like", "12, 26%", "1, 7%", "11, 34%", "0.07"),
    "ivig": ("IVIG", "46, 100%", "14, 100%", "32, 100%", "N/A"),
    "inflammatory_steroids": ("Inflammatory steroids", "3, 7%", "0, 0%", "3, 9%", "0.54"),
    "stress_hydrocortisone": ("Stress hydrocortisone", "7, 15%", "1, 7%", "6, 19%", "0.41"),
}
# Table 1 "Age, in years [Q1, Q3]": (median, Q1, Q3); Mann–Whitney p
TABLE1_AGE = {"all": ("8", "4", "13"), "mono": ("10.5", "3.5", "13"), "ana": ("8", "4", "10"), "p": "0.57"}

# ---- Table 2: "Comparison of MIS-C patients in the IVIG + anakinra group presenting with or without CV shock" --
TABLE2_N = {"noshock": 12, "shock": 20}
TABLE2_COUNTS = {  # (label, - CV shock "n, %", + CV shock "n, %", Fisher p)
    "inflammatory_steroids": ("Inflammatory steroids", "0, 0%", "3, 15%", "0.27"),
    "stress_hydrocortisone": ("Stress hydrocortisone", "0, 0%", "6, 30%", "0.06"),
    "adjunct": ("Adjunct therapy", "0, 0%", "20, 100%", "N/A"),
    "rescue": ("First-line rescue therapy", "12, 100%", "0, 0%", "N/A"),
}
TABLE2_CONT = {  # (label, - CV shock (median, Q1, Q3), + CV shock (median, Q1, Q3), Mann–Whitney p)
    "start_dose": ("Starting dose, mg/kg/day", ("7.7", "4.5", "8.0"), ("7.9", "7.7", "9.9"), "0.09"),
    "start_hospital_day": ("Initiation, hospitalization day", ("2.0", "2.0", "4.8"), ("2.0", "1.0", "3.0"), "0.11"),
    "max_dose": ("Max dose, mg/kg/day", ("8.0", "4.5", "9.2"), ("9.8", "8.1", "10.0"), "0.003"),
    "max_mg_per_dose": ("Max dose, mg/dose", ("41", "30", "94"), ("55", "46", "100"), "0.21"),
    "duration": ("Treatment duration, days", ("7.1", "4.6", "8.8"), ("10.6", "9.7", "13.3"), "0.002"),
}
# Results, "Characteristics of MIS-C patients who received IVIG+anakinra" (whole IVIG + anakinra group, n = 32):
# "median dose ... 7.9 [7.5–8.2] mg/kg/day, median maximum dose of 9.5 [7.7–10.0] mg/kg/day, median duration of
# 9.8 [7.0–11.3] days (Supplemental Table S3)". "Median dose" is read as the starting dose (see RECONSTRUCTION.md).
ANAKINRA_OVERALL = {
    "start_dose": ("7.9", "7.5", "8.2"),
    "max_dose": ("9.5", "7.7", "10.0"),
    "duration": ("9.8", "7.0", "11.3"),
}
# Results text: "Patients with CV shock received doses of anakinra at 9.8 mg/kg/day (vs. 8.0 ... p = 0.003) for a
# treatment duration of 10.6 days (vs. 7.1 days ..., p = 0.002)" — echoes Table 2's max dose and duration rows.

# ---- Results: troponin / BNP contrast (Supplemental Table S4), IVIG + anakinra group, + vs − CV shock ----------
LAB_CONTRAST = {  # analyte: (+ CV shock median, − CV shock median, Mann–Whitney p); first value per patient
    "troponin": ("0.05", "0.02", "0.03"),
    "bnp": ("3339", "1472", "0.04"),
}

# ---- Table 3: "Adverse events associated with IVIG + anakinra treatment" (printed group sizes 14 / 25 / 9) -----
TABLE3_PRINTED_N = {"mono": 14, "ana_nocs": 25, "ana_cs": 9}
TABLE3_USED_N = {"mono": 14, "ana_nocs": 23, "ana_cs": 9}  # the text: 32 IVIG + anakinra, 9 with CS
TABLE3 = {  # event: (label, mono "n, %", without CS "n, %", with CS "n, %", three-group p as printed)
    "elevated_lft": ("Elevated LFTs", "2, 14%", "6, 24%", "7, 67%", "0.008*"),
    "neutropenia": ("Neutropenia", "1, 7%", "5, 20%", "3, 33%", "0.36"),
    "hemolytic_anemia": ("Hemolytic anemia", "1, 7%", "1, 4%", "1, 11%", "0.73"),
    "anaphylaxis": ("Anaphylaxis", "0, 0%", "0, 0%", "0, 0%", "N/A"),
    "rash": ("Rash", "0, 0%", "2, 8%", "0, 0%", "0.42"),
    "rehospitalization": ("Re-hospitalization", "0, 0%", "0, 0%", "0, 0%", "N/A"),
}
# Results, "Adverse events": "No mortality or thrombosis events ... (0/46 or 0%)"; "neutropenia (20% vs. 7% in IVIG
# monotherapy, p = 0.25) and elevated liver function tests (LFTs) (24% vs. 14% in IVIG monotherapy, p = 0.25)".
TABLE3_TEXT = {"neutropenia": ("20%", "7%", "0.25"), "elevated_lft": ("24%", "14%", "0.25")}

# ---- Table 4: "Comparison of circulating cytokines in MIS-C patients" (fold difference, median [Q1–Q3]) ---------
TABLE4 = {  # cytokine: (All MIS-C, IVIG monotherapy, All IVIG + anakinra, Mann–Whitney p)
    "IFNγ": (("1.0", "0.4", "1.6"), ("0.4", "0.40", "1.2"), ("1.0", "0.5", "2.1"), "0.07"),
    "IL-1β": (("0.9", "0.2", "1.0"), ("0.9", "0.7", "0.9"), ("0.9", "0.2", "1.0"), "0.37"),
    "IL-2": (("1.0", "1.0", "1.0"), ("1.0", "1.0", "1.0"), ("1.0", "1.0", "1.0"), "0.74"),
    "IL-6": (("14.3", "3.2", "34.4"), ("3.0", "1.6", "15.8"), ("22.1", "9.9", "39.0"), "0.006"),
    "IL-8": (("0.6", "0.3", "1.0"), ("0.3", "0.3", "0.6"), ("1.0", "0.3", "1.0"), "0.03"),
    "IL-12": (("0.4", "0.4", "1.0"), ("0.4", "0.4", "0.4"), ("0.7", "0.4", "1.0"), "0.10"),
    "IL-17": (("1.0", "0.6", "1.6"), ("1.0", "0.6", "3.0"), ("1.0", "0.6", "1.0"), "0.98"),
    "sIL-2R": (("4.0", "2.0", "6.7"), ("1.4", "0.9", "3.2"), ("5.7", "3.7", "7.8"), "0.0006"),
    "TNFα": (("0.3", "0.1", "0.5"), ("0.2", "0.1", "0.3"), ("0.3", "0.2", "0.6"), "0.11"),
}
CYTOKINE_N = {"mono": 9, "ana": 19}  # not published: chosen (see RECONSTRUCTION.md)

# ---- Results, "Resolution of fever" (Fig. 1A/B): Kaplan–Meier from admission, first reading < 38.0 °C ------------
FEVER = {
    "mono_afebrile_by_day5": "100%",  # "Resolution of fever occurred in 100% of ... IVIG monotherapy by 5 days"
    "ana_afebrile_by_day5": "~50%",  # "~50% defervescence occurring by 5 days after admission"
    "logrank_mono_vs_ana": "0.003",  # "(p = 0.003) (Fig. 1A and B)"
    "logrank_cs_vs_nocs": "0.64",  # "no significant differences ... with CS and without CS (p = 0.64)"
}
FEVER_ANA_BY_DAY5 = 16  # ~50 % of 32: exactly 16 of 32 defervesce by hour 120 (chosen)

# ---- Results, "Longitudinal cardiac function measurements" (Fig. 1C/D, Suppl. S2G/S2I, S3B) --------------------
# (id, patient set, measure, first-echo median, last-echo median, Wilcoxon signed-rank p, quoted sentence)
ECHO = (
    ("mono.lvef", "mono", "lvef", "62", "65", "0.01", "IVIG monotherapy ... (62% vs. 65%, p = 0.01)"),
    ("ana.lvef", "ana", "lvef", "59.0", "62.5", "0.004", "10 patients (37%) ... LVEF ... (59.0% vs. 62.5%, p = 0.004)"),
    (
        "ana_cs.lvef",
        "ana_cs",
        "lvef",
        "51",
        "57",
        "0.04",
        "CS in addition to IVIG + anakinra ... (51 to 57%, p = 0.04)",
    ),
    (
        "ana.strain",
        "ana",
        "strain",
        "-13.2",
        "-17.8",
        "0.04",
        "Ap4 ... IVIG + anakinra group improved (-13.2 to -17.8, p = 0.04)",
    ),
    (
        "mono.strain",
        "mono",
        "strain",
        "-15.5",
        "-18.9",
        "0.21",
        "No improvements ... IVIG monotherapy (-15.5 to -18.9, p = 0.21)",
    ),
    (
        "ana_cs.strain",
        "ana_cs",
        "strain",
        "-14.6",
        "-16.1",
        "0.55",
        "... or IVIG + anakinra with CS groups (-14.6 to -16.1, p = 0.55)",
    ),
    (
        "ana_shock.lvef",
        "ana_shock",
        "lvef",
        "49",
        "59",
        "0.005",
        "IVIG + anakinra group with CV shock ... (49 to 59% for CV shock, p = 0.005)",
    ),
    ("ana_kdss.lvef", "ana_kdss", "lvef", "49", "59", "0.047", "... 49 to 59% for KDSS-like, p = 0.047"),
    (
        "ana_kd.strain",
        "ana_kd",
        "strain",
        "-14.4",
        "-18.4",
        "0.005",
        "IVIG + anakinra group with KD-like features ... (-14.4 to -18.4, p = 0.005)",
    ),
)
ECHO_ANA_PAIRS = 27  # "10 patients (37%)": 10/27 = 37 %
ECHO_ANA_LOW_BASELINE = (
    10  # "10 patients (37%) in the IVIG + anakinra group exhibited reduced LVEF (< 55%) at baseline"
)
ECHO_INTERVAL = ("11", "9", "14")  # "median time between initial and follow-up echo ... 11 [9–14] days"

# ---- Discussion: "hospitalized for a median of 11 [9–14] days (Table 2)" --------------------------------------------
LENGTH_OF_STAY = ("11", "9", "14")


# =============================================================================================== statistics
# Scratch implementations that follow docs/CONVENTIONS.md exactly (the shared engine lives in misc_dash.stats).
def quartiles(x) -> tuple[float, float, float]:
    """(median, Q1, Q3), numpy "weibull" = R type 6 = Prism."""
    q1, med, q3 = np.quantile(np.asarray(x, dtype=float), [0.25, 0.5, 0.75], method="weibull")
    return float(med), float(q1), float(q3)


def mw_p(x, y) -> float:
    """Two-sided Mann–Whitney as R wilcox.test defaults (exact iff both n < 50 and no ties)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    allv = np.concatenate([x, y])
    exact = len(x) < 50 and len(y) < 50 and len(np.unique(allv)) == len(allv)
    return float(
        sps.mannwhitneyu(
            x, y, alternative="two-sided", method="exact" if exact else "asymptotic", use_continuity=True
        ).pvalue
    )


def wsr_p(before, after) -> float:
    """Two-sided Wilcoxon signed-rank on follow-up − baseline, as R wilcox.test(paired=TRUE) defaults."""
    d = np.asarray(after, dtype=float) - np.asarray(before, dtype=float)
    zeros = bool(np.any(d == 0))
    nz = d[d != 0]
    if len(nz) == 0:
        return 1.0
    exact = len(nz) < 50 and not zeros and len(np.unique(np.abs(nz))) == len(nz)
    return float(sps.wilcoxon(nz, zero_method="wilcox", correction=True, method="exact" if exact else "approx").pvalue)


def fisher_p(a: int, n: int, b: int, m: int) -> float:
    return float(sps.fisher_exact([[a, n - a], [b, m - b]])[1])


def freeman_halton_2xk(counts, sizes) -> float:
    """Exact r×c (2 × k) test: sum of the probabilities of all tables with the same margins that are ≤ observed."""
    counts = list(counts)
    sizes = list(sizes)
    total = sum(counts)

    def prob(cs):
        return math.prod(math.comb(n, c) for n, c in zip(sizes, cs)) / math.comb(sum(sizes), total)

    p_obs = prob(counts)
    tot = 0.0

    def rec(i, left, acc):
        nonlocal tot
        if i == len(sizes) - 1:
            if 0 <= left <= sizes[i]:
                pr = prob(acc + [left])
                if pr <= p_obs * (1 + 1e-7):
                    tot += pr
            return
        for c in range(0, min(sizes[i], left) + 1):
            rec(i + 1, left - c, acc + [c])

    rec(0, total, [])
    return min(1.0, tot)


def logrank_p(t1, t2, e1=None, e2=None) -> float:
    from lifelines.statistics import logrank_test

    e1 = np.ones(len(t1)) if e1 is None else e1
    e2 = np.ones(len(t2)) if e2 is None else e2
    return float(logrank_test(t1, t2, event_observed_A=e1, event_observed_B=e2).p_value)


def decimals_of(s: str) -> int:
    s = s.strip().lstrip("<>~ ").rstrip("%*")
    return len(s.split(".")[1]) if "." in s else 0


def tol_of(s: str) -> float:
    return 0.5 * 10 ** (-decimals_of(s)) + 1e-9


def hits(value: float, published: str) -> bool:
    """Published-precision rule of CONVENTIONS.md ('> 0.99' means p > 0.99)."""
    s = published.strip()
    if s.startswith(">"):
        return value > float(s.lstrip("> "))
    return abs(value - float(s.lstrip("~ ").rstrip("%*"))) <= tol_of(s)


# =============================================================================================== search
# Fast equivalents of the tests above, used inside the searches only (the final check uses scipy / lifelines).
_SQRT2 = math.sqrt(2.0)


@cache
def _u_counts(n1: int, n2: int) -> np.ndarray:
    """Number of arrangements giving each Mann–Whitney U (0..n1·n2), no ties."""
    if n1 == 0 or n2 == 0:
        return np.ones(1)
    a = np.zeros(n1 * n2 + 1)
    left = _u_counts(n1 - 1, n2)  # largest value in sample 1: contributes n2
    a[n2 : n2 + len(left)] += left
    right = _u_counts(n1, n2 - 1)
    a[: len(right)] += right
    return a


@cache
def _t_counts(n: int) -> np.ndarray:
    """Number of sign patterns giving each signed-rank sum T+ (0..n(n+1)/2), no ties."""
    a = np.ones(1)
    for r in range(1, n + 1):
        b = np.zeros(len(a) + r)
        b[: len(a)] += a
        b[r:] += a
        a = b
    return a


def _ranks(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average ranks (1-based) and tie-group sizes."""
    _, inv, cnt = np.unique(a, return_inverse=True, return_counts=True)
    cum = np.cumsum(cnt)
    return (cum - (cnt - 1) / 2.0)[inv], cnt


def _wq(x) -> tuple[float, float, float]:
    """Fast (median, Q1, Q3), identical to numpy's "weibull" method (R type 6)."""
    s = np.sort(np.asarray(x, dtype=float))
    n = len(s)
    out = []
    for p in (0.5, 0.25, 0.75):
        h = min(max((n + 1) * p, 1.0), float(n))
        lo = int(math.floor(h))  # noqa: RUF046 - kept as written
        out.append(float(s[lo - 1] + (h - lo) * (s[min(lo, n - 1)] - s[lo - 1])))
    return out[0], out[1], out[2]


def _mw_fast(x: np.ndarray, y: np.ndarray) -> float:
    n1, n2 = len(x), len(y)
    allv = np.concatenate([x, y])
    r, cnt = _ranks(allv)
    u1 = float(r[:n1].sum() - n1 * (n1 + 1) / 2)
    u = max(u1, n1 * n2 - u1)
    if cnt.max() == 1 and n1 < 50 and n2 < 50:
        c = _u_counts(n1, n2)
        return float(min(1.0, 2 * c[int(round(u)) :].sum() / c.sum()))  # noqa: RUF046 - int() kept: numpy-scalar input
    nn = n1 + n2
    tie = float(np.sum(cnt.astype(float) ** 3 - cnt))
    s = math.sqrt(n1 * n2 / 12 * ((nn + 1) - tie / (nn * (nn - 1))))
    if s == 0:
        return 1.0
    z = (u - n1 * n2 / 2 - 0.5) / s
    return float(min(1.0, math.erfc(z / _SQRT2)))


def _wsr_fast(before: np.ndarray, after: np.ndarray) -> float:
    d = np.round(np.asarray(after, float) - np.asarray(before, float), 9)
    zeros = bool(np.any(d == 0))
    nz = d[d != 0]
    n = len(nz)
    if n == 0:
        return 1.0
    a = np.abs(nz)
    r, cnt = _ranks(a)
    tplus = float(r[nz > 0].sum())
    if n < 50 and not zeros and cnt.max() == 1:
        c = _t_counts(n)
        t = int(round(tplus))  # noqa: RUF046 - int() kept: numpy-scalar input
        tot = c.sum()
        return float(min(1.0, 2 * min(c[: t + 1].sum(), c[t:].sum()) / tot))
    mn = n * (n + 1) / 4
    tie = float(np.sum(cnt.astype(float) ** 3 - cnt))
    se = math.sqrt(n * (n + 1) * (2 * n + 1) / 24 - tie / 48)
    diff = tplus - mn
    z = (diff - 0.5 * np.sign(diff)) / se
    return float(min(1.0, math.erfc(abs(z) / _SQRT2)))


def _logrank_fast(t1: np.ndarray, t2: np.ndarray) -> float:
    """Two-group log-rank, every subject with an event (no censoring)."""
    t = np.concatenate([t1, t2])
    g = np.concatenate([np.ones(len(t1)), np.zeros(len(t2))])
    times, inv, d = np.unique(t, return_inverse=True, return_counts=True)
    d1 = np.bincount(inv, weights=g, minlength=len(times))
    n_at = len(t) - np.concatenate([[0], np.cumsum(d)[:-1]])
    n1_at = len(t1) - np.concatenate([[0], np.cumsum(d1)[:-1]])
    e1 = np.sum(d * n1_at / n_at)
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(n_at > 1, d * (n1_at / n_at) * (1 - n1_at / n_at) * (n_at - d) / (n_at - 1), 0.0)
    chi2 = (d1.sum() - e1) ** 2 / v.sum()
    return float(math.erfc(math.sqrt(chi2 / 2)))


def _q_cost(x, target: tuple[str, str, str], edge: float = 0.9) -> float:
    """Distance (in units of the published tolerance) of (median, Q1, Q3) outside the published precision
    (``edge`` < 1 keeps values off the rounding edge, so they also print as published)."""
    got = _wq(x)
    c = 0.0
    for g, t in zip(got, target):
        tol = tol_of(t)
        c += max(0.0, abs(g - float(t)) - edge * tol) / tol
    return c


def _p_cost(p: float, target: str, frac: float = 0.8) -> float:
    """Log distance of p outside [t − frac·tol, t + frac·tol] (a margin keeps other implementations on target)."""
    t = float(target)
    tol = frac * 0.5 * 10 ** (-decimals_of(target))
    lo, hi = max(t - tol, 1e-300), t + tol
    width = math.log(hi / lo) / 2
    if p < lo:
        return math.log(lo / max(p, 1e-300)) / width
    if p > hi:
        return math.log(p / hi) / width
    return 0.0


@dataclass
class _Family:
    grid: np.ndarray  # allowed values, increasing
    idx: np.ndarray  # current index per element
    lo: np.ndarray  # per-element lowest allowed index
    hi: np.ndarray  # per-element highest allowed index
    swap: bool = False  # moves swap two elements (keeps the multiset) instead of changing one
    attract: np.ndarray | None = None  # grid indices of published values: some moves jump straight to one

    @property
    def values(self) -> np.ndarray:
        return self.grid[self.idx]


def _family(grid, init_values, lo=None, hi=None, swap=False, attract=None) -> _Family:
    grid = np.asarray(grid, dtype=float)
    init_values = np.asarray(init_values, dtype=float)
    idx = np.array([int(np.argmin(np.abs(grid - v))) for v in init_values])
    n = len(idx)
    lo_i = (
        np.zeros(n, dtype=int)
        if lo is None
        else np.array([int(np.searchsorted(grid, v - 1e-9)) for v in np.broadcast_to(lo, n)])
    )
    hi_i = (
        np.full(n, len(grid) - 1)
        if hi is None
        else np.array([int(np.searchsorted(grid, v + 1e-9)) - 1 for v in np.broadcast_to(hi, n)])
    )
    idx = np.clip(idx, lo_i, hi_i)
    att = None if attract is None else np.unique([int(np.argmin(np.abs(grid - float(v)))) for v in attract])
    return _Family(grid, idx, lo_i, hi_i, swap, att)


def _anneal(
    fams: dict[str, _Family],
    cost: Callable[[dict[str, np.ndarray]], float],
    seed: int,
    iters: int = 60000,
    t0: float = 1.0,
    t1: float = 0.005,
    label: str = "",
    restarts: int = 6,
    linked: tuple[str, str] | None = None,
) -> dict[str, np.ndarray]:
    """``linked`` = two families on the same grid whose element i may move together by the same step (for echo
    pairs: shifts a patient's baseline and follow-up together, leaving the paired difference unchanged)."""
    """Deterministic simulated annealing over grid-valued families; returns the values at cost 0 (or best found)."""
    rng = np.random.default_rng(seed)
    names = list(fams)
    sizes = np.array([len(fams[k].idx) for k in names], dtype=float)
    weights = sizes / sizes.sum()
    start = {k: f.idx.copy() for k, f in fams.items()}
    best_c, best = math.inf, None
    for attempt in range(restarts):
        if attempt:  # restart with a different stream: from the start (even attempts) or the best state so far (odd)
            for k in names:
                src = start[k] if attempt % 2 == 0 or best is None else fams[k].grid.searchsorted(best[k])
                fams[k].idx = np.asarray(src).copy()
        vals = {k: fams[k].values for k in names}
        c = cost(vals)
        for it in range(iters):
            if c <= 0:
                break
            temp = t0 * (t1 / t0) ** (it / iters)
            k = names[int(rng.choice(len(names), p=weights))]
            f = fams[k]
            n = len(f.idx)
            if linked is not None and k in linked and rng.random() < 0.4:
                i = int(rng.integers(n))
                fa, fb = fams[linked[0]], fams[linked[1]]
                step = int(rng.geometric(0.3)) * (1 if rng.random() < 0.5 else -1)
                oa, ob = int(fa.idx[i]), int(fb.idx[i])
                na, nb = oa + step, ob + step
                if not (fa.lo[i] <= na <= fa.hi[i] and fb.lo[i] <= nb <= fb.hi[i]):
                    continue
                fa.idx[i], fb.idx[i] = na, nb
                vals[linked[0]], vals[linked[1]] = fa.values, fb.values
                c2 = cost(vals)
                if c2 <= c or rng.random() < math.exp(-(c2 - c) / temp):
                    c = c2
                else:
                    fa.idx[i], fb.idx[i] = oa, ob
                    vals[linked[0]], vals[linked[1]] = fa.values, fb.values
                continue
            if f.swap:
                i, j = rng.choice(n, 2, replace=False)
                f.idx[i], f.idx[j] = f.idx[j], f.idx[i]
                undo = ("swap", i, j)
            else:
                i = int(rng.integers(n))
                old = int(f.idx[i])
                r = rng.random()
                if f.attract is not None and r < 0.25:
                    new = int(rng.choice(f.attract))
                elif r < 0.8:
                    step = int(rng.geometric(0.4)) * (1 if rng.random() < 0.5 else -1)
                    new = old + step
                else:
                    new = int(rng.integers(f.lo[i], f.hi[i] + 1))
                new = int(np.clip(new, f.lo[i], f.hi[i]))
                if new == old:
                    continue
                f.idx[i] = new
                undo = ("set", i, old)
            vals[k] = f.values
            c2 = cost(vals)
            if c2 <= c or rng.random() < math.exp(-(c2 - c) / temp):
                c = c2
            else:
                if undo[0] == "swap":
                    f.idx[undo[1]], f.idx[undo[2]] = f.idx[undo[2]], f.idx[undo[1]]
                else:
                    f.idx[undo[1]] = undo[2]
                vals[k] = f.values
        if _VERBOSE:
            print(f"[reconstruct] {label}: attempt {attempt} ended at iteration {it} with cost {c:.3f}", flush=True)
        if c < best_c:
            best_c, best = c, {k: fams[k].values.copy() for k in names}
        if c <= 0:
            break
    _anneal.last_cost = best_c
    if best_c > 0:
        print(f"[reconstruct] {label}: search ended at cost {best_c:.3f} (some targets missed)")
    return best


def _spread(n: int, target: tuple[str, str, str], lo: float, hi: float, rng) -> np.ndarray:
    """Initial values whose quartiles are near (median, Q1, Q3): piecewise-linear in rank."""
    med, q1, q3 = (float(t) for t in target)
    xs = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    ys = np.array([max(lo, q1 - (med - q1) - 1e-9), q1, med, q3, min(hi, q3 + (q3 - med))])
    u = (np.arange(1, n + 1)) / (n + 1)
    v = np.interp(u, xs, ys)
    for p, t in ((0.25, q1), (0.5, med), (0.75, q3)):  # pin the order statistics that define the quartiles
        h = (n + 1) * p
        i = int(math.floor(h))  # noqa: RUF046 - kept as written
        if 1 <= i <= n:
            v[i - 1] = t
        if h > i and i + 1 <= n:
            v[i] = t
    return rng.permutation(np.maximum.accumulate(v))


# =============================================================================================== skeleton
@dataclass
class _P:
    """Working record of one synthetic patient (assembled into the tables at the end)."""

    k: int
    arm: str  # "mono" | "ana"
    kd_like: bool
    cv_shock: bool
    inflammatory_steroids: bool = False
    stress_hydrocortisone: bool = False
    sex: str = "F"
    race: str = "Other"
    ethnicity: str = "Not Latin-American"
    pcr: bool = False
    age: float = 8.0
    weight: float = 25.0
    pid: str = ""

    @property
    def cs(self) -> bool:
        return self.inflammatory_steroids or self.stress_hydrocortisone

    @property
    def group3(self) -> str:
        return "mono" if self.arm == "mono" else ("ana_cs" if self.cs else "ana_nocs")


def _skeleton(rng) -> list[_P]:
    """Phenotypes, steroids, sex, race/ethnicity and PCR, exactly as counted in Tables 1–2."""
    pts: list[_P] = []

    def add(arm, kd, shock, n, infl=0, stress=0):
        for i in range(n):
            pts.append(
                _P(
                    len(pts),
                    arm,
                    kd,
                    shock,
                    inflammatory_steroids=i < infl,
                    stress_hydrocortisone=infl <= i < infl + stress,
                )
            )

    # IVIG monotherapy (14): KDSS-like 1, KD-like only 2, CV shock only 2 (one with stress hydrocortisone),
    # non-specific 9
    add("mono", True, True, 1)
    add("mono", True, False, 2)
    add("mono", False, True, 2, stress=1)
    add("mono", False, False, 9)
    # IVIG + anakinra (32): KDSS-like 11 (CS: 2 inflammatory + 3 stress), CV shock only 9 (CS: 1 + 3),
    # KD-like only 6, non-specific 6 → shock 20 (all 9 CS), no shock 12 (Table 2)
    add("ana", True, True, 11, infl=2, stress=3)
    add("ana", False, True, 9, infl=1, stress=3)
    add("ana", True, False, 6)
    add("ana", False, False, 6)

    def assign(arm, attr, setter, counts):
        idx = [p.k for p in pts if p.arm == arm]
        order = rng.permutation(idx)
        pos = 0
        for value, n in counts:
            for k in order[pos : pos + n]:
                setter(pts[k], value)
            pos += n

    for arm, male, aa, latin, cauc, pcr in (("mono", 8, 8, 6, 0, 5), ("ana", 17, 17, 14, 1, 14)):
        n = sum(p.arm == arm for p in pts)
        assign(arm, "sex", lambda p, v: setattr(p, "sex", v), [("M", male), ("F", n - male)])

        def set_race(p, v):
            p.race, p.ethnicity = v

        assign(
            arm,
            "race",
            set_race,
            [
                (("African American", "Not Latin-American"), aa),
                (("Other", "Latin-American"), latin),
                (("Caucasian", "Not Latin-American"), cauc),
            ],
        )
        assign(arm, "pcr", lambda p, v: setattr(p, "pcr", v), [(True, pcr), (False, n - pcr)])
    return pts


# Weight-for-age (approximate CDC 50th percentile, kg) and the accepted band (MIS-C patients are often obese)
_WFA = {
    1: 10.0,
    2: 12.5,
    3: 14.5,
    4: 16.5,
    5: 18.5,
    6: 21.0,
    7: 23.0,
    8: 26.0,
    9: 29.0,
    10: 32.0,
    11: 36.0,
    12: 40.0,
    13: 45.0,
    14: 50.0,
    15: 55.0,
    16: 60.0,
    17: 63.0,
    18: 66.0,
    19: 68.0,
    20: 70.0,
}
_W_BAND = (0.85, 1.9)


def _wfa(age: float) -> float:
    a = min(max(age, 1.0), 20.0)
    lo, hi = int(math.floor(a)), int(math.ceil(a))  # noqa: RUF046 - kept as written
    return _WFA[lo] + (_WFA[hi] - _WFA[lo]) * (a - lo)


# =============================================================================================== sections
def _fit_ages(pts, seed) -> None:
    """Table 1 age row: medians [Q1, Q3] per group and Mann–Whitney p (integer years).

    Start from hand-built vectors whose weibull quartiles hit every target (the overall Q3 of 13 forces five
    monotherapy patients aged ≥ 13 and seven IVIG + anakinra patients aged ≥ 13, see RECONSTRUCTION.md), then
    let the search move values that keep the quartiles until the Mann–Whitney p is on target."""
    rng = np.random.default_rng(seed)
    mono = [p.k for p in pts if p.arm == "mono"]
    ana = [p.k for p in pts if p.arm == "ana"]
    hand_mono = [1, 2, 2, 4, 5, 7, 10, 11, 12, 13, 13, 13, 14, 16]
    hand_ana = [
        1,
        1,
        2,
        2,
        3,
        3,
        3,
        4,
        4,
        5,
        5,
        6,
        6,
        7,
        7,
        8,
        8,
        8,
        9,
        9,
        9,
        10,
        10,
        10,
        10,
        13,
        13,
        14,
        15,
        16,
        17,
        17,
    ]
    init = np.zeros(len(pts))
    init[mono] = rng.permutation(hand_mono)
    init[ana] = rng.permutation(hand_ana)
    fams = {"age": _family(np.arange(1, 20), init)}

    def cost(v):
        a = v["age"]
        return (
            _q_cost(a, TABLE1_AGE["all"])
            + _q_cost(a[mono], TABLE1_AGE["mono"])
            + _q_cost(a[ana], TABLE1_AGE["ana"])
            + _p_cost(_mw_fast(a[mono], a[ana]), TABLE1_AGE["p"])
            + float(np.sum(np.abs(np.array(_wq(a)) - [float(t) for t in TABLE1_AGE["all"]])))
        )  # exact here

    out = _anneal(fams, cost, seed, iters=20000, t0=0.2, label="ages")
    for p, a in zip(pts, out["age"]):
        p.age = float(a)


def _dose_plan(start_day: int, a: float, m: float, dur: float) -> list[tuple[int, float, int, int]]:
    """Daily rows (day, mg/kg/day, doses_per_day, doses_given): start at a, up-titrate to m after 24 h, hold,
    wean by ~2 mg/kg/day every 24–48 h; the last (partial) day gives 1–4 of 4 doses."""
    rows_n = int(math.ceil(dur - 1e-9))  # noqa: RUF046 - kept as written
    last_given = int(round((dur - (rows_n - 1)) * 4))  # noqa: RUF046 - int() kept: numpy-scalar input
    wean = []
    x = round(m - 2, 1)
    while x >= 1.5:
        wean.append(x)
        x = round(x - 2, 1)
    titr = 1 if m > a + 1e-9 else 0
    extra = rows_n - 1 - titr  # days after the start day (and the titration day)
    if extra < len(wean):  # short course: keep the lowest steps only
        wean = wean[len(wean) - max(extra, 0) :] if extra > 0 else []
    nw = len(wean)
    wean_days = min(2 * nw, max(nw, extra // 2))
    plateau = extra - wean_days
    doses = [a] + ([m] if titr else []) + [m] * plateau
    two = wean_days - nw  # the first `two` wean steps last 48 h
    for i, w in enumerate(wean):
        doses += [w] * (2 if i < two else 1)
    doses = doses[:rows_n]
    out = []
    for i, d in enumerate(doses):
        given = 4 if i < rows_n - 1 else last_given
        out.append((start_day + i, round(float(d), 1), 4, given))
    return out


def _fit_split(
    tN, tS, t_all, t_p, grid, lo, hi, seed, label, dominate=None, iters=30000, edge=0.9
) -> tuple[np.ndarray, np.ndarray]:
    """One Table 2 row: sorted values for the 12 patients without and the 20 with CV shock.

    ``dominate`` = (sorted N, sorted S) upper bounds: the i-th smallest value must not exceed the i-th smallest
    bound (so pairing by rank keeps e.g. starting dose ≤ maximum dose)."""
    rng = np.random.default_rng(seed)
    nN, nS = TABLE2_N["noshock"], TABLE2_N["shock"]
    init = np.concatenate([np.sort(_spread(nN, tN, lo, hi, rng)), np.sort(_spread(nS, tS, lo, hi, rng))])
    if dominate is not None:
        init = np.minimum(init, np.concatenate(dominate))
    fams = {"x": _family(grid, init, lo=lo, hi=hi)}
    N, S = np.arange(nN), np.arange(nN, nN + nS)

    def cost(v):
        x = v["x"]
        c = _q_cost(x[N], tN, edge) + _q_cost(x[S], tS, edge) + _p_cost(_mw_fast(x[N], x[S]), t_p)
        if t_all is not None:
            c += _q_cost(x, t_all, edge)
        if dominate is not None:
            c += float(np.sum(np.maximum(0, np.sort(x[N]) - dominate[0]))) + float(
                np.sum(np.maximum(0, np.sort(x[S]) - dominate[1]))
            )
        return c

    out = _anneal(fams, cost, seed, iters=iters, t0=0.3, label=label)["x"]
    return np.sort(out[N]), np.sort(out[S])


def _fit_dosing(pts, seed) -> dict[int, dict]:
    """Table 2 anakinra rows by CV shock, the overall course medians, and weights (mg/dose) consistent with age.

    Each row is fitted on its own (sorted vectors), then the rows are paired by rank within each CV-shock group
    (higher maximum dose ↔ higher starting dose ↔ longer course); weights are then searched so that
    mg/dose = max mg/kg/day × weight / 4 hits its row while weight stays plausible for age (ages may be swapped
    between IVIG + anakinra patients: Table 1 only constrains the age distribution per arm)."""
    rng = np.random.default_rng(seed)
    ana = [p for p in pts if p.arm == "ana"]
    shock = np.array([p.cv_shock for p in ana])
    Nk, Sk = np.where(~shock)[0], np.where(shock)[0]
    T = TABLE2_CONT
    g01 = np.round(np.arange(2.0, 11.01, 0.1), 1)
    mxN, mxS = _fit_split(
        T["max_dose"][1],
        T["max_dose"][2],
        ANAKINRA_OVERALL["max_dose"],
        T["max_dose"][3],
        g01,
        3.0,
        11.0,
        seed,
        "max dose",
    )
    stN, stS = _fit_split(
        T["start_dose"][1],
        T["start_dose"][2],
        ANAKINRA_OVERALL["start_dose"],
        T["start_dose"][3],
        g01,
        3.0,
        11.0,
        seed + 1,
        "start dose",
        dominate=(mxN, mxS),
    )
    duN, duS = _fit_split(
        T["duration"][1],
        T["duration"][2],
        ANAKINRA_OVERALL["duration"],
        T["duration"][3],
        np.arange(2.0, 18.01, 0.25),
        2.0,
        18.0,
        seed + 2,
        "duration",
        edge=1.0,
    )
    dyN, dyS = _fit_split(
        T["start_hospital_day"][1],
        T["start_hospital_day"][2],
        None,
        T["start_hospital_day"][3],
        np.arange(1.0, 8.0),
        1.0,
        7.0,
        seed + 3,
        "start day",
        edge=1.0,
    )
    n = len(ana)
    mx, st, du, dy = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    for ks, a, b, c in ((Nk, mxN, stN, duN), (Sk, mxS, stS, duS)):
        order = rng.permutation(ks)  # patient order within the group; values paired by rank
        mx[order], st[order], du[order] = a, b, c
    dy[rng.permutation(Nk)] = dyN
    dy[rng.permutation(Sk)] = dyS
    # weights: mg/dose targets, plausible for age; ages may be permuted among IVIG + anakinra patients
    ages0 = np.array([p.age for p in ana])
    mg_init = np.zeros(n)
    for ks, t in ((Nk, T["max_mg_per_dose"][1]), (Sk, T["max_mg_per_dose"][2])):
        vals = np.sort(_spread(len(ks), t, 10, 150, rng))
        mg_init[ks[np.argsort(mx[ks])]] = vals
    w0 = np.clip(4 * mg_init / mx, 8, 110)
    order_w = np.argsort(w0)
    ages_init = np.empty(n)
    ages_init[order_w] = np.sort(ages0)  # heavier ↔ older
    fams = {
        "w": _family(np.round(np.arange(8.0, 110.0, 0.1), 1), w0),
        "age": _family(np.arange(1, 20), ages_init, swap=True),
    }
    wfa = np.array([_wfa(a) for a in range(0, 21)])

    def cost(v):
        mgd = mx * v["w"] / 4
        c = 0.0
        for ks, t in ((Nk, T["max_mg_per_dose"][1]), (Sk, T["max_mg_per_dose"][2])):
            c += _q_cost(mgd[ks], t)
        c += _p_cost(_mw_fast(mgd[Nk], mgd[Sk]), T["max_mg_per_dose"][3])
        ratio = v["w"] / wfa[v["age"].astype(int)]
        c += float(np.sum(np.maximum(0, _W_BAND[0] - ratio) + np.maximum(0, ratio - _W_BAND[1]))) * 5
        srt = np.sort(mgd)
        c += float(np.sum(np.diff(srt) < 0.05))  # distinct mg/dose values: unambiguous exact test
        return c

    out = _anneal(fams, cost, seed + 4, iters=40000, t0=0.3, label="weights / mg per dose")
    res = {}
    for i, p in enumerate(ana):
        p.age = float(out["age"][i])
        p.weight = float(out["w"][i])
        res[p.k] = {"start_day": int(dy[i]) - 1, "start": float(st[i]), "max": float(mx[i]), "dur": float(du[i])}
    return res


def _temp_schedule(rng, hours_max: float = 24 * 30) -> np.ndarray:
    """Vital-sign times: admission, then every 4 h with ±0.5 h jitter (rounded to 0.25 h)."""
    k = np.arange(0, int(hours_max // 4) + 1)
    jit = rng.choice([-0.5, -0.25, 0.0, 0.0, 0.25, 0.5], size=len(k))
    jit[0] = 0.0
    return np.round(k * 4.0 + jit, 2)


def _fit_fever(pts, dosing, seed) -> dict[int, tuple[np.ndarray, int]]:
    """Fever (Fig. 1A/B): every monotherapy patient afebrile by day 5, 16/32 anakinra patients by day 5,
    log-rank mono vs anakinra 0.003 and with vs without CS 0.64 (origin = admission)."""
    rng = np.random.default_rng(seed)
    sched = {p.k: _temp_schedule(rng) for p in pts}
    mono = [i for i, p in enumerate(pts) if p.arm == "mono"]
    ana = [i for i, p in enumerate(pts) if p.arm == "ana"]
    cs = [i for i in ana if pts[i].cs]
    nocs = [i for i in ana if not pts[i].cs]
    lo, hi, init = [], [], []
    for p in pts:
        if p.arm == "mono":
            lo.append(2), hi.append(29), init.append(rng.integers(6, 20))  # readings 2..29 → 8–116 h
        else:
            d = dosing[p.k]
            lo_h = d["start_day"] * 24 + 12 if not p.cv_shock else 8  # rescue = refractory to IVIG: febrile until then
            hi_h = (d["start_day"] + 7) * 24 if p.kd_like else 24 * 11  # KD-like: afebrile ≤ 7 days after anakinra
            lo.append(int(math.ceil(lo_h / 4))), hi.append(int(hi_h // 4) - 1)  # noqa: RUF046 - kept as written
            init.append(int(rng.integers(lo[-1], hi[-1] + 1)))
    fams = {"k": _family(np.arange(0, 200), init, lo=lo, hi=hi)}

    def hours(v):
        return np.array([sched[p.k][int(k)] for p, k in zip(pts, v["k"])])

    def cost(v):
        h = hours(v)
        t = h / 24
        c = float(np.sum(h[mono] > 120.0)) * 2
        c += abs(int(np.sum(h[ana] <= 120.0)) - FEVER_ANA_BY_DAY5)
        c += _p_cost(_logrank_fast(t[mono], t[ana]), FEVER["logrank_mono_vs_ana"])
        c += _p_cost(_logrank_fast(t[cs], t[nocs]), FEVER["logrank_cs_vs_nocs"])
        return c

    out = _anneal(fams, cost, seed, iters=20000, label="fever")
    return {p.k: (sched[p.k], int(k)) for p, k in zip(pts, out["k"])}


def _fit_los(pts, dosing, fever, seed) -> dict[int, int]:
    """Length of stay 11 [9–14] days; discharge after the last anakinra dose and after defervescence."""
    rng = np.random.default_rng(seed)
    lo = []
    for p in pts:
        sched, k = fever[p.k]
        b = int(math.floor(sched[k] / 24)) + 2  # noqa: RUF046 - kept as written
        if p.arm == "ana":
            d = dosing[p.k]
            b = max(b, d["start_day"] + int(math.ceil(d["dur"] - 1e-9)) + 1)  # noqa: RUF046 - kept as written
        lo.append(max(b, 4))
    lo = np.array(lo)
    fams = {"los": _family(np.arange(3, 31), lo + rng.integers(0, 3, len(lo)), lo=lo, hi=lo + 8)}

    def cost(v):  # integers: hit the published values exactly, not just within ±0.5
        return _q_cost(v["los"], LENGTH_OF_STAY) + float(np.sum(np.abs(np.array(_wq(v["los"])) - [11, 9, 14])))

    out = _anneal(fams, cost, seed, iters=20000, label="length of stay")
    return {p.k: int(x) for p, x in zip(pts, out["los"])}


def _echo_design(pts, rng):
    """Which patients have an LVEF pair / a strain pair (not published: chosen so paired n = 27 of 32 anakinra)."""
    ana_noshock = [p.k for p in pts if p.arm == "ana" and not p.cv_shock]
    mono = [p.k for p in pts if p.arm == "mono"]
    single = set()
    # 1 CV-shock-only patient without CS and 4 patients without shock (2 KD-like, 2 non-specific) have one echo
    # 1 CV-shock-only patient WITH CS has one echo: the CS group then has 8 pairs, whose median 51 is the mean of
    # the 4th and 5th values — with 9 pairs it would have to be a single value, impossible because every CV-shock
    # baseline LVEF is either ≤ 49 (the 10 reduced ones) or ≥ 55 (see RECONSTRUCTION.md)
    cs_cv_only = [p.k for p in pts if p.arm == "ana" and p.cs and not p.kd_like]
    single.add(int(rng.choice(cs_cv_only)))
    single |= set(int(x) for x in rng.choice([k for k in ana_noshock if pts[k].kd_like], 2, replace=False))
    single |= set(int(x) for x in rng.choice([k for k in ana_noshock if not pts[k].kd_like], 2, replace=False))
    single.add(int(rng.choice([k for k in mono if not pts[k].cv_shock])))  # 13 of 14 monotherapy pairs
    paired = [p.k for p in pts if p.k not in single]
    # strain is missing (not measured off-line) for some patients with a pair
    no_strain = set()
    # (pair counts matter: the strain tests are exact (no ties), and only some n have an exact p at the published
    # precision: 0.21 → n = 11, 0.55 → n = 8 (with CS), 0.005 → n ≥ 11)
    no_strain |= set(int(x) for x in rng.choice([k for k in paired if pts[k].arm == "mono"], 2, replace=False))
    no_strain |= set(
        int(x)
        for x in rng.choice(
            [k for k in paired if pts[k].arm == "ana" and not pts[k].cs and pts[k].kd_like], 2, replace=False
        )
    )
    no_strain |= set(
        int(x)
        for x in rng.choice(
            [k for k in paired if pts[k].arm == "ana" and not pts[k].cs and not pts[k].kd_like], 1, replace=False
        )
    )
    return single, paired, no_strain


def _fit_echo(pts, seed):
    """Echo pairs (first vs last study): LVEF and Ap4 strain medians and Wilcoxon signed-rank p-values.

    LVEF and strain, and monotherapy vs IVIG + anakinra, are independent: four separate searches."""
    rng = np.random.default_rng(seed)
    single, paired, no_strain = _echo_design(pts, rng)
    sets = {
        "mono": [k for k in paired if pts[k].arm == "mono"],
        "ana": [k for k in paired if pts[k].arm == "ana"],
        "ana_cs": [k for k in paired if pts[k].arm == "ana" and pts[k].cs],
        "ana_shock": [k for k in paired if pts[k].arm == "ana" and pts[k].cv_shock],
        "ana_kdss": [k for k in paired if pts[k].arm == "ana" and pts[k].cv_shock and pts[k].kd_like],
        "ana_kd": [k for k in paired if pts[k].arm == "ana" and pts[k].kd_like],
    }
    assert len(sets["ana"]) == ECHO_ANA_PAIRS
    lv_grid = np.arange(25.0, 75.01, 0.5)
    st_grid = np.round(np.arange(-28.0, -5.0 + 1e-9, 0.1), 1)
    vals: dict[int, dict] = {k: {"lvb": None, "lvf": None, "stb": None, "stf": None} for k in paired}
    for j, (arm, meas) in enumerate((("mono", "lvef"), ("ana", "lvef"), ("mono", "strain"), ("ana", "strain"))):
        members = [k for k in sets[arm] if meas == "lvef" or k not in no_strain]
        pos = {k: i for i, k in enumerate(members)}
        targets = [
            (sets[s_], b, f, p_)
            for _id, s_, m_, b, f, p_, _q in ECHO
            if m_ == meas and (s_ == arm or s_.startswith(arm + "_"))
        ]
        tix = [(np.array([pos[k] for k in ks if k in pos]), b, f, p_) for ks, b, f, p_ in targets]
        n = len(members)
        if meas == "lvef":
            grid = lv_grid
            if arm == "mono":
                b0 = rng.uniform(56, 68, n)
            else:  # 10 reduced baselines: 4 KDSS-like with CS, 2 KDSS-like without CS, 4 CV-shock-only without CS
                kc = [k for k in members if pts[k].kd_like and pts[k].cv_shock and pts[k].cs]
                kn = [k for k in members if pts[k].kd_like and pts[k].cv_shock and not pts[k].cs]
                cn = [k for k in members if not pts[k].kd_like and pts[k].cv_shock and not pts[k].cs]
                b0 = np.array([rng.uniform(56, 66) for _ in members])
                f0 = np.minimum(b0 + rng.uniform(-4, 6, n), 70)
                for ks, lows, fols in (
                    (kc[:4], [38, 42, 44, 47], [52, 56, 55, 58]),
                    (kn[:2], [46, 49], [59, 60]),
                    (cn[:4], [40, 43, 45, 48], [57, 59, 61, 58]),
                ):
                    for k, lv, fv in zip(ks, lows, fols):
                        b0[pos[k]], f0[pos[k]] = lv, fv
            if arm == "mono":
                f0 = np.minimum(b0 + rng.uniform(0, 10, n), 70)
            lo_b, hi_b, lo_f, hi_f = 30.0, 72.0, 45.0, 72.0
        else:
            grid = st_grid
            b0 = rng.uniform(-18, -11, n)
            f0 = b0 - rng.uniform(-1, 6, n)
            lo_b, hi_b, lo_f, hi_f = -24.0, -8.0, -26.0, -9.0
        att_b = [float(b) for _, b, _, _ in targets]
        att_f = [float(f) for _, _, f, _ in targets]
        fams = {
            "b": _family(grid, b0, lo=lo_b, hi=hi_b, attract=att_b),
            "f": _family(grid, f0, lo=lo_f, hi=hi_f, attract=att_f),
        }

        def cost(v, tix=tix, meas=meas, arm=arm):
            c = 0.0
            for ix, b, f, p_ in tix:
                xb, xf = v["b"][ix], v["f"][ix]
                if meas == "strain":  # no zero and no tied |differences|: the exact test in every implementation
                    d = np.abs(np.round(xf - xb, 6))
                    c += float(np.sum(d == 0)) + float(len(d) - len(np.unique(d)))
                mb, mf = _wq(xb)[0], _wq(xf)[0]
                c += 5 * (
                    max(0.0, abs(mb - float(b)) - 0.9 * tol_of(b)) / tol_of(b)
                    + max(0.0, abs(mf - float(f)) - 0.9 * tol_of(f)) / tol_of(f)
                )
                c += _p_cost(_wsr_fast(xb, xf), p_)
            if meas == "lvef":
                want = ECHO_ANA_LOW_BASELINE if arm == "ana" else 0
                c += abs(int(np.sum(v["b"] < 55.0)) - want) * 20
                c += 0.2 * float(np.sum(v["f"] - v["b"] < -6))  # no large declines in LVEF
            return c

        if (arm, meas) == ("ana", "lvef"):
            # stage 1: the KDSS-like and CS pairs alone (KDSS 49 → 59, p = 0.047, 6 of 11 < 55; CS 51 → 57, p = 0.04,
            # 4 of 8 < 55), then frozen while stage 2 fits the whole group and the CV-shock subgroup
            st1 = sorted(set(sets["ana_kdss"]) | set(sets["ana_cs"]))
            p1 = {k: i for i, k in enumerate(st1)}
            glob = np.array([pos[k] for k in st1])
            t1 = [
                (np.array([p1[k] for k in sets[nm]]), b, f, p_)
                for _id, nm, m_, b, f, p_, _q in ECHO
                if m_ == "lvef" and nm in ("ana_kdss", "ana_cs")
            ]
            want_low = [
                (np.array([p1[k] for k in sets["ana_kdss"]]), 6),
                (np.array([p1[k] for k in sets["ana_cs"]]), 4),
            ]
            sub = {
                "b": _family(grid, b0[glob], lo=lo_b, hi=hi_b, attract=att_b),
                "f": _family(grid, f0[glob], lo=lo_f, hi=hi_f, attract=att_f),
            }

            def cost1(v, t1=t1, want_low=want_low):
                c = 0.0
                for ix, b, f, p_ in t1:
                    xb, xf = v["b"][ix], v["f"][ix]
                    mb, mf = _wq(xb)[0], _wq(xf)[0]
                    c += 5 * (
                        max(0.0, abs(mb - float(b)) - 0.9 * tol_of(b)) / tol_of(b)
                        + max(0.0, abs(mf - float(f)) - 0.9 * tol_of(f)) / tol_of(f)
                    )
                    c += _p_cost(_wsr_fast(xb, xf), p_)
                for ix, w in want_low:
                    c += 20 * abs(int(np.sum(v["b"][ix] < 55.0)) - w)
                # the whole group's median (14th of 27) is 59.0 and 10 baselines are < 55: at most 3 in [55, 59)
                c += 20 * max(0, int(np.sum((v["b"] >= 55.0) & (v["b"] < 59.0))) - 3)
                c += 0.2 * float(np.sum(v["f"] - v["b"] < -6))
                return c

            for retry in range(6):
                sub["b"].idx, sub["f"].idx = _family(grid, b0[glob]).idx, _family(grid, f0[glob]).idx
                o1 = _anneal(
                    sub,
                    cost1,
                    seed + 77 + 1000 * retry,
                    iters=20000,
                    t0=0.1,
                    restarts=6,
                    label="echo KDSS-like + CS lvef",
                    linked=("b", "f"),
                )
                if _anneal.last_cost <= 0:
                    break
            b0[glob], f0[glob] = o1["b"], o1["f"]
            lo_bv, hi_bv, lo_fv, hi_fv = np.full(n, lo_b), np.full(n, hi_b), np.full(n, lo_f), np.full(n, hi_f)
            for k in members:  # the structure is fixed: 4 designated CV-shock-only lows ≤ 49, every other baseline ≥ 55
                if k in cn[:4]:
                    hi_bv[pos[k]] = 49.0
                else:
                    lo_bv[pos[k]] = 55.0
            lo_bv[glob] = hi_bv[glob] = b0[glob]
            lo_fv[glob] = hi_fv[glob] = f0[glob]
            fams = {
                "b": _family(grid, b0, lo=lo_bv, hi=hi_bv, attract=att_b),
                "f": _family(grid, f0, lo=lo_fv, hi=hi_fv, attract=att_f),
            }
        start_idx = {k_: f_.idx.copy() for k_, f_ in fams.items()}
        for retry in range(6):  # a fresh deterministic stream if a search ends above zero
            for k_, f_ in fams.items():
                f_.idx = start_idx[k_].copy()
            out = _anneal(
                fams,
                cost,
                seed + j + 1000 * retry,
                iters=25000,
                t0=0.1 if retry % 2 == 0 else 1.0,
                restarts=4,
                label=f"echo {arm} {meas}",
                linked=("b", "f"),
            )
            if _anneal.last_cost <= 0:
                break
        key_b, key_f = ("lvb", "lvf") if meas == "lvef" else ("stb", "stf")
        for k in members:
            vals[k][key_b], vals[k][key_f] = float(out["b"][pos[k]]), float(out["f"][pos[k]])
    for k in single:  # one study only: a plausible first echo
        p = pts[k]
        lv = (
            float(np.round(rng.uniform(56, 64) * 2) / 2)
            if not p.cv_shock
            else float(np.round(rng.uniform(44, 54) * 2) / 2)
        )
        vals[k] = {"lvb": lv, "lvf": None, "stb": float(np.round(rng.uniform(-19, -13), 1)), "stf": None}
    return vals, paired, single


def _echo_intervals(n: int, rng) -> np.ndarray:
    """Days between first and last echo with median 11 [9, 14] (weibull) — a fixed, hand-checked pattern."""
    base = np.array(
        [
            5,
            6,
            7,
            7,
            8,
            8,
            8,
            8,
            9,
            9,
            9,
            9,
            9,
            10,
            10,
            10,
            10,
            11,
            11,
            11,
            11,
            11,
            12,
            12,
            12,
            13,
            13,
            13,
            14,
            14,
            14,
            14,
            15,
            15,
            16,
            17,
            18,
            19,
            21,
            24,
        ]
    )
    assert len(base) == n, n
    assert _q_cost(base, ECHO_INTERVAL) == 0, quartiles(base)
    return rng.permutation(base)


_CYTOKINE_HAND = {  # hand-found starts where ties make the search landscape flat
    "IL-2": ([0.8] + [1.0] * 7 + [1.2], [0.8] + [1.0] * 16 + [1.5, 1.5]),  # quartiles 1.0 everywhere, p = 0.740
    "IL-1β": ([0.5, 0.5, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 5.0], [0.1] * 4 + [0.2] * 4 + [0.3] + [0.9] * 3 + [1.0] * 7),
}


def _fit_cytokines(pts, seed):
    """Table 4: per cytokine, All / monotherapy / IVIG + anakinra median [Q1–Q3] and Mann–Whitney p."""
    rng = np.random.default_rng(seed)
    mono = [p.k for p in pts if p.arm == "mono"]
    ana_nocs = [p.k for p in pts if p.arm == "ana" and not p.cs]
    ana_cs = [p.k for p in pts if p.arm == "ana" and p.cs]
    sub_mono = sorted(int(x) for x in rng.choice(mono, CYTOKINE_N["mono"], replace=False))
    sub_ana = sorted(
        [int(x) for x in rng.choice(ana_nocs, CYTOKINE_N["ana"] - 2, replace=False)]
        + [int(x) for x in rng.choice(ana_cs, 2, replace=False)]
    )  # "limited data" with CS
    nm, na = len(sub_mono), len(sub_ana)
    M, A = np.arange(nm), np.arange(nm, nm + na)
    grid = np.unique(np.round(np.concatenate([np.arange(0.01, 2.0, 0.01), np.arange(2.0, 80.01, 0.1)]), 2))
    result = {}
    for j, (cyt, (t_all, t_mono, t_ana, t_p)) in enumerate(TABLE4.items()):
        init = np.concatenate([_spread(nm, t_mono, 0.1, 80, rng), _spread(na, t_ana, 0.1, 80, rng)])
        if cyt in _CYTOKINE_HAND and (nm, na) == (9, 19):  # hand-found start (ties everywhere: a search plateau)
            init = np.array(_CYTOKINE_HAND[cyt][0] + _CYTOKINE_HAND[cyt][1], dtype=float)
        fams = {"x": _family(grid, init, attract=[float(v) for t in (t_all, t_mono, t_ana) for v in t])}

        def cost(v, t_all=t_all, t_mono=t_mono, t_ana=t_ana, t_p=t_p):
            x = v["x"]
            return (
                _q_cost(x, t_all, 0.9)
                + _q_cost(x[M], t_mono, 0.9)
                + _q_cost(x[A], t_ana, 0.9)
                + _p_cost(_mw_fast(x[M], x[A]), t_p)
            )

        start_idx = fams["x"].idx.copy()
        for retry in range(6):
            fams["x"].idx = start_idx.copy()
            out = _anneal(fams, cost, seed + j + 1000 * retry, iters=25000, t0=0.3, restarts=6, label=f"cytokine {cyt}")
            if _anneal.last_cost <= 0:
                break
        result[cyt] = dict(zip(sub_mono + sub_ana, (float(x) for x in out["x"])))
    return result


def _fit_admission_labs(pts, seed):
    """Admission troponin / BNP in the IVIG + anakinra group: medians by CV shock and Mann–Whitney p."""
    rng = np.random.default_rng(seed)
    ana = [p for p in pts if p.arm == "ana"]
    S = np.array([i for i, p in enumerate(ana) if p.cv_shock])
    N = np.array([i for i, p in enumerate(ana) if not p.cv_shock])
    out = {}
    for j, (an, grid, lo, hi) in enumerate(
        (
            ("troponin", np.round(np.arange(0.01, 3.0, 0.01), 2), 0.01, 1.5),
            ("bnp", np.arange(50.0, 35000.0, 1.0), 60, 30000),
        )
    ):
        tS, tN, tp = LAB_CONTRAST[an]
        init = np.zeros(len(ana))
        init[S] = _spread(len(S), (tS, str(float(tS) * 0.5), str(float(tS) * 3)), lo, hi, rng)
        init[N] = _spread(len(N), (tN, str(float(tN) * 0.5), str(float(tN) * 2.5)), lo, hi, rng)
        fams = {"x": _family(grid, init)}

        def cost(v, tS=tS, tN=tN, tp=tp):
            x = v["x"]
            c = 0.0
            for arr, t in ((x[S], tS), (x[N], tN)):
                m = _wq(arr)[0]
                c += max(0.0, abs(m - float(t)) - 0.9 * tol_of(t)) / tol_of(t)
            return c + _p_cost(_mw_fast(x[S], x[N]), tp)

        res = _anneal(fams, cost, seed + j, iters=30000, label=f"admission {an}")
        out[an] = {p.k: float(x) for p, x in zip(ana, res["x"])}
    return out


# =============================================================================================== assembly
def _fever_curve(rng, hours: np.ndarray, k_def: int, spike: bool) -> np.ndarray:
    """Temperatures: ≥ 38.1 °C (diurnal fever, slowly settling) before reading k_def, < 38.0 °C from it on."""
    n = len(hours)
    t = np.empty(n)
    peak = rng.uniform(39.0, 40.2)
    for i, h in enumerate(hours):
        if i < k_def:
            frac = i / max(k_def, 1)
            base = peak - (peak - 38.4) * frac
            diurnal = 0.35 * math.sin(2 * math.pi * (h % 24) / 24 - 1.0)
            t[i] = max(38.1, base + diurnal + rng.normal(0, 0.2))
        else:
            t[i] = min(37.9, rng.normal(37.0, 0.35))
            t[i] = max(t[i], 36.1)
    if spike and n - k_def > 12:  # an isolated spike well after defervescence (does not change the event)
        j = k_def + int(rng.integers(6, min(n - k_def - 2, 18)))
        t[j] = rng.uniform(38.1, 38.4)
    return np.round(t, 1)


def _lab_rows(rng, p: _P, los: int, adm_trop: float, adm_bnp: float, treat_day: int, lft_grade: int | None):
    """Daily lab trajectories: worst around day 0–1, improving after treatment."""
    days = [d for d in [0, 1, 2, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21] if d < los]
    sev = 1.4 if p.cv_shock else 1.0
    crp0 = rng.uniform(90, 220) * sev
    fer0 = rng.uniform(300, 900) * sev
    dd0 = rng.uniform(2.0, 5.0) * sev
    ly0 = rng.uniform(0.4, 1.1)
    pl0 = rng.uniform(100, 210) / sev
    alt0, ast0 = rng.uniform(18, 38), rng.uniform(22, 40)
    rows = []
    for d in days:
        after = max(0, d - treat_day)
        rows.append(("crp", round(crp0 * (1.15 if d == 1 else 1.0) * 0.62**after, 1), "mg/L"))
        rows.append(("ferritin", round(fer0 * 0.8**after, 0), "ng/mL"))
        tro = (
            adm_trop
            if d == 0
            else max(0.01, adm_trop * (1.3 if d == 1 and p.cv_shock else 1.0) * 0.55 ** max(0, d - 1))
        )
        rows.append(("troponin", round(tro, 2) if d else adm_trop, "ng/mL"))
        bnp = adm_bnp if d == 0 else max(20.0, adm_bnp * 0.6**d)
        rows.append(("bnp", round(bnp, 0) if d else adm_bnp, "pg/mL"))
        rows.append(("lymphocytes", round(min(4.5, ly0 * 1.35**after), 2), "10^9/L"))
        rows.append(("platelets", round(pl0 * (0.85 if d == 1 else 1.0) * 1.22**after, 0), "10^9/L"))
        rows.append(("d_dimer", round(max(0.3, dd0 * 0.82**after), 2), "ug/mL FEU"))
        if lft_grade and 3 <= d <= 9:
            f = {1: rng.uniform(1.6, 2.8), 2: rng.uniform(3.3, 4.6)}[min(lft_grade, 2)]
            alt, ast = 40 * f * (0.8 if d in (3, 9) else 1.0), 40 * f * 0.8 * (0.8 if d in (3, 9) else 1.0)
        else:
            alt, ast = alt0 * rng.uniform(0.9, 1.1), ast0 * rng.uniform(0.9, 1.1)
        rows.append(("alt", round(alt, 0), "U/L"))
        rows.append(("ast", round(ast, 0), "U/L"))
    return [(p.pid, d, a, float(v), u) for d, (a, v, u) in zip(np.repeat(days, 9), rows)]


def build_default_cohort(seed: int = DEFAULT_SEED) -> dict[str, pd.DataFrame]:
    """Build the synthetic 46-patient cohort (deterministic for a given seed)."""
    rng = np.random.default_rng(seed)
    pts = _skeleton(np.random.default_rng(seed + 1))
    _fit_ages(pts, seed + 2)
    dosing = _fit_dosing(pts, seed + 3)
    fever = _fit_fever(pts, dosing, seed + 4)
    los = _fit_los(pts, dosing, fever, seed + 5)
    echo_vals, paired, _single = _fit_echo(pts, seed + 6)
    cyto = _fit_cytokines(pts, seed + 7)
    adm = _fit_admission_labs(pts, seed + 8)

    # synthetic ids in a shuffled order, so the id says nothing about the group
    for p, num in zip(pts, rng.permutation(len(pts)) + 1):
        p.pid = f"SYN-{num:03d}"
    for p in pts:
        if p.arm == "mono":
            p.weight = float(round(_wfa(p.age) * rng.uniform(0.95, 1.45), 1))

    # patients
    prow = []
    for p in pts:
        ind = "" if p.arm == "mono" else ("adjunct" if p.cv_shock else "rescue")
        prow.append(
            {
                "patient_id": p.pid,
                "age_years": p.age,
                "sex": p.sex,
                "race": p.race,
                "ethnicity": p.ethnicity,
                "weight_kg": p.weight,
                "sars_cov2_pcr": p.pcr,
                "kd_like": p.kd_like,
                "cv_shock": p.cv_shock,
                "ivig": True,
                "ivig_start_hour": float(round(rng.uniform(2, 16) * 2) / 2),
                "inflammatory_steroids": p.inflammatory_steroids,
                "stress_hydrocortisone": p.stress_hydrocortisone,
                "icu": p.cv_shock,
                "length_of_stay_days": float(los[p.k]),
                "anakinra_indication": ind,
            }
        )
    patients = pd.DataFrame(prow)

    # anakinra doses
    drow = []
    for p in pts:
        if p.arm != "ana":
            continue
        d = dosing[p.k]
        for day, dose, per, given in _dose_plan(d["start_day"], d["start"], d["max"], d["dur"]):
            drow.append(
                {
                    "patient_id": p.pid,
                    "day": day,
                    "dose_mg_kg_day": dose,
                    "doses_per_day": per,
                    "route": "IV",
                    "doses_given": given,
                }
            )
    doses = pd.DataFrame(drow)

    # temperatures: readings from admission to discharge
    trow = []
    spikers = set(int(x) for x in rng.choice(len(pts), 4, replace=False))
    for p in pts:
        sched, k = fever[p.k]
        hours = sched[sched <= los[p.k] * 24 - 3]
        temps = _fever_curve(rng, hours, k, p.k in spikers)
        site = "rectal" if p.age < 4 else "oral"
        trow += [
            {"patient_id": p.pid, "hour": float(h), "temp_c": float(t), "site": site} for h, t in zip(hours, temps)
        ]
    temperatures = pd.DataFrame(trow)

    # echo: first study day 0–2, last 11 [9–14] days later, 0–2 studies in between
    erow = []
    intervals = _echo_intervals(len(paired), rng)
    for p in pts:
        v = echo_vals[p.k]
        first = 0 if p.cv_shock else int(rng.integers(0, 3))
        studies = [(first, v["lvb"], v["stb"])]
        if v["lvf"] is not None:
            gap = int(intervals[paired.index(p.k)])
            last = first + gap
            mids = sorted(
                set(
                    int(x)
                    for x in rng.choice(
                        np.arange(first + 1, last), min(gap - 1, int(rng.integers(0, 3))), replace=False
                    )
                )
            )
            for m in mids:
                w = (m - first) / gap
                lv = round((v["lvb"] + w * 0.7 * (v["lvf"] - v["lvb"])) * 2) / 2
                st = None if v["stb"] is None else round(v["stb"] + w * 0.7 * (v["stf"] - v["stb"]), 1)
                studies.append((m, lv, st))
            studies.append((last, v["lvf"], v["stf"]))
        for day, lv, st in studies:
            erow.append(
                {
                    "patient_id": p.pid,
                    "day": day,
                    "lvef_pct": float(lv),
                    "strain_ap4_pct": None if st is None else float(st),
                }
            )
    echo = pd.DataFrame(erow)

    # cytokines (pre-anakinra sample, subset of patients)
    crow = []
    for cyt in CYTOKINE_NAMES:
        for k, val in sorted(cyto[cyt].items(), key=lambda kv: pts[kv[0]].pid):
            crow.append({"patient_id": pts[k].pid, "cytokine": cyt, "fold_difference": val})
    cytokines = pd.DataFrame(crow).sort_values(
        ["patient_id", "cytokine"],
        key=lambda s: s.map({c: i for i, c in enumerate(CYTOKINE_NAMES)}) if s.name == "cytokine" else s,
    )

    # adverse events (Table 3 counts with groups 14 / 23 / 9)
    arow = []
    ae_plan = {  # event: {group: (count, grades)}
        "elevated_lft": {"mono": [1, 2], "ana_nocs": [1, 1, 1, 1, 2, 2], "ana_cs": [1, 1, 1, 1, 1, 1, 2]},
        "neutropenia": {"mono": [2], "ana_nocs": [1, 1, 2, 2, 3], "ana_cs": [1, 2, 2]},
        "hemolytic_anemia": {"mono": [2], "ana_nocs": [2], "ana_cs": [2]},
        "rash": {"ana_nocs": [1, 1]},
    }
    lft_grade: dict[int, int] = {}
    for event, by_group in ae_plan.items():
        for g, grades in by_group.items():
            members = [p.k for p in pts if p.group3 == g]
            for k, grade in zip(rng.choice(members, len(grades), replace=False), grades):
                arow.append({"patient_id": pts[int(k)].pid, "event": event, "ctcae_grade": grade})
                if event == "elevated_lft":
                    lft_grade[int(k)] = grade
    adverse = pd.DataFrame(arow).sort_values(["patient_id", "event"]).reset_index(drop=True)

    # labs
    lrow = []
    for p in pts:
        if p.arm == "ana":
            trop, bnp = adm["troponin"][p.k], adm["bnp"][p.k]
            treat = dosing[p.k]["start_day"]
        else:
            trop = float(round(rng.choice([0.01, 0.01, 0.02, 0.02, 0.03, 0.04, 0.06]), 2))
            bnp = float(round(rng.uniform(150, 1800 if not p.cv_shock else 3500)))
            treat = 0
        lrow += _lab_rows(rng, p, los[p.k], trop, bnp, treat, lft_grade.get(p.k))
    labs = pd.DataFrame(lrow, columns=["patient_id", "day", "analyte", "value", "unit"])

    order = {p.pid: i for i, p in enumerate(sorted(pts, key=lambda q: q.pid))}
    out = {
        "patients": patients,
        "anakinra_doses": doses,
        "temperatures": temperatures,
        "echo": echo,
        "cytokines": cytokines,
        "labs": labs,
        "adverse_events": adverse,
    }
    keys = {
        "patients": [],
        "anakinra_doses": ["day"],
        "temperatures": ["hour"],
        "echo": ["day"],
        "cytokines": [],
        "labs": ["analyte", "day"],
        "adverse_events": ["event"],
    }
    for name, df in out.items():
        df = df.assign(_o=df["patient_id"].map(order))
        if name == "cytokines":
            df = df.assign(_c=df["cytokine"].map({c: i for i, c in enumerate(CYTOKINE_NAMES)}))
            df = df.sort_values(["_o", "_c"]).drop(columns="_c")
        else:
            df = df.sort_values(["_o"] + keys[name], kind="stable")
        out[name] = df.drop(columns="_o").reset_index(drop=True)
    return out


# =============================================================================================== published values
def _rec(id_, source, quantity, kind, published, required=True, note="", why=None, value=None):
    s = published.strip()
    if value is None:
        num = s.lstrip("<>~ ").rstrip("%*").strip()
        value = float(num)
    r = {
        "id": id_,
        "source": source,
        "quantity": quantity,
        "kind": kind,
        "published": s,
        "value": value,
        "decimals": decimals_of(s),
        "required": required,
        "note": note,
    }
    if why:
        r["why"] = why
    return r


_GROUP_LABEL = {
    "all": "All MIS-C",
    "mono": "IVIG monotherapy",
    "ana": "All IVIG + anakinra",
    "noshock": "IVIG + anakinra without CV shock",
    "shock": "IVIG + anakinra with CV shock",
    "ana_nocs": "IVIG + anakinra without CS",
    "ana_cs": "IVIG + anakinra with CS",
}


def published_records() -> list[dict]:
    """Every published value of the index study, as machine-readable records (data/published.json)."""
    R: list[dict] = []
    # ---- Table 1
    src = "Table 1"
    for g, n in TABLE1_N.items():
        pct = {"all": "100%", "mono": "30%", "ana": "70%"}[g]
        R.append(_rec(f"table1.patients.{g}.count", src, f"Patients, {_GROUP_LABEL[g]}", "count", str(n)))
        R.append(_rec(f"table1.patients.{g}.percent", src, f"Patients, {_GROUP_LABEL[g]}, % of 46", "percent", pct))
    for row, (label, *cells, p) in TABLE1_COUNTS.items():
        for g, cell in zip(("all", "mono", "ana"), cells):
            c, pc = (x.strip() for x in cell.split(","))
            R.append(_rec(f"table1.{row}.{g}.count", src, f"{label}, {_GROUP_LABEL[g]}", "count", c))
            R.append(_rec(f"table1.{row}.{g}.percent", src, f"{label}, {_GROUP_LABEL[g]}, % of group", "percent", pc))
        if p != "N/A":
            R.append(
                _rec(
                    f"table1.{row}.p",
                    src,
                    f"{label}, Fisher p, IVIG monotherapy vs IVIG + anakinra",
                    "p_value",
                    p,
                    note="'> 0.99' means p > 0.99 (a Fisher p of 1)" if p.startswith(">") else "",
                )
            )
    for g in ("all", "mono", "ana"):
        for stat, v in zip(("median", "q1", "q3"), TABLE1_AGE[g]):
            R.append(_rec(f"table1.age.{g}.{stat}", src, f"Age (years), {_GROUP_LABEL[g]}, {stat}", stat, v))
    R.append(
        _rec(
            "table1.age.p", src, "Age, Mann–Whitney p, IVIG monotherapy vs IVIG + anakinra", "p_value", TABLE1_AGE["p"]
        )
    )
    # ---- Results text echoing Table 1
    src = "Results text"
    R.append(
        _rec(
            "text.anakinra_group.percent",
            "Abstract / Results",
            'IVIG + anakinra, % of 46 ("32 (70%)")',
            "percent",
            "70%",
        )
    )
    R.append(_rec("text.cs.count", "Abstract / Results", 'IVIG + anakinra given CS ("9 (28%)")', "count", "9"))
    R.append(_rec("text.cs.percent", "Abstract / Results", "IVIG + anakinra given CS, % of 32", "percent", "28%"))
    R.append(
        _rec("text.stress_hc.percent", src, 'Stress hydrocortisone, % of IVIG + anakinra ("(19%)")', "percent", "19%")
    )
    R.append(
        _rec(
            "text.inflammatory_steroids.percent",
            src,
            'Inflammatory steroid, % of IVIG + anakinra ("(9%)")',
            "percent",
            "9%",
        )
    )
    R.append(_rec("text.without_cs.percent", src, 'IVIG + anakinra without CS, % of 32 ("(72%)")', "percent", "72%"))
    R.append(_rec("text.male.percent", src, 'Male, % of 46 ("54% were male")', "percent", "54%"))
    R.append(
        _rec(
            "text.cv_shock.ana.percent",
            src,
            'CV shock, % of IVIG + anakinra ("65%")',
            "percent",
            "65%",
            required=False,
            why="20/32 = 62.5 % (Table 1 prints 63%); 65% cannot be reached with 32 patients and Table 1's count 20 "
            "(21/32 = 65.6 % would contradict Table 1 and Table 2).",
        )
    )
    R.append(_rec("text.cv_shock.mono.percent", src, 'CV shock, % of IVIG monotherapy ("vs. 21%")', "percent", "21%"))
    R.append(_rec("text.cv_shock.p", src, 'CV shock, Fisher p ("p = 0.02")', "p_value", "0.02"))
    R.append(_rec("text.kdss_like.ana.percent", src, 'KDSS-like, % of IVIG + anakinra ("34%")', "percent", "34%"))
    R.append(_rec("text.kdss_like.mono.percent", src, 'KDSS-like, % of IVIG monotherapy ("vs. 7%")', "percent", "7%"))
    R.append(_rec("text.kdss_like.p", src, 'KDSS-like, Fisher p ("p = 0.07")', "p_value", "0.07"))
    # ---- Table 2
    src = "Table 2"
    for g, n, pc in (("noshock", 12, "38%"), ("shock", 20, "63%")):
        R.append(_rec(f"table2.patients.{g}.count", src, f"Patients, {_GROUP_LABEL[g]}", "count", str(n)))
        R.append(_rec(f"table2.patients.{g}.percent", src, f"Patients, {_GROUP_LABEL[g]}, % of 32", "percent", pc))
    for row, (label, cN, cS, p) in TABLE2_COUNTS.items():
        for g, cell in (("noshock", cN), ("shock", cS)):
            c, pc = (x.strip() for x in cell.split(","))
            R.append(_rec(f"table2.{row}.{g}.count", src, f"{label}, {_GROUP_LABEL[g]}", "count", c))
            R.append(_rec(f"table2.{row}.{g}.percent", src, f"{label}, {_GROUP_LABEL[g]}, % of group", "percent", pc))
        if p != "N/A":
            R.append(_rec(f"table2.{row}.p", src, f"{label}, Fisher p, without vs with CV shock", "p_value", p))
    for row, (label, tN, tS, p) in TABLE2_CONT.items():
        for g, t in (("noshock", tN), ("shock", tS)):
            for stat, v in zip(("median", "q1", "q3"), t):
                R.append(
                    _rec(
                        f"table2.{row}.{g}.{stat}",
                        src,
                        f"{label}, {_GROUP_LABEL[g]}, {stat}",
                        stat,
                        v,
                        note="hospitalization day = day + 1 (day 0 = admission day)"
                        if row == "start_hospital_day"
                        else "",
                    )
                )
        R.append(_rec(f"table2.{row}.p", src, f"{label}, Mann–Whitney p, without vs with CV shock", "p_value", p))
    src = "Results text (Supplemental Table S3)"
    for row, label in (
        ("start_dose", "Anakinra dose (read as starting dose), mg/kg/day"),
        ("max_dose", "Anakinra maximum dose, mg/kg/day"),
        ("duration", "Anakinra treatment duration, days"),
    ):
        for stat, v in zip(("median", "q1", "q3"), ANAKINRA_OVERALL[row]):
            R.append(
                _rec(
                    f"text.anakinra.{row}.ana.{stat}",
                    src,
                    f"{label}, all IVIG + anakinra, {stat}",
                    stat,
                    v,
                    note="'median dose of anakinra' interpreted as the starting dose" if row == "start_dose" else "",
                )
            )
    src = "Results text"
    for row, g, v in (
        ("max_dose", "shock", "9.8"),
        ("max_dose", "noshock", "8.0"),
        ("duration", "shock", "10.6"),
        ("duration", "noshock", "7.1"),
    ):
        R.append(
            _rec(
                f"text.anakinra.{row}.{g}.median",
                src,
                f"{TABLE2_CONT[row][0]}, {_GROUP_LABEL[g]}, median (text)",
                "median",
                v,
            )
        )
    R.append(_rec("text.anakinra.max_dose.p", src, "Max dose, Mann–Whitney p (text)", "p_value", "0.003"))
    R.append(_rec("text.anakinra.duration.p", src, "Treatment duration, Mann–Whitney p (text)", "p_value", "0.002"))
    R.append(_rec("text.adjunct.shock.count", src, 'Adjunct therapy among CV shock ("100% (20/20)")', "count", "20"))
    R.append(_rec("text.rescue.noshock.count", src, 'Rescue therapy among no CV shock ("100% (12/12)")', "count", "12"))
    src = "Results text (Supplemental Table S4)"
    for an, (tS, tN, p) in LAB_CONTRAST.items():
        unit = "ng/mL" if an == "troponin" else "pg/mL"
        R.append(
            _rec(
                f"text.labs.{an}.shock.median",
                src,
                f"Admission {an} ({unit}), IVIG + anakinra with CV shock, median",
                "median",
                tS,
                note="first value per patient (day 0)",
            )
        )
        R.append(
            _rec(
                f"text.labs.{an}.noshock.median",
                src,
                f"Admission {an} ({unit}), IVIG + anakinra without CV shock, median",
                "median",
                tN,
            )
        )
        R.append(
            _rec(f"text.labs.{an}.p", src, f"Admission {an}, Mann–Whitney p, with vs without CV shock", "p_value", p)
        )
    # ---- Table 3
    src = "Table 3"
    for g, n in TABLE3_PRINTED_N.items():
        ok = TABLE3_USED_N[g] == n
        R.append(
            _rec(
                f"table3.n.{g}",
                src,
                f"Group size, {_GROUP_LABEL[g]}",
                "count",
                str(n),
                required=ok,
                why=None
                if ok
                else (
                    "Table 3 prints n = 25 without CS, but the text (32 IVIG + anakinra, 9 with CS) and Tables 1–2 "
                    "give 23; the reconstruction uses 23."
                ),
            )
        )
    for ev, (label, cM, cN, cC, p) in TABLE3.items():
        for g, cell in (("mono", cM), ("ana_nocs", cN), ("ana_cs", cC)):
            c, pc = (x.strip() for x in cell.split(","))
            R.append(_rec(f"table3.{ev}.{g}.count", src, f"{label}, {_GROUP_LABEL[g]}", "count", c))
            pct = 100 * int(c) / TABLE3_USED_N[g]
            ok = abs(pct - float(pc.rstrip("%"))) <= 0.5 + 1e-9
            why = None
            if not ok:
                if g == "ana_nocs":
                    why = f"printed percent uses n = 25 ({c}/25); with the text's n = 23 it is {pct:.0f}%."
                else:
                    why = (
                        f"{c}/{TABLE3_USED_N[g]} = {pct:.0f}%; the printed {pc} matches "
                        f"{round(float(pc.rstrip('%')) * TABLE3_USED_N[g] / 100)}/{TABLE3_USED_N[g]}: "
                        "count kept, percent not reproducible."
                    )
            R.append(
                _rec(
                    f"table3.{ev}.{g}.percent",
                    src,
                    f"{label}, {_GROUP_LABEL[g]}, % of group",
                    "percent",
                    pc,
                    required=ok,
                    why=why,
                )
            )
        if p != "N/A":
            R.append(
                _rec(
                    f"table3.{ev}.p",
                    src,
                    f"{label}, three-group p as printed",
                    "p_value",
                    p,
                    required=False,
                    why="does not reproduce with Freeman–Halton (Fisher r×c) or chi-square on the printed counts, "
                    "with n = 14/23/9 or 14/25/9 (see docs/RECONSTRUCTION.md)",
                    note="'*' in the original",
                )
            )
    R.append(_rec("text.ae.death.all.count", "Results text", 'Deaths, all 46 ("0/46 or 0%")', "count", "0"))
    R.append(_rec("text.ae.thrombosis.all.count", "Results text", 'Thrombosis, all 46 ("0/46 or 0%")', "count", "0"))
    for ev, (pa, pm, p) in TABLE3_TEXT.items():
        label = TABLE3[ev][0]
        R.append(
            _rec(
                f"text.ae.{ev}.ana_nocs.percent",
                "Results text",
                f'{label}, IVIG + anakinra ("{pa}")',
                "percent",
                pa,
                required=False,
                why="the Table 3 'without CS' percent with n = 25; n = 23 in the reconstruction",
            )
        )
        R.append(
            _rec(f"text.ae.{ev}.mono.percent", "Results text", f'{label}, IVIG monotherapy ("{pm}")', "percent", pm)
        )
        why = (
            "Fisher on 8/34 vs 1/14 (all IVIG + anakinra with the printed 25 + 9 = 34) gives 0.2501 → '0.25', "
            "but with the text's 32 (8/32 vs 1/14) it is 0.24; 5/25 vs 1/14 gives 0.39."
            if ev == "neutropenia"
            else "no reading reproduces it: Fisher 6/25 vs 2/14 = 0.69, 6/23 vs 2/14 = 0.68, "
            "13/32 vs 2/14 = 0.10, 13/34 vs 2/14 = 0.17."
        )
        R.append(
            _rec(
                f"text.ae.{ev}.p",
                "Results text",
                f"{label}, p IVIG + anakinra vs IVIG monotherapy (text)",
                "p_value",
                p,
                required=False,
                why=why,
            )
        )
    # ---- Table 4
    src = "Table 4"
    for cyt, (tA, tM, tN, p) in TABLE4.items():
        for g, t in (("all", tA), ("mono", tM), ("ana", tN)):
            for stat, v in zip(("median", "q1", "q3"), t):
                R.append(
                    _rec(f"table4.{cyt}.{g}.{stat}", src, f"{cyt} fold difference, {_GROUP_LABEL[g]}, {stat}", stat, v)
                )
        R.append(
            _rec(
                f"table4.{cyt}.p",
                src,
                f"{cyt}, Mann–Whitney p, IVIG monotherapy vs IVIG + anakinra",
                "p_value",
                p,
                note="group sizes not published; reconstruction uses 9 monotherapy and 19 IVIG + anakinra patients",
            )
        )
    # ---- Fever
    src = "Results text (Fig. 1A/B)"
    R.append(
        _rec(
            "text.fever.mono.afebrile_by_day5.percent",
            src,
            "IVIG monotherapy afebrile by 5 days after admission (KM)",
            "percent",
            "100%",
        )
    )
    R.append(
        _rec(
            "text.fever.ana.afebrile_by_day5.percent",
            src,
            'IVIG + anakinra afebrile by 5 days after admission (KM, "~50%")',
            "percent",
            "~50%",
            note="approximate in the paper; reconstructed as 16/32 exactly",
        )
    )
    R.append(
        _rec(
            "text.fever.logrank.mono_vs_ana.p",
            src,
            "Time to defervescence from admission, log-rank p, IVIG monotherapy vs IVIG + anakinra",
            "p_value",
            "0.003",
        )
    )
    R.append(
        _rec(
            "text.fever.logrank.cs_vs_nocs.p",
            src,
            "Time to defervescence, log-rank p, IVIG + anakinra with vs without CS",
            "p_value",
            "0.64",
            note="origin = admission (as Fig. 1B is described 'starting from admission'); "
            "the Methods' 'after treatment initiation' would be another reading",
        )
    )
    R.append(
        _rec(
            "text.fever.ana_kd.afebrile_by_day7_after_anakinra.percent",
            "Results text (Suppl. Fig. 2C/2E)",
            "KD-like or KDSS-like IVIG + anakinra patients afebrile by 7 days after anakinra initiation",
            "percent",
            "100%",
            note="origin = start of the first anakinra day",
        )
    )
    # ---- Echo
    src = "Results text (Fig. 1C/D, Suppl. Fig. S2G/S2I)"
    for id_, s, meas, b, f, p, q in ECHO:
        name = "LVEF (%)" if meas == "lvef" else "Ap4 strain (%)"
        grp = {
            "mono": "IVIG monotherapy",
            "ana": "all IVIG + anakinra with an echo pair (n = 27)",
            "ana_cs": "IVIG + anakinra with CS",
            "ana_shock": "IVIG + anakinra with CV shock",
            "ana_kdss": "IVIG + anakinra KDSS-like",
            "ana_kd": "IVIG + anakinra with KD-like features (KD-like flag, incl. KDSS-like)",
        }[s]
        note = f"quote: {q}"
        if id_ == "ana.lvef":
            note += (
                "; the sentence attaches 59.0 → 62.5 to the 10 patients with baseline LVEF < 55 %, "
                "which is impossible (a median of 59 among values < 55): "
                "read as the whole IVIG + anakinra group with an echo pair (n = 27)"
            )
        R.append(
            _rec(
                f"text.echo.{s}.{meas}.baseline.median",
                src,
                f"{name}, {grp}, first echo, median",
                "median",
                b,
                note=note,
            )
        )
        R.append(_rec(f"text.echo.{s}.{meas}.followup.median", src, f"{name}, {grp}, last echo, median", "median", f))
        R.append(
            _rec(
                f"text.echo.{s}.{meas}.p",
                src,
                f"{name}, {grp}, Wilcoxon signed-rank p (first vs last echo)",
                "p_value",
                p,
            )
        )
    R.append(
        _rec(
            "text.echo.ana.lvef_low_baseline.count",
            "Results text",
            'IVIG + anakinra with LVEF < 55 % at the first echo ("10 patients")',
            "count",
            "10",
        )
    )
    R.append(
        _rec(
            "text.echo.ana.lvef_low_baseline.percent",
            "Results text",
            'IVIG + anakinra with LVEF < 55 % at the first echo, % of 27 pairs ("(37%)")',
            "percent",
            "37%",
        )
    )
    R.append(
        _rec(
            "text.echo.ana.pairs.count",
            "Results text (derived)",
            "IVIG + anakinra patients with an LVEF pair (10/0.37)",
            "count",
            "27",
            note="not printed: implied by '10 patients (37%)'",
        )
    )
    R.append(
        _rec(
            "text.echo.mono.lvef_low_baseline.count",
            "Results text",
            'IVIG monotherapy with LVEF < 55 % at the first echo ("No patients")',
            "count",
            "0",
        )
    )
    for stat, v in zip(("median", "q1", "q3"), ECHO_INTERVAL):
        R.append(
            _rec(
                f"text.echo.interval_days.{stat}",
                "Results text (Suppl. Fig. S3B)",
                f"Days between first and last echo, {stat}",
                stat,
                v,
                note="all patients with ≥ 2 echo studies",
            )
        )
    for stat, v in zip(("median", "q1", "q3"), LENGTH_OF_STAY):
        R.append(
            _rec(f"text.length_of_stay.all.{stat}", "Discussion", f"Length of stay (days), all 46, {stat}", stat, v)
        )
    return R


_DROP_DUPLICATES = {  # Results-text numbers that repeat a table cell verbatim: recorded once, under the table id
    "text.anakinra_group.percent",
    "text.male.percent",
    "text.cv_shock.mono.percent",
    "text.cv_shock.p",
    "text.kdss_like.ana.percent",
    "text.kdss_like.mono.percent",
    "text.kdss_like.p",
    "text.anakinra.max_dose.shock.median",
    "text.anakinra.max_dose.noshock.median",
    "text.anakinra.duration.shock.median",
    "text.anakinra.duration.noshock.median",
    "text.anakinra.max_dose.p",
    "text.anakinra.duration.p",
    "text.adjunct.shock.count",
    "text.rescue.noshock.count",
    "text.ae.neutropenia.ana_nocs.percent",
    "text.ae.neutropenia.mono.percent",
    "text.ae.elevated_lft.ana_nocs.percent",
    "text.ae.elevated_lft.mono.percent",
}
_ECHO_SET_ID = {"ana_shock": "ana_cv_shock", "ana_kd": "ana_kd_like"}


def canonical_id(i: str) -> str:
    """Record ids as parsed by misc_dash.fidelity.

    E.g. table1.n.<g>, table2.<row>.no_shock.<stat>, echo.<measure>.<set>.<field>, ...
    """
    import re

    m = re.fullmatch(r"table([12])\.patients\.(\w+)\.(count|percent)", i)
    if m:
        g = m.group(2).replace("noshock", "no_shock")
        return f"table{m.group(1)}.n.{g}" if m.group(3) == "count" else f"table{m.group(1)}.n_percent.{g}"
    if i.startswith("table2."):
        return i.replace(".noshock", ".no_shock").replace("start_hospital_day", "initiation_day")
    if i.startswith("table3."):
        return i.replace("ana_nocs", "ana_no_cs")
    m = re.fullmatch(r"text\.anakinra\.(\w+)\.ana\.(\w+)", i)
    if m:
        return f"anakinra.{m.group(1)}.{m.group(2)}"
    m = re.fullmatch(r"text\.labs\.(\w+)\.(shock|noshock)\.median", i)
    if m:
        return f"labs.{m.group(1)}.{m.group(2).replace('noshock', 'no_shock')}"
    m = re.fullmatch(r"text\.labs\.(\w+)\.p", i)
    if m:
        return f"labs.{m.group(1)}.p"
    m = re.fullmatch(r"text\.echo\.(\w+)\.(lvef|strain)\.(baseline|followup)\.median", i)
    if m:
        return f"echo.{m.group(2)}.{_ECHO_SET_ID.get(m.group(1), m.group(1))}.{m.group(3)}"
    m = re.fullmatch(r"text\.echo\.(\w+)\.(lvef|strain)\.p", i)
    if m:
        return f"echo.{m.group(2)}.{_ECHO_SET_ID.get(m.group(1), m.group(1))}.p"
    fixed = {
        "text.echo.ana.lvef_low_baseline.count": "echo.lvef.ana.n_below_normal",
        "text.echo.ana.lvef_low_baseline.percent": "echo.lvef.ana.percent_below_normal",
        "text.echo.ana.pairs.count": "echo.lvef.ana.n_pairs",
        "text.echo.mono.lvef_low_baseline.count": "echo.lvef.mono.n_below_normal",
        "text.fever.mono.afebrile_by_day5.percent": "fever.mono.afebrile_day5",
        "text.fever.ana.afebrile_by_day5.percent": "fever.ana.afebrile_day5",
        "text.fever.logrank.mono_vs_ana.p": "fever.mono_vs_ana.p",
        "text.fever.logrank.cs_vs_nocs.p": "fever.cs_vs_no_cs.p",
        "text.fever.ana_kd.afebrile_by_day7_after_anakinra.percent": "fever.ana_kd_like.afebrile_day7_after_anakinra",
    }
    if i in fixed:
        return fixed[i]
    m = re.fullmatch(r"text\.echo\.interval_days\.(\w+)", i)
    if m:
        return f"echo.interval.{m.group(1)}"
    m = re.fullmatch(r"text\.length_of_stay\.all\.(\w+)", i)
    if m:
        return f"los.{m.group(1)}"
    return i


def write_published(path: str | Path = REPO_ROOT / "data" / "published.json") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    recs = [dict(r, id=canonical_id(r["id"])) for r in published_records() if r["id"] not in _DROP_DUPLICATES]
    for r in recs:
        if r["published"].startswith("~"):
            r["tolerance"] = 5.0  # "~50%": approximate statement, ± 5 percentage points
    ids = [r["id"] for r in recs]
    assert len(ids) == len(set(ids)), "duplicate ids"
    path.write_text(json.dumps(recs, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


# =============================================================================================== self-check
def reconstructed_values(t: dict[str, pd.DataFrame]) -> dict[str, float]:
    """Recompute every published quantity from patient-level rows (scratch engine following CONVENTIONS.md)."""
    P = t["patients"].copy()
    for c in ("kd_like", "cv_shock", "ivig", "inflammatory_steroids", "stress_hydrocortisone", "sars_cov2_pcr", "icu"):
        P[c] = P[c].astype(str).str.lower().isin(["true", "1", "yes"])
    D = t["anakinra_doses"].copy()
    P["anakinra"] = P["patient_id"].isin(D["patient_id"])
    P["cs"] = P["inflammatory_steroids"] | P["stress_hydrocortisone"]
    P["arm"] = np.where(P["anakinra"], "ana", "mono")
    P["group3"] = np.where(~P["anakinra"], "mono", np.where(P["cs"], "ana_cs", "ana_nocs"))
    P = P.set_index("patient_id")
    V: dict[str, float] = {}
    arms = {"all": P, "mono": P[P.arm == "mono"], "ana": P[P.arm == "ana"]}
    flags = {
        "male": P["sex"] == "M",
        "african_american": P["race"] == "African American",
        "latin_american": P["ethnicity"] == "Latin-American",
        "caucasian": P["race"] == "Caucasian",
        "sars_cov2_pcr": P["sars_cov2_pcr"],
        "non_specific": ~P["kd_like"] & ~P["cv_shock"],
        "kd_like": P["kd_like"],
        "cv_shock": P["cv_shock"],
        "kdss_like": P["kd_like"] & P["cv_shock"],
        "ivig": P["ivig"],
        "inflammatory_steroids": P["inflammatory_steroids"],
        "stress_hydrocortisone": P["stress_hydrocortisone"],
    }
    for g, df in arms.items():
        V[f"table1.patients.{g}.count"] = len(df)
        V[f"table1.patients.{g}.percent"] = 100 * len(df) / len(P)
    for row, f in flags.items():
        cnt = {}
        for g, df in arms.items():
            c = int(f[df.index].sum())
            cnt[g] = c
            V[f"table1.{row}.{g}.count"] = c
            V[f"table1.{row}.{g}.percent"] = 100 * c / len(df)
        V[f"table1.{row}.p"] = fisher_p(cnt["mono"], len(arms["mono"]), cnt["ana"], len(arms["ana"]))
    for g, df in arms.items():
        V[f"table1.age.{g}.median"], V[f"table1.age.{g}.q1"], V[f"table1.age.{g}.q3"] = quartiles(df["age_years"])
    V["table1.age.p"] = mw_p(arms["mono"]["age_years"], arms["ana"]["age_years"])
    A = arms["ana"]
    n_ana = len(A)
    V["text.anakinra_group.percent"] = V["table1.patients.ana.percent"]
    V["text.cs.count"] = int(A["cs"].sum())
    V["text.cs.percent"] = 100 * A["cs"].sum() / n_ana
    V["text.stress_hc.percent"] = 100 * A["stress_hydrocortisone"].sum() / n_ana
    V["text.inflammatory_steroids.percent"] = 100 * A["inflammatory_steroids"].sum() / n_ana
    V["text.without_cs.percent"] = 100 * (~A["cs"]).sum() / n_ana
    V["text.male.percent"] = V["table1.male.all.percent"]
    V["text.cv_shock.ana.percent"] = V["table1.cv_shock.ana.percent"]
    V["text.cv_shock.mono.percent"] = V["table1.cv_shock.mono.percent"]
    V["text.cv_shock.p"] = V["table1.cv_shock.p"]
    V["text.kdss_like.ana.percent"] = V["table1.kdss_like.ana.percent"]
    V["text.kdss_like.mono.percent"] = V["table1.kdss_like.mono.percent"]
    V["text.kdss_like.p"] = V["table1.kdss_like.p"]
    # Table 2
    D = D.merge(P[["weight_kg"]], left_on="patient_id", right_index=True)
    if "doses_given" not in D:
        D["doses_given"] = D["doses_per_day"]
    D["doses_given"] = D["doses_given"].fillna(D["doses_per_day"])
    D = D.sort_values(["patient_id", "day"])
    course = D.groupby("patient_id").apply(
        lambda g: pd.Series(
            {
                "start_hospital_day": g["day"].iloc[0] + 1,
                "start_dose": g["dose_mg_kg_day"].iloc[0],
                "max_dose": g["dose_mg_kg_day"].max(),
                "max_mg_per_dose": (g["dose_mg_kg_day"] * g["weight_kg"] / g["doses_per_day"]).max(),
                "duration": (g["doses_given"] / g["doses_per_day"]).sum(),
            }
        ),
        include_groups=False,
    )
    course = course.join(P[["cv_shock"]])
    grp = {"noshock": course[~course.cv_shock], "shock": course[course.cv_shock]}
    shockA = {"noshock": A[~A.cv_shock], "shock": A[A.cv_shock]}
    for g, df in shockA.items():
        V[f"table2.patients.{g}.count"] = len(df)
        V[f"table2.patients.{g}.percent"] = 100 * len(df) / n_ana
    cnts = {}
    for row, ser in (
        ("inflammatory_steroids", A["inflammatory_steroids"]),
        ("stress_hydrocortisone", A["stress_hydrocortisone"]),
        ("adjunct", A["anakinra_indication"] == "adjunct"),
        ("rescue", A["anakinra_indication"] == "rescue"),
    ):
        for g, df in shockA.items():
            c = int(ser[df.index].sum())
            cnts[(row, g)] = c
            V[f"table2.{row}.{g}.count"] = c
            V[f"table2.{row}.{g}.percent"] = 100 * c / len(df)
        V[f"table2.{row}.p"] = fisher_p(
            cnts[(row, "noshock")], len(shockA["noshock"]), cnts[(row, "shock")], len(shockA["shock"])
        )
    for row in TABLE2_CONT:
        for g, df in grp.items():
            V[f"table2.{row}.{g}.median"], V[f"table2.{row}.{g}.q1"], V[f"table2.{row}.{g}.q3"] = quartiles(df[row])
        V[f"table2.{row}.p"] = mw_p(grp["noshock"][row], grp["shock"][row])
    for row in ANAKINRA_OVERALL:
        V[f"text.anakinra.{row}.ana.median"], V[f"text.anakinra.{row}.ana.q1"], V[f"text.anakinra.{row}.ana.q3"] = (
            quartiles(course[row])
        )
    for row in ("max_dose", "duration"):
        for g in ("shock", "noshock"):
            V[f"text.anakinra.{row}.{g}.median"] = V[f"table2.{row}.{g}.median"]
        V[f"text.anakinra.{row}.p"] = V[f"table2.{row}.p"]
    V["text.adjunct.shock.count"] = V["table2.adjunct.shock.count"]
    V["text.rescue.noshock.count"] = V["table2.rescue.noshock.count"]
    L = t["labs"].sort_values(["patient_id", "analyte", "day"])
    first = L.groupby(["patient_id", "analyte"])["value"].first().unstack()
    for an in LAB_CONTRAST:
        xs = first.loc[shockA["shock"].index, an]
        xn = first.loc[shockA["noshock"].index, an]
        V[f"text.labs.{an}.shock.median"] = quartiles(xs)[0]
        V[f"text.labs.{an}.noshock.median"] = quartiles(xn)[0]
        V[f"text.labs.{an}.p"] = mw_p(xs, xn)
    # Table 3
    AE = t["adverse_events"]
    g3 = {g: P[P.group3 == g] for g in ("mono", "ana_nocs", "ana_cs")}
    for g, df in g3.items():
        V[f"table3.n.{g}"] = len(df)
    for ev in TABLE3:
        who = set(AE.loc[AE.event == ev, "patient_id"])
        cs = []
        for g, df in g3.items():
            c = sum(1 for k in df.index if k in who)
            cs.append(c)
            V[f"table3.{ev}.{g}.count"] = c
            V[f"table3.{ev}.{g}.percent"] = 100 * c / len(df)
        if sum(cs):
            V[f"table3.{ev}.p"] = freeman_halton_2xk(cs, [len(df) for df in g3.values()])
    V["text.ae.death.all.count"] = int((AE.event == "death").sum())
    V["text.ae.thrombosis.all.count"] = int((AE.event == "thrombosis").sum())
    for ev in TABLE3_TEXT:
        who = set(AE.loc[AE.event == ev, "patient_id"])
        a = sum(1 for k in A.index if k in who)
        m = sum(1 for k in arms["mono"].index if k in who)
        V[f"text.ae.{ev}.ana_nocs.percent"] = V[f"table3.{ev}.ana_nocs.percent"]
        V[f"text.ae.{ev}.mono.percent"] = V[f"table3.{ev}.mono.percent"]
        V[f"text.ae.{ev}.p"] = fisher_p(a, n_ana, m, len(arms["mono"]))
    # Table 4
    C = t["cytokines"].merge(P[["arm"]], left_on="patient_id", right_index=True)
    for cyt in TABLE4:
        x = C[C.cytokine == cyt]
        for g, sel in (("all", x), ("mono", x[x.arm == "mono"]), ("ana", x[x.arm == "ana"])):
            V[f"table4.{cyt}.{g}.median"], V[f"table4.{cyt}.{g}.q1"], V[f"table4.{cyt}.{g}.q3"] = quartiles(
                sel["fold_difference"]
            )
        V[f"table4.{cyt}.p"] = mw_p(x[x.arm == "mono"]["fold_difference"], x[x.arm == "ana"]["fold_difference"])
    # fever (origin admission, first reading < 38.0)
    Tm = t["temperatures"].sort_values(["patient_id", "hour"])
    tdef = {}
    for pid, g in Tm.groupby("patient_id"):
        below = g[g.temp_c < 38.0]
        tdef[pid] = (below["hour"].iloc[0] / 24, True) if len(below) else (g["hour"].iloc[-1] / 24, False)
    from lifelines import KaplanMeierFitter

    def km_by(ids, day):
        tt = np.array([tdef[k][0] for k in ids])
        ee = np.array([tdef[k][1] for k in ids])
        km = KaplanMeierFitter().fit(tt, ee)
        return 100 * (1 - float(km.survival_function_at_times(day).iloc[0]))

    V["text.fever.mono.afebrile_by_day5.percent"] = km_by(arms["mono"].index, 5.0)
    V["text.fever.ana.afebrile_by_day5.percent"] = km_by(A.index, 5.0)

    def lr(a_ids, b_ids):
        return logrank_p(
            np.array([tdef[k][0] for k in a_ids]),
            np.array([tdef[k][0] for k in b_ids]),
            np.array([tdef[k][1] for k in a_ids]),
            np.array([tdef[k][1] for k in b_ids]),
        )

    V["text.fever.logrank.mono_vs_ana.p"] = lr(arms["mono"].index, A.index)
    V["text.fever.logrank.cs_vs_nocs.p"] = lr(A[A.cs].index, A[~A.cs].index)
    kd = A[A.kd_like].index
    ok = 0
    for k in kd:
        h0 = 24 * int(D.loc[D.patient_id == k, "day"].min())
        g = Tm[(Tm.patient_id == k) & (Tm.hour >= h0)]
        below = g[g.temp_c < 38.0]
        ok += int(len(below) > 0 and (below["hour"].iloc[0] - h0) / 24 <= 7)
    V["text.fever.ana_kd.afebrile_by_day7_after_anakinra.percent"] = 100 * ok / len(kd)
    # echo
    E = t["echo"].sort_values(["patient_id", "day"])
    sets = {
        "mono": arms["mono"].index,
        "ana": A.index,
        "ana_cs": A[A.cs].index,
        "ana_shock": A[A.cv_shock].index,
        "ana_kdss": A[A.cv_shock & A.kd_like].index,
        "ana_kd": A[A.kd_like].index,
    }

    def pairs(ids, col):
        b, f = [], []
        for k in ids:
            g = E[(E.patient_id == k)].dropna(subset=[col])
            if len(g) >= 2:
                b.append(g[col].iloc[0])
                f.append(g[col].iloc[-1])
        return np.array(b), np.array(f)

    for _id, s, meas, *_ in ECHO:
        col = "lvef_pct" if meas == "lvef" else "strain_ap4_pct"
        b, f = pairs(sets[s], col)
        V[f"text.echo.{s}.{meas}.baseline.median"] = quartiles(b)[0]
        V[f"text.echo.{s}.{meas}.followup.median"] = quartiles(f)[0]
        V[f"text.echo.{s}.{meas}.p"] = wsr_p(b, f)
    b, _ = pairs(A.index, "lvef_pct")
    V["text.echo.ana.lvef_low_baseline.count"] = int(np.sum(b < 55))
    V["text.echo.ana.lvef_low_baseline.percent"] = 100 * np.sum(b < 55) / len(b)
    V["text.echo.ana.pairs.count"] = len(b)
    b, _ = pairs(arms["mono"].index, "lvef_pct")
    V["text.echo.mono.lvef_low_baseline.count"] = int(np.sum(b < 55))
    span = E.groupby("patient_id")["day"].agg(["min", "max", "count"])
    span = span[span["count"] >= 2]
    V["text.echo.interval_days.median"], V["text.echo.interval_days.q1"], V["text.echo.interval_days.q3"] = quartiles(
        span["max"] - span["min"]
    )
    V["text.length_of_stay.all.median"], V["text.length_of_stay.all.q1"], V["text.length_of_stay.all.q3"] = quartiles(
        P["length_of_stay_days"]
    )
    return {k: float(v) for k, v in V.items()}


def check_against_published(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    vals = {canonical_id(k): v for k, v in reconstructed_values(tables).items()}
    rows = []
    for r in json.loads(Path(REPO_ROOT / "data" / "published.json").read_text(encoding="utf-8")):
        v = vals.get(r["id"])
        ok = None if v is None else hits(v, r["published"])
        rows.append({"id": r["id"], "published": r["published"], "ours": v, "hit": ok, "required": r["required"]})
    return pd.DataFrame(rows)


def _self_check(tables: dict[str, pd.DataFrame]) -> bool:
    rep = check_against_published(tables)
    bad = rep[rep.required & (rep.hit != True)]  # noqa: E712 - hit is None/True/False: None must count as a miss
    opt = rep[~rep.required]
    n_hit = int((rep.hit == True).sum())  # noqa: E712 - hit is None/True/False: count only the True cells
    print(f"[reconstruct] {n_hit}/{len(rep)} published values reproduced; required misses: {len(bad)}")
    if len(bad):
        print(bad.to_string())
    print("[reconstruct] not-required records:")
    print(opt.to_string())
    return len(bad) == 0


def _fmt_bool(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for c in df.columns:
        if df[c].dtype == bool:
            df[c] = df[c].map({True: "true", False: "false"})
    return df


def write_default_cohort(
    out_dir: str | Path = "data/default_cohort", seed: int = DEFAULT_SEED
) -> dict[str, pd.DataFrame]:
    out = Path(out_dir)
    if not out.is_absolute():
        out = REPO_ROOT / out
    out.mkdir(parents=True, exist_ok=True)
    tables = build_default_cohort(seed)
    for name, df in tables.items():
        df2 = _fmt_bool(df)
        if "doses_given" in df2:
            df2["doses_given"] = df2["doses_given"].astype(int)
        if "ctcae_grade" in df2:
            df2["ctcae_grade"] = df2["ctcae_grade"].astype(int)
        df2.to_csv(out / f"{name}.csv", index=False, lineterminator="\n")
    meta = {
        "name": "Synthetic MIS-C cohort (reconstructed from published summaries)",
        "synthetic": True,
        "description": f"46 synthetic patients generated by misc_dash.reconstruct (seed {seed}) so that the index "
        "study's published Tables 1–4 and Results numbers are reproduced; not real patients. "
        "See docs/RECONSTRUCTION.md.",
    }
    (out / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return tables


def _read_back(out_dir: str | Path = REPO_ROOT / "data" / "default_cohort") -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_csv(p) for p in Path(out_dir).glob("*.csv")}


if __name__ == "__main__":
    import sys

    write_published()
    write_default_cohort()
    ok = _self_check(_read_back())
    sys.exit(0 if ok else 1)
