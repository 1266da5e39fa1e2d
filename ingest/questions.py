"""Questions from text alone: each fact of a chunk, asked in several phrasings, answered verbatim.

A fact is a short answer span (a date, an amount, a name, a code…) inside one sentence. The span's type picks
the question word ("when", "how many days", "who"…); the sentence around it becomes the question in up to four
phrasings: fronted ("When were the winners announced?"), embedded ("Do you know when the winners were
announced?"), in place ("The winners were announced on what date?") and attributed ("According to the
handbook, …"). Grammar is handled only where it is safe (copulas, passives with "by", a span that is the
subject); everywhere else the in-place form stays correct English. Answers are never written: they are
spans of the source text, so every answer is supported by its chunk by construction.

Two forms answer with more than one name or word, because a partial answer taught in training is a wrong one
at answer time: a list of names is one answer ("Who stars in Run Rabbit Run?" -> all four names), and a
description is one answer ("What kind of film is Past Lives?" -> "2023 American romantic drama film").
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass, field

from ingest.sentences import split_sentences

TEMPLATES = 7  # raise when the questions written change: ingest then writes every workspace's pairs again

MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?"
    r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
NUM = r"\d+(?:[.,]\d+)*"
DAY = r"\d{1,2}(?:st|nd|rd|th)?"
# Capital letters of the Latin alphabets, accented ones too ("Álvarez", "Øresund", "Łódź"): a name that starts with one
# is a name, and one left out splits a list or cuts a name in two ("alongside Manuel Manquiña and Roberto Álvarez").
UPPER = "A-Z" + "".join(c for c in map(chr, range(0xC0, 0x250)) if c.isupper())
# A capitalised word, a brand written in camel case ("iNews", "eBay", "macOS"), or an initial followed by a name.
CAPITALISED = rf"(?:[{UPPER}]|[a-z]+(?=[{UPPER}]))[\w'’&-]*(?:\.(?= [{UPPER}]))?"
SPAN_PATTERNS: list[tuple[str, str]] = [  # (type, regex), earlier types win where spans overlap
    ("email", r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    ("url", r"(?:https?://|www\.)[^\s,;)]+[^\s,;).]"),
    (
        "date",
        rf"(?:{MONTH} {DAY},? \d{{4}}|{DAY} {MONTH},? \d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|{MONTH} \d{{4}}"
        rf"|{MONTH} {DAY}\b|{DAY} {MONTH}\b)",
    ),
    ("quoted", r'"([^"]{3,80})"|“([^”]{3,80})”'),
    ("time", r"\d{1,2}(?::\d{2})? ?(?:a\.m\.|p\.m\.|am|pm)|\d{1,2}:\d{2}(?: (?:CET|EET|UTC|GMT))?"),
    (
        "money",
        rf"(?:(?:[$€£]|(?:EUR|USD|GBP|SEK|NOK|DKK|CHF) ?){NUM}(?: (?:million|billion|thousand))?"
        rf"|{NUM} ?(?:euros?|EUR|USD|dollars?|GBP))",
    ),
    ("percent", rf"{NUM} ?(?:%|percent|per cent)"),
    (
        "quantity",
        rf"(?<![\w.]){NUM} (?:(?:business|working|calendar) )?"
        r"(?:[a-z]{1,20}|GB|MB|TB|KB|kB|mAh|Wh|kg|W|V|Hz|GHz|MHz|mm|cm|km|ms)\b",
    ),
    ("code", r"\b(?=[A-Za-z]*\d)(?=\w*[A-Za-z])[A-Za-z0-9]+(?:[-_.][A-Za-z0-9]+)+\b|\b[A-Z]+\d+[A-Z]*\b"),
    ("year", r"(?<=\bin )(?:19|20)\d{2}\b"),
    (
        "proper",
        rf"(?<![\w'’]){CAPITALISED}(?: (?:(?:of|de|la|le|van|von|der|den|da|di|du|ni|and|&|the) ){{0,2}}"
        rf"{CAPITALISED})*(?: \d+(?:\.\d+)*\b)?",
    ),
    ("number", rf"(?<![\w.]){NUM}(?!\w|\.\w)"),  # a number may end a sentence
]
_SPAN_RE = [(kind, re.compile(rx)) for kind, rx in SPAN_PATTERNS]
WH = {"email": "what email address", "url": "what address", "date": "what date", "time": "what time",
      "quoted": "what", "money": "how much", "percent": "what percentage", "code": "what code", "year": "what year",
      "proper": "what", "number": "what number"}  # fmt: skip
PERSON_BEFORE = {"by", "starring", "starred", "contact", "ask", "stars", "email", "call", "features", "co-starring"}
DETERMINERS = {"the", "a", "an", "this", "that", "these", "those", "our", "your", "each", "every", "all", "any",
               "some", "its", "their", "his", "her", "no", "most", "many", "new"}  # fmt: skip
STOP_START = DETERMINERS | {"in", "on", "at", "for", "if", "when", "after", "before", "during", "to", "from", "it",
                            "he", "she", "they", "we", "you", "i", "there", "as", "since", "while", "note"}  # fmt: skip
BE = r"(?:is|are|was|were|(?:will|can|must|should|may|might|would|could|shall) be|(?:has|have|had) been)"
PRONOUN_START = re.compile(  # a document's subject, referred to: a film, a person, a company, a policy, a product
    r"^(?:[Ii]t|He|She|[Tt]he (?:film|movie|series|show|novel|book|album|song|game|company|organi[sz]ation|policy|"
    r"product|device|service|system|programme|program|guide|manual|handbook|document|team|project))\b"
    r"(?! is (?:also )?(?:important|recommended|possible|not|required))"
)
OPENERS = ["Do you know", "Can you tell me"]
NOT_UNITS = {"and", "or", "to", "of", "the", "a", "an", "in", "on", "at", "for", "with", "by", "from", "as", "per",
             "is", "are", "was", "were", "has", "have", "will", "can", "x"}  # fmt: skip
NUMBER_WORDS = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve", "several"}
NATURAL = {"model", "subject", "passive", "fronted", "object", "table", "cast", "kind"}  # as a person would ask
NUMBERED = {"extension", "day", "room", "page", "step", "floor", "level", "line", "section", "chapter", "article",
            "clause", "phase", "stage", "week", "gate", "platform", "season", "episode", "issue"}  # fmt: skip
FINITE = re.compile(r"\b(?:is|are|was|were|has|have|had|can|must|will|should|may|does|do|did|\w+ed|\w{3,}s)\b")


def is_clause(text: str) -> bool:
    """Prose with a verb, not a list fragment or a line of specifications ("0 to 40 C; P5: -10 to 45 C")."""
    tokens = text.split()
    numeric = sum(1 for t in tokens if not re.search(r"[A-Za-z]{2}", t))
    return len(tokens) >= 6 and numeric <= 0.3 * len(tokens) and bool(FINITE.search(text))


def fit_for_evaluation(question: str, template: str) -> bool:
    """Natural phrasings always; a question in place only when it is a whole clause, not a list item or spec."""
    if template in NATURAL:
        return True
    return template == "in-place" and len(question.split()) >= 8 and is_clause(question)


@dataclass
class Fact:
    answer: str
    evidence: str
    kind: str  # the span's type
    questions: list[tuple[str, str]] = field(default_factory=list)  # (question, template), best first

    @property
    def key(self) -> str:
        return hashlib.sha1(f"{self.evidence}\x00{self.answer}".encode()).hexdigest()[:16]


def subject_of(title: str) -> str:
    """'AKA (2023 film)' -> 'AKA': the name a sentence's pronoun most likely stands for."""
    return re.sub(r"\s*\([^)]*\)\s*$", "", title).strip() or title


