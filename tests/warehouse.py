"""A data-warehouse export of the default cohort, as a hospital's would look: other file and column names, coded
categories, °F, date-times instead of hours since admission, a missing-value code. With :data:`MAPPING` it maps back
to exactly the default cohort (tests/test_mapping.py)."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd

from misc_dash.loading import DEFAULT_COHORT_DIR

ADMIT = pd.Timestamp("2021-03-01 14:00")


def _tables() -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(DEFAULT_COHORT_DIR.glob("*.csv"))}


def _when(hours: pd.Series, admit: pd.Series) -> pd.Series:
    return (admit + pd.to_timedelta(hours.astype(float), unit="h")).dt.strftime("%Y-%m-%d %H:%M:%S")


def export_files() -> dict[str, bytes]:
    """{file name: CSV bytes} of the warehouse export."""
    t = _tables()
    p = t["patients"]
    # each patient admitted on another day, some in the late evening (so calendar days differ from 24 h blocks)
    k = np.arange(len(p))
    admit = pd.Series(ADMIT + pd.to_timedelta(k * 3, unit="D") + pd.to_timedelta((k * 7) % 11, unit="h"))
    admit_of = dict(zip(p["patient_id"], admit))
    yn = {"true": "Y", "false": "N", "": "-99"}
    demo = pd.DataFrame(
        {
            "STUDY_ID": p["patient_id"],
            "AGE": p["age_years"],
            "GENDER": p["sex"].map({"M": "1", "F": "2"}),
            "RACE": p["race"],
            "ETHNIC": p["ethnicity"],
            "WT": p["weight_kg"].replace("", "-99"),
            "COVID_PCR": p["sars_cov2_pcr"].map(yn),
            "KD": p["kd_like"].map({"true": "Yes", "false": "No"}),
            "SHOCK": p["cv_shock"].map(yn),
            "IVIG": p["ivig"].map(yn),
            "IVIG_START": [
                "" if h == "" else _when(pd.Series([h]), pd.Series([a])).iloc[0]
                for h, a in zip(p["ivig_start_hour"], admit)
            ],
            "MPS": p["inflammatory_steroids"].map(yn),
            "HC": p["stress_hydrocortisone"].map(yn),
            "PICU": p["icu"].map(yn),
            "LOS_H": [("" if v == "" else format(float(v) * 24, "g")) for v in p["length_of_stay_days"]],
            "ANAKINRA_WHY": p["anakinra_indication"].map({"adjunct": "A", "rescue": "R", "": ""}),
            "ADMIT_DTTM": admit.dt.strftime("%Y-%m-%d %H:%M:%S"),
        }
    )
    temps = t["temperatures"]
    adm_t = temps["patient_id"].map(admit_of)
    vitals = pd.DataFrame(
        {
            "STUDY_ID": temps["patient_id"],
            "TAKEN_AT": _when(temps["hour"], adm_t),
            "TEMP_F": [format(float(c) * 9 / 5 + 32, ".10g") for c in temps["temp_c"]],
            "SITE": temps["site"].str.upper(),
        }
    )
    echo = t["echo"]
    adm_e = echo["patient_id"].map(admit_of)
    echo_x = pd.DataFrame(
        {
            "STUDY_ID": echo["patient_id"],
            "STUDY_DATE": (adm_e.dt.normalize() + pd.to_timedelta(echo["day"].astype(int), unit="D")).dt.strftime(
                "%d/%m/%Y"
            ),
            "EF_SIMPSON": echo["lvef_pct"],
            "GLS_AP4": echo["strain_ap4_pct"],
        }
    )
    out = {"demographics.csv": demo, "vitals.csv": vitals, "echo_reports.csv": echo_x}
    for name in ("anakinra_doses", "cytokines", "labs", "adverse_events"):
        df = t[name].rename(columns={"patient_id": "STUDY_ID"})
        out[f"{name}.csv"] = df
    return {n: df.to_csv(index=False).encode("utf-8") for n, df in out.items()}


MAPPING = {
    "format": "misc-dash-mapping",
    "version": 1,
    "name": "Warehouse export",
    "admission": {"source": "demographics.csv", "id": "STUDY_ID", "column": "ADMIT_DTTM"},
    "tables": {
        "patients": {
            "source": "demographics.csv",
            "missing": ["-99"],
            "columns": {
                "patient_id": "STUDY_ID",
                "age_years": "AGE",
                "sex": {"column": "GENDER", "values": {"1": "M", "2": "F"}},
                "race": "RACE",
                "ethnicity": "ETHNIC",
                "weight_kg": "WT",
                "sars_cov2_pcr": "COVID_PCR",
                "kd_like": "KD",
                "cv_shock": "SHOCK",
                "ivig": "IVIG",
                "ivig_start_hour": {"column": "IVIG_START", "transform": "hours_since_admission"},
                "inflammatory_steroids": "MPS",
                "stress_hydrocortisone": "HC",
                "icu": "PICU",
                "length_of_stay_days": {"column": "LOS_H", "transform": "hours_to_days"},
                "anakinra_indication": {"column": "ANAKINRA_WHY", "values": {"A": "adjunct", "R": "rescue"}},
            },
        },
        "temperatures": {
            "source": "vitals.csv",
            "columns": {
                "patient_id": "STUDY_ID",
                "hour": {"column": "TAKEN_AT", "transform": "hours_since_admission"},
                "temp_c": {"column": "TEMP_F", "transform": "fahrenheit_to_celsius"},
                "site": {"column": "SITE", "transform": "lowercase"},
            },
        },
        "echo": {
            "source": "echo_reports.csv",
            "columns": {
                "patient_id": "STUDY_ID",
                "day": {"column": "STUDY_DATE", "transform": "days_since_admission", "format": "%d/%m/%Y"},
                "lvef_pct": "EF_SIMPSON",
                "strain_ap4_pct": "GLS_AP4",
            },
        },
        **{
            name: {
                "source": f"{name}.csv",
                "columns": {"patient_id": "STUDY_ID", **{c: c for c in cols}},
            }
            for name, cols in {
                "anakinra_doses": ("day", "dose_mg_kg_day", "doses_per_day", "route", "doses_given"),
                "cytokines": ("cytokine", "fold_difference"),
                "labs": ("day", "analyte", "value", "unit"),
                "adverse_events": ("event", "ctcae_grade"),
            }.items()
        },
    },
}


def mapping_text() -> str:
    return json.dumps(MAPPING, indent=2, ensure_ascii=False)


def export_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, b in export_files().items():
            zf.writestr(f"warehouse/{n}", b)
    return buf.getvalue()
