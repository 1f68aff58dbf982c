"""Reading a reply to a mail (consent.notifications.replies): properties over any text, and
replies as real mail programs write them (Gmail, Apple Mail, Outlook, Thunderbird)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consent.notifications.replies import (
    CONCERN,
    CONSENT,
    OBJECT,
    STAND_ASIDE,
    Reply,
    automatic,
    client_id_of,
    expired,
    read,
    text_of,
)
from rounds.actions import decode

WORDS = {
    "consent": CONSENT,
    "concern": CONCERN,
    "object": OBJECT,
    "stand aside": STAND_ASIDE,
    "stand-aside": STAND_ASIDE,
}

# A reason: words on one line, not starting with punctuation the reader takes as a separator.
reasons = (
    st.text(alphabet=st.characters(categories=("L", "N"), include_characters=" ,.'()"), min_size=0, max_size=80)
    .map(lambda s: " ".join(s.split()).lstrip(",."))
    .map(str.strip)
)
cases = st.sampled_from(["lower", "upper", "title"])


def cased(word: str, case: str) -> str:
    return getattr(word, case)()


@given(st.sampled_from(sorted(WORDS)), cases, reasons)
def test_the_first_word_is_the_response_and_the_rest_of_the_paragraph_its_text(
    word: str, case: str, reason: str
) -> None:
    assert read(f"{cased(word, case)} {reason}") == Reply(WORDS[word], reason)


@given(st.sampled_from(sorted(WORDS)), reasons, st.sampled_from([":", " -", " —", ",", "."]))
def test_punctuation_after_the_word_is_not_part_of_the_text(word: str, reason: str, mark: str) -> None:
    assert read(f"{word}{mark} {reason}") == Reply(WORDS[word], reason)


@given(st.sampled_from(sorted(WORDS)), reasons, st.text(max_size=200), st.sampled_from(["quote", "header", "sig"]))
def test_what_follows_the_first_paragraph_a_quote_or_a_signature_changes_nothing(
    word: str, reason: str, rest: str, kind: str
) -> None:
    after = {
        "quote": "> " + rest.replace("\n", "\n> "),
        "header": "On Thu, 3 Dec 2026 at 09:10, consent <consent+rabc@example.org> wrote:\n" + rest,
        "sig": "-- \n" + rest,
    }[kind]
    assert read(f"{word} {reason}\n{after}") == Reply(WORDS[word], reason)
    assert read(f"{word} {reason}\n\n{rest}") == Reply(WORDS[word], reason)


@given(st.text(max_size=300))
def test_any_text_is_read_without_failing_and_only_the_four_words_are_understood(text: str) -> None:
    reply = read(text)
    assert reply.kind in {None, CONSENT, CONCERN, OBJECT, STAND_ASIDE}
    if reply.kind is None:
        assert reply.text == ""


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\n",
        "consented, after all",  # not the word itself
        "Consenting is hard for me",
        "objection: the ladder",
        "objects",
        "stand",
        "stand asides",
        "standaside",
        "yes",
        "I consent",  # the word must come first
        "Hi,\n\nobject the ladder needs a safety check",  # a greeting first: the first paragraph is it
        "> object the ladder\n",  # only quoted: nothing written
    ],
)
def test_anything_else_is_not_understood(text: str) -> None:
    assert read(text) == Reply(None, "")


def test_the_first_paragraph_joins_its_wrapped_lines_and_ends_at_a_blank_line() -> None:
    text = "object the ladder needs\na safety check before\nanyone climbs it\n\nSee you Friday,\nBo\n"
    assert read(text) == Reply(OBJECT, "the ladder needs a safety check before anyone climbs it")


def test_quoted_lines_inside_are_dropped() -> None:
    assert read("concern\n> what was said\nstorage overnight") == Reply(CONCERN, "storage overnight")


def test_text_is_kept_as_written_apart_from_spaces() -> None:
    assert read("  Object:   Nobody checked the\tladder ") == Reply(OBJECT, "Nobody checked the ladder")


def mail(raw: str) -> EmailMessage:
    return BytesParser(policy=default).parsebytes(raw.replace("\n", "\r\n").encode())


GMAIL = """\
From: Bo Example <bo@example.org>
Date: Thu, 3 Dec 2026 10:12:01 +0100
Message-ID: <CAF=abc123@mail.gmail.com>
In-Reply-To: <176@consent.example.org>
Subject: Re: [Riverside] Weekly food runs: your response is asked
To: consent+rabcdef@consent.example.org
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="000000000000b1"

