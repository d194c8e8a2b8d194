"""The data model: decks, cards, blueprints and the study items derived from cards."""

from __future__ import annotations

from dataclasses import dataclass, field

CARD_TYPES = ("basic", "reverse", "cloze", "mcq", "multi", "truefalse", "typed", "scenario")
SUB_TYPES = ("mcq", "multi", "truefalse", "typed")
OBJECTIVE_TYPES = ("mcq", "multi", "truefalse", "typed")
EXAM_TYPES = ("mcq", "multi", "truefalse")


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of a choice item."""

    text: str
    correct: bool = False
    why: str | None = None

    def __reduce__(self) -> tuple[object, ...]:
        return (Choice, (self.text, self.correct, self.why))


@dataclass(frozen=True, slots=True)
class Card:
    """One card as written in a deck; a scenario holds its sub-items in `questions`."""

    id: str
    type: str
    line: int = 0
    domain: str | None = None
    task: str | None = None
    tags: tuple[str, ...] = ()
    explanation: str | None = None
    source: str | None = None
    front: str | None = None
    back: str | None = None
    text: str | None = None
    question: str | None = None
    choices: tuple[Choice, ...] = ()
    statement: str | None = None
    truth: bool | None = None
    prompt: str | None = None
    answer: str | None = None
    accept: tuple[str, ...] = ()
    vignette: str | None = None
    questions: tuple[Card, ...] = ()

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling slotted dataclasses field by field is slow; the deck cache pickles many cards.
        return (Card, tuple(getattr(self, name) for name in _CARD_FIELDS))

    @property
    def stem(self) -> str:
        """The text that asks the question, whatever the type."""
        for value in (self.question, self.statement, self.prompt, self.front, self.text, self.vignette):
            if value:
                return value
        return ""

    @property
    def key_indexes(self) -> tuple[int, ...]:
        """Indexes of the correct choices."""
        return tuple(i for i, c in enumerate(self.choices) if c.correct)


_CARD_FIELDS = tuple(Card.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class Deck:
    """A loaded deck file."""

    id: str
    title: str
    path: str
    cards: tuple[Card, ...]
    description: str | None = None
    source: str | None = None
    blueprint: str | None = None
    bundled: bool = False


@dataclass(frozen=True, slots=True)
class Task:
    """A task statement of a blueprint domain."""

    id: str
    title: str


@dataclass(frozen=True, slots=True)
class Domain:
    """A blueprint domain with its relative weight."""

    id: str
    title: str
    weight: float
    tasks: tuple[Task, ...] = ()


@dataclass(frozen=True, slots=True)
class Blueprint:
    """An exam: its domains and its default form."""

    id: str
    title: str
    path: str
    domains: tuple[Domain, ...]
    questions: int
    minutes: int
    pass_percent: float
    weights_note: str | None = None
    pass_note: str | None = None

    def domain(self, domain_id: str) -> Domain | None:
        """The domain with this id, if any."""
        for d in self.domains:
            if d.id == domain_id:
                return d
        return None


@dataclass(frozen=True, slots=True)
class Item:
    """One thing to study: a card, one direction of a reverse card, one cloze deletion or one
    scenario sub-item. `key` is its progress key within the deck."""

    deck_id: str
    key: str
    card: Card  # the card (or scenario sub-item) holding the content
    kind: str  # basic | reverse | cloze | mcq | multi | truefalse | typed
    parent: str  # the card id: siblings share it
    domain: str | None = None
    task: str | None = None
    cloze_index: int = 0  # 1-based deletion number for cloze items
    reverse: bool = False
    vignette: str | None = None  # set for scenario sub-items
    tags: tuple[str, ...] = field(default=())

    @property
    def objective(self) -> bool:
        """True when the program can grade the answer itself."""
        return self.kind in OBJECTIVE_TYPES

    @property
    def uid(self) -> str:
        """Globally unique id: deck id and progress key."""
        return f"{self.deck_id}:{self.key}"
