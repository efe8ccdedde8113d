"""The patterns: what each built-in kind masks and leaves alone, custom
patterns, placeholders, restoring."""

from __future__ import annotations

import pytest

import hookchain
from hookchain.errors import OptionError
from hookchain.messages import AIMessage, HumanMessage
from hookchain_redact import RedactHandler, build_rules
from hookchain_redact.patterns import Masker, restore_text


def mask(text: str, kinds=None, patterns=None) -> str:
    return Masker(build_rules(kinds, patterns)).mask(text)


@pytest.mark.parametrize("value", [
    "bob@example.com", "first.last+tag@mail.example.co.uk", "x_y-z%1@sub-domain.io", "UPPER@EXAMPLE.ORG",
])
def test_email_addresses(value):
    assert mask(f"write to {value}, thanks") == "write to <EMAIL_1>, thanks"


@pytest.mark.parametrize("text", ["no at sign here", "user@localhost", "@handle", "a@b", "price: 5@3.00"])
def test_not_email_addresses(text):
    assert mask(text, kinds=["email"]) == text


@pytest.mark.parametrize("value", [
    "+1 555-123-4567", "(555) 123-4567", "555-123-4567", "555.123.4567", "+44 20 7946 0958", "+4915112345678",
    "+33 (0)1 23 45 67 89", "030 1234 5678",
])
def test_phone_numbers(value):
    assert mask(f"call {value} today") == "call <PHONE_1> today"


@pytest.mark.parametrize("text", [
    "on 2024-01-15 at noon", "the year 1999", "order 12345678", "ip 192.168.100.200 is local", "version 1.2.3",
    "1 2 3", "pi is 3.14159265", "card 4111 1111 1111 1111 1111", "12:30-13:45",
])
def test_not_phone_numbers(text):
    assert mask(text, kinds=["phone"]) == text


