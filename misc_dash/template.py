"""Write the data dictionary and the empty cohort template from the contract (``python -m misc_dash dictionary``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import contract as C
from .loading import REPO_ROOT


def write_dictionary_and_template(root: Path = REPO_ROOT) -> list[Path]:
    out: list[Path] = []
    dd = root / "docs" / "DATA_DICTIONARY.md"
    dd.parent.mkdir(parents=True, exist_ok=True)
    dd.write_text(C.data_dictionary_markdown() + "\n", encoding="utf-8")
    out.append(dd)
    tdir = root / "data" / "template"
    tdir.mkdir(parents=True, exist_ok=True)
    for t in C.TABLES:
        p = tdir / f"{t.name}.csv"
        pd.DataFrame(columns=list(t.column_names)).to_csv(p, index=False)
        out.append(p)
    xl = root / "data" / "template.xlsx"
    with pd.ExcelWriter(xl, engine="openpyxl") as w:
        for t in C.TABLES:
            pd.DataFrame(columns=list(t.column_names)).to_excel(w, sheet_name=t.name, index=False)
        pd.DataFrame({"key": ["name", "synthetic", "description"], "value": ["", "false", ""]}).to_excel(
            w, sheet_name="metadata", index=False
        )
        rows = [
            {
                "table": t.name,
                "column": c.name,
                "type": c.dtype,
                "unit": c.unit,
                "allowed / range": ", ".join(c.allowed) if c.allowed else c.range_text,
                "column required": "yes" if c.required else "no",
                "empty allowed": "yes" if c.nullable else "no",
                "description": c.description,
            }
            for t in C.TABLES
            for c in t.columns
        ]
        pd.DataFrame(rows).to_excel(w, sheet_name="dictionary", index=False)
    out.append(xl)
    return out
