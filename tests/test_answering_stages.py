"""Stages 2–4 (evidence, decide, compose) and the whole pipeline over a retriever stand-in: no Chroma, no model.

Vectors are made by hand so each test says exactly which unit is closest to the question."""

from __future__ import annotations

import numpy as np
import pytest

from assistant import prompts
from assistant.answering.compose import as_asked, lead_line, point_limit, select_points, suggestions
from assistant.answering.decide import Decision, decide
from assistant.answering.evidence import NearbyQuestion, Unit, candidate_spans, carry_remedies, gather_units
from assistant.answering.pipeline import AnswerPipeline, with_following
from assistant.answering.question import Question
from assistant.config import Settings
from assistant.glossary import Glossary
from assistant.records import AnchoredQuestion
from assistant.textnorm import content_tokens, split_sentences
from assistant.types import AskRequest, Chunk, Passage

HURDLE = (
    "When bringing people together, something will appear to be going wrong. If that degenerates into apportioning "
    "blame, the project is all but doomed. Participants need to understand that problems are a necessary part of "
    "finding the best way to work."
)
LEAD_IN = "As one enabler said about the very long and winding early days of the programme: "


def passage(
    text: str, section: str = "The hurdles › The blame game", kind: str = "narrative", start: int = 0
) -> Passage:
    return Passage(
        id=f"c{start}", source="r.md", section=section, kind=kind, order=start, start=start,
        end=start + len(text), text=text, score=1.0,
    )  # fmt: skip


def question(text: str = "How do we stop the blame?", intent: str = "how", **kw: object) -> Question:
    values: dict[str, object] = {"wanted": None, **kw}
    return Question(asked=text, cleaned=text, standalone=text, intent=intent, **values)  # type: ignore[arg-type]


def unit(text: str, sim: float, advice: bool = False, p: Passage | None = None, index: int = 0) -> Unit:
    p = p or passage(text, start=index * 1000)
    vector = np.zeros(8, dtype=np.float32)
    vector[index % 8] = 1.0
    return Unit(p, p.start, p.end, text, vector, sim, 0.0, 0.0, 0.0, advice, (0,))


def test_a_sentence_that_points_back_only_comes_with_the_one_before() -> None:
    spans = candidate_spans(HURDLE)
    texts = [HURDLE[a:b] for a, b, _ in spans]
    assert not any(t.startswith("If that") for t in texts)
    assert any(t.startswith("When bringing") and "apportioning blame" in t for t in texts)


def test_a_paragraph_opening_on_but_is_quoted_from_after_the_connective() -> None:
    text = "But while studies say relationships matter, there is a strong tendency to build programme boards instead."
    assert [text[a:b] for a, b, _ in candidate_spans(text)] == [text.removeprefix("But ")]
    pointing = "But this is why programme boards and sign-off procedures keep getting in the way of progress."
    assert candidate_spans(pointing) == []


def test_a_lead_in_ending_with_a_colon_carries_what_follows() -> None:
    text = LEAD_IN + "Relationships matter more than structures in every partnership we have seen."
    spans = candidate_spans(text)
    assert all(not text[a:b].rstrip().endswith(":") for a, b, _ in spans)


def test_units_are_whole_sentences_of_8_to_70_words() -> None:
    for a, b, _ in candidate_spans(HURDLE + " Short one. " + "word " * 80 + "end."):
        assert 8 <= len(HURDLE[a:b].split()) <= 70 or b > len(HURDLE)


def test_front_matter_and_name_lists_are_never_evidence_unless_names_are_asked_for() -> None:
    title = passage(
        "A report by Richard Vize for the Systems Leadership Steering Group", "The Revolution will be Improvised"
    )
    names = passage(
        "Jo Cleary, Ruth Kennedy, Allison Trimble and many more named people", "Appendix B – Enablers", "list", 500
    )
    vectors = {title.id: [1.0] + [0.0] * 7, names.id: [1.0] + [0.0] * 7}
    q_vec = np.eye(8, dtype=np.float32)[0]
    args = (vectors, q_vec, lambda s: 0.0, [])
    assert gather_units(question("What does it say about trust?", "what"), [title, names], *args) == []
    assert len(gather_units(question("Who wrote the report?", "who"), [title, names], *args)) == 2


def test_asked_who_a_long_list_of_names_is_one_point_labelled_as_a_list() -> None:
    names = " ".join(f"- Firstname{i} Surname{i}\n" for i in range(40))
    listing = passage("We thank the enablers who did this vital work:\n\n" + names, "Appendix B – Enablers", "list")
    vectors = {listing.id: [1.0] + [0.0] * 7}
    args = (vectors, np.eye(8, dtype=np.float32)[0], lambda s: 0.0, [])
    (only,) = gather_units(question("Who were the enablers?", "who"), [listing], *args)
    assert only.text == listing.text.rstrip()
    assert gather_units(question("What did the enablers do?", "what"), [listing], *args) == []
    from assistant.answering.compose import citations_for, point_line

    assert point_line(citations_for([only])[0]).startswith("- The report lists: “We thank")


