"""PDF output with fpdf2: pure Python, no system libraries, and a Unicode font (DejaVu Sans,
which matplotlib ships) so names and dashes print as written."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
from fpdf import FPDF
from fpdf.fonts import FontFace
from PIL import Image

from openlfr.reports.columns import Withheld, cell
from openlfr.reports.document import Document, Figure, Table

_FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
_NUMERIC = {"int", "threshold", "rate", "money"}
_WIDTH = {"text": 3.0, "date": 2.1, "time": 1.3, "rate": 2.6, "money": 2.4}


class _Pdf(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="landscape", format="A4")
        self.add_font("DejaVu", "", str(_FONTS / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(_FONTS / "DejaVuSans-Bold.ttf"))
        self.add_font("DejaVu", "I", str(_FONTS / "DejaVuSans-Oblique.ttf"))
        self.doc_title = title
        self.set_title(title)
        self.set_creator("OpenLFR")
        self.set_auto_page_break(True, margin=14)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font("DejaVu", "", 7)
        self.set_text_color(90)
        self.cell(0, 5, f"{self.doc_title} · page {self.page_no()}/{{nb}}", align="C")


def _table(pdf: _Pdf, t: Table) -> None:
    if pdf.get_y() > pdf.page_break_trigger - 30:  # keep a heading with its first rows
        pdf.add_page()
    pdf.set_font("DejaVu", "B", 11)
    pdf.multi_cell(0, 7, t.heading, new_x="LMARGIN", new_y="NEXT")
    size = 6.5 if len(t.columns) > 10 else 8
    pdf.set_font("DejaVu", "", size)
    widths = [_WIDTH.get(c.kind, 1.7) for c in t.columns]
    heading = FontFace(emphasis="BOLD", fill_color=(232, 234, 238))
    with pdf.table(
        col_widths=widths, headings_style=heading, line_height=size * 0.55,
        width=min(pdf.epw, 60.0 * len(t.columns)),  # narrow tables stay narrow
        text_align=["RIGHT" if c.kind in _NUMERIC else "LEFT" for c in t.columns],
    ) as table:  # fmt: skip
        head = table.row()
        for c in t.columns:
            head.cell(c.label)
        for r in t.rows or [{}]:
            row = table.row()
            for c in t.columns:
                value = r.get(c.key)
                style = FontFace(emphasis="ITALICS", color=(90, 0, 0)) if isinstance(
                    value, Withheld
                ) else None  # fmt: skip
                row.cell(cell(value, c.kind) if r else "None in this period.", style=style)
        if t.footer:
            row = table.row()
            for c in t.columns:
                text = cell(t.footer[c.key], c.kind) if c.key in t.footer else ""
                row.cell(text, style=FontFace(emphasis="BOLD"))
    if t.note:
        pdf.set_font("DejaVu", "I", 8)
        pdf.multi_cell(0, 5, t.note, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def to_pdf(doc: Document) -> bytes:
    pdf = _Pdf(doc.title)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 16)
    pdf.multi_cell(0, 9, doc.title, new_x="LMARGIN", new_y="NEXT")
    if doc.subtitle:
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(0, 6, doc.subtitle, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for s in doc.sections:
        if isinstance(s, Table):
            _table(pdf, s)
        elif isinstance(s, Figure):
            w = min(pdf.epw, 200)
            with Image.open(io.BytesIO(s.png)) as im:
                h = w * im.height / im.width
            if pdf.get_y() + 8 + h > pdf.page_break_trigger:  # keep the heading with its chart
                pdf.add_page()
            pdf.set_font("DejaVu", "B", 11)
            pdf.multi_cell(0, 7, s.heading, new_x="LMARGIN", new_y="NEXT")
            pdf.image(io.BytesIO(s.png), w=w, alt_text=s.alt)
            pdf.ln(3)
        else:
            if s.heading:
                pdf.set_font("DejaVu", "B", 11)
                pdf.multi_cell(0, 7, s.heading, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("DejaVu", "", 9)
            for p in s.paragraphs:
                pdf.multi_cell(0, 5, p, new_x="LMARGIN", new_y="NEXT", align="L")
                pdf.ln(1)
    pdf.set_font("DejaVu", "", 7)
    pdf.set_text_color(90)
    generated = doc.generated.strftime("%d/%m/%Y %H:%M UTC")
    pdf.multi_cell(0, 5, f"Generated {generated} by OpenLFR from the stored records.")
    return bytes(pdf.output())
