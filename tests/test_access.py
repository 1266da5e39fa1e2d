"""The web app's password: kept as a hash, and wrong guesses slowed down, then locked out, per address."""

from __future__ import annotations

import pytest

from assistant import access
from assistant.access import Limiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_password_is_kept_only_as_a_salted_hash() -> None:
    stored = access.hash_password("correct horse")
    assert "correct horse" not in stored and stored.startswith("scrypt$")
    assert access.verify("correct horse", stored)
    assert not access.verify("correct hors", stored) and not access.verify("", stored)
    assert access.hash_password("correct horse") != stored  # a new salt each time
    assert not access.verify("correct horse", "plain-text-password")  # a malformed hash admits nobody


def test_an_empty_password_is_refused() -> None:
    with pytest.raises(ValueError, match="empty password"):
        access.hash_password("")


def test_the_server_hashes_a_plain_password_and_prefers_a_given_hash(monkeypatch) -> None:
    monkeypatch.delenv("DOCENT_PASSWORD_HASH", raising=False)
    monkeypatch.delenv("DOCENT_PASSWORD", raising=False)
    assert access.server_secret() is None
    monkeypatch.setenv("DOCENT_PASSWORD", "s3cret")
    assert access.verify("s3cret", access.server_secret() or "")
    monkeypatch.setenv("DOCENT_PASSWORD_HASH", access.hash_password("other"))
    assert access.verify("other", access.server_secret() or "")


def test_wrong_guesses_slow_down_then_lock_the_address_out() -> None:
    clock = Clock()
    limiter = Limiter(free=5, lock_after=10, lock_s=900, clock=clock)
    for _ in range(5):
        assert limiter.wait("10.0.0.9") == 0
        limiter.failed("10.0.0.9")
    assert limiter.wait("10.0.0.9") == 0  # five wrong guesses cost nothing
    waits = []
    for _ in range(4):
        limiter.failed("10.0.0.9")
        waits.append(limiter.wait("10.0.0.9"))
        clock.now += waits[-1]
    assert waits == [2, 4, 8, 16]
    limiter.failed("10.0.0.9")  # the tenth
    assert limiter.wait("10.0.0.9") == 900
    assert limiter.wait("10.0.0.7") == 0  # another address is not held back
    clock.now += 899
    assert limiter.wait("10.0.0.9") == 1
    clock.now += 1
    assert limiter.wait("10.0.0.9") == 0


def test_a_right_password_clears_the_record_and_old_records_are_forgotten() -> None:
    clock = Clock()
    limiter = Limiter(clock=clock)
    for _ in range(7):
        limiter.failed("a")
    limiter.succeeded("a")
    assert limiter.wait("a") == 0 and "a" not in limiter.records
    limiter.failed("b")
    clock.now += limiter.lock_s + 1
    limiter.wait("c")
    assert "b" not in limiter.records


def test_thirty_quick_guesses_reach_the_password_check_only_a_few_times() -> None:
    """The attack that worked: 30 wrong guesses and the right one within 9 seconds."""
    clock = Clock()
    limiter = Limiter(clock=clock)
    stored = access.hash_password("right")
    checked, admitted = 0, False
    for guess in [f"wrong{i}" for i in range(30)] + ["right"]:
        clock.now += 9 / 31
        if limiter.wait("x") > 0:
            continue  # refused without a look at the password
        checked += 1
        if access.verify(guess, stored):
            admitted = True
            break
        limiter.failed("x")
    assert not admitted and checked <= 8


def test_guesses_from_a_whole_address_range_keep_memory_bounded(monkeypatch) -> None:
    monkeypatch.setattr(access, "MAX_ADDRESSES", 10)
    clock = Clock()
    limiter = Limiter(clock=clock)
    for i in range(25):
        clock.now += 1
        limiter.failed(f"2001:db8::{i}")
    assert len(limiter.records) <= 10
    assert "2001:db8::24" in limiter.records and "2001:db8::0" not in limiter.records  # the quietest went
