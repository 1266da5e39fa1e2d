"""Answer scores against hand-worked cases."""

from __future__ import annotations

import pytest

from assistant.metrics import abstains, contains, exact_match, f1, loops, normalise, score


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
        "exact": 0.0,
        "f1": 0.5,
        "contains": 0.0,
        "abstain": 0.0,
        "loops": 0.0,
        "length": 2.0,
    }


def test_the_ways_a_model_says_its_sources_do_not_answer_count_as_abstaining() -> None:
    held_back = ["The documents don't say.", "The provided text does not specify who the CFO is.",
                 "There is no information about the CEO's favourite colour in the sources.",
                 "This is not mentioned in the context.", "I cannot answer that from these sources."]  # fmt: skip
    invented = ["Paris", "The answer is 30.", "The CEO is John Smith, who doesn't say much.",
                "Not mentioned anywhere else, the P5 weighs 280 g."]  # fmt: skip
    assert [abstains(a) for a in held_back] == [1.0] * len(held_back)
    assert [abstains(a) for a in invented] == [0.0] * len(invented)


def test_an_answer_that_repeats_itself_loops() -> None:
    assert loops("The answer is: The answer is: The answer is: The answer is:") == 1.0
    assert loops("Press and hold the trigger. Press and hold the trigger. Press and hold the trigger.") == 1.0
    assert loops("The answer is 30 days, and the answer is final.") == 0.0  # once again is not a loop
    assert loops("") == 0.0


def test_a_question_the_documents_do_not_answer_is_scored_on_abstaining() -> None:
    assert score("The documents don't say.", None) == {"abstain": 1.0, "hallucinated": 0.0, "loops": 0.0, "length": 4.0}
    assert score("Paris", None)["hallucinated"] == 1.0
