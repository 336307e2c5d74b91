"""A small document model rendered to both Markdown and a self-contained HTML page.

The report is built once as a list of blocks so the two files always say the same
thing. Text uses two inline marks only, ```code``` and ``**bold**``, which Markdown
shows as is and the HTML renderer converts after escaping. Every Markdown file
hardneg writes (the bench report, the audits) is a :class:`Document`.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field

__all__ = [
    "CSS",
    "Bullets",
    "Document",
    "Heading",
    "Image",
    "Paragraph",
    "Table",
    "inline_html",
    "md_cell",
    "slug",
]

_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_SLUG = re.compile(r"[^a-z0-9]+")

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:0;
  color:#1b1f24;background:#fff;line-height:1.45;font-size:15px}
main{max-width:1280px;margin:0 auto;padding:1.5rem 2rem 4rem}
h1{font-size:1.7rem;margin:.2rem 0 1rem}h2{font-size:1.3rem;margin:2.2rem 0 .6rem;padding-bottom:.25rem;
  border-bottom:1px solid #d0d7de}h3{font-size:1.05rem;margin:1.4rem 0 .4rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em;background:#f3f4f6;
  padding:.05em .3em;border-radius:3px}
nav{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}
nav a{margin-right:1rem;color:#0b5cad;text-decoration:none}
.table-wrap{overflow-x:auto;margin:.4rem 0 1rem}
table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums}
th,td{border:1px solid #d0d7de;padding:.3rem .55rem;vertical-align:top}
th{background:#f6f8fa;text-align:left;position:sticky;top:0}
td.r{text-align:right;white-space:nowrap}td.l{text-align:left}
tbody tr:nth-child(even){background:#fafbfc}
.caption{font-size:13px;color:#57606a;margin:.2rem 0}
.untrusted{border-left:4px solid #cf222e;padding-left:.6rem}
.warn{background:#fff1f0;border:1px solid #ffc1bd;border-left:4px solid #cf222e;border-radius:4px;
  padding:.5rem .8rem;margin:.6rem 0}
.note{background:#f6f8fa;border-left:4px solid #8c959f;border-radius:4px;padding:.4rem .8rem;margin:.6rem 0}
ul.warn,ul.note{padding-left:2rem}
figure{margin:1rem 0 1.6rem}figure img{max-width:100%;height:auto;border:1px solid #d0d7de}
figcaption{font-size:13px;color:#57606a;margin-top:.3rem}
.verdict-FAIL{color:#cf222e;font-weight:600}.verdict-WARN{color:#9a6700;font-weight:600}
.verdict-PASS{color:#1a7f37}.verdict-SKIP,.verdict-NOT{color:#57606a}
"""


def slug(text: str) -> str:
    """An HTML id from a heading's text."""
    return _SLUG.sub("-", text.lower()).strip("-") or "section"


def inline_html(text: str) -> str:
    """Escape ``text`` and turn its ```code``` and ``**bold**`` marks into HTML."""
    escaped = html.escape(str(text), quote=False)
    escaped = _CODE.sub(r"<code>\1</code>", escaped)
    return _BOLD.sub(r"<strong>\1</strong>", escaped)


