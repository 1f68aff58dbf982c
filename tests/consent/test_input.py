"""The base layer's input rules, each on its own: no database, no app."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import msgspec
import pytest

from consent.base import forms, text
from consent.base.errors import Refusal
from consent.base.tokens import hash_token


def broken(call, *args, **kwargs) -> Refusal:  # type: ignore[no-untyped-def]
    with pytest.raises(Refusal) as caught:
        call(*args, **kwargs)
    return caught.value


def test_a_token_hashes_as_every_stored_hash_was_made() -> None:
    # a literal, not hashlib again: a changed hash would lock out every stored token and link
    assert hash_token("cst_abc") == "4616d33881c1e96f793ba4c3b92846dd120b82a95090ac295915c632254c1c3d"


# clean_name


@pytest.mark.parametrize("name", ["", " ", "   \t\n  "])
def test_clean_name_refuses_empty_and_whitespace(name: str) -> None:
    error = broken(text.clean_name, name)
    assert error.code == "empty_name"
    assert error.status == 422
    assert error.field == "name"


def test_clean_name_names_the_field_it_was_given() -> None:
    error = broken(text.clean_name, "  ", "domain")
    assert error.code == "empty_name"
    assert error.field == "domain"


def test_clean_name_collapses_whitespace() -> None:
    assert text.clean_name("  Ops \t  team\n north ") == "Ops team north"
    assert text.clean_name("Board") == "Board"


def test_clean_name_length_limit_counts_after_collapsing() -> None:
    assert text.clean_name("x" * text.MAX_NAME) == "x" * text.MAX_NAME
    assert text.clean_name("  " + "x" * text.MAX_NAME + "   ") == "x" * text.MAX_NAME
    error = broken(text.clean_name, "x" * (text.MAX_NAME + 1))
    assert error.code == "name_too_long"
    assert error.status == 422
    assert str(text.MAX_NAME) in str(error)


# clean_email


def test_clean_email_trims_and_lower_cases() -> None:
    assert text.clean_email("  Ada@Example.ORG ") == "ada@example.org"


@pytest.mark.parametrize(
    "email", ["", "ada", "ada@", "@example.org", "ada@example", "ada lovelace@example.org", "a@" + "b" * 250 + ".org"]
)
def test_clean_email_refuses_what_is_not_an_address(email: str) -> None:
    error = broken(text.clean_email, email)
    assert error.code == "invalid"
    assert error.status == 422
    assert error.field == "email"


@pytest.mark.parametrize(
    "email",
    [
        "ada@example.org",
        " Ada@Example.org ",
        "a@b.c",
        "ada@",
        "a@.org",
        "a@b@c.org",
        "ada\tlovelace@example.org",
        "a@" + "b" * 250 + ".org",
    ],
)
def test_the_wire_and_the_rule_agree_on_what_an_address_is(email: str) -> None:
    try:
        msgspec.convert(email, text.Email)
        on_the_wire = True
    except msgspec.ValidationError:
        on_the_wire = False
    try:
        text.clean_email(email)
        by_the_rule = True
    except Refusal:
        by_the_rule = False
    assert on_the_wire == by_the_rule


def test_an_address_with_a_nul_character_is_refused_as_such() -> None:
    error = broken(text.clean_email, "ada\x00@example.org")
    assert (error.code, str(error)) == ("invalid", "The email must not contain the NUL character.")


# clean_text


def test_clean_text_trims_and_may_be_empty_unless_required() -> None:
    assert text.clean_text("  an aim \n", "aim") == "an aim"
    assert text.clean_text("   ", "aim") == ""
    assert str(broken(text.clean_text, "   ", "title", required=True)) == "The title must not be empty."


def test_clean_text_refuses_nul_and_too_long() -> None:
    assert str(broken(text.clean_text, "a\x00b", "aim")) == "The aim must not contain the NUL character."
    assert text.clean_text(" " + "x" * 10 + " ", "title", 10) == "x" * 10
    error = broken(text.clean_text, "x" * 11, "title", 10)
    assert (error.code, error.status, str(error)) == ("invalid", 422, "The title must have at most 10 characters.")


# form fields


def test_a_blank_field_is_absent_and_a_bad_one_is_refused_by_name() -> None:
    assert forms.parse_date("  ", "review_by") is None
    assert forms.parse_date(" 2027-06-30 ", "review_by") == date(2027, 6, 30)
    assert forms.parse_uuid(str(uuid.UUID(int=1)), "domain_id") == uuid.UUID(int=1)
    assert str(broken(forms.parse_date, "soon", "review_by")) == "The review date must be a date like 2027-06-30."
    refused = broken(forms.parse_uuid, "x", "domain_id", "one of the circle's domains")
    assert (refused.field, str(refused)) == ("domain_id", "The domain must be one of the circle's domains.")
    assert (
        str(broken(forms.parse_field, "noon", datetime.fromisoformat, "closes_at", "a date and time"))
        == "The deadline must be a date and time."
    )