def test_a_passage_ending_on_a_colon_is_read_with_what_follows() -> None:
    section = "Appendix B – Enablers"
    chunks = [
        Chunk(id="k0", source="r.md", section=section, kind="narrative", order=0, start=0, end=5, text="Thanks to:"),
        Chunk(id="k1", source="r.md", section=section, kind="list", order=1, start=6, end=11, text="- A B"),
    ]
    read = with_following([Passage(**chunks[0].model_dump(), score=1.0)], chunks, remedies=False)
    assert [p.id for p in read] == ["k0", "k1"]


def test_decide_three_ways() -> None:
    settings = Settings(not_covered_below=0.3, answered_from=0.5)
    strong, weak, none = [unit(HURDLE, 0.7)], [unit(HURDLE, 0.4)], [unit(HURDLE, 0.1)]
    assert decide(question(), strong, settings).coverage == "answered"
    assert decide(question(), weak, settings) == Decision(
        "partial", "best evidence 0.40 is below 0.50", "indirect", 0.4
    )
    assert decide(question(), none, settings).coverage == "not_covered"
    assert decide(question(), [], settings).coverage == "not_covered"


def test_weak_evidence_with_no_passage_question_near_is_not_covered() -> None:
    settings = Settings(not_covered_below=0.3, answered_from=0.5)
    weak = [unit(HURDLE, 0.38)]
    assert decide(question(), weak, settings, nearest_asked=0.3).coverage == "not_covered"
    assert decide(question(), weak, settings, nearest_asked=0.6).coverage == "partial", "a question near: partial"
    assert decide(question(), weak, settings, nearest_asked=None).coverage == "partial", "no passage questions"
    assert decide(question(), [unit(HURDLE, 0.7)], settings, nearest_asked=0.3).coverage == "answered"


def test_a_figure_the_evidence_does_not_state_makes_the_answer_partial() -> None:
    settings = Settings(not_covered_below=0.3, answered_from=0.5)
    asks = question("How much time should leaders set aside?", wanted="figure")
    decision = decide(asks, [unit(HURDLE, 0.8)], settings)
    assert (decision.coverage, decision.shortfall) == ("partial", "figure")
    off = settings.model_copy(update={"answer_type_rule": False})
    assert decide(asks, [unit(HURDLE, 0.8)], off).coverage == "answered"


def test_an_unknown_name_is_partial_or_not_covered_never_answered() -> None:
    settings = Settings(not_covered_below=0.3, answered_from=0.5)
    asks = question("How does Buurtzorg work?", unknown_terms=["Buurtzorg"])
    assert decide(asks, [unit(HURDLE, 0.9)], settings).coverage == "partial"
    assert decide(asks, [unit(HURDLE, 0.45)], settings).coverage == "not_covered"


def test_how_questions_put_advice_before_the_problem() -> None:
    problem = unit("Everyone blames everyone else whenever the pilot wobbles in our area.", 0.80, index=0)
    advice = unit("Leaders need to treat each setback as learning and approach it with curiosity.", 0.75, True, index=1)
    chosen = select_points([problem, advice], question(), limit=3, floor=0.3)
    assert chosen[0] is advice
    why = select_points([problem, advice], question("Why do we blame?", "why"), limit=3, floor=0.3)
    assert why[0] is problem


def test_a_follow_up_does_not_repeat_the_points_just_quoted() -> None:
    shown = unit("Everyone blames everyone else whenever the pilot wobbles in our area.", 0.80, index=0)
    pair = unit(shown.text + " Leaders need to treat each setback as learning.", 0.79, index=1)
    new = unit("Leaders need to treat each setback as learning and approach it with curiosity.", 0.75, True, index=2)
    follow_up = question("And what about her?", already_quoted=(shown.text,))
    assert select_points([shown, pair, new], follow_up, limit=3, floor=0.3) == [new]
    assert select_points([shown], follow_up, limit=3, floor=0.3) == [shown], "unless nothing else is left"


def test_a_name_the_report_only_lists_is_partial_and_said_so() -> None:
    settings = Settings(not_covered_below=0.3, answered_from=0.5)
    asks = question("What did Coventry do about blame?", unknown_terms=["Coventry"], listed_terms=["Coventry"])
    decision = decide(asks, [unit(HURDLE, 0.9)], settings)
    assert (decision.coverage, decision.shortfall) == ("partial", "listed")
    assert "names Coventry only in its lists" in lead_line(decision, ["A"])


