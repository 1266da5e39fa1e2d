"""Questions from text: the right question word for the span, the answer verbatim, never given away."""

from __future__ import annotations

import pytest

from ingest.questions import facts_from_chunk, find_spans


def questions_for(text: str, title: str = "Handbook", answer: str | None = None) -> dict[str, list[str]]:
    facts = facts_from_chunk(text, title, phrasings=4)
    return {f.answer: [q for q, _ in f.questions] for f in facts if answer is None or f.answer == answer}


@pytest.mark.parametrize(
    ("text", "answer", "question"),
    [
        ("The winners were announced on January 6, 2023.", "January 6, 2023", "When were the winners announced?"),
        ("AKA is a 2023 French film directed by Morgan S. Dalibert.", "Morgan S. Dalibert", "Who directed AKA?"),
        ("The payment term is 14 days net from the invoice date.", "14 days",
         "How many days is the payment term net from the invoice date?"),
        ("Harbor marks a scanner Offline when it has not reported for 15 minutes.", "15 minutes",
         "Harbor marks a scanner Offline when it has not reported for how many minutes?"),
        ("The Pelican P5 battery costs EUR 49 to replace.", "EUR 49",
         "The Pelican P5 battery costs how much to replace?"),
        ("Kajsa Næss directed the animated feature Titina.", "Kajsa Næss", "Who directed the animated feature Titina?"),
    ],
)  # fmt: skip
def test_question_word_fits_the_span(text: str, answer: str, question: str) -> None:
    found = questions_for(text, answer=answer)
    assert answer in found, f"no fact for {answer!r} in {questions_for(text)}"
    assert question in found[answer]


def test_pronoun_is_resolved_to_the_documents_subject() -> None:
    text = "Titina is a 2022 animated feature. It premiered at the Annecy festival on 13 June 2022."
    found = questions_for(text, title="Titina (film)", answer="13 June 2022")
    assert any(q.startswith("When did Titina premiere") or "Titina premiered" in q for q in found["13 June 2022"])


def test_pronoun_without_a_known_subject_gives_no_question() -> None:
    assert questions_for("It expires after 15 minutes and must be renewed.", title="VPN runbook") == {}


def test_table_rows_give_one_fact_per_cell() -> None:
    found = questions_for("Plan: Harbor Pro | Price per device per month: EUR 4.90 | Support: Email and phone")
    assert found["EUR 4.90"][0] == "What is the price per device per month for Harbor Pro?"
    assert found["Email and phone"][0] == "What is the support for Harbor Pro?"


def test_every_answer_is_verbatim_and_never_in_its_question(tmp_path) -> None:
    from ingest.parse import parse
    from tests.conftest import SAMPLE

    text = " ".join(b.text for b in parse(SAMPLE / "hr" / "remote-work-policy.md").blocks)
    facts = facts_from_chunk(text, "Remote Work Policy", phrasings=4)
    assert len(facts) > 20
    for fact in facts:
        assert fact.answer in fact.evidence and fact.evidence in text
        for question, _ in fact.questions:
            assert fact.answer.lower() not in question.lower()
            assert question.endswith("?")


def test_spans_prefer_the_most_specific_type() -> None:
    spans = find_spans("Send it to help@quillmate.com before 1 March 2025 at 14:00, costing EUR 30 or 15%.")
    kinds = [k for _, _, k in spans]
    assert kinds == ["email", "date", "time", "money", "percent"]


