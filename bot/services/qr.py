"""QR images of deep links, rendered once per code (Telegram's file_id is reused after)."""
from __future__ import annotations

import io


def render_qr_png(data: str, box_size: int = 12, border: int = 4) -> bytes:
    # Imported here: with file_ids reused, most processes render rarely or never, and
    # qrcode with Pillow would hold ~5 MiB from start-up on.
    import qrcode
    from PIL import Image
    from qrcode.constants import ERROR_CORRECT_M

    # M correction survives a crumpled or partly covered printout without a huge image.
    # A fixed mask: scoring all eight (the library's default) is 85 % of the
    # render time, and decoders read the mask from the symbol either way.
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=1, border=border, mask_pattern=2)
    qr.add_data(data)
    qr.make(fit=True)
    matrix = qr.get_matrix()  # includes the quiet-zone border
    side = len(matrix)
    # One pixel per module, then a nearest-neighbour scale: qrcode's own
    # per-module drawing costs ~6 ms, this costs well under one.
    pixels = bytes(0 if cell else 255 for row in matrix for cell in row)
    image = Image.frombytes("L", (side, side), pixels).resize(
        (side * box_size, side * box_size), Image.Resampling.NEAREST
    )
    buf = io.BytesIO()
    image.convert("1").save(buf, format="PNG", optimize=False)
    return buf.getvalue()
