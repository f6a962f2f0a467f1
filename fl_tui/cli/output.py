"""One output flag for every command that prints data: `--format text|json|csv|md`, with `--json` kept as the
alias it always was. Tables are rows of dicts; every format is rendered from the same rows."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterator, Sequence
from enum import StrEnum

from fl_tui.cli.console import unicode_ok
from fl_tui.core.textsafe import csv_cell, plain


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    CSV = "csv"
    MD = "md"


def add_format_option(parser, default: Format = Format.TEXT, what: str = "output format") -> None:
    parser.add_argument("--format", type=Format, choices=list(Format), default=default,
                        help=f"{what} (default {default})")
    parser.add_argument("--json", dest="format", action="store_const", const=Format.JSON,
                        help="same as --format json")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def text_lines(columns: Sequence[str], rows: Sequence[dict]) -> Iterator[str]:
    """Left-aligned columns sized to their widest cell, a line at a time; untrusted text made inert."""
    table = [tuple(c.upper() for c in columns)] + [tuple(plain(_cell(r.get(c)), keep_newlines=False) for c in columns)
                                                   for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(columns))]
    for row in table:
        yield "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()


def render_text(columns: Sequence[str], rows: Sequence[dict]) -> str:
    return "\n".join(text_lines(columns, rows))


def render_csv(columns: Sequence[str], rows: Sequence[dict]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([csv_cell(_cell(r.get(c))) for c in columns])
    return buf.getvalue().rstrip("\n")


def render_md(columns: Sequence[str], rows: Sequence[dict]) -> str:
    def cell(value: object) -> str:
        return plain(_cell(value), keep_newlines=False).replace("|", "\\|")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def render_table(fmt: Format, columns: Sequence[str], rows: Sequence[dict], document: object = None) -> str:
    """`document` is what --format json prints (default: the rows); the other formats show `columns`."""
    match fmt:
        case Format.JSON:
            # \u escapes where the console cannot encode every character: the JSON stays whole
            return json.dumps(rows if document is None else document, indent=2,
                              ensure_ascii=not unicode_ok(sys.stdout))
        case Format.CSV:
            return render_csv(columns, rows)
        case Format.MD:
            return render_md(columns, rows)
        case Format.TEXT:
            return render_text(columns, rows)


def print_table(fmt: Format, columns: Sequence[str], rows: Sequence[dict]) -> None:
    """render_table, printed; a text table goes out a line at a time (a long one is never one string too)."""
    if fmt is not Format.TEXT:
        print(render_table(fmt, columns, rows))
        return
    for line in text_lines(columns, rows):
        print(line)


def print_document(text: str, end: str = "") -> None:
    """A report printed so that stdout carries its own bytes: a CSV's lines end in \r\n, and a text stream on
    Windows would turn that \n into \r\n again (\r\r\n, an empty row between rows to a spreadsheet)."""
    if os.linesep != "\n":
        text = text.replace("\r\n", "\n")
    print(text, end=end)
