"""Answers an employee can trust: the relevance gate, the sentences that support an answer, and answers that loop."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import report
from assistant.answer import answer
from assistant.config import AnswerConfig
from assistant.evaluate import Question, answer_all, grounded, summarise, time_answers
from assistant.generate import LLM, Timing
from assistant.grounding import (
    NEARBY,
    NOT_COVERED,
    gate,
    names,
    relevance,
    sentence_relevance,
    support,
    unknown_names,
    unplaced_names,
)
from assistant.metrics import abstains, loops, unloop
from assistant.retrieve import Retriever, Source
from ingest.records import Pair

FRANCE = "What is the capital of France?"
LEAVE = "How many days of annual leave do employees earn per month?"


class Scripted:
    """An LLM that says what it is told, and counts how often it was asked."""

    def __init__(self, text: str) -> None:
        self.text, self.asked = text, 0

    def stream(self, messages, max_new_tokens, timing: Timing, tuned=False, adapter=None) -> Iterator[str]:  # type: ignore[no-untyped-def]
        self.asked += 1
        yield from self.text.split(" ")[:1]
        for word in self.text.split(" ")[1:]:
            yield " " + word

    def generate_batch(self, messages, max_new_tokens, tuned=False, adapter=None):  # type: ignore[no-untyped-def]
        self.asked += len(messages)
        return [self.text] * len(messages)


class TwoMinds(Scripted):
    """The adapter says one thing and the base model another; `calls` records which was asked, in order."""

    def __init__(self, tuned: str, base: str) -> None:
        super().__init__("")
        self.texts, self.calls = {True: tuned, False: base}, []

    def stream(self, messages, max_new_tokens, timing: Timing, tuned=False, adapter=None) -> Iterator[str]:  # type: ignore[no-untyped-def]
        self.calls.append(tuned)
        self.text = self.texts[tuned]
        return super().stream(messages, max_new_tokens, timing, tuned, adapter)

    def generate_batch(self, messages, max_new_tokens, tuned=False, adapter=None):  # type: ignore[no-untyped-def]
        self.calls.append(tuned)
        self.text = self.texts[tuned]
        return super().generate_batch(messages, max_new_tokens, tuned, adapter)


def source(text: str, rank: int = 1, dense: float = 0.6) -> Source:
    return Source(rank, rank, "hr/handbook.md", "hr/handbook.md", "Handbook", "Annual leave", text, 0.1, dense)


def test_an_answer_that_loops_is_cut_where_it_starts_repeating() -> None:
    looping = "The answer is: The answer is: The answer is: The answer is: The answer is:"
    assert loops(looping)
    cut, was = unloop(looping)
    assert (cut, was) == ("The answer is:", True) and not loops(cut)
    sentence = "You earn 2.5 days a month. " * 4
    assert unloop(sentence) == ("You earn 2.5 days a month.", True)
    fine = "Drama. It is a drama about drama, a drama of its time."
    assert unloop(fine) == (fine, False)


def test_decoding_stops_a_row_once_it_loops_and_lets_the_others_go_on(tiny_llm: Path) -> None:
    llm = LLM(str(tiny_llm))
    encode = lambda text: llm.tokenizer(text, add_special_tokens=False)["input_ids"]  # noqa: E731
    looping, plain = encode("go on and on " * 4), encode("one two three four five six seven eight nine ten")
    width = max(len(looping), len(plain))
    prompt = [7] * 5
    rows = [prompt + looping + [0] * (width - len(looping)), prompt + plain + [0] * (width - len(plain))]
    stop = llm.stop_looping(len(prompt))
    assert stop(llm.torch.tensor(rows), None).tolist() == [True, False]


def test_the_gate_turns_away_a_question_no_document_is_about(sample_ws: Path, embedder) -> None:
    retriever = Retriever(sample_ws, embedder)
    llm = Scripted("Paris")
    result = answer(FRANCE, "retrieval", llm, retriever, AnswerConfig())  # type: ignore[arg-type]
    assert llm.asked == 0 and not result.covered  # no model time spent
    assert result.text == NOT_COVERED and abstains(result.text)
    assert result.nearby and len({s.doc for s in result.nearby}) == len(result.nearby)  # places to look, one each
    assert not result.sources and not result.unsupported
    off = AnswerConfig(min_relevance=0.0, min_sentence_relevance=0.0, check_names=False)
    asked = answer(FRANCE, "retrieval", llm, retriever, off)  # type: ignore[arg-type]
    assert llm.asked == 1 and asked.text == "Paris" and asked.covered  # the gate off
    assert asked.unsupported  # and an answer none of the sources holds says so


def test_an_answer_from_the_sources_carries_the_sentence_that_holds_it(sample_ws: Path, embedder) -> None:
    retriever = Retriever(sample_ws, embedder)
    result = answer(LEAVE, "retrieval", Scripted("You earn 2.5 days."), retriever, AnswerConfig())  # type: ignore[arg-type]
    assert result.covered and result.sources
    assert result.support and "2.5 days" in result.support[0].sentence and result.support[0].how == "words"
    assert result.support[0].sentence in result.sources[0].text and not result.unsupported
    looping = answer(LEAVE, "retrieval", Scripted("2.5 days. " * 5), retriever, AnswerConfig())  # type: ignore[arg-type]
    assert looping.cut and looping.text == "2.5 days."


def test_support_counts_the_answers_own_words_not_the_questions() -> None:
    sources = [source("The leave year runs from 1 April. You earn 2.5 days of annual leave for every full month.")]
    question = "How much annual leave do I earn per month?"
    (found,) = support(question, "You earn 2.5 days of annual leave per month.", sources)
    assert found.sentence.startswith("You earn 2.5 days") and found.rank == 1
    assert support(question, "You earn 30 days of annual leave per month.", sources) == []  # the claim, 30, is not
    assert support(question, "I don't know.", sources) == []  # an abstention claims nothing
    assert support(question, "2.5 days", []) == []


def test_a_question_names_places_products_and_versions_not_the_first_word_of_a_sentence() -> None:
    assert names("What is the street address of our Oulu office?") == ["Oulu"]
    assert names("Which RFID frequency does the P5-JP variant for Japan use?") == ["RFID", "P5-JP", "Japan"]
    assert names("What was fixed in P3 firmware 2.2.2? I need it.") == ["P3", "2.2.2"]  # "I" and "I need" are not
    assert names("2. What language is Faraaz in?") == ["Faraaz"]  # a numbered question starts a sentence after "2."
    assert names("How many days do I get after 10 years?") == []  # a number may be written in words
    assert names("who is the cfo's assistant?") == []  # in lower case nothing is a name: the check stays out


def test_unknown_names_are_those_no_indexed_text_holds(tmp_path: Path) -> None:
    import numpy as np

    from ingest.index import Index

    texts = ["Pelican P5-JP scanners run PelicanOS 3.5.1.", "Company MacBook laptops live in Helsinki."]
    built = Index.build(np.arange(2), np.eye(2, 4, dtype=np.float32), texts)
    known = Index.load(tmp_path / built.save(tmp_path)).words  # kept with the index generation
    assert known == built.words and known is not None
    question = "Do the P5-JP, the P5 and PelicanOS 3.5 work on MacBooks in Helsinki, Oulu and with Harbor 4.5?"
    assert unknown_names(question, known, AnswerConfig()) == ["Oulu", "Harbor", "4.5"]  # parts, plurals are known
    assert unknown_names(question, None, AnswerConfig()) == []  # an index written before the words were kept
    assert unknown_names(question, known, AnswerConfig(check_names=False)) == []  # the check turned off


def test_the_gate_turns_away_a_question_naming_what_no_document_mentions(sample_ws: Path, embedder) -> None:
    retriever = Retriever(sample_ws, embedder)
    p7 = "What are the specifications of the Pelican P7?"
    assert relevance(retriever.search([p7], NEARBY)[0]) >= AnswerConfig().min_relevance  # close enough to pass alone
    llm = Scripted("It has a 5-inch screen.")
    result = answer(p7, "retrieval", llm, retriever, AnswerConfig())  # type: ignore[arg-type]
    assert llm.asked == 0 and not result.covered and result.unknown == ["P7"] and result.text == NOT_COVERED
    assert result.nearby  # still somewhere to look
    named = answer("How long is the standard warranty on a Pelican P5?", "retrieval", llm, retriever, AnswerConfig())  # type: ignore[arg-type]
    assert llm.asked == 1 and named.covered and named.unknown == []  # names the documents hold go through
    off = answer(p7, "retrieval", llm, retriever, AnswerConfig(check_names=False))  # type: ignore[arg-type]
    assert llm.asked == 2 and off.covered


class Indexed:
    """What the gate reads of a retriever: the indexed words and the embedder."""

    def __init__(self, words: frozenset[str] | None, embedder) -> None:  # type: ignore[no-untyped-def]
        self.words, self.embedder = words, embedder


def test_the_gate_reads_the_closest_source_then_its_sentences_and_zero_turns_each_off(embedder) -> None:
    leave = source("The leave year runs from 1 April. You earn 2.5 days of annual leave for every full month.", 1, 0.45)
    far = source("Printers are on every floor.", 2, dense=0.2)
    indexed = Indexed(None, embedder)
    chunks_only = AnswerConfig(min_relevance=0.4, min_sentence_relevance=0.0)
    assert gate(LEAVE, [far, leave], indexed, chunks_only) == ""  # type: ignore[arg-type]
    assert gate(LEAVE, [far], indexed, chunks_only) == "No document is about this question"  # type: ignore[arg-type]
    none = AnswerConfig(min_relevance=0.0, min_sentence_relevance=0.0, check_names=False)
    assert gate(LEAVE, [far], indexed, none) == "" and gate(LEAVE, [], indexed, none) == ""  # type: ignore[arg-type]
    dress = "Is there a dress code at the office?"  # close to a chunk about the office, answered by no sentence
    assert sentence_relevance(LEAVE, [far, leave], embedder) >= 0.5 > sentence_relevance(dress, [far, leave], embedder)
    sentences = AnswerConfig(min_relevance=0.0)
    assert gate(LEAVE, [far, leave], indexed, sentences) == ""  # type: ignore[arg-type]
    turned = gate(dress, [far, leave], indexed, sentences)  # type: ignore[arg-type]
    assert turned == "No passage says anything close to this question"
    known = Indexed(frozenset({"harbor", "5.0", "4.5"}), embedder)
    assert gate("What is new in Harbor 4.6?", [leave], known, none) == ""  # type: ignore[arg-type]
    assert gate("What is new in Harbor 4.6?", [leave], known, AnswerConfig(min_relevance=0.0)).startswith(  # type: ignore[arg-type]
        "No document mentions “4.6”"
    )
    with pytest.raises(ValueError, match="min_relevance"):
        AnswerConfig(min_relevance=1.5)
    with pytest.raises(ValueError, match="min_sentence_relevance"):
        AnswerConfig(min_sentence_relevance=-0.1)


def test_names_must_be_in_the_passages_found_not_only_somewhere_in_the_documents() -> None:
    notes = source("Harbor 4.5 adds geofence alerts and a new dashboard.", 1)
    notes.title = "Harbor release notes"
    assert unplaced_names("What is new in Harbor 4.5?", [notes], AnswerConfig()) == []
    assert unplaced_names("What is new in Harbor 5.0?", [notes], AnswerConfig()) == ["5.0"]
    assert unplaced_names("What does the Harbor team do?", [notes], AnswerConfig()) == []  # named in the title
    assert unplaced_names("What is new in Harbor 5.0?", [notes], AnswerConfig(check_names=False)) == []


def test_the_gate_on_the_sample_corpus_turns_away_other_versions_and_questions_no_sentence_answers(
    sample_ws: Path, embedder
) -> None:
    retriever = Retriever(sample_ws, embedder)
    words = retriever.words
    assert words is not None and "5.0" in words  # another version is in the documents: the names check alone passes
    llm = Scripted("It adds offline maps.")
    for question, why in [
        ("What's new in Harbor 5.0?", "None of the passages about this question mentions “5.0”"),
        ("Is there a dress code at the office?", "No passage says anything close to this question"),
    ]:
        result = answer(question, "retrieval", llm, retriever, AnswerConfig())  # type: ignore[arg-type]
        assert (result.covered, result.why, result.text) == (False, why, NOT_COVERED), question
        assert result.to_json()["why"] == why
    assert llm.asked == 0
    kept = answer(LEAVE, "retrieval", llm, retriever, AnswerConfig())  # type: ignore[arg-type]
    assert llm.asked == 1 and kept.covered and kept.why == ""


def test_evaluation_counts_questions_not_asked_and_answers_supported(sample_ws: Path, embedder) -> None:
    retriever = Retriever(sample_ws, embedder)
    questions = [Question(LEAVE, "2.5 days"), Question(FRANCE, None), Question("Who won the 1998 World Cup?", None)]
    llm = Scripted("2.5 days")
    results = answer_all(questions, "retrieval", llm, retriever, AnswerConfig(), progress=False)  # type: ignore[arg-type]
    assert llm.asked == 1  # the two questions about nothing in the documents never reach the model
    assert [r.covered for r in results] == [True, False, False]
    grounded(results, retriever)
    stats = summarise(results, seed=0)
    assert stats["contains"] == 1.0 and stats["not_asked"] == 0.0
    assert stats["support"]["supported"] == 1.0 and stats["support"]["answers"] == 1
    assert stats["unanswerable"]["abstained"] == 1.0 and stats["unanswerable"]["not_asked"] == 1.0
    page = report.render(report.build({"retrieval": results}, {"retrieval": stats}, {"slices": ["file"] * 3}, []))
    assert "What the answers stand on" in page
    assert page.count("not asked: the relevance gate found the documents do not cover it") == 2


def test_ask_json_returns_the_answer_with_its_support(own_sample_ws: Path, tiny_llm: Path, capsys) -> None:
    from assistant.cli import main

    code = main(["ask", FRANCE, "--json", "--llm", str(tiny_llm), "--workspace", str(own_sample_ws)])
    printed = json.loads(capsys.readouterr().out)
    assert code == 0 and printed["answer"] == NOT_COVERED and printed["covered"] is False
    assert printed["nearby"] and printed["sources"] == [] and printed["support"] == []
    assert printed["unknown"] == ["France"]  # why: the documents never mention it


def test_raft_examples_without_their_source_learn_to_say_the_documents_dont_say() -> None:
    from assistant import data

    chunks = [source(f"Chunk {i} says fact {i}.", rank=i + 1) for i in range(12)]
    for i, c in enumerate(chunks):
        c.chunk_id = i
    pairs = [Pair(i, f"f{i}", f"What does chunk {i} say?", f"fact {i}", f"fact {i}.", "what", id=i) for i in range(10)]
    search = lambda questions, k: [chunks[int(q.split()[3]) :][:k] for q in questions]  # noqa: E731
    plain = data.raft(pairs, search, k=2, p_source=0.5)
    abstaining = data.raft(pairs, search, k=2, p_source=0.5, abstain=1.0)
    without = [i for i, e in enumerate(plain) if "[" not in e.messages[-1]["content"]]
    assert without and len(without) < len(plain)  # some examples read their source, some do not
    for i, (a, b) in enumerate(zip(plain, abstaining, strict=True)):
        assert a.messages[:-1] == b.messages[:-1]  # the same contexts either way
        expected = NOT_COVERED if i in without else a.messages[-1]["content"]
        assert b.messages[-1]["content"] == expected


def test_both_gives_the_base_models_reading_when_nothing_supports_the_adapters_answer(
    sample_ws: Path, embedder
) -> None:
    retriever = Retriever(sample_ws, embedder)
    llm, pieces = TwoMinds("Seventeen zebras [1]", "You earn 2.5 days."), []
    result = answer(LEAVE, "both", llm, retriever, AnswerConfig(), pieces.append)  # type: ignore[arg-type]
    assert llm.calls == [True, False] and result.reread and result.text == "You earn 2.5 days."
    assert result.support and not result.unsupported and result.to_json()["reread"] is True
    assert "".join(pieces) == "You earn 2.5 days."  # the adapter's answer never reached the asker
    assert 0 < result.timing.first_token_s <= result.timing.total_s  # counted from the question, both readings
    llm, pieces = TwoMinds("2.5 days [1] 2.5 days [1] 2.5 days [1] 2.5 days [1]", "You earn 2.5 days."), []
    kept = answer(LEAVE, "both", llm, retriever, AnswerConfig(), pieces.append)  # type: ignore[arg-type]
    assert llm.calls == [True] and not kept.reread and kept.cut
    assert pieces == [kept.text] == ["2.5 days"]  # held, then given whole, cut where it began to repeat
    assert kept.timing.first_token_s == kept.timing.total_s > 0  # its first text was the whole answer
    llm = TwoMinds("Seventeen zebras [1]", "Seventeen zebras [1]")
    plain = answer(LEAVE, "retrieval", llm, retriever, AnswerConfig())  # type: ignore[arg-type]
    assert llm.calls == [False] and plain.unsupported and not plain.reread  # only `both` is read again


def test_evaluation_reads_again_the_both_answers_without_support_and_counts_them(sample_ws: Path, embedder) -> None:
    retriever = Retriever(sample_ws, embedder)
    questions = [Question(LEAVE, "2.5 days"), Question(FRANCE, None)]
    llm = TwoMinds("Seventeen zebras [1]", "You earn 2.5 days.")
    results = answer_all(questions, "both", llm, retriever, AnswerConfig(), progress=False)  # type: ignore[arg-type]
    assert llm.calls == [True, False] and llm.asked == 2  # the question the gate turned away is never asked
    assert results[0].reread and results[0].answer == "You earn 2.5 days." and results[0].scores["contains"] == 1.0
    assert not results[1].reread and not results[1].covered
    stats = summarise(results, seed=0)
    assert stats["reread"] == 1.0
    page = report.render(report.build({"both": results}, {"both": stats}, {"slices": ["file"] * 2}, []))
    assert page.count("read again by the base model: the adapter's answer had no support") == 1
    llm = TwoMinds("2.5 days [1]", "You earn 2.5 days.")
    (kept,) = answer_all(questions[:1], "both", llm, retriever, AnswerConfig(), progress=False)  # type: ignore[arg-type]
    assert llm.calls == [True] and not kept.reread and kept.answer == "2.5 days [1]"


def test_evaluation_times_both_as_a_user_waits_for_it_read_again_included(sample_ws: Path, embedder) -> None:
    retriever = Retriever(sample_ws, embedder)
    questions = [Question(LEAVE, "2.5 days")]
    llm = TwoMinds("Seventeen zebras [1]", "You earn 2.5 days.")
    timed = time_answers(questions, "both", llm, retriever, AnswerConfig())  # type: ignore[arg-type]
    assert llm.calls == [True, False] and timed["reread"] == 1.0  # the base model's reading was timed too
    llm = TwoMinds("2.5 days [1]", "You earn 2.5 days.")
    assert time_answers(questions, "both", llm, retriever, AnswerConfig())["reread"] == 0.0  # type: ignore[arg-type]
    assert llm.calls == [True]
    llm = TwoMinds("2.5 days [1]", "You earn 2.5 days.")
    streamed = time_answers(questions, "retrieval", llm, retriever, AnswerConfig())  # type: ignore[arg-type]
    assert llm.calls == [False] and streamed["reread"] == 0.0