def facts_from_chunk(text: str, title: str, phrasings: int = 3, topic: str = "") -> list[Fact]:
    """Facts of a chunk; `topic` is its section heading, used for one more phrasing when it is not the title."""
    subject = subject_of(title)
    about_subject = subject.lower() in text[:300].lower()
    facts: list[Fact] = []
    for line in (line.strip() for line in text.split("\n")):
        cells = [c.split(": ", 1) for c in line.split(" | ")] if " | " in line else []
        if cells and all(len(c) == 2 for c in cells):
            facts.extend(_table_facts(cells, line, title))
            continue
        for sentence in split_sentences(line.lstrip("-*• ").strip()):
            facts.extend(_sentence_facts(sentence, title, subject if about_subject else None, phrasings, text, topic))
    return facts


def _table_facts(cells: list[list[str]], row: str, title: str) -> list[Fact]:
    """A table row written as "Plan: Pro | Price: EUR 9": one fact per cell after the first, which names the row."""
    out = []
    key = cells[0][1]
    for name, value in cells[1:]:
        if value.lower() in ("-", "n/a", "none", "", key.lower()):
            continue
        noun = name.lower()
        fact = Fact(value, row, "table")
        if re.match(r"(?:what|how|when|where|who|which|why|\w+ed\b)", noun):  # "What to do", "Installed on"
            fact.questions = [
                (f"{key}: {noun}?", "table"),
                (f"In {title}, what does it say under '{name}' for {key}?", "table-attributed"),
            ]
        else:
            fact.questions = [
                (f"What is the {noun} for {key}?", "table"),
                (f"In {title}, what {noun} is listed for {key}?", "table-attributed"),
            ]
        out.append(fact)
    return out


