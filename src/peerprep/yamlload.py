"""Safe YAML composition with locations: nodes keep line and column, nothing is ever constructed.

Only the node graph is built (libyaml's C parser when available). Scalars are all resolved as
strings; the deck validator interprets them by the field's expected type, so `no` stays text where
text is expected and explicit tags such as `!!python/object` are refused, never run.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import Problem

MAX_BYTES = 20 * 1024 * 1024
MAX_EXPANDED_NODES = 2_000_000

STR_TAG = "tag:yaml.org,2002:str"
SEQ_TAG = "tag:yaml.org,2002:seq"
MAP_TAG = "tag:yaml.org,2002:map"
SAFE_TAGS = {
    STR_TAG,
    SEQ_TAG,
    MAP_TAG,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:null",
}

_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_KIND_TAG = {ScalarNode: STR_TAG, SequenceNode: SEQ_TAG, MappingNode: MAP_TAG}


class _Loader(_Base):  # type: ignore[misc]
    """Composer whose resolver is a constant: types are decided by the schema, not by YAML 1.1."""

    def resolve(self, kind: type, value: object, implicit: object) -> str:
        return _KIND_TAG[kind]


@dataclass(frozen=True, slots=True)
class Document:
    """A composed YAML document (root node, or None when empty) and the problems found reading it."""

    path: str
    root: Node | None
    problems: list[Problem]


def _problem(path: str, line: int, col: int, rule: str, message: str) -> Problem:
    return Problem(path, line, col, "error", rule, message)


def _position_of(data: bytes, offset: int) -> tuple[int, int]:
    before = data[:offset]
    line = before.count(b"\n") + 1
    col = offset - (before.rfind(b"\n") + 1) + 1
    return line, col


def decode(path: str, data: bytes) -> tuple[str | None, list[Problem]]:
    """Decode file bytes as UTF-8 text, refusing oversize, binary, BOM-marked or mis-encoded files."""
    if len(data) > MAX_BYTES:
        return None, [_problem(path, 1, 1, "yaml-limits", f"file is {len(data):,} bytes; the limit is {MAX_BYTES:,}")]
    if data.startswith(b"\xef\xbb\xbf"):
        return None, [_problem(path, 1, 1, "yaml-limits", "file starts with a byte-order mark (BOM); save it as UTF-8 without BOM")]
    nul = data.find(b"\x00")
    if nul >= 0:
        line, col = _position_of(data, nul)
        return None, [_problem(path, line, col, "yaml-limits", "binary file (NUL byte): not a YAML deck")]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        line, col = _position_of(data, exc.start)
        return None, [_problem(path, line, col, "yaml-limits", f"not UTF-8 text (byte 0x{data[exc.start]:02x})")]


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _expanded_size(root: Node) -> int:
    """Nodes the document would have with every alias expanded (memoised, so cheap to compute).

    A recursive alias (a node containing itself) counts as infinitely large.
    """
    memo: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            visiting.discard(key)
            memo[key] = min(MAX_EXPANDED_NODES + 1, 1 + sum(memo[id(c)] for c in _children(node)))
            continue
        if key in memo:
            continue
        if key in visiting:
            return MAX_EXPANDED_NODES + 1
        visiting.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in visiting:
                return MAX_EXPANDED_NODES + 1
            if id(child) not in memo:
                stack.append((child, False))
    return memo[id(root)]


def compose(path: str, text: str) -> Document:
    """Compose one YAML document from `text`, returning problems instead of raising."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        if "\t" in text and "\\t" in message.replace("'\\t'", "\\t") or "found character '\\t'" in message:
            message += " (tabs are not allowed for indentation; use spaces)"
        if "composer" in type(exc).__module__ and "document" in message and "single" in message:
            message = "more than one YAML document in the file (`---`); a deck is one document"
        return Document(path, None, [_problem(path, line, col, "yaml-syntax", message)])
    except yaml.YAMLError as exc:  # ReaderError and friends carry a position, not a mark
        position = getattr(exc, "position", None)
        line, col = (1, 1)
        if isinstance(position, int):
            before = text[:position]
            line = before.count("\n") + 1
            col = position - (before.rfind("\n") + 1) + 1
        reason = getattr(exc, "reason", None) or str(exc).splitlines()[0]
        return Document(path, None, [_problem(path, line, col, "yaml-syntax", " ".join(str(reason).split()))])
    except RecursionError:
        return Document(path, None, [_problem(path, 1, 1, "yaml-limits", "the document is nested too deeply")])
    finally:
        loader.dispose()
    if root is None:
        return Document(path, None, [])
    problems: list[Problem] = []
    if "&" in text and _expanded_size(root) > MAX_EXPANDED_NODES:
        problems.append(_problem(path, 1, 1, "yaml-limits", "aliases expand to more than 2,000,000 nodes (an alias bomb?)"))
        return Document(path, None, problems)
    return Document(path, root, problems)


def where(node: Node) -> tuple[int, int]:
    """1-based line and column of a node ((0, 0) when unknown: the fast path keeps no marks)."""
    mark = node.start_mark
    if mark is None:
        return 0, 0
    return mark.line + 1, mark.column + 1


def unsafe_tag(node: Node) -> str | None:
    """The tag of a node when it is not one of the plain YAML types, else None."""
    tag = node.tag
    if tag in SAFE_TAGS or tag is None:
        return None
    return "!!" + tag[len("tag:yaml.org,2002:"):] if tag.startswith("tag:yaml.org,2002:") else str(tag)