@pytest.mark.parametrize("text,expected", [
    ("key sk-abcdefghijklmnop1234567890", "key <API_KEY_1>"),
    ("sk-proj-AbC123_def-456ghiJKL789mno", "<API_KEY_1>"),
    ("sk-ant-api03-abcdefghijklmnopqrstuvwxyz", "<API_KEY_1>"),
    ("aws AKIAIOSFODNN7EXAMPLE here", "aws <API_KEY_1> here"),
    ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "<API_KEY_1>"),
    ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "<API_KEY_1>"),
    ("xoxb-123456789012-abcdefghijkl", "<API_KEY_1>"),
    ("AIzaSyA1234567890abcdefghijklmnopqrstuv", "<API_KEY_1>"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "jwt <API_KEY_1>"),
    ("api_key=9f8e7d6c5b4a39281706f5e4d3c2b1a0", "api_key=<API_KEY_1>"),
    ('"token": "dGhpcyBpcyBhIHNlY3JldCB0b2tlbjEyMw=="', '"token": "<API_KEY_1>"'),
    ("my password is Hunter2Hunter2Hunter2", "my password is <API_KEY_1>"),
    ("Authorization: Bearer abcdef0123456789abcdef", "Authorization: Bearer <API_KEY_1>"),
    ("OPENAI_API_KEY=0123456789abcdef0123", "OPENAI_API_KEY=<API_KEY_1>"),
])
def test_api_keys(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize("text", [
    "the key to success is patience", "token economy", "sk-short", "password: hunter2",
    "a long word without digits after key: abcdefghijklmnopqrstuvwxyz", "monkey: 0123456789abcdef0123",
])
def test_not_api_keys(text):
    assert mask(text, kinds=["api_key"]) == text


def test_placeholders_are_stable_per_value_and_numbered_per_kind():
    masker = Masker(build_rules())
    first = masker.mask("a@example.com and b@example.com")
    second = masker.mask("again a@example.com, call 555-123-4567")
    assert first == "<EMAIL_1> and <EMAIL_2>"
    assert second == "again <EMAIL_1>, call <PHONE_1>"
    assert masker.mapping == {"<EMAIL_1>": "a@example.com", "<EMAIL_2>": "b@example.com", "<PHONE_1>": "555-123-4567"}
    assert masker.counts == {"email": 3, "phone": 1}


def test_custom_patterns_win_and_a_mask_group_masks_only_that_part():
    patterns = {"ticket": r"TCK-[0-9]{6}", "employee": r"(?i)employee id:? (?P<mask>[0-9]{5})"}
    assert mask("see TCK-123456 from employee ID 12345", patterns=patterns) == "see <TICKET_1> from employee ID <EMPLOYEE_1>"
    # a custom pattern claims its span before the built-ins
    assert mask("mail internal-bob@corp.example.com", patterns={"internal": r"internal-[a-z]+@corp\.example\.com"}) == \
        "mail <INTERNAL_1>"


def test_kinds_choose_the_built_ins():
    text = "bob@example.com 555-123-4567 sk-abcdefghijklmnop1234"
    assert mask(text, kinds=["email"]) == "<EMAIL_1> 555-123-4567 sk-abcdefghijklmnop1234"
    assert mask(text, kinds=[]) == text
    assert mask(text, kinds=[], patterns={"digits": "[0-9]{3}-[0-9]{4}"}) == "bob@example.com 555-<DIGITS_1> sk-abcdefghijklmnop1234"


@pytest.mark.parametrize("patterns,message", [
    ({"bad": "([unclosed"}, "redact pattern 'bad' is not a valid regular expression"),
    ({"empty": "x*"}, "redact pattern 'empty' matches the empty string"),
    ({"has space": "abc"}, "redact pattern name 'has space'"),
    ({"blank": ""}, "redact pattern 'blank' must be a non-empty"),
])
def test_bad_patterns_are_rejected_at_construction_naming_the_pattern(patterns, message):
    with pytest.raises(ValueError, match=message):
        RedactHandler(patterns=patterns)
    with pytest.raises(OptionError) as info:
        hookchain.get_handler("redact", patterns=patterns)
    assert message in str(info.value) and "redact" in str(info.value)


def test_bad_options_are_rejected():
    with pytest.raises(ValueError, match="unknown redact kind 'ssn'; built-in kinds: api_key, email, phone"):
        RedactHandler(kinds=["email", "ssn"])
    with pytest.raises(OptionError, match="ssn"):
        hookchain.get_handler("redact", kinds=["ssn"])
    with pytest.raises(OptionError, match="colour"):
        hookchain.get_handler("redact", colour="red")
    handler = hookchain.get_handler("redact", kinds=["email"], patterns={"ticket": "TCK-[0-9]+"}, restore=True)
    assert (handler.kinds, handler.patterns, handler.restore, handler.fail_closed) == (["email"], {"ticket": "TCK-[0-9]+"}, True, True)


def test_messages_are_copied_never_changed():
    masker = Masker(build_rules())
    original = HumanMessage([{"type": "text", "text": "I am bob@example.com"}, {"type": "image_url", "image_url": {"url": "x"}}])
    tool = AIMessage("", tool_calls=[{"name": "send", "args": {"to": ["bob@example.com"], "n": 1}, "id": "c1", "type": "tool_call"}])
    plain = HumanMessage("nothing to hide")
    masked = [masker.mask_message(m) for m in (original, tool, plain)]
    assert masked[0].content == [{"type": "text", "text": "I am <EMAIL_1>"}, {"type": "image_url", "image_url": {"url": "x"}}]
    assert masked[1].tool_calls[0]["args"] == {"to": ["<EMAIL_1>"], "n": 1}
    assert masked[2] is plain
    assert original.content[0]["text"] == "I am bob@example.com"
    assert tool.tool_calls[0]["args"]["to"] == ["bob@example.com"]


def test_restore_text_puts_back_only_this_calls_placeholders():
    mapping = {"<EMAIL_1>": "bob@example.com"}
    assert restore_text("to <EMAIL_1> and <EMAIL_2>, <b>bold</b>", mapping) == "to bob@example.com and <EMAIL_2>, <b>bold</b>"


def test_a_large_text_is_masked_in_one_pass():
    chunk = "word " * 2000 + "bob@example.com 555-123-4567 "
    text = chunk * 100  # about 1 MB
    masked = mask(text)
    assert masked.count("<EMAIL_1>") == 100 and masked.count("<PHONE_1>") == 100
    assert "bob@example.com" not in masked
    assert mask("a" * 1_000_000) == "a" * 1_000_000