def test_a_point_takes_its_next_sentence_when_the_pair_scores_as_well() -> None:
    p = passage(HURDLE)
    first = Unit(p, 0, 40, "When bringing people together, …", np.eye(8)[0], 0.8, 0.0, 0.0, 0.0, False, (1,))
    pair = Unit(p, 0, 90, "When bringing … doomed.", np.eye(8)[1], 0.79, 0.0, 0.0, 0.0, False, (1, 2))
    assert select_points([first, pair], question("What is blame?", "what"), limit=1, floor=0.3) == [pair]
    weak_pair = Unit(p, 0, 90, "When bringing … doomed.", np.eye(8)[1], 0.6, 0.0, 0.0, 0.0, False, (1, 2))
    assert select_points([first, weak_pair], question("What is blame?", "what"), limit=1, floor=0.3) == [first]


def test_suggestions_drop_the_speaker_they_were_written_for() -> None:
    assert as_asked("Finance director here: why lay groundwork first?") == "Why lay groundwork first?"
    assert as_asked("New chief executive here — do people matter more than structures?").startswith("Do people")
    assert as_asked("Why: is this a question?") == "Why: is this a question?"


def test_a_partial_answer_quotes_fewer_points() -> None:
    assert point_limit(Decision("answered", ""), 4) == 4
    assert point_limit(Decision("partial", "", "indirect"), 4) == 2
    assert point_limit(Decision("partial", "", "indirect"), 1) == 1


def test_points_stay_within_the_window_of_the_best() -> None:
    best = unit("The best sentence that answers the question about blame directly.", 0.8, index=0)
    far = unit("A sentence that is only loosely about partnerships in general terms.", 0.5, index=1)
    assert select_points([best, far], question("What is blame?", "what"), limit=4, floor=0.3) == [best]


def test_the_lead_line_says_what_a_partial_answer_lacks() -> None:
    assert lead_line(Decision("answered", ""), ["A"]) == prompts.ANSWER_LEAD.format(sections="*A*")
    partial = lead_line(Decision("partial", "", "figure"), ["A", "B"])
    assert partial.startswith("The report doesn't give a figure") and "*A* and *B*" in partial
    names = lead_line(Decision("partial", "", "names", missing=("Buurtzorg",)), ["A"])
    assert "doesn't mention Buurtzorg" in names


def test_suggestions_follow_the_intent_and_the_cited_section() -> None:
    p = passage(HURDLE)
    from assistant.answering.compose import citations_for

    cites = citations_for([unit(HURDLE, 0.8, p=p)])
    why = suggestions(question("Why do we blame?", "why"), cites)
    assert prompts.SUGGEST_WHAT_HELPED in why and 2 <= len(why) <= 3
    how = suggestions(question(), cites)
    assert prompts.SUGGEST_WHY_HARD in how and any("The blame game" in s for s in how)
    assert suggestions(question(), []) == []


def test_a_placeholder_it_opens_a_unit_of_its_own() -> None:
    text = "Budgets are tight everywhere this year. It is crucial that leaders keep focused on the needs of users."
    assert any(text[a:b].startswith("It is crucial") for a, b, _ in candidate_spans(text))
    pointing = "Budgets are tight everywhere this year. It took a long time for leaders to see the needs of users."
    assert not any(pointing[a:b].startswith("It took") for a, b, _ in candidate_spans(pointing))


def test_advice_that_follows_a_problem_is_worth_as_much_as_the_problem() -> None:
    problem_p = passage("Money is tight and long projects feel like a distraction from the day job.", start=10)
    remedy_p = passage("It is crucial that leaders keep their focus on what users need most.", start=11)
    problem = Unit(problem_p, 10, 80, problem_p.text, np.zeros(8), 0.7, 0.0, 0.0, 0.0, False, (0,))
    remedy = Unit(remedy_p, 11, 80, remedy_p.text, np.zeros(8), 0.3, 0.0, 0.0, 0.0, True, (0,))
    carry_remedies([problem, remedy])
    assert remedy.sim == pytest.approx(0.7)
    elsewhere = passage(remedy_p.text, section="The building blocks for success", start=11)
    unrelated = Unit(elsewhere, 11, 80, elsewhere.text, np.zeros(8), 0.3, 0.0, 0.0, 0.0, True, (0,))
    carry_remedies([problem, unrelated])
    assert unrelated.sim == pytest.approx(0.3), "only within one section"


def test_how_questions_also_read_the_paragraph_after_the_best_passages() -> None:
    section = "The hurdles › No time for strategy"
    chunks = [
        Chunk(id=f"k{i}", source="r.md", section=section, kind=kind, order=i, start=i * 100, end=i * 100 + 5,
              text=f"text {i}")
        for i, kind in enumerate(["narrative", "quote", "narrative", "narrative"])
    ]  # fmt: skip
    read = with_following([Passage(**chunks[0].model_dump(), score=1.0)], chunks)
    assert [p.id for p in read] == ["k0", "k2"], "past a quote set inside the argument"


