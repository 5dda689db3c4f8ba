"""A station's poster: an A4 PDF to print, and a PNG for phones.

The PDF (reportlab) carries the station label in large type, a large QR of the
station's deep link, the link and code in text, a two-line summary of the
rules in force and a one-line risk reminder, in the agent's language, on one
page. Chinese text uses STSong-Light, one of the CID fonts every PDF reader
must supply (Adobe's Asian font packs; Chrome, Preview and pdf.js have it), so
nothing is embedded and the file stays around 10 KB; its text is written as
Unicode (UniGB-UCS2-H), so it can be searched, copied and checked by a test.
Strings that fit Latin-1 use Helvetica, which looks better for links.

The QR is the PNG from bot/services/qr.py drawn as an image, exactly what /code
sends, so it decodes the same everywhere.

The PNG cannot rely on any CJK font (many servers have none, and Pillow ships
only a Latin one), so it holds only what is ASCII: the QR, the code in large
letters and the link. The label, the summary and the risk reminder go in the
photo's caption, which Telegram renders in any language.

Measured on the 2-core development VM (median of 50, under load): the PDF ~23 ms,
the PNG ~12 ms; enough to stall every other chat for a moment, so callers run them in a
thread (asyncio.to_thread) and the event loop stays free.
"""
from __future__ import annotations

import io
import threading
from dataclasses import dataclass

from bot.services.qr import render_qr_png

CJK_FONT = "STSong-Light"
LATIN_FONT = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"
_fonts_ready = threading.Lock()
_registered = False


@dataclass(frozen=True)
class PosterTexts:
    """Everything the poster says, already in the agent's language, as plain text (not HTML)."""

    label: str
    scan: str  # "Scan to join"
    link: str
    code_line: str  # "Code: ABCD2345"
    summary: tuple[str, ...]  # two lines: the referee's perk, the referrer's first-loan reward
    risk: str


def _register_fonts() -> None:
    global _registered
    with _fonts_ready:  # reportlab's font registry is global; render threads share it
        if not _registered:
            from reportlab.pdfbase import pdfmetrics
            from reportlab.pdfbase.cidfonts import UnicodeCIDFont

            pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
            _registered = True


def font_for(text: str, bold: bool = False) -> str:
    """Helvetica for Latin-1 text (links, English); the CJK font for anything else."""
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return CJK_FONT
    return LATIN_BOLD if bold else LATIN_FONT


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy line breaking by width: at a space where the line has one, else between any characters
    (Chinese has no spaces)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    _register_fonts()  # the CJK font's widths come with its registration
    lines: list[str] = []
    line = ""
    for ch in text:
        if not line or stringWidth(line + ch, font, size) <= width:
            line += ch
            continue
        cut = line.rfind(" ")
        rest = line[cut + 1:] + ch if ch != " " and cut > 0 else None
        # Break at the space only if the word carried over fits; a long word is broken anywhere.
        if rest is not None and stringWidth(rest, font, size) <= width:
            if line[:cut].strip():
                lines.append(line[:cut].rstrip())
            line = rest
        else:
            if line.strip():
                lines.append(line.rstrip())
            line = ch.lstrip()
    if line:
        lines.append(line)
    return lines


def render_pdf(texts: PosterTexts) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas

    _register_fonts()
    width, height = A4
    margin = 48
    usable = width - 2 * margin
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, pageCompression=1)
    pdf.setTitle(texts.label)
    pdf.setSubject(texts.link)
    pdf.setCreator("referral-bot")
    y = height - margin

    def centred(lines: list[str], font: str, size: float, gap: float = 1.3) -> None:
        nonlocal y
        pdf.setFont(font, size)
        for line in lines:
            y -= size
            pdf.drawCentredString(width / 2, y, line)
            y -= size * (gap - 1)

    # The label as large as fits on one line (down to 26 pt), else wrapped at 26 pt.
    font = font_for(texts.label, bold=True)
    size = 46
    while size > 26 and stringWidth(texts.label, font, size) > usable:
        size -= 2
    centred(wrap(texts.label, font, size, usable), font, size, gap=1.25)
    y -= 14
    centred([texts.scan], font_for(texts.scan), 20)

    side = 330
    y -= 8 + side
    qr = ImageReader(io.BytesIO(render_qr_png(texts.link)))
    pdf.drawImage(qr, (width - side) / 2, y, side, side)
    y -= 10
    centred([texts.link], LATIN_FONT, 15)
    centred([texts.code_line], font_for(texts.code_line), 15)

    y -= 16
    pdf.setLineWidth(0.6)
    pdf.line(margin, y, width - margin, y)
    y -= 10
    for line in texts.summary:
        font = font_for(line)
        centred(wrap(line, font, 15, usable), font, 15, gap=1.45)
    y -= 10
    font = font_for(texts.risk)
    pdf.setFillGray(0.3)
    centred(wrap(texts.risk, font, 11, usable), font, 11, gap=1.4)
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def render_png(link: str, code: str) -> bytes:
    """A phone-sized portrait image (1080 wide): the code, the QR, the link. ASCII only, see above."""
    from PIL import Image, ImageDraw, ImageFont

    width, height, margin = 1080, 1400, 60
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)

    def text_line(text: str, size: int, y: int) -> int:
        while True:
            font = ImageFont.load_default(size=size)
            left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
            if right - left <= width - 2 * margin or size <= 12:
                break
            size -= 2
        draw.text(((width - (right - left)) / 2 - left, y - top), text, fill=0, font=font)
        return y + (bottom - top)

    y = text_line(code, 110, 70)
    qr = Image.open(io.BytesIO(render_qr_png(link, box_size=1, border=4)))
    box = (width - 2 * margin) // qr.width
    qr = qr.resize((qr.width * box, qr.height * box), Image.Resampling.NEAREST)
    y += 40
    image.paste(qr, ((width - qr.width) // 2, y))
    bottom = text_line(link, 40, y + qr.height + 30)
    buf = io.BytesIO()
    image.crop((0, 0, width, min(height, bottom + 70))).convert("1", dither=Image.Dither.NONE).save(buf, format="PNG")
    return buf.getvalue()
