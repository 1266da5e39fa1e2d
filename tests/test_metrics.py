"""Answer scores against hand-worked cases."""

from __future__ import annotations

import pytest

from assistant.metrics import abstains, contains, exact_match, f1, normalise, score


def test_normalise_like_squad_and_drop_citations() -> None:
    assert normalise("The  Banshees of Inisherin! [2]") == "banshees of inisherin"
    assert normalise("An apple, a pear.") == "apple pear"


@pytest.mark.parametrize(
    ("answer", "reference", "expected"),
    [
        ("January 6, 2023", "January 6, 2023.", 1.0),
        ("It was announced on January 6, 2023", "January 6, 2023", 0.6),  # 3 of 7 tokens: P=3/7, R=1
        ("Paris", "London", 0.0),
        ("the the", "the", 1.0),  # both empty after normalising
        ("Aino Virtanen", "Virtanen, Aino", 1.0),
    ],
)
def test_token_f1(answer: str, reference: str, expected: float) -> None:
    assert f1(answer, reference) == pytest.approx(expected)


def test_contains_is_order_free_and_needs_every_token() -> None:
    assert contains("It premiered on February 16, 2002 in Berlin.", "16 February 2002") == 1.0
    assert contains("It premiered in February 2002.", "16 February 2002") == 0.0
    assert exact_match("the Heron Room.", "Heron room") == 1.0


def test_abstention_and_length() -> None:
    assert abstains("I don't know.") == 1.0 and abstains("The sources do not mention it.") == 1.0
    assert abstains("I know: 12 people.") == 0.0
    assert score("Twelve people [1]", "12 people") == {
        "exact": 0.0, "f1": 0.5, "contains": 0.0, "abstain": 0.0, "length": 2.0,
    }  # fmt: skip
