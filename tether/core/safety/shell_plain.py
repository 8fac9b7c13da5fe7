"""The plain lane: the words and structure of a line made only of plain words.

Most commands an agent runs are plain: words and single-quoted strings joined
by `&&`, `||`, `;`, `&` and pipes, with file redirections (`git status`,
`pytest -q 2>&1 | tail -n 25`). For such a tree the general walk's machinery
(fragments, variable lookups, substitution scans, glued words, context
rebuilding per node) does nothing: every word is its text, brace-expanded when
unquoted (`cp f{,.bak}`, `{}` stays `{}`). This module reads
such a tree in one pass over its nodes, by kind id, and builds a plan: nested
named tuples holding the words as `Word`s, the redirects as `Redirect`s, and the
structure (sequence, pipeline, redirected statement, command). The walk then
carries the plan out with the same context rules and the same `emit` as the
general walk, so the commands are the same objects, field for field (a
differential test runs both lanes over every corpus line and generated lines).

A plan is built only when every node is one this lane reads exactly as the
general walk does; anything else (a `$`-expansion, a double-quoted string, an
assignment, a subshell, a here-document, a backslash, a `{1..3}` node, a comment
inside a pipeline, non-ASCII text, ...) gives None and the general walk runs instead.
Building the plan has no side effects, so giving up part way costs nothing but
the time spent.
"""

from __future__ import annotations

from typing import NamedTuple

from tree_sitter import Language, Node

from tether.core.safety.shell_model import Redirect
from tether.core.safety.shell_words import Word, brace_expand

__all__ = [
    "PlainCommand",
    "PlainItem",
    "PlainPipeline",
    "PlainReader",
    "PlainRedirected",
    "PlainSequence",
]


class PlainCommand(NamedTuple):
    """A simple command: its words (the program word first) and its own redirections."""

    words: tuple[Word, ...]
    redirects: tuple[Redirect, ...] | None
    """None when the command node holds no redirection at all."""
    stdin_file: bool
    """A redirection reads stdin from a file (`< in`)."""


class PlainSequence(NamedTuple):
    """A `program` or a `list`: each item in turn, in the same context."""

    items: tuple[PlainItem, ...]


class PlainPipeline(NamedTuple):
    """A pipeline's stages."""

    stages: tuple[PlainItem, ...]


class PlainRedirected(NamedTuple):
    """A statement with redirections after it (`make > log 2>&1`)."""

    body: PlainItem
    redirects: tuple[Redirect, ...]
    stdin_file: bool


PlainItem = PlainCommand | PlainSequence | PlainPipeline | PlainRedirected

# Node categories, by kind id.
_SKIP, _COMMENT, _PROGRAM, _LIST, _PIPELINE, _REDIRECTED, _COMMAND = range(7)
_NAME, _WORD, _RAW, _NUMBER, _CONCAT, _FILE_REDIRECT, _DESCRIPTOR = range(7, 14)

_NAMED = {
    "comment": _COMMENT,
    "program": _PROGRAM,
    "list": _LIST,
    "pipeline": _PIPELINE,
    "redirected_statement": _REDIRECTED,
    "command": _COMMAND,
    "command_name": _NAME,
    "word": _WORD,
    "raw_string": _RAW,
    "number": _NUMBER,
    "concatenation": _CONCAT,
    "file_redirect": _FILE_REDIRECT,
    "file_descriptor": _DESCRIPTOR,
}
# Every unnamed node is skipped where the general walk reads named children only
# (sequences, pipelines, commands); the redirect operator is read from them.
_STDIN_OPS = frozenset({"<", "0<"})


def _add(into: list[Word], raw: str, glob: bool, *, literal: bool) -> None:
    """`expand` of a one-candidate fragment with no NUL: its brace expansion when unquoted."""
    if literal and "{" in raw:
        pieces = brace_expand(raw) or [""]  # as `expand`: never no word at all
        into.extend(_new(Word, (piece, False, glob, False, (), ())) for piece in pieces)
    else:
        into.append(_new(Word, (raw, False, glob, False, (), ())))


# `Word` and `Redirect` built straight from their fields (every field given, in order):
# the named tuple's generated `__new__` costs a Python call per word.
_new = tuple.__new__