def find_spans(sentence: str) -> list[tuple[int, int, str]]:
    taken: list[tuple[int, int, str]] = []
    for kind, rx in _SPAN_RE:
        for m in rx.finditer(sentence):
            start, end = m.span(m.lastindex or 0)  # a quoted title is the text inside its quotes
            value = sentence[start:end].rstrip(" .,")
            end = start + len(value)
            if not value or any(start < e and s < end for s, e, _ in taken):
                continue
            if kind == "proper" and not _good_proper(sentence, start, value):
                continue
            if kind == "quantity" and value.split()[-1].lower() in NOT_UNITS:
                continue
            before = sentence[:start].split()
            if kind in ("number", "quantity") and before and before[-1].lower() in DETERMINERS:
                continue  # "a 2023 French film": the number describes, it is not asked for
            if kind == "number" and (
                re.match(r"-\w|,? ?(?:(?:[-–]|to|and|or|x) ?)?\d", sentence[end:])
                or re.search(r"(?:[-−]|\d,?|\d,? (?:to|and|or|x))$", sentence[:start].rstrip(" "))
            ):
                continue  # "27-inch", "-20", "27 to 30 December", "30, 60 and 90 days", "03 5551 2040": a part
            year = kind == "number" and re.fullmatch(r"(?:19|20)\d{2}", value)
            taken.append((start, end, "year" if year else kind))  # "since 2019" asks "since what year", not number
    return _join_lists(sentence, sorted(taken))


ASIDE = r"\s*\([^()]*\)"  # left out of questions; `_in_source` finds it again for the answer
LIST_GAP = re.compile(r",? (?:and|&) (?:the )?|, (?:the )?")


