"""The font of every PDF SkillTrace writes (the class evidence pack, the learner trace): an
embedded TrueType CJK font when one is installed, so any reader shows the Chinese text."""
from __future__ import annotations

from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

# TrueType CJK fonts from Debian (fonts-wqy-microhei, fonts-wqy-zenhei, fonts-droid-fallback),
# embedded as a subset; the OpenType (CFF) Noto CJK fonts cannot be embedded by reportlab.
CJK_FONTS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
             "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")
EMBEDDED, FALLBACK = "SkillTraceCJK", "STSong-Light"


def pdf_font() -> str:
    """The name of the registered PDF font: an embedded CJK TrueType font when one is
    installed, else the non-embedded STSong-Light (the reader must supply it)."""
    registered = pdfmetrics.getRegisteredFontNames()
    if EMBEDDED in registered:
        return EMBEDDED
    for path in CJK_FONTS:
        if Path(path).is_file():
            pdfmetrics.registerFont(TTFont(EMBEDDED, path, subfontIndex=0))
            return EMBEDDED
    if FALLBACK not in registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK))
    return FALLBACK