def _categories(language: Language) -> dict[int, int]:
    """Kind id -> category for every node kind the lane reads (aliases included)."""
    categories: dict[int, int] = {}
    for kind_id in range(language.node_kind_count):
        name = language.node_kind_for_id(kind_id)
        if not language.node_kind_is_named(kind_id):
            categories[kind_id] = _SKIP
        elif name is not None and name in _NAMED:
            categories[kind_id] = _NAMED[name]
    return categories


class _NotPlainError(Exception):
    """Raised inside the plan builder at the first node the lane does not read."""


class PlainReader:
    """Builds plans for trees of one language; one instance serves every parse."""

    __slots__ = ("_categories",)

    def __init__(self, language: Language) -> None:
        self._categories = _categories(language)

    def plan(self, root: Node, text: str) -> PlainItem | None:
        """The plan of the tree `root` parsed from ASCII `text`, or None when it is not plain.

        `root` must have no error node (the caller checks `has_error`).
        """
        try:
            return self._statement(root, text)
        except _NotPlainError:
            return None

    def _statement(self, node: Node, text: str) -> PlainItem:
        category = self._categories.get(node.kind_id)
        if category == _COMMAND:
            return self._command(node, text)
        if category in (_PROGRAM, _LIST):
            return _new(PlainSequence, (self._children(node, text, pipeline=False),))
        if category == _PIPELINE:
            return _new(PlainPipeline, (self._children(node, text, pipeline=True),))
        if category == _REDIRECTED:
            return self._redirected(node, text)
        raise _NotPlainError

    def _children(self, node: Node, text: str, *, pipeline: bool) -> tuple[PlainItem, ...]:
        items: list[PlainItem] = []
        categories = self._categories
        for child in node.children:
            category = categories.get(child.kind_id)
            if category == _COMMAND:
                items.append(self._command(child, text))  # the commonest, without a dispatch
            elif category == _SKIP:
                continue
            elif category == _COMMENT and not pipeline:
                continue  # the general walk skips a comment between statements
            else:
                # (in a pipeline a comment is a stage of its own: that the general walk reads)
                items.append(self._statement(child, text))
        return tuple(items)

    def _redirected(self, node: Node, text: str) -> PlainRedirected:
        """`body > out 2>&1`: the grammar's body is the first child, the redirects follow."""
        children = node.children
        if not children:
            raise _NotPlainError
        body = self._statement(children[0], text)
        redirects: list[Redirect] = []
        stdin_file = False
        categories = self._categories
        for child in children[1:]:
            category = categories.get(child.kind_id)
            if category == _SKIP:
                continue
            if category != _FILE_REDIRECT:
                raise _NotPlainError
            redirect = self._file_redirect(child, text)
            if redirect is not None:
                redirects.append(redirect)
                stdin_file = stdin_file or redirect.op in _STDIN_OPS
        return _new(PlainRedirected, (body, tuple(redirects), stdin_file))

    def _command(self, node: Node, text: str) -> PlainCommand:
        program: list[Word] | None = None
        """`program_words` of a `command_name` holding one word: the words it expands to."""
        words: list[Word] = []
        redirects: list[Redirect] | None = None
        stdin_file = False
        categories = self._categories
        for child in node.children:
            category = categories.get(child.kind_id)
            if category == _WORD:
                # The commonest argument, inline: what `_words` adds for it.
                raw = text[child.start_byte : child.end_byte]
                if "\\" in raw or "{" in raw or "\x00" in raw:
                    self._words(child, category, text, words)
                else:
                    glob = "*" in raw or "?" in raw or "[" in raw
                    words.append(_new(Word, (raw, False, glob, False, (), ())))
            elif category == _NAME:
                if program is not None:
                    raise _NotPlainError
                inner = child.children
                if len(inner) != 1:
                    raise _NotPlainError
                name = inner[0]
                kind = categories.get(name.kind_id)
                raw = text[name.start_byte : name.end_byte]
                if kind == _WORD and "\\" not in raw and "{" not in raw and "\x00" not in raw:
                    glob = "*" in raw or "?" in raw or "[" in raw
                    program = [_new(Word, (raw, False, glob, False, (), ()))]
                else:
                    program = []
                    self._words(name, kind, text, program)
            elif category == _FILE_REDIRECT:
                if redirects is None:
                    redirects = []
                redirect = self._file_redirect(child, text)
                if redirect is not None:
                    redirects.append(redirect)
                    stdin_file = stdin_file or redirect.op in _STDIN_OPS
            elif category != _SKIP and category != _COMMENT:
                self._words(child, category, text, words)
        if program is None:
            raise _NotPlainError  # redirections alone, or assignments: the general walk's
        return _new(
            PlainCommand,
            ((*program, *words), tuple(redirects) if redirects is not None else None, stdin_file),
        )

    def _words(self, node: Node, category: int | None, text: str, into: list[Word]) -> None:
        """The words one argument node is, as the general walk builds them, added to `into`.

        An unquoted word with no backslash or NUL is its text, a glob when it holds
        `*?[`, brace-expanded (`expand` of `unquoted_word`; without a `{`, `plain_word`);
        a single-quoted string is its inside, never a glob nor expanded (`quoted_word`);
        a number is its text; a concatenation of words, numbers and single-quoted
        strings is their texts joined, a glob when a word piece is one, brace-expanded only when
        every piece is a word (`Fragment.join`, then `expand`).
        """
        if category == _WORD:
            raw = text[node.start_byte : node.end_byte]
            if "\\" in raw or "\x00" in raw:
                raise _NotPlainError
            _add(into, raw, "*" in raw or "?" in raw or "[" in raw, literal=True)
        elif category == _RAW:
            inner = text[node.start_byte + 1 : node.end_byte - 1]
            if "\x00" in inner:
                raise _NotPlainError
            into.append(_new(Word, (inner, False, False, False, (), ())))
        elif category == _NUMBER:
            raw = text[node.start_byte : node.end_byte]
            if "{" in raw or "\x00" in raw:
                raise _NotPlainError
            into.append(_new(Word, (raw, False, False, False, (), ())))
        elif category == _CONCAT:
            joined, glob, literal = self._concatenation(node, text)
            _add(into, joined, glob, literal=literal)
        else:
            raise _NotPlainError

    def _concatenation(self, node: Node, text: str) -> tuple[str, bool, bool]:
        """The joined text of a concatenation, whether it is a glob, whether it is unquoted."""
        parts: list[str] = []
        glob = False
        literal = True
        categories = self._categories
        for child in node.children:
            category = categories.get(child.kind_id)
            if category == _WORD:
                raw = text[child.start_byte : child.end_byte]
                if "\\" in raw:
                    raise _NotPlainError
                glob = glob or "*" in raw or "?" in raw or "[" in raw
                parts.append(raw)
            elif category == _RAW:
                parts.append(text[child.start_byte + 1 : child.end_byte - 1])
                literal = False
            elif category == _NUMBER:
                parts.append(text[child.start_byte : child.end_byte])  # never a glob
            else:
                raise _NotPlainError  # an unnamed piece (`$`), a string, an expansion, ...
        joined = "".join(parts)
        if "\x00" in joined:
            raise _NotPlainError
        return joined, glob, literal

    def _file_redirect(self, node: Node, text: str) -> Redirect | None:
        """What `Walk.file_redirect` makes of a redirection with one plain target."""
        op = ""
        descriptor: Node | None = None
        target: Node | None = None
        target_category: int | None = None
        categories = self._categories
        for child in node.children:
            category = categories.get(child.kind_id)
            if category == _SKIP:
                op += text[child.start_byte : child.end_byte]
            elif category == _DESCRIPTOR:
                if descriptor is not None or target is not None or op:
                    raise _NotPlainError
                descriptor = child
            elif target is None:
                target, target_category = child, category
            else:
                raise _NotPlainError  # words the grammar hung on the redirect: the general walk's
        if target is None:
            return None  # `>&-` is one token: a descriptor closed, no file
        op = op or ">"
        if descriptor is not None:
            # The descriptor is the first child, before the operator: the `descriptor` field.
            op = text[descriptor.start_byte : descriptor.end_byte] + op
        if target_category == _WORD:
            target_text = text[target.start_byte : target.end_byte]
            if "\\" in target_text:
                raise _NotPlainError
        elif target_category == _NUMBER:
            target_text = text[target.start_byte : target.end_byte]
        elif target_category == _RAW:
            target_text = text[target.start_byte + 1 : target.end_byte - 1]
        elif target_category == _CONCAT:
            target_text = self._concatenation(target, text)[0]
        else:
            raise _NotPlainError
        if op.endswith("&") and (target_text.isdigit() or target_text == "-"):
            return None  # `2>&1`, `>&-`: descriptors, not files
        return _new(Redirect, (op, target_text, False, ()))