def md_cell(text: str) -> str:
    """A Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _verbatim_cell(text: str) -> str:
    return str(text).replace("|", "\\|")


#: The Markdown rule under a table's header, per alignment letter.
_RULES = {"l": ":---", "r": "---:", "-": "---"}


@dataclass
class Heading:
    level: int
    text: str
    anchor: str = ""


@dataclass
class Paragraph:
    text: str
    kind: str = ""  # "", "warn" or "note"
    #: Markdown keeps the text as given instead of joining its lines and spaces (HTML is the same either way).
    verbatim: bool = False


@dataclass
class Bullets:
    items: list[str]
    kind: str = ""


@dataclass
class Table:
    """A table with a header row; Markdown puts a caption above it in italics.

    Examples
    --------
    >>> doc = Document("Audit")
    >>> doc.add(Table(["check", "numbers"], [["gap", "auc=0.5 | 0.6"]], align="--", verbatim=True))
    >>> print(doc.markdown())
    # Audit
    <BLANKLINE>
    | check | numbers |
    |---|---|
    | gap | auc=0.5 \\| 0.6 |
    <BLANKLINE>
    """

    header: list[str]
    rows: list[list[str]]
    #: One letter per column: "l" or "r", or "-" for no alignment in Markdown (``---``, left in HTML); "l" by default.
    align: str = ""
    caption: str = ""
    untrusted: bool = False
    #: Column index whose cells are verdicts, coloured in HTML.
    verdict_columns: tuple[int, ...] = ()
    #: Markdown cells keep their text as given, pipes escaped, instead of being joined onto one line.
    verbatim: bool = False


@dataclass
class Image:
    path: str  # relative to the Markdown file
    png: bytes
    alt: str
    caption: str = ""


@dataclass
class Document:
    """Blocks in reading order; :meth:`markdown` and :meth:`html` render all of them.

    Examples
    --------
    >>> doc = Document("Report")
    >>> doc.add(Paragraph("Scores on `random` are **inflated**."))
    >>> print(doc.markdown())
    # Report
    <BLANKLINE>
    Scores on `random` are **inflated**.
    <BLANKLINE>
    """

    title: str
    blocks: list = field(default_factory=list)

    def add(self, *blocks) -> None:
        self.blocks.extend(blocks)

    # ----------------------------------------------------------------- Markdown
    def markdown(self) -> str:
        parts = [f"# {self.title}"]
        for block in self.blocks:
            parts.append(_md_block(block))
        return "\n\n".join(parts) + "\n"

    # --------------------------------------------------------------------- HTML
    def html(self) -> str:
        toc = [b for b in self.blocks if isinstance(b, Heading) and b.level == 2]
        body = [f"<h1>{inline_html(self.title)}</h1>"]
        if toc:
            links = "".join(f'<a href="#{b.anchor or slug(b.text)}">{inline_html(b.text)}</a>' for b in toc)
            body.append(f"<nav>{links}</nav>")
        body.extend(_html_block(block) for block in self.blocks)
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(self.title)}</title>\n<style>{CSS}</style>\n</head>\n"
            "<body>\n<main>\n" + "\n".join(body) + "\n</main>\n</body>\n</html>\n"
        )


def _md_block(block) -> str:
    if isinstance(block, Heading):
        return f"{'#' * block.level} {block.text}"
    if isinstance(block, Paragraph):
        text = str(block.text) if block.verbatim else " ".join(str(block.text).split())
        return f"> {text}" if block.kind in ("warn", "note") else text
    if isinstance(block, Bullets):
        prefix = "> " if block.kind in ("warn", "note") else ""
        return "\n".join(f"{prefix}- {' '.join(str(item).split())}" for item in block.items)
    if isinstance(block, Table):
        lines = []
        if block.caption:
            lines.append(f"*{' '.join(block.caption.split())}*")
            lines.append("")
        align = block.align.ljust(len(block.header), "l")
        cell = _verbatim_cell if block.verbatim else md_cell
        lines.append("| " + " | ".join(cell(h) for h in block.header) + " |")
        lines.append("|" + "|".join(_RULES.get(a, ":---") for a in align) + "|")
        for row in block.rows:
            lines.append("| " + " | ".join(cell(c) for c in row) + " |")
        return "\n".join(lines)
    if isinstance(block, Image):
        text = f"![{md_cell(block.alt)}]({block.path})"
        return f"{text}\n\n*{' '.join(block.caption.split())}*" if block.caption else text
    raise TypeError(f"unknown block {type(block).__name__}")


def _html_block(block) -> str:
    if isinstance(block, Heading):
        anchor = block.anchor or slug(block.text)
        return f'<h{block.level} id="{anchor}">{inline_html(block.text)}</h{block.level}>'
    if isinstance(block, Paragraph):
        cls = f' class="{block.kind}"' if block.kind else ""
        return f"<p{cls}>{inline_html(block.text)}</p>"
    if isinstance(block, Bullets):
        cls = f' class="{block.kind}"' if block.kind else ""
        return f"<ul{cls}>" + "".join(f"<li>{inline_html(i)}</li>" for i in block.items) + "</ul>"
    if isinstance(block, Table):
        align = block.align.ljust(len(block.header), "l")
        head = "".join(f"<th>{inline_html(h)}</th>" for h in block.header)
        rows = []
        for row in block.rows:
            cells = []
            for i, cell in enumerate(row):
                cls = "l" if align[i] == "-" else align[i]
                if i in block.verdict_columns:
                    # PASS, WARN, FAIL, SKIP or NOT (audited); a dash or empty cell gets no colour.
                    word = re.sub(r"[^A-Z]", "", (str(cell).split() or [""])[0])
                    cls += f" verdict-{word}" if word else ""
                cells.append(f'<td class="{cls}">{inline_html(cell)}</td>')
            rows.append("<tr>" + "".join(cells) + "</tr>")
        caption = f'<p class="caption">{inline_html(block.caption)}</p>' if block.caption else ""
        wrap = "table-wrap untrusted" if block.untrusted else "table-wrap"
        return (
            f'<div class="{wrap}">{caption}<table><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>"
        )
    if isinstance(block, Image):
        data = base64.b64encode(block.png).decode("ascii")
        caption = f"<figcaption>{inline_html(block.caption)}</figcaption>" if block.caption else ""
        alt = html.escape(block.alt)
        return f'<figure><img alt="{alt}" src="data:image/png;base64,{data}">{caption}</figure>'
    raise TypeError(f"unknown block {type(block).__name__}")