def _join_lists(sentence: str, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Names in a list ("Sarah Snook, Lily LaTorre and Greta Scacchi") become one span: the whole list is the
    answer to "Who stars in…?", and one name of it would teach a wrong, partial answer. Two names joined by a bare
    comma stay apart ("In Paris, Jean met…"); a list needs an "and" or three names."""
    out: list[tuple[int, int, str]] = []
    run: list[tuple[int, int, str]] = []
    for span in [*spans, (len(sentence) + 1, 0, "")]:
        if run and span[2] == "proper" == run[-1][2] and LIST_GAP.fullmatch(sentence[run[-1][1] : span[0]]):
            run.append(span)
            continue
        text = sentence[run[0][0] : run[-1][1]] if run else ""
        if len(run) >= 3 or (len(run) == 2 and re.search(r" (?:and|&) ", text)):
            out.append((run[0][0], run[-1][1], "proper"))
        else:
            out.extend(run)
        run = [span]
    return out


def _good_proper(sentence: str, start: int, value: str) -> bool:
    words = value.split()
    before = sentence[:start].split()
    prev = before[-1].lower() if before else ""
    if start == 0 and (
        len(words) < 2 or words[0].rstrip(".").lower() in STOP_START or words[0].endswith(("ing", "ed"))
    ):
        return False  # capitalised by grammar, not a name
    if len(words) == 1 and (len(value) < 3 or value.lower() in STOP_START or re.fullmatch(MONTH, value)):
        return False
    if prev in DETERMINERS | NUMBER_WORDS or prev.endswith("'s") or re.fullmatch(r"\d+(?:st|nd|rd|th)?", prev):
        return False  # "the 27th San Diego Awards": part of a larger noun phrase
    following = sentence[start + len(value) :].split()
    # "a Sudanese suspect", "Spanish director": an adjective, not a thing to ask for
    return not (re.search(r"(?:ese|ian|ish|ean|can|ch|language)$", words[-1]) and following and following[0].islower())


def _sentence_facts(
    sentence: str, title: str, subject: str | None, phrasings: int, chunk: str, topic: str = ""
) -> list[Fact]:
    words = sentence.split()
    if not 5 <= len(words) <= 50 or sentence.endswith("?"):
        return []
    asked = re.sub(ASIDE, "", sentence)  # "(Arabic: أبطال)", "(lit. …)": asides make poor questions
    asked = re.sub(r"^(?:[\w/-]+ ){0,2}[\w/-]+: (?=\S)", "", asked)  # "Fixed: P3 scanners…": a label, not part of it
    if len(asked.split()) < 5:
        return []
    pronoun = PRONOUN_START.match(asked)
    if pronoun:
        if not subject:
            return []  # "It expires after 15 minutes": without knowing what "it" is, the question is unanswerable
        asked = subject + asked[pronoun.end() :]
    facts = []
    for start, end, kind in find_spans(asked)[:6]:
        answer = _in_source(asked[start:end], sentence)
        if (pronoun and start < len(subject or "")) or not answer:
            continue
        if subject and answer.lower() == subject.lower() and start > 0:
            continue  # asking for the document's own subject mid-sentence makes a riddle, not a question
        fact = Fact(answer, sentence, kind)
        seen = set()
        for question, template in _phrasings(asked, start, end, kind, title, chunk, topic):
            if len(question.split()) < 3:
                continue
            if question.lower() not in seen and answer.lower() not in question.lower():
                seen.add(question.lower())
                fact.questions.append((question, template))
        fact.questions = fact.questions[:phrasings]
        if fact.questions:
            facts.append(fact)
    description = _description_fact(asked, sentence, chunk, subject_of(title))
    if description and not any(f.answer == description.answer for f in facts):
        facts.append(description)
    return facts


def _in_source(span: str, sentence: str) -> str:
    """The span as the sentence has it, with any aside the question left out: "Gurmeet Choudhary and Sayani Datta"
    is "Gurmeet Choudhary (in his lead debut) and Sayani Datta" there, and the answer stays the source's own words.
    "" when the sentence does not hold it (the subject put in for "It")."""
    if span in sentence:
        return span
    found = re.search(rf"(?:{ASIDE})?\s".join(map(re.escape, span.split(" "))), sentence)
    return found.group() if found else ""


AFTER_NOUN = (
    r"directed|written|produced|created|developed|made|set|based|released|starring|edited|scripted|co-written|"
    r"by|from|about|that|which|who|where|in|on|for|with|of|to|at|but"
)
CLAUSE_WORD = re.compile(r"\b(?:[a-z]\w*(?:ed|ing)|is|are|was|were|has|have|had|and|which|who|that)\b|\.\w")
KIND = re.compile(
    r"^(?P<subj>[^,;:(]{2,80}?) (?P<be>is|was|are|were) (?:an?|the) "
    rf"(?P<np>(?:(?!(?:{AFTER_NOUN}) )[\w'’+-]+ ){{1,7}}?(?P<noun>[a-z][a-z-]+))"
    rf"(?= (?:{AFTER_NOUN})\b|[,.;](?: |$)|$)"
)


def _description_fact(asked: str, sentence: str, chunk: str, name: str) -> Fact | None:
    """What kind of thing the subject is, answered by the whole description: "Past Lives is a 2023 American romantic
    drama film written by…" -> "What kind of film is Past Lives?" -> "2023 American romantic drama film". It is what a
    reader asks first ("what genre is it?", "what type of device is the P5?")."""
    m = KIND.match(asked.rstrip(" ."))
    if not m or m["np"] not in sentence or m["noun"].endswith(("ed", "ly")) or CLAUSE_WORD.search(m["subj"]):
        return None  # "Darja received mixed reviews and was a failure": the subject is a clause, not a name
    if len(m["subj"].split()) > 8:
        return None  # a heading run into the sentence, as PDFs give: "Restoring the database A full restore of…"
    words = m["np"].split()
    if any(w[:1].isupper() and prev[:1].islower() for prev, w in itertools.pairwise(words[1:])):
        return None  # "the first time Brocka and Cuneta worked together": a clause, not a description
    subj = _mid_sentence(m["subj"], chunk, name)
    if subj.lower() in STOP_START | {"this", "these"} or subj.split()[0] in ("a", "an", "A", "An"):
        return None  # "A site is a physical location": a definition of a word, not a description of a thing
    opener = OPENERS[_pick(asked)]
    questions = [
        (f"What kind of {m['noun']} {m['be']} {subj}?", "kind"),
        (f"{opener} what kind of {m['noun']} {subj} {m['be']}?", "embedded"),
    ]
    return Fact(m["np"], sentence, "kind", questions)


PARTICIPLES = {"written": "wrote", "chosen": "chose", "given": "gave", "taken": "took", "sung": "sang",
               "run": "ran", "drawn": "drew", "driven": "drove", "spoken": "spoke", "begun": "began",
               "shown": "showed", "known": "knew", "grown": "grew", "seen": "saw", "done": "did",
               "made": "made", "led": "led", "held": "held", "built": "built", "shot": "shot", "won": "won",
               "sent": "sent", "paid": "paid", "kept": "kept", "set": "set", "told": "told",
               "sold": "sold"}  # fmt: skip
PARTICIPLE = r"\w+ed|" + "|".join(PARTICIPLES)
CAST = re.compile(  # what comes before a cast list: "X is a 2023 film directed by Y and starring", "the film stars"
    rf"(?:^|, )(?P<subj>[^,(]{{2,80}}?) (?:{BE} (?:an?|the) [^;(]*?\b(?:starring|(?:which|that) stars)|stars|starred)$"
)
ROLES = (
    r"(?:director|writer-director|writer|actor|actress|producer|composer|author|singer|manager|head|lead|"
    r"engineer|officer|president|chair|founder|coordinator|owner|administrator|contact|colleague|designer)"
)
FRONTABLE = (
    r"(?:\w+ed|\w+en|due|available|open|closed|valid|located|based|held|set|built|made|paid|sent|kept|run|"
    r"born|entitled|eligible|responsible|allowed|able|limited|capped|stored|free|reachable)"
)


def _wh(sentence: str, start: int, end: int, kind: str) -> tuple[str, int]:
    """The question phrase for the span, and where it starts (a preposition before a date can be dropped)."""
    before = sentence[:start].split()
    prev = before[-1].lower() if before else ""
    value = sentence[start:end]
    if kind == "date" and prev in ("on", "in"):
        return "when", start - len(prev) - 1
    if kind == "year" and prev == "in":
        return "in what year", start - 3
    if kind == "time" and prev == "at":
        return "at what time", start - 3
    if kind == "quantity":
        unit = value.split(" ", 1)[1]
        return f"how many {unit}", start
    if kind == "number" and prev in NUMBERED:
        return f"which {prev}", start - len(prev) - 1  # "extension 4410" -> "which extension", "on day 30"
    if kind == "number" and re.match(
        rf" (?!(?:{'|'.join(NOT_UNITS)})\b)(?:[a-z]{{3}}|[A-Z][a-z]+ [a-z]{{3}})", sentence[end:]
    ):
        return "how many", start  # "23 countries", "3 Pelican days": a number before a noun counts it
    if kind == "code" and prev in ("version", "firmware", "release", "build", "model"):
        return f"which {prev}", start - len(prev) - 1
    if kind in ("proper", "quoted") and _is_person(sentence, start, end, prev):
        return ("whom" if prev == "by" else "who"), start
    return WH[kind], start


def _is_person(sentence: str, start: int, end: int, prev: str) -> bool:
    value = sentence[start:end]
    if prev in PERSON_BEFORE or re.search(r"\b[A-Z]\. ", value) or re.search(rf"\b{ROLES}$", sentence[:start].strip()):
        return True
    person_verbs = (
        r"directed|wrote|founded|leads|manages|approves|signs|said|starred|stars|plays|played|served|composed"
    )
    return bool(
        re.match(
            rf",? (?:is |was |as )?(?:(?:the|our|a|an) )?(?:{ROLES}|{person_verbs}|is composing)\b",
            sentence[end:],
            re.I,
        )
    )


def _phrasings(
    s: str, start: int, end: int, kind: str, title: str, chunk: str, topic: str = ""
) -> list[tuple[str, str]]:
    """Phrasings of the question for span s[start:end], the natural ones first."""
    wh, wh_start = _wh(s, start, end, kind)
    if kind == "quoted":
        start, end = start - 1, end + 1  # the quotes go with the title they enclose
        wh_start = min(wh_start, start)
    body = s.rstrip(" .!;:")
    head, tail = body[:wh_start], body[end:]
    clause = re.split(r"[,;:] |\(| - | – ", tail, maxsplit=1)[0].rstrip()  # the rest of the span's own clause
    opener = OPENERS[_pick(s)]
    name = subject_of(title)
    out: list[tuple[str, str]] = []
    lead_in = head.rstrip()
    role = re.fullmatch(rf"(?:(?:The|An?) )?(?P<np>[\w\s-]{{0,30}}?\b{ROLES})", lead_in)
    by = re.search(rf"^(?P<subj>[^,(]{{2,80}}?) {BE} [^(;]*?\b(?P<verb>{PARTICIPLE}) by$", lead_in)
    copula = re.match(rf"^(?P<subj>[^,;:(]{{2,80}}?) (?P<be>{BE})(?: (?P<pre>[^,;:(]*?))?$", lead_in)
    cast = CAST.search(lead_in) if wh == "who" else None
    if cast and not CLAUSE_WORD.search(cast["subj"]):  # "Run Rabbit Run … starring Sarah Snook" -> "Who stars in…?"
        subj = _mid_sentence(cast["subj"], chunk, name)
        out += [(f"Who stars in {subj}?", "cast"), (f"{opener} who stars in {subj}?", "embedded")]
    elif wh_start == 0 and re.match(
        r" [a-z]", clause
    ):  # the span is the subject: "Morgan S. Dalibert directed AKA." -> "Who directed AKA?"
        lead = "Who" if wh in ("who", "whom") else wh[0].upper() + wh[1:]
        out += [(f"{lead}{clause}?", "subject"), (f"{opener} {lead.lower()}{clause}?", "embedded")]
    elif (
        role and clause
    ):  # "American writer-director Julie Taymor served…" -> "Which American writer-director served…?"
        np = _mid_sentence(role["np"], chunk)
        out += [(f"Which {np}{clause}?", "subject"), (f"{opener} which {np}{clause}?", "embedded")]
    elif wh in ("who", "whom") and by:  # "AKA is a film directed by X" -> "Who directed AKA?"
        subj, verb = _mid_sentence(by["subj"], chunk, name), PARTICIPLES.get(by["verb"], by["verb"])
        out += [(f"Who {verb} {subj}?", "passive"), (f"{opener} who {verb} {subj}?", "embedded")]
    elif copula and (not copula["pre"] or re.fullmatch(rf"{FRONTABLE}(?: \w+){{0,4}}", copula["pre"])):
        aux, *more = copula["be"].split(" ", 1)  # "will be" inverts as "will … be"
        subj = _mid_sentence(copula["subj"], chunk, name)
        rest = " ".join(x for x in (more[0] if more else "", copula["pre"] or "", clause.strip()) if x)
        rest = f" {rest}" if rest else ""
        lead = wh[0].upper() + wh[1:]
        out += [(f"{lead} {aux} {subj}{rest}?", "fronted"), (f"{opener} {wh} {subj} {aux}{rest}?", "embedded")]
    elif asked := _object(lead_in, wh, clause, chunk, name):  # "You earn 2.5 days…" -> "How many days… do you earn…?"
        out += [(asked[0], "object"), (f"{opener} {asked[1]}", "embedded")]
    # in place, a long sentence is asked up to the end of the span's clause, and so is one whose clause another
    # clause follows: the rest would give away its own facts' answers ("…for every full month of employment,
    # which gives 30 days…") and make a question nobody asks
    trailing = re.match(r",? (?:which|and|but|while|so|giving|making|whereas)\b|; ", tail[len(clause) :])
    after_wh = clause if len(body.split()) > 24 or (trailing and clause.strip()) else tail
    in_place = head + wh + after_wh
    fragment = re.match(r"[A-Z]\w+(?:ed|en) by\b", body) or re.match(r"\s*[:–-]", after_wh)
    # else hard to read, or no sentence at all: "Approved by the team when?" has no subject; in "…works for what:
    # employees, board members…" or "HR Business Partner, what: extension 4205?" the span labels what follows
    if not role and not fragment and len(in_place.split()) <= 28 and is_clause(body):
        in_place = in_place[0].upper() + in_place[1:]
        in_place = in_place.rstrip(" .")
        out.append((in_place + "?", "in-place"))
        attributed = in_place[0].lower() + in_place[1:] if wh_start == 0 else _mid_sentence(in_place, chunk, name)
        out.append((f"According to {title}, {attributed}?", "attributed"))
        if topic and topic != title:
            out.append((f"Regarding {_mid_sentence(topic, chunk)}, {attributed}?", "topic"))
    return out


SUBJECT_ONLY = re.compile(r"^[\w'’.-]+(?: [\w'’.-]+){0,5}$")  # a short noun phrase: no clause, no comma
PLURAL_PRONOUNS = {"you", "we", "they", "i"}
NOT_VERBS = {"outside", "inside", "within", "without", "across", "about", "around", "between", "like", "near", "off",
             "than", "through", "under", "over", "into", "onto", "up", "down", "out", "above", "below", "beyond",
             "along", "against", "among", "past", "until", "via", "versus", "including", "only", "also", "not", "just",
             "even", "both", "either", "neither", "nearly", "almost", "least", "most", "approximately"}  # fmt: skip
AUXILIARY = re.compile(
    r"\b(?:is|are|was|were|be|has|have|had|does|do|did|can|could|must|will|would|should|may|"
    r"might)\b"
)
SUBORDINATORS = {"although", "though", "because", "unless", "once", "whether", "whilst", "until", "where"}
NOT_A_VERB = (STOP_START | NOT_UNITS | NUMBER_WORDS | NOT_VERBS) - {"has", "have"}  # the word before an object
NO_SUBJECT = (STOP_START - DETERMINERS - PLURAL_PRONOUNS) | SUBORDINATORS  # words a subject does not start with
MODALS = {"can", "must", "will", "should", "may", "might", "could", "would"}
PAST = {"won": "win", "made": "make", "took": "take", "gave": "give", "sold": "sell", "grew": "grow", "got": "get",
        "became": "become", "had": "have", "spent": "spend", "paid": "pay", "sent": "send", "kept": "keep",
        "held": "hold", "built": "build", "told": "tell", "began": "begin", "brought": "bring", "bought": "buy",
        "drew": "draw", "wrote": "write", "found": "find", "left": "leave", "met": "meet", "ran": "run",
        "did": "do"}  # fmt: skip
NP_END = (
    r"(?:of|for|in|on|at|per|to|by|with|from|after|before|within|during|over|under|each|every|a|an|and|or|if|"
    r"when|than|worldwide|later|earlier|ago|long|old)"
)
# "how many days" + " of annual leave" + " for every full month": the noun after "of" goes with the question word
WH_OF = re.compile(rf"^ of (?P<np>(?:[\w'’-]+ ){{0,3}}?[\w'’-]+)(?= {NP_END}\b|$)")


def _object(lead_in: str, wh: str, clause: str, chunk: str, name: str) -> tuple[str, str] | None:
    """A question that asks for a verb's object with "do" ("You earn 2.5 days of annual leave for every full month"
    -> "How many days of annual leave do you earn for every full month?"), and the end of its embedded form ("… you
    earn for every full month?"), the way people ask about policies, products and people alike. Only where the verb's
    form is certain: the present ("earn", "weighs"), a modal ("can borrow"), a past tense listed in PAST or a regular
    one whose stem is plain ("earned", "stopped"); "received" or "released" could be "receiv(e)", "releas(e)", so
    they are left to the in-place form."""
    words = lead_in.split()
    if len(words) < 2:
        return None
    verb = words[-1]
    modal = words[-2].lower() if len(words) >= 3 and words[-2].lower() in MODALS else ""
    subj = " ".join(words[: -2 if modal else -1])
    if not (SUBJECT_ONLY.match(subj) and re.fullmatch(r"[a-z]{2,}", verb)) or CLAUSE_WORD.search(subj.lower()):
        return None
    if any(re.fullmatch(r"[a-z]+s|[\d.,]+", w) for w in subj.split()[:-1]):
        return None  # "An update takes about 4 minutes over USB": a verb and a number inside what looked a subject
    if verb in NOT_A_VERB or verb.endswith(("ing", "ly")):
        return None
    opening = subj.split()[0].lower()
    if opening in NO_SUBJECT or subj.lower() in ("this", "that", "there"):
        return None  # "Although filmed in 1968…": no subject at all
    if AUXILIARY.search(clause):
        return None  # "Trips outside Finland must be approved…": the span is in the subject
    determined = opening in DETERMINERS  # "the employees", not "Replaces" that starts a sentence
    plural = subj.lower() in PLURAL_PRONOUNS or (determined and subj.endswith("s") and not subj.endswith(("ss", "us")))
    if modal:
        if verb.endswith(("ed", "ing")) or (verb.endswith("s") and not verb.endswith("ss")):
            return None
        aux, base = modal, verb
    elif verb in PAST or verb.endswith("ed"):
        aux, base = "did", PAST.get(verb) or _regular_stem(verb)
    elif verb in ("has", "does") or (verb.endswith("s") and not verb.endswith(("ss", "us", "is"))):
        if plural:
            return None
        aux, base = "does", {"has": "have", "does": "do"}.get(verb) or _third_person_stem(verb)
    elif plural:
        aux, base = "do", verb
    else:
        return None
    if not base:
        return None
    wh_phrase, rest = wh, clause
    counted = re.match(r" ((?:[A-Z][a-z]+ )?[a-z]{3,})\b", clause) if wh == "how many" else None
    if counted:  # "3 Pelican days": the noun counted goes with "how many"
        wh_phrase, rest = f"{wh} {counted[1]}", clause[counted.end() :]
    elif re.match(rf" (?!{NP_END}\b)[a-z]", clause):
        return None  # "uses UDP port 51820", "has 4 meeting rooms": the span names a larger noun
    of = WH_OF.match(rest) if wh.startswith("how many") else None
    if of:
        wh_phrase, rest = f"{wh_phrase} of {of['np']}", rest[of.end() :]
    subj = _mid_sentence(subj, chunk, name)
    stated = f"{modal} {verb}" if modal else verb
    return f"{wh_phrase[0].upper()}{wh_phrase[1:]} {aux} {subj} {base}{rest}?", f"{wh_phrase} {subj} {stated}{rest}?"


def _regular_stem(verb: str) -> str:
    """'earned' -> 'earn', 'stopped' -> 'stop', 'grossed' -> 'gross'; '' where the stem may want its 'e' back
    ('received', 'released') or British spelling doubled its 'l' ('travelled')."""
    stem = verb[:-2]
    if re.search(r"([bgmnpt])\1$", stem):
        return stem[:-1]
    if re.search(r"ell$", stem) and len(stem) > 5:
        return ""
    return stem if re.search(r"(?:ss|ll|dd|ff|ck|sh|[rnlscfpk]t|r[nmkd]|n[dk]|l[dp]|mp|sk)$", stem) else ""


def _third_person_stem(verb: str) -> str:
    """'weighs' -> 'weigh', 'applies' -> 'apply', 'reaches' -> 'reach', 'uses' -> 'use'."""
    if verb.endswith("ies") and len(verb) > 4:
        return verb[:-3] + "y"
    if re.search(r"(?:ss|sh|ch|x|z|o)es$", verb):
        return verb[:-2]
    return verb[:-1]


def _mid_sentence(phrase: str, chunk: str, name: str = "") -> str:
    """The phrase as it reads inside a question: the first word lower-cased when it is capitalised only because it
    starts the sentence, but never in `name`, the document's subject ("In His Steps" stays as it is); a pronoun
    alone ("it", "the film") becomes that subject."""
    if name and PRONOUN_START.fullmatch(phrase):
        return name
    if name and phrase.startswith(name):
        return phrase
    first = phrase.split(" ", 1)[0]
    if first.lower() in STOP_START or (
        first[:1].isupper() and not first.isupper() and re.search(rf"(?<![.!?] )\b{re.escape(first.lower())}\b", chunk)
    ):
        return first.lower() + phrase[len(first) :]
    return phrase


def _pick(text: str) -> int:
    return int(hashlib.md5(text.encode()).hexdigest(), 16) % len(OPENERS)