def test_suggestions_are_questions_the_report_answers_nearby() -> None:
    p = passage(HURDLE)
    from assistant.answering.compose import citations_for

    cites = citations_for([unit(HURDLE, 0.8, p=p)])
    nearby = [
        NearbyQuestion("How do we stop blaming each other?", p.id, 0, 20, 0.99),  # the question again
        NearbyQuestion("What helps a partnership through its first setbacks?", "c5000", 5000, 5080, 0.7),
        NearbyQuestion("Is blame ever useful?", p.id, p.start, p.start + 30, 0.6),  # already quoted
        NearbyQuestion("Who funds the enablers?", "c7000", 7000, 7040, 0.2),  # off topic
    ]
    got = suggestions(question("How do we stop the blame?"), cites, nearby)
    assert got[0] == "What helped a partnership through its first setbacks?".replace("helped", "helps")
    assert "Is blame ever useful?" not in got and "Who funds the enablers?" not in got
    assert 2 <= len(got) <= 3


class StandInRetriever:
    """What the pipeline needs of a retriever, over two hand-made passages (no Chroma, no model)."""

    def __init__(self) -> None:
        self.passages = [
            passage(HURDLE),
            passage("Capital cities are not discussed anywhere in this report text.", "Other", start=900),
        ]
        self.vocabulary = content_tokens(" ".join(p.text for p in self.passages) + " stop partners coventry")
        self.listed_only = frozenset(content_tokens("Coventry"))  # as if named only in an appendix
        self.glossary = Glossary.packaged()

        class Index:
            def embeddings_for(_, ids: list[str]) -> dict[str, list[float]]:
                out = {}
                for record in ids:
                    chunk, _, sentence = record.partition("#s")
                    axis = 0 if chunk == "c0" else 7
                    vec = np.zeros(8)
                    vec[axis] = 1.0
                    vec[1 + int(sentence or 0) % 3] = 0.2 if chunk == "c0" else 0.0
                    out[record] = (vec / np.linalg.norm(vec)).tolist()
                return out

        self.index = Index()

    def search(self, query: str, k: int, filters: object = None) -> list[Passage]:
        return self.passages[:k]

    def expand(self, query: str) -> str:
        return query

    def dense_text(self, query: str) -> str:
        return query

    def embed_query(self, query: str) -> list[float]:
        vec = np.zeros(8)
        vec[0 if "blame" in query.lower() else 6] = 1.0
        return vec.tolist()

    def heading_scorer(self, query_vector: np.ndarray):  # type: ignore[no-untyped-def]
        return lambda section: 0.0

    def idf(self):  # type: ignore[no-untyped-def]
        return lambda token: 1.0

    @property
    def chunks(self) -> list[Chunk]:
        return [
            Chunk(**p.model_dump(exclude={"score", "dense_rank", "bm25_rank", "dense_score"})) for p in self.passages
        ]

    def questions_of(self, chunk_id: str) -> list[tuple[AnchoredQuestion, np.ndarray]]:
        """The blame passage answers one leader's question, about its last sentence."""
        if chunk_id != "c0":
            return []
        start = HURDLE.index("Participants")
        return [
            (AnchoredQuestion("What should partners expect when a pilot wobbles?", start, len(HURDLE)), np.eye(8)[0])
        ]


@pytest.fixture
def pipeline() -> AnswerPipeline:
    settings = Settings(not_covered_below=0.3, answered_from=0.5)
    return AnswerPipeline(StandInRetriever(), settings)  # type: ignore[arg-type]


def test_the_pipeline_answers_with_verbatim_points_and_streams_the_same(pipeline: AnswerPipeline) -> None:
    answer = pipeline.answer(AskRequest(question="How do we stop the blame between partners?"))
    assert answer.coverage == "answered" and answer.answerable and answer.citations
    for c in answer.citations:
        assert HURDLE[c.start : c.end] == c.quote and not c.quote.startswith("If that")
    events = list(pipeline.stream(AskRequest(question="How do we stop the blame between partners?")))
    assert [e[0] for e in events][0] == "meta" and events[-1][0] == "done"
    assert "".join(d["text"] for n, d in events if n == "delta") == events[-1][1]["answer"]


def test_the_pipeline_refuses_with_related_passages_not_citations(pipeline: AnswerPipeline) -> None:
    answer = pipeline.answer(AskRequest(question="What is the capital of France?"))
    assert (answer.coverage, answer.answerable, answer.citations) == ("not_covered", False, [])
    assert answer.answer == prompts.REFUSAL_MESSAGE and answer.closest


def test_sentence_records_line_up_with_the_splitter() -> None:
    assert len(split_sentences(HURDLE)) == 3