@pytest.mark.parametrize(
    ("text", "title", "answer", "question"),
    [
        ("Run Rabbit Run is a 2023 Australian horror film directed by Daina Reid. It stars Sarah Snook, Lily LaTorre, "
         "Damon Herriman and Greta Scacchi.", "Run Rabbit Run (film)",
         "Sarah Snook, Lily LaTorre, Damon Herriman and Greta Scacchi", "Who stars in Run Rabbit Run?"),
        ("In His Steps is a 1936 American drama film directed by Karl Brown and starring Eric Linden, Cecilia Parker "
         "and Harry Beresford.", "In His Steps (1936 film)", "Eric Linden, Cecilia Parker and Harry Beresford",
         "Who stars in In His Steps?"),
        ("Shot on location in Amsterdam, the film stars Nick Frost, Kevin Connolly and Alicia Silverstone.",
         "Krazy House (film)", "Nick Frost, Kevin Connolly and Alicia Silverstone", "Who stars in Krazy House?"),
        # a name that starts with an accented capital is a name, not the end of the list before it
        ("The review board meets Marta Larralde alongside Manuel Manquiña and Roberto Álvarez.", "Review board",
         "Manuel Manquiña and Roberto Álvarez", "The review board meets Marta Larralde alongside what?"),
        # a brand in camel case is a name of the list
        ("The release was announced on Global TV, iNews and TVRI.", "Release notes", "Global TV, iNews and TVRI",
         "The release was announced on what?"),
        # an aside after a name: the question leaves it out, the answer keeps the source's words
        ("The Wife is a 2021 Indian horror film directed by Sarmad Khan and starring Gurmeet Choudhary (in his lead "
         "debut) and Sayani Datta.", "The Wife (2021 film)", "Gurmeet Choudhary (in his lead debut) and Sayani Datta",
         "Who stars in The Wife?"),
    ],
)  # fmt: skip
def test_a_list_of_names_is_one_answer(text: str, title: str, answer: str, question: str) -> None:
    found = questions_for(text, title)
    assert question in found.get(answer, []), found
    assert answer in text, "the answer is not the source's own words"
    partial = [a for a in found if a != answer and a in answer]  # a name, or names, of the list
    assert not partial, f"part of the list was asked for alone: {partial}"


def test_two_names_joined_by_a_comma_are_not_a_list() -> None:
    assert [k for _, _, k in find_spans("In March, Jean Dupont met Anne Martin in Paris, then Lyon.")] == ["proper"] * 4


@pytest.mark.parametrize(
    ("text", "title", "answer", "question"),
    [
        ("Past Lives is a 2023 American romantic drama film written and directed by Celine Song.", "Past Lives (film)",
         "2023 American romantic drama film", "What kind of film is Past Lives?"),
        ("The Pelican P5 is a rugged handheld barcode scanner, sold with a charging cradle.", "Pelican P5 manual",
         "rugged handheld barcode scanner", "What kind of scanner is the Pelican P5?"),
        ("Hani Hani is a 2023 Kannada film. It was a box office failure.", "Hani Hani (film)", "box office failure",
         "What kind of failure was Hani Hani?"),
    ],
)  # fmt: skip
def test_a_description_answers_what_kind_of_thing(text: str, title: str, answer: str, question: str) -> None:
    assert question in questions_for(text, title).get(answer, []), questions_for(text, title)


@pytest.mark.parametrize(
    "text",
    [
        "Darja received mixed reviews from critics and was a commercial failure.",  # the subject is a clause
        "It was the first time Brocka and Cuneta worked together.",  # a clause, not a description
        "This is a list of premium large format cinema screens.",  # no named subject
        "A site is a physical location where scanners are used.",  # the definition of a word
        "QM-Staff is the network for company laptops.",  # "network" alone describes nothing; "for" ends it
        "Restoring the Harbor database A full restore of the Harbor database is a SEV1 incident.",  # a heading
    ],
)
def test_no_description_question_where_there_is_no_description(text: str) -> None:
    kinds = [f for f in facts_from_chunk(text, "Pasan Ko (film)") if f.kind == "kind"]
    assert kinds == []


@pytest.mark.parametrize(
    ("text", "answer", "question"),
    [
        ("Quillmate Labs was founded in Tampere and has sold scanners since 2016.", "2016", "since what year"),
        ("About 140 people from 11 nationalities work at Quillmate.", "11 nationalities", "how many nationalities"),
        ("You get 3 Pelican days per year after 3 years, and 5 Pelican days after 10 years.", "5",
         "how many Pelican days after 10 years"),
        ("Report lost equipment to the IT helpdesk within 24 hours by calling extension 4410.", "4410",
         "by calling which extension"),
    ],
)  # fmt: skip
def test_a_number_is_asked_for_as_what_it_counts(text: str, answer: str, question: str) -> None:
    found = questions_for(text, answer=answer)
    assert any(question in q for q in found.get(answer, [])), questions_for(text)
    assert not any("what number" in q for qs in questions_for(text).values() for q in qs)