--000000000000b1
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

Object the ladder needs a safety check before anyone climbs it to the loft=
, and nobody has done one this year.

On Thu, Dec 3, 2026 at 9:10 AM consent <consent+rabcdef@consent.example.org=
>
wrote:

> Hello Bo,
>
> =E2=80=9CWeekly food runs=E2=80=9D is open in Riverside, in its consent r=
ound.
>

--000000000000b1
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

<div dir=3D"ltr">Object the ladder needs a safety check before anyone climb=
s it to the loft, and nobody has done one this year.</div><br><div class=3D=
"gmail_quote"><div dir=3D"ltr" class=3D"gmail_attr">On Thu, Dec 3, 2026 at =
9:10 AM consent &lt;<a href=3D"mailto:consent+rabcdef@consent.example.org">=
consent+rabcdef@consent.example.org</a>&gt; wrote:<br></div><blockquote cla=
ss=3D"gmail_quote">Hello Bo,</blockquote></div>

--000000000000b1--
"""

APPLE_MAIL = """\
From: Cy <cy@example.org>
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit
Mime-Version: 1.0 (Mac OS X Mail 16.0)
Subject: Re: [Riverside] Weekly food runs: your response is asked
Date: Thu, 3 Dec 2026 10:20:00 +0100
Message-Id: <A1B2C3D4-E5F6-7890-ABCD-EF1234567890@example.org>
To: consent+rabcdef@consent.example.org

Stand aside – I cannot be there on Saturdays.

Sent from my iPhone

> On 3 Dec 2026, at 09:10, consent <consent+rabcdef@consent.example.org> wrote:
>
> Hello Cy,
"""

OUTLOOK_HTML = """\
From: Dee <dee@example.org>
To: "consent+rabcdef@consent.example.org" <consent+rabcdef@consent.example.org>
Subject: RE: [Riverside] Weekly food runs: your response is asked
Date: Thu, 3 Dec 2026 09:30:00 +0000
Message-ID: <AM0PR01MB1234ABCD@AM0PR01MB1234.eurprd01.prod.outlook.com>
Content-Type: text/html; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable
MIME-Version: 1.0

<html><head><style>p {margin:0}</style></head><body><div style=3D"font-fami=
ly: Calibri">CONCERN&nbsp;storage overnight in the shed</div><div id=3D"appe=
ndonsend"></div><hr style=3D"display:inline-block;width:98%"><div id=3D"divR=
plyFwdMsg" dir=3D"ltr"><b>From:</b> consent &lt;consent@consent.example.org&gt;<br=
><b>Sent:</b> Thursday, December 3, 2026 09:10<br><b>To:</b> Dee<br><b>Subje=
ct:</b> Weekly food runs</div><div>Hello Dee, consent</div></body></html>
"""

OUTLOOK_TEXT = """\
From: Dee <dee@example.org>
Subject: RE: Weekly food runs
Message-ID: <1234@outlook.example>
Content-Type: text/plain; charset="utf-8"

consent
From: consent <consent@consent.example.org>
Sent: Thursday, December 3, 2026 09:10
To: Dee <dee@example.org>
Subject: Weekly food runs

Hello Dee, object everything
"""

THUNDERBIRD_FLOWED = """\
From: Eve <eve@example.org>
Subject: Re: Weekly food runs
Message-ID: <5e6f@example.org>
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit

consent: good enough for now, safe enough to try; let us look at it\x20
again after the harvest.

