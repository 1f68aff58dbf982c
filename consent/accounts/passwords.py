"""Which passwords are refused at sign-up: blank ones, the most common ones, and one's own
email or name, which are what is guessed first. The length is the schema's (8 to 1000)."""

from __future__ import annotations

from consent.base.errors import Refusal
from consent.base.i18n import gettext as _

# The most common passwords of 8 characters or more (shorter ones are refused by length), from
# the published lists of leaked passwords; compared in lower case.
_LISTED = """
    00000000 0000000000 01234567 0123456789 1111111111 11111111 11223344 111222333 112233445566
    11235813 12121212 12341234 123123123 123321123 123412341234 1234512345 12345678 123456789
    1234567890 12345678910 123456789a 123456789q 12345678a 12345678q 12345qwert 1234abcd 1234qwer
    123abc123 123qweasd 123qweasdzxc 1q2w3e4r 1q2w3e4r5t 1q2w3e4r5t6y 1qaz2wsx 1qaz2wsx3edc
    1qazxsw2 22222222 55555555 654321654321 66666666 77777777 87654321 88888888 987654321
    9876543210 99999999 a1234567 a12345678 a123456789 aa123456 aaaaaaaa abc12345 abcd1234
    abcdefgh abcdefg1 access14 alexander asdf1234 asdfasdf asdfghjk asdfghjkl baseball
    baseball1 basketball batman123 blink182 charlie1 chocolate computer consent1 corvette
    dragon123 everton1 football football1 freedom1 gateway1 hello123 hellokitty helloworld
    iloveyou iloveyou1 iloveyou2 internet jennifer jordan23 letmein1 letmein123 liverpool
    liverpool1 login123 lovelove loveyou1 manchester marlboro master123 mercedes michelle
    midnight monkey123 mustang1 password password! password01 password1 password12 password123
    password1234 passw0rd p@ssw0rd p@ssword pokemon1 princess princess1 q1w2e3r4 q1w2e3r4t5
    q1w2e3r4t5y6 qazwsxedc qwe123qwe qwer1234 qwerty12 qwerty123 qwerty1234 qwertyui qwertyuiop
    qwertz123 samsung1 scooter1 secret123 shadow12 soccer12 sociocracy starwars summer2024
    summer2025 summer2026 sunshine sunshine1 superman superman1 tinkerbell trustno1 welcome1
    welcome123 whatever whatever1 winter2025 winter2026 zaq12wsx zxcvbnm1 zxcvbnm123 zxcvbnmm
    changeme changeme1 default1 letmeinnow administrator admin123 admin1234 root1234 test1234
    testtest test12345 guest123 user1234 passpass mypassword mypassword1 newpassword password2
    password3 123456aa 123456qq 1234567a 1234567q qqqqqqqq zzzzzzzz xxxxxxxx asdasdasd
    qweqweqwe 147258369 159357159 741852963 963852741 12qwaszx 1qa2ws3ed aaaa1111 azertyuiop
    azerty123 abc123456 abcabcabc iloveyou123 football123 baseball123 michael1 jessica1 daniel123
"""
COMMON = frozenset(_LISTED.split())


def check_password(password: str, name: str, email: str) -> None:
    """Refuses a password that is blank, common, or the account's own email or name; said
    before the password is hashed."""
    if not password.strip():
        raise Refusal("weak_password", _("The password must not be only spaces."))
    typed = password.strip().lower()
    if typed in COMMON:
        raise Refusal(
            "weak_password", _("This password is one of the most common ones, which are guessed first; choose another.")
        )
    if typed in {name.strip().lower(), email.strip().lower()}:
        raise Refusal("weak_password", _("The password must not be your email or your name."))