@pytest.mark.parametrize(
    ("text", "not_asked"),
    [
        ("Book appointments through the app or by phone on 03 5551 2040 during office hours.", ["03", "5551", "2040"]),
        ("Every office desk has two 27-inch monitors and a docking station.", ["27"]),
        ("The office is closed from 27 to 30 December every year.", ["27", "30"]),
        ("You have check-in meetings with your manager at 30, 60 and 90 days after you start.", ["30", "60"]),
        ("The scanner measures 45 x 68 x 84 mm and weighs very little.", ["45", "68"]),
    ],
)  # fmt: skip
def test_a_number_that_is_part_of_something_larger_is_not_asked_for(text: str, not_asked: list[str]) -> None:
    found = questions_for(text)
    assert not any(answer in found for answer in not_asked), found


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("Approved by the Quillmate Labs management team on 14 November 2023.", "14 November 2023"),  # no subject
        (
            "This code describes the behaviour we expect from everyone who works for Quillmate Labs: employees, board "
            "members, trainees and contractors.",
            "Quillmate Labs",
        ),  # the span labels the list after it
        ("Contacts in HR are listed below. HR Business Partner, Riikka Salo: extension 4205.", "Riikka Salo"),
    ],
)
def test_no_question_from_a_fragment_or_a_label(text: str, answer: str) -> None:
    found = questions_for(text, title="Code of Conduct")
    assert found.get(answer, []) == [], found[answer]


def templates_for(text: str, answer: str, title: str = "Handbook") -> dict[str, str]:
    return {t: q for f in facts_from_chunk(text, title, phrasings=4) if f.answer == answer for q, t in f.questions}


LEAVE = "You earn 2.5 days of annual leave for every full month of employment, which gives 30 days for a full year."


@pytest.mark.parametrize(
    ("text", "answer", "question"),
    [
        (LEAVE, "2.5 days", "How many days of annual leave do you earn for every full month of employment?"),
        ("Each employee receives 3 Pelican days per year.", "3", "How many Pelican days does each employee receive "
         "per year?"),
        ("Each API token can make 600 requests per minute.", "600 requests",
         "How many requests can each API token make per minute?"),
        ("The night bus leaves at 9:00 every morning.", "9:00", "At what time does the night bus leave every morning?"),
        ("The Pelican P5 battery costs EUR 49 to replace.", "EUR 49",
         "How much does the Pelican P5 battery cost to replace?"),
        ("The festival jury awarded 3 prizes in its first year.", "3 prizes",
         "How many prizes did the festival jury award in its first year?"),
        ("Our team did 40 deployments in March.", "40 deployments", "How many deployments did our team do in March?"),
    ],
)  # fmt: skip
def test_an_object_is_asked_for_with_do(text: str, answer: str, question: str) -> None:
    assert templates_for(text, answer).get("object") == question, questions_for(text)


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("The tunnel uses UDP port 51820 for every connection.", "UDP"),  # the span names a larger noun
        ("Trips outside Finland must be approved at least 14 days before departure.", "Finland"),  # in the subject
        ("Replaces version 2.2 of the policy from March 2023.", "2.2"),  # a verb that starts a sentence
        ("The scanner received 3 firmware updates last year.", "3"),  # 'receiv' or 'receive': not certain
        ("Scanners running PelicanOS 3.4 or later require Harbor 4.2 or later.", "PelicanOS 3.4"),
    ],
)  # fmt: skip
def test_no_object_question_where_the_grammar_is_not_certain(text: str, answer: str) -> None:
    assert "object" not in templates_for(text, answer), templates_for(text, answer)


def test_a_question_in_place_stops_where_its_clause_does() -> None:
    asked = templates_for(LEAVE, "2.5 days")
    assert asked["in-place"] == "You earn how many days of annual leave for every full month of employment?"
    assert not any("30 days" in q for q in asked.values()), "the other fact's answer is given away"
