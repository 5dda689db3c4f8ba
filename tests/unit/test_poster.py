"""/poster: the A4 PDF (one page, a QR that decodes to the station's link, the label as real text,
the rules in force and the risk line in the agent's language) and the phone PNG; and its refusals."""
from __future__ import annotations

import io

import pypdf
import zxingcpp
from hypothesis import example, given, settings
from hypothesis import strategies as st
from PIL import Image

from bot.services.poster import CJK_FONT, LATIN_FONT, PosterTexts, font_for, render_pdf, render_png, wrap
from tests.support import message, person
from tests.unit.test_stations import AGENT, OTHER_AGENT, STRANGER, add_station, agent, make_agent, say

LINK = "https://t.me/ReferralTestBot?start={}"


def pdf_page(data: bytes) -> tuple[int, str, list[str]]:
    """(pages, the first page's text, what each image on it decodes to)."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    page = reader.pages[0]
    decoded = [r.text for image in page.images for r in zxingcpp.read_barcodes(image.image)]
    return len(reader.pages), page.extract_text(), decoded


def texts(label: str = "幸福里社区站", **kw: object) -> PosterTexts:
    fields = dict(label=label, scan="扫码加入", link=LINK.format("ABCD2345"), code_line="邀请码：ABCD2345",
                  summary=("新用户福利：首笔借款手续费减免 50%", "邀请好友完成首笔借款，你可获得 ¥50.00 奖励。"),
                  risk="风险提示：推荐奖励不是投资收益。")
    fields.update(kw)
    return PosterTexts(**fields)  # type: ignore[arg-type]


# -- rendering -----------------------------------------------------------------------------------

def test_the_pdf_is_one_page_with_a_decodable_qr_and_the_label_as_text():
    pages, text, decoded = pdf_page(render_pdf(texts()))
    assert pages == 1
    assert decoded == [LINK.format("ABCD2345")]
    # STSong-Light text is written as Unicode (UniGB-UCS2-H), so a reader extracts it as typed.
    lines = text.splitlines()
    assert lines[0] == "幸福里社区站"
    for expected in ("扫码加入", LINK.format("ABCD2345"), "邀请码：ABCD2345", "首笔借款手续费减免 50%",
                     "¥50.00", "风险提示"):
        assert expected in text


def test_the_pdf_is_a4_and_names_the_station():
    reader = pypdf.PdfReader(io.BytesIO(render_pdf(texts())))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    assert reader.metadata.title == "幸福里社区站"


def test_a_64_character_label_wraps_and_everything_stays_on_the_page():
    label = "幸福里" * 21 + "站"
    data = render_pdf(texts(label=label, risk="Risk notice: " + "do not pay anyone to unlock a reward. " * 3))
    pages, text, decoded = pdf_page(data)
    assert pages == 1 and decoded == [LINK.format("ABCD2345")]
    assert "".join(text.split("\n")[:4]).replace(" ", "").startswith(label[:60])
    # every line of text sits inside the page's margins
    ys: list[float] = []
    pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text(
        visitor_text=lambda t, cm, tm, *_: ys.append(tm[5] * cm[3] + cm[5]) if t.strip() else None)
    assert ys and min(ys) >= 36 and max(ys) <= 842 - 36


def test_html_characters_in_a_label_are_printed_as_typed():
    _, text, _ = pdf_page(render_pdf(texts(label="Tom & Jerry <corner>")))
    assert text.splitlines()[0] == "Tom & Jerry <corner>"


def test_the_png_is_ascii_only_the_code_qr_and_link_and_decodes():
    png = render_png(LINK.format("ABCD2345"), "ABCD2345")
    image = Image.open(io.BytesIO(png))
    assert image.width == 1080 and 1000 < image.height <= 1400
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [LINK.format("ABCD2345")]


def test_fonts_and_wrapping():
    assert font_for("https://t.me/x") == LATIN_FONT and font_for("Café ¥5") == LATIN_FONT
    assert font_for("幸福里") == CJK_FONT
    assert wrap("one two three four", LATIN_FONT, 12, 60) == ["one two", "three four"]
    assert all(len(line) <= 10 for line in wrap("幸" * 25, CJK_FONT, 12, 120))
    assert "".join(wrap("幸" * 25, CJK_FONT, 12, 120)) == "幸" * 25


# -- /poster -------------------------------------------------------------------------------------

async def poster_of(pipeline, transport, text: str, who=None):  # noqa: ANN001, ANN201
    who = who or agent()
    before = len(transport.to(who.id))
    await pipeline.handle(message(who, text))
    return transport.to(who.id)[before:]


async def test_poster_sends_the_pdf_then_the_png_in_the_agents_language(app, pipeline, transport):
    await make_agent(app, pipeline, lang="zh-hans")
    code = await add_station(pipeline, transport, "幸福里社区站")
    document, photo = await poster_of(pipeline, transport, f"/poster {code}", agent(lang="zh-hans"))
    assert document.method == "send_document" and document.extra["filename"] == f"poster-{code}.pdf"
    assert "幸福里社区站" in document.text
    pages, text, decoded = pdf_page(document.extra["data"])
    assert pages == 1 and decoded == [LINK.format(code)]
    assert text.splitlines()[0] == "幸福里社区站"
    # the program in force (the default one): the referee perk and the level-1 first-loan reward
    assert "新用户福利：首笔借款手续费减免 50%" in text and "¥50.00" in text and "风险提示" in text
    assert LINK.format(code) in text and f"邀请码：{code}" in text

    assert photo.method == "send_photo" and photo.photo.filename == f"poster-{code}.png"
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(photo.photo.data)))] == [LINK.format(code)]
    assert "<b>幸福里社区站</b>" in photo.text and "首笔借款手续费减免 50%" in photo.text
    assert "风险提示" in photo.text and LINK.format(code) in photo.text


async def test_poster_in_english_by_label_and_without_argument_for_a_single_station(app, pipeline, transport):
    await make_agent(app, pipeline)
    code = await add_station(pipeline, transport, "Happy Lane")
    for text in ("/poster happy lane", "/poster"):
        document, photo = await poster_of(pipeline, transport, text)
        _, pdf_text, decoded = pdf_page(document.extra["data"])
        assert decoded == [LINK.format(code)]
        assert pdf_text.splitlines()[0] == "Happy Lane"
        assert "New members: 50% off the fee of your first loan" in pdf_text
        assert "Invite a friend who takes a first loan: ¥50.00 reward for you." in pdf_text
        assert "Risk notice" in pdf_text


async def test_poster_refusals(app, pipeline, transport):
    await make_agent(app, pipeline)
    await make_agent(app, pipeline, OTHER_AGENT)
    assert "no stations yet" in await say(pipeline, transport, agent(), "/poster")
    first = await add_station(pipeline, transport, "Happy Lane")
    second = await add_station(pipeline, transport, "Market")
    theirs = await add_station(pipeline, transport, "Theirs", uid=OTHER_AGENT)
    usage = await say(pipeline, transport, agent(), "/poster")
    assert usage.startswith("Which station?") and first in usage and second in usage
    assert f'no station "{theirs}"' in await say(pipeline, transport, agent(), f"/poster {theirs}")
    assert 'no station "Nowhere"' in await say(pipeline, transport, agent(), "/poster Nowhere")
    await say(pipeline, transport, agent(), f"/station off {second}")
    assert "is off, so its poster would bind nobody" in await say(pipeline, transport, agent(), f"/poster {second}")
    assert not [s for s in transport.to(AGENT) if s.method in ("send_document", "send_photo")]


async def test_poster_is_refused_to_non_agents(pipeline, transport):
    answer = await say(pipeline, transport, person(STRANGER, lang="en"), "/poster ABCD2345")
    assert "community-station agents" in answer


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("幸福里 abcdefghijk WXYZ-,."), max_size=120),
       st.sampled_from([40.0, 120.0, 480.0]))
@example(". WWXW", 40.0)  # a word carried over at a space must still fit
@example("   WWWWWW WW", 40.0)  # leading spaces make no empty line
def test_wrapping_loses_no_character_and_every_line_fits(text, width):
    from reportlab.pdfbase.pdfmetrics import stringWidth

    font = font_for(text)
    lines = wrap(text, font, 12, width)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert all(line and (len(line) == 1 or stringWidth(line, font, 12) <= width) for line in lines)


async def test_a_program_without_perk_or_first_loan_reward_gets_the_general_lines(app, pipeline, transport):
    from dataclasses import replace

    from bot.services.rewards.program import RewardRule

    program = app.programs.configured
    app.programs.configured = replace(program, referee_perk={},
                                      rewards={**program.rewards, "first_loan": RewardRule((0, 0))})
    await make_agent(app, pipeline)
    code = await add_station(pipeline, transport, "Happy Lane")
    document, photo = await poster_of(pipeline, transport, f"/poster {code}")
    _, text, _ = pdf_page(document.extra["data"])
    assert "Join through this station to take part in the referral program." in text
    assert "Send /rules to the bot for the program's rules." in text
    assert "New members" not in text and "¥" not in text
    assert "Send /rules" in photo.text
