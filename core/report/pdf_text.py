"""Right-to-left text for the PDF without a shaping engine: Arabic letter forms and visual order.

reportlab draws characters left to right as given and shapes nothing unless ``uharfbuzz`` is installed, so an
Arabic name came out as isolated letters in reverse. :func:`display_text` prepares a string for drawing instead:

* **Arabic joining** (:func:`shape_arabic`): each letter is replaced by its initial, medial, final or isolated
  presentation form (Unicode's Arabic Presentation Forms-B, which DejaVu Sans covers) from whether it joins its
  neighbours, plus the mandatory lam-alef ligatures. The forms are found by name in :mod:`unicodedata`, so there
  is no table to maintain; a letter without forms (Persian and Urdu extensions, mostly) stays as it is.
* **Visual order** (:func:`visual_order`): every right-to-left stretch (Hebrew or Arabic letters and the spaces,
  punctuation and marks between them) is reversed, digit groups inside it keep their order. This is the part of
  the Unicode bidirectional algorithm a left-to-right line needs; PDF readers reverse it back when text is
  extracted or copied, so ``pdftotext`` returns the logical order.

Not covered: right-to-left paragraphs (the line's direction is always left to right), line wrapping inside a
right-to-left stretch, and optional ligatures; for those a shaping engine (``uharfbuzz``) is the remedy.
"""

from __future__ import annotations

import functools
import unicodedata

# Hamza .. yeh, and the extended letters (Persian, Urdu...): the ones Unicode gives presentation forms, looked up by
# name (a letter without them stays as it is).
ARABIC_LETTERS = frozenset(range(0x0621, 0x064B)) | frozenset(range(0x0671, 0x06D4))
LAM = "\u0644"
RTL_CLASSES = frozenset({"R", "AL"})
NEUTRAL_CLASSES = frozenset({"WS", "ON", "CS", "ES", "ET", "NSM", "BN", "S"})
DIGIT_CLASSES = frozenset({"EN", "AN"})
FORMS = ("ISOLATED", "FINAL", "INITIAL", "MEDIAL")


@functools.cache
def _form(ch: str, form: str) -> str | None:
    """The presentation form ``form`` of Arabic letter ``ch`` (``FINAL``…), or ``None`` when Unicode has none."""
    try:
        return unicodedata.lookup(f"{unicodedata.name(ch)} {form} FORM")
    except (KeyError, ValueError):
        return None


@functools.cache
def _lam_alef(alef: str, form: str) -> str | None:
    """The lam-alef ligature of ``alef`` (plain, with madda, with hamza above or below) in ``form``."""
    try:
        name = unicodedata.name(alef).removeprefix("ARABIC LETTER ")
        return unicodedata.lookup(f"ARABIC LIGATURE LAM WITH {name} {form} FORM") if name.startswith("ALEF") else None
    except (KeyError, ValueError):
        return None


def _arabic(ch: str) -> bool:
    return ord(ch) in ARABIC_LETTERS


def _transparent(ch: str) -> bool:
    return unicodedata.category(ch) == "Mn"  # harakat and other marks sit on a letter without breaking joins


def _joins_forward(ch: str) -> bool:
    """Whether ``ch`` connects to the letter after it (dual-joining: it has an initial form)."""
    return _arabic(ch) and _form(ch, "INITIAL") is not None


def _joins_back(ch: str) -> bool:
    """Whether ``ch`` connects to the letter before it (it has a final form)."""
    return _arabic(ch) and _form(ch, "FINAL") is not None


def _neighbour(text: str, i: int, step: int) -> str | None:
    j = i + step
    while 0 <= j < len(text) and _transparent(text[j]):
        j += step
    return text[j] if 0 <= j < len(text) else None


def shape_arabic(text: str) -> str:
    """``text`` with Arabic letters in the presentation form their neighbours call for (logical order kept)."""
    if not any(_arabic(ch) for ch in text):
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if not _arabic(ch):
            out.append(ch)
            i += 1
            continue
        before, after = _neighbour(text, i, -1), _neighbour(text, i, 1)
        back = before is not None and _joins_forward(before) and _joins_back(ch)
        if ch == LAM and after is not None and i + 1 < len(text) and text[i + 1] == after:
            ligature = _lam_alef(after, "FINAL" if back else "ISOLATED")
            if ligature is not None:
                out.append(ligature)
                i += 2
                continue
        forward = after is not None and _joins_forward(ch) and _joins_back(after)
        form = FORMS[int(back) + 2 * int(forward)]
        out.append(_form(ch, form) or _form(ch, "ISOLATED") or ch)
        i += 1
    return "".join(out)


def _bidi(ch: str) -> str:
    return unicodedata.bidirectional(ch)


def _reverse_rtl(segment: str) -> str:
    """A right-to-left stretch in visual order: characters reversed, marks kept after their letter, digit groups
    kept left to right."""
    units: list[str] = []
    for ch in segment:
        if units and (_bidi(ch) == "NSM" or (_bidi(ch) in DIGIT_CLASSES and _bidi(units[-1][-1]) in DIGIT_CLASSES)):
            units[-1] += ch
        else:
            units.append(ch)
    return "".join(reversed(units))


def visual_order(text: str) -> str:
    """``text`` on a left-to-right line in the order it is drawn: each right-to-left stretch reversed."""
    if not any(_bidi(ch) in RTL_CLASSES for ch in text):
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        if _bidi(text[i]) not in RTL_CLASSES:
            out.append(text[i])
            i += 1
            continue
        # The stretch runs to the last right-to-left letter or digit reachable through neutrals and marks (digits
        # after a right-to-left letter belong to it, as in the bidirectional algorithm; trailing neutrals do not).
        end = j = i
        while j < len(text) and (_bidi(text[j]) in RTL_CLASSES | NEUTRAL_CLASSES | DIGIT_CLASSES):
            kind = _bidi(text[j])
            if kind in RTL_CLASSES or kind in DIGIT_CLASSES or (kind == "NSM" and end == j - 1):
                end = j
            j += 1
        out.append(_reverse_rtl(text[i : end + 1]))
        i = end + 1
    return "".join(out)


def display_text(text: str) -> str:
    """``text`` ready to draw left to right: Arabic shaped, right-to-left stretches in visual order."""
    return visual_order(shape_arabic(text))
