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

`PlainLane` reads the commonest plain trees in one pass, without a plan: it
applies the walk's context rules as it reads and expands each command as it
meets it, appending the commands to the walk's list. It leaves (`NotPlain`) at
a node the plan would not read, and (`NeedsWalk`) at a command whose expansion
holds work of the walk's own (nested code, a problem, `let`'s arithmetic) or at
a walk limit; the caller then drops what it appended and hands the tree on to
the plan or the general walk. Only a lane that ran to the end gives commands,
and those are the ones the plan gives (the differential tests hold all three).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from tree_sitter import Language, Node

from tether.core.safety.shell_expand import expand_command, plain_command
from tether.core.safety.shell_model import (
    WALKED_PROGRAMS,
    Redirect,
    SimpleCommand,
    WalkContext,
    needs_walk,
)
from tether.core.safety.shell_words import Word, ansi_c, brace_expand

__all__ = [
    "NeedsWalk",
    "NotPlain",
    "PlainCommand",
    "PlainItem",
    "PlainLane",
    "PlainPipeline",
    "PlainReader",
    "PlainRedirected",
    "PlainSequence",
    "literal_output",
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
_BARE_COMMAND = re.compile(r"[A-Za-z0-9_./:,+%@=~^*?\[\] \t-]*")
"""A command's text of bare words: characters that need no quoting, and blanks."""
_GLOB = re.compile(r"[*?\[]")
_GLOB_CHARACTERS = frozenset("*?[")
"""The characters that make an unquoted word a glob."""


def _add(into: list[Word], raw: str, glob: bool, *, literal: bool) -> None:
    """`expand` of a one-candidate fragment with no NUL: its brace expansion when unquoted."""
    if literal and "{" in raw:
        pieces = brace_expand(raw) or [""]  # as `expand`: never no word at all
        into.extend(_new(Word, (piece, False, glob, False, (), ())) for piece in pieces)
    else:
        into.append(_new(Word, (raw, False, glob, False, (), ())))


def _bare(pieces: list[str], span: str) -> list[Word]:
    """The words of the bare texts `pieces` of a command's text `span` (`_bare_words`)."""
    if "*" in span or "?" in span or "[" in span:
        return [
            _new(Word, (piece, False, bool(_GLOB.search(piece)), False, (), ())) for piece in pieces
        ]
    return [_new(Word, (piece, False, False, False, (), ())) for piece in pieces]


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


class NotPlain(Exception):  # noqa: N818 -- a way out of the lane, not a failure
    """Raised at the first node the plain lane does not read: the general walk's tree."""


class NeedsWalk(Exception):  # noqa: N818 -- a way out of the lane, not a failure
    """Raised by `PlainLane` where a command needs the walk itself: the plan's tree."""


class PlainReader:
    """Builds plans for trees of one language; one instance serves every parse."""

    __slots__ = ("_bare_ids", "_categories", "_name_ids")

    def __init__(self, language: Language) -> None:
        self._categories = _categories(language)
        self._bare_ids = frozenset(
            kind for kind, category in self._categories.items() if category in (_WORD, _NUMBER)
        )
        """Kind ids of a word and a number (`_bare_words`)."""
        self._name_ids = frozenset(
            kind for kind, category in self._categories.items() if category == _NAME
        )

    def plan(self, root: Node, text: str) -> PlainItem | None:
        """The plan of the tree `root` parsed from ASCII `text`, or None when it is not plain.

        `root` must have no error node (the caller checks `has_error`).
        """
        try:
            return self._statement(root, text)
        except NotPlain:
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
        raise NotPlain

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
            raise NotPlain
        body = self._statement(children[0], text)
        redirects, stdin_file = self._redirects(children, text)
        return _new(PlainRedirected, (body, redirects, stdin_file))

    def _redirects(self, children: list[Node], text: str) -> tuple[tuple[Redirect, ...], bool]:
        """The file redirections after a redirected statement's body, and whether one is stdin."""
        redirects: list[Redirect] = []
        stdin_file = False
        categories = self._categories
        for child in children[1:]:
            category = categories.get(child.kind_id)
            if category == _SKIP:
                continue
            if category != _FILE_REDIRECT:
                raise NotPlain
            redirect = self._file_redirect(child, text)
            if redirect is not None:
                redirects.append(redirect)
                stdin_file = stdin_file or redirect.op in _STDIN_OPS
        return tuple(redirects), stdin_file

    def _command(self, node: Node, text: str) -> PlainCommand:
        words, redirects, stdin_file = self._read_command(node, text)
        return _new(
            PlainCommand,
            (tuple(words), tuple(redirects) if redirects is not None else None, stdin_file),
        )

    def _read_command(
        self, node: Node, text: str
    ) -> tuple[list[Word], list[Redirect] | None, bool]:
        """A command's words (the program word first), its redirections (None when it has
        no redirection node), and whether one of them reads stdin from a file.
        """
        span = text[node.start_byte : node.end_byte]
        if _BARE_COMMAND.fullmatch(span) is not None:
            bare = self._bare_words(node, span)
            if bare is not None:
                return bare, None, False
        return self._read_nodes(node, text)

    def _read_nodes(self, node: Node, text: str) -> tuple[list[Word], list[Redirect] | None, bool]:
        """`_read_command` node by node: any command the plan reads."""
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
                    raise NotPlain
                inner = child.children
                if len(inner) != 1:
                    raise NotPlain
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
            raise NotPlain  # redirections alone, or assignments: the general walk's
        if words:
            program.extend(words)
        return program, redirects, stdin_file

    def _bare_words(self, node: Node, span: str) -> list[Word] | None:
        """The words of a command of bare words (`git status -s`), read from its text `span`.

        Its words are `_bare_texts`, each the word `_read_command` builds: its text, a
        glob when it holds `*?[`. None when the command is not of bare words.
        """
        pieces = self._bare_texts(node, span)
        return None if pieces is None else _bare(pieces, span)

    def _bare_texts(self, node: Node, span: str) -> list[str] | None:
        """The texts of the words of a command of bare words, read from its text `span`.

        `span` holds only characters that need no quoting, blanks between them: no
        quote, backslash, `$`, brace, redirection, comment or NUL. When the command's
        children are a name holding a word (or a number) and then words and numbers, one
        per blank-separated piece of `span`, they are those pieces in order (a word never
        holds a blank; pieces that touch are a `concatenation`, which is not read here).
        None when the children are anything else (a concatenation, an assignment).
        """
        pieces = span.split()
        children = node.children
        if len(children) != len(pieces):
            return None
        name = children[0]
        if name.kind_id not in self._name_ids or name.child_count != 1:
            return None
        bare = self._bare_ids
        if name.children[0].kind_id not in bare:
            return None
        for index in range(1, len(children)):
            if children[index].kind_id not in bare:
                return None
        return pieces

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
                raise NotPlain
            _add(into, raw, "*" in raw or "?" in raw or "[" in raw, literal=True)
        elif category == _RAW:
            inner = text[node.start_byte + 1 : node.end_byte - 1]
            if "\x00" in inner:
                raise NotPlain
            into.append(_new(Word, (inner, False, False, False, (), ())))
        elif category == _NUMBER:
            raw = text[node.start_byte : node.end_byte]
            if "{" in raw or "\x00" in raw:
                raise NotPlain
            into.append(_new(Word, (raw, False, False, False, (), ())))
        elif category == _CONCAT:
            joined, glob, literal = self._concatenation(node, text)
            _add(into, joined, glob, literal=literal)
        else:
            raise NotPlain

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
                    raise NotPlain
                glob = glob or "*" in raw or "?" in raw or "[" in raw
                parts.append(raw)
            elif category == _RAW:
                parts.append(text[child.start_byte + 1 : child.end_byte - 1])
                literal = False
            elif category == _NUMBER:
                parts.append(text[child.start_byte : child.end_byte])  # never a glob
            else:
                raise NotPlain  # an unnamed piece (`$`), a string, an expansion, ...
        joined = "".join(parts)
        if "\x00" in joined:
            raise NotPlain
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
                    raise NotPlain
                descriptor = child
            elif target is None:
                target, target_category = child, category
            else:
                raise NotPlain  # words the grammar hung on the redirect: the general walk's
        if target is None:
            return None  # `>&-` is one token: a descriptor closed, no file
        op = op or ">"
        if descriptor is not None:
            # The descriptor is the first child, before the operator: the `descriptor` field.
            op = text[descriptor.start_byte : descriptor.end_byte] + op
        glob = False
        if target_category == _WORD:
            target_text = text[target.start_byte : target.end_byte]
            if "\\" in target_text:
                raise NotPlain
            glob = not _GLOB_CHARACTERS.isdisjoint(target_text)
        elif target_category == _NUMBER:
            target_text = text[target.start_byte : target.end_byte]
        elif target_category == _RAW:
            target_text = text[target.start_byte + 1 : target.end_byte - 1]
        elif target_category == _CONCAT:
            target_text, glob, _ = self._concatenation(target, text)
        else:
            raise NotPlain
        if op.endswith("&") and (target_text.isdigit() or target_text == "-"):
            return None  # `2>&1`, `>&-`: descriptors, not files
        # A glob target names a file only known at run time (`Walk.file_redirect`).
        return _new(Redirect, (op, target_text, glob, (), glob))


class PlainLane(PlainReader):
    """Walks the commonest plain trees in one pass: what `Walk.plain` does with their plan.

    One instance serves one parser (it holds the state of the pass it is in; a pass
    never starts another: it leaves the lane wherever the walk would nest).
    """

    __slots__ = ("_into", "_max_level", "_text")

    def __init__(self, language: Language) -> None:
        super().__init__(language)
        self._text = ""
        self._into: list[SimpleCommand] = []
        self._max_level = 0

    def walk(
        self,
        root: Node,
        text: str,
        ctx: WalkContext,
        into: list[SimpleCommand],
        *,
        limit: int,
        level: int,
        max_level: int,
    ) -> None:
        """Append to `into` the commands of the tree `root` parsed from ASCII `text`.

        `root` has no error node; `ctx` names no function and the walk knows none
        defined (a call to one would be replaced). `level` is the walk's nesting
        count and `max_level` its limit; `limit` is how many commands `into` may
        hold. Raises `NotPlain` or `NeedsWalk` part way, with `into` holding some of
        the commands: the caller drops them.
        """
        # (The list stays referenced until the next pass: the caller keeps it anyway.)
        self._text, self._into, self._max_level = text, into, max_level
        self._lane_statement(root, ctx, level + 1)
        # `emit` records a command only while fewer than `limit` are recorded: the
        # last one recorded was within the limit exactly when all of them are.
        if len(into) > limit:
            raise NeedsWalk

    def _lane_statement(self, node: Node, ctx: WalkContext, level: int) -> None:
        """One statement at nesting `level`: `Walk.plain` of the item `_statement` plans."""
        if level > self._max_level:
            raise NeedsWalk  # the walk reports the statement too deep
        categories = self._categories
        category = categories.get(node.kind_id)
        if category == _COMMAND:
            self._lane_command(node, ctx)
        elif category in (_PROGRAM, _LIST):
            # A sequence: its named children in turn, comments skipped.
            for child in node.children:
                category = categories.get(child.kind_id)
                if category == _COMMAND and level < self._max_level:
                    self._lane_command(child, ctx)  # the commonest, without a dispatch
                elif category != _SKIP and category != _COMMENT:
                    self._lane_statement(child, ctx, level + 1)
        elif category == _PIPELINE:
            self._lane_pipeline(node, ctx, level)
        elif category == _REDIRECTED:
            self._lane_redirected(node, ctx, level)
        else:
            raise NotPlain

    def _lane_pipeline(self, node: Node, ctx: WalkContext, level: int) -> None:
        """`Walk.pipeline`: each stage in a subshell, a later one piped from those before.

        The stages are the named children (a comment among them is a stage the plan
        does not read): two or more, so the first runs in a subshell too.
        """
        categories = self._categories
        into = self._into
        stage_ctx = ctx if ctx.subshell else ctx._replace(subshell=True)
        upstream: tuple[str, ...] = ()
        before = -1
        level += 1
        direct = level <= self._max_level
        for child in node.children:
            category = categories.get(child.kind_id)
            if category == _SKIP:
                continue
            if before >= 0:
                # A later stage: piped from the programs before it, fed what the one
                # before it prints when that is known (`literal_output`).
                printed, upstream = stage_output(into, before, upstream)
                stage_ctx = ctx.piped(printed, upstream)
            before = len(into)
            if category == _COMMAND and direct:
                self._lane_command(child, stage_ctx)
            else:
                self._lane_statement(child, stage_ctx, level)
        if before < 0 or node.named_child_count < 2:
            raise NotPlain  # (never: the grammar's pipeline has two stages or more)

    def _lane_redirected(self, node: Node, ctx: WalkContext, level: int) -> None:
        """`body > out 2>&1`: the body in the context of the redirections after it."""
        children = node.children
        if not children:
            raise NotPlain
        redirects, stdin_file = self._redirects(children, self._text)
        inner = ctx._replace(redirects=ctx.redirects + redirects, extra_args=())
        if stdin_file:
            inner = inner._replace(stdin="file", stdin_text=None, piped_from=())
        self._lane_statement(children[0], inner, level + 1)

    def _lane_command(self, node: Node, ctx: WalkContext) -> None:
        """A command: `Walk.plain` of its `PlainCommand`, then `Walk.emit` of its words."""
        text = self._text
        span = text[node.start_byte : node.end_byte]
        words: list[Word] | None = None
        if _BARE_COMMAND.fullmatch(span):
            pieces = self._bare_texts(node, span)
            if pieces is not None:
                if "*" not in span and "?" not in span and "[" not in span and not ctx.extra_args:
                    # Words that are their texts and nothing more (no glob): the record
                    # is `plain_command`'s, with no `Word` built (`expand_command`'s
                    # `_plain` of them builds the same one).
                    command = plain_command(pieces, ctx)
                    if command is not None and (
                        command.program not in WALKED_PROGRAMS or not needs_walk(command)
                    ):
                        self._into.append(command)
                        return
                words = _bare(pieces, span)
        if words is None:  # `_read_command`
            words, redirects, stdin_file = self._read_nodes(node, text)
            if redirects:
                # (No redirection left, `2>&1` alone, adds nothing to the enclosing ones.)
                ctx = ctx._replace(redirects=ctx.redirects + tuple(redirects))
                if stdin_file:
                    ctx = ctx._replace(stdin="file", stdin_text=None, piped_from=())
        if ctx.extra_args:
            words.extend(ctx.extra_args)
            ctx = ctx._replace(extra_args=())
        expansion = expand_command(words, ctx, (), ())
        command = expansion.command
        if (
            expansion.problems
            or expansion.nested
            or (command.program in WALKED_PROGRAMS and needs_walk(command))
        ):
            raise NeedsWalk  # nested code, problems, arithmetic: `emit`'s own work
        self._into.append(command)


def literal_output(commands: Sequence[SimpleCommand]) -> str | None:
    """What a stage prints when that is known: `echo`/`printf` with static words, a heredoc."""
    if len(commands) != 1:
        return None
    command = commands[0]
    if command.dynamic_program or command.dynamic_args or command.glob_args:
        return None  # (`echo .e*` prints the names the glob matches, known at run time)
    # Escapes are decoded: `echo -e`, zsh's and sh's echo and printf's format all do.
    if command.program == "echo":
        text = " ".join(a for a in command.args if not _ECHO_OPTION.fullmatch(a))
        return ansi_c(text) if "\\" in text else text
    if command.program == "printf" and command.args:
        text = " ".join(command.args)
        return ansi_c(text) if "\\" in text else text
    if command.program == "pwd":
        return "."
    if command.program == "cat" and not command.args and command.stdin_text is not None:
        return command.stdin_text
    return None


def stage_output(
    into: Sequence[SimpleCommand], before: int, upstream: tuple[str, ...]
) -> tuple[str | None, tuple[str, ...]]:
    """What the stage after the commands `into[before:]` of a pipeline is fed (when
    known: `literal_output`), and the programs it is piped from, `upstream` with theirs."""
    if len(into) == before + 1:
        command = into[before]
        program = command.program
        if program:
            upstream += (program,)
        return (literal_output((command,)) if program in PRINTERS else None), upstream
    produced = into[before:]
    upstream += tuple([c.program for c in produced if c.program])
    return literal_output(produced), upstream


_ECHO_OPTION = re.compile(r"-[neE]+")
PRINTERS = frozenset({"echo", "printf", "pwd", "cat"})
"""The programs whose output `literal_output` may know."""