On 03/12/2026 09:10, consent wrote:
> Hello Eve,
"""

GERMAN_GMAIL = """\
From: Fin <fin@example.org>
Subject: AW: Weekly food runs
Content-Type: text/plain; charset=UTF-8

consent
Am Do., 3. Dez. 2026 um 09:10 Uhr schrieb consent <
consent+rabcdef@consent.example.org>:

> Hallo
"""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            GMAIL,
            Reply(
                OBJECT,
                "the ladder needs a safety check before anyone climbs it to the loft, and nobody has done one this year.",
            ),
        ),
        (APPLE_MAIL, Reply(STAND_ASIDE, "I cannot be there on Saturdays.")),
        (OUTLOOK_HTML, Reply(CONCERN, "storage overnight in the shed")),
        (OUTLOOK_TEXT, Reply(CONSENT, "")),
        (
            THUNDERBIRD_FLOWED,
            Reply(CONSENT, "good enough for now, safe enough to try; let us look at it again after the harvest."),
        ),
        (GERMAN_GMAIL, Reply(CONSENT, "")),
    ],
    ids=["gmail", "apple-mail", "outlook-html", "outlook-text", "thunderbird-flowed", "gmail-german"],
)
def test_replies_as_mail_programs_write_them(raw: str, expected: Reply) -> None:
    assert read(text_of(mail(raw))) == expected


def test_the_html_part_is_read_only_when_there_is_no_plain_text() -> None:
    both = mail(GMAIL)
    assert "Object the ladder" in text_of(both) and "<div" not in text_of(both)
    only_html = mail(OUTLOOK_HTML)
    assert "Hello Dee" not in read(text_of(only_html)).text


def test_a_mail_without_text_is_not_understood() -> None:
    message = mail("From: a@example.org\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw0K\n")
    assert text_of(message) == ""
    assert read(text_of(message)) == Reply(None, "")


@pytest.mark.parametrize(
    ("headers", "sender", "is_automatic"),
    [
        ("", "bo@example.org", False),
        ("Auto-Submitted: no\n", "bo@example.org", False),
        ("Auto-Submitted: auto-replied\n", "bo@example.org", True),
        ("Precedence: bulk\n", "bo@example.org", True),
        ("X-Autoreply: yes\n", "bo@example.org", True),
        ("", "", True),  # a bounce: the null sender
        ("", "<>", True),
    ],
)
def test_automatic_mails_are_told_apart(headers: str, sender: str, is_automatic: bool) -> None:
    message = mail(f"From: bo@example.org\n{headers}Subject: Out of office\n\nconsent\n")
    assert automatic(message, sender) is is_automatic


def test_the_client_id_comes_from_the_message_id_and_fits_in_100_characters() -> None:
    assert client_id_of("<CAF=abc123@mail.gmail.com>", b"x") == "mail:CAF=abc123@mail.gmail.com"
    long = "<" + "a" * 300 + "@example.org>"
    assert client_id_of(long, b"x") == client_id_of(long, b"y")  # the id, not the content
    assert len(client_id_of(long, b"x")) <= 100
    assert client_id_of("", b"one") != client_id_of("", b"two")  # no Message-ID: the content
    assert client_id_of("", b"one") == client_id_of("", b"one")


@given(st.text(max_size=400))
def test_every_client_id_is_one_an_action_takes(message_id: str) -> None:
    action = decode({"type": "consent", "client_id": client_id_of(message_id, b"content")})
    assert action.client_id.startswith("mail:")


def test_a_reply_address_expires_after_30_days_or_when_its_proposal_closes() -> None:
    now = datetime(2026, 12, 3, 9, tzinfo=UTC)
    assert not expired(now - timedelta(days=30), "consenting", now)
    assert expired(now - timedelta(days=30, seconds=1), "consenting", now)
    for state in ("decided", "withdrawn", "not_adopted"):
        assert expired(now, state, now)
    for state in ("draft", "clarifying", "reacting", "consenting", "integrating"):
        assert not expired(now, state, now)
