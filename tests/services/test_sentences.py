"""Sentences said in English for the CLI and in the reader's language on the pages: stored codes
and instants inside them (`app.services.sentences`)."""
from app.services.sentences import Code, N_, instant, say


def test_an_instant_is_beijing_time_on_the_pages_and_iso_in_english(app):
    said = instant("2026-12-07T16:30:00+00:00")
    assert (str(said), said.translated()) == ("2026-12-07T16:30:00+00:00", "2026-12-08 00:30:00")


def test_an_instant_that_is_not_one_is_said_as_it_is(app):
    """A tampered record can hold anything: the integrity page must still render it."""
    assert (str(instant("garbage")), instant("garbage").translated()) == ("garbage", "garbage")


def test_a_code_is_itself_in_english_and_its_label_in_the_sentence_on_the_pages(app):
    sentence = say(N_("%(what)s: has no entry in the audit log"), what=Code("hours_ledger", say(N_("Hours ledger"))))
    assert str(sentence) == "hours_ledger: has no entry in the audit log"
    assert sentence.translated() == "学时台账：审计日志中没有对应条目"
