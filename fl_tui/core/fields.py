"""Field types shared by the file formats (prompt sets, rubrics, annotation files), so each rule is written once."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty")
    return text


def one_line(text: str) -> str:
    if "\n" in text or "\r" in text:
        raise ValueError("must be one line")
    return text


NonBlank = Annotated[str, AfterValidator(_not_blank)]
OneLine = Annotated[str, AfterValidator(one_line)]
