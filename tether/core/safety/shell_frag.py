"""Words as the shell builds them from tree-sitter nodes, and what the line's variables hold.

`WordBuilder` is the layer of the walk that turns a node into a `Fragment`:
quotes and escapes removed, ANSI-C strings decoded, expansions looked up in
the line's `Variables`, `$IFS` splitting and brace expansion marked. Nodes
that run code on the way (command substitutions, arithmetic, prompt
expansion) are handed to the layers above through the abstract hooks.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence

import tree_sitter_bash
from tree_sitter import Language, Node, Query, QueryCursor

from tether.core.safety.shell_model import WalkContext
from tether.core.safety.shell_variables import NO_VARIABLES, Variables
from tether.core.safety.shell_words import (
    Fragment,
    Word,
    ansi_c,
    expand,
    plain_word,
    quoted_word,
    unescape_double,
    unquoted_word,
)

__all__ = ["LANGUAGE", "WordBuilder"]

LANGUAGE = Language(tree_sitter_bash.language())

_VARIABLES_QUERY = Query(
    LANGUAGE,
    """
    (variable_assignment name: (variable_name) @name value: (_)? @value)
    (variable_assignment name: (subscript name: (variable_name) @element))
    (declaration_command (word) @flag)
    (for_statement variable: (variable_name) @var value: (_)* @values)
    (command name: (command_name (word) @cmd) argument: (_)* @arg)
    """,
)
# Commands that assign the variables named in their arguments at run time.
_ASSIGNING_COMMANDS = frozenset({"read", "mapfile", "readarray", "getopts", "printf", "let"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPECIAL_EXPANSION = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])\}$")
# `${x[@]}`, `${x[*]}`, `${x[2]}`, `${x[-1]}`: an array's elements, or one of them.
_ELEMENT_EXPANSION = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\[(@|\*|-?[0-9]{1,6})\]\}$")
# `${!name}` and `${!name:-x}`, not `${!prefix*}` (names only) or `${!array[@]}` (keys).
_INDIRECT_EXPANSION = re.compile(r"^\$\{!([A-Za-z_][A-Za-z0-9_]*)(?:[:#%/^,][^}]*)?\}$")
_DEFAULT_EXPANSION = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-=+?])(.*)\}$", re.DOTALL)
_SLICE_EXPANSION = re.compile(
    r"^\$\{(?:[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?|[@*]|[0-9]+):(?![-=+?])(.*)\}$", re.DOTALL
)
# `${V:=w}`, `${V=w}`, `${A[k]:=w}`: assigns w to V (or the element) when V is unset or empty.
_ASSIGNING_EXPANSION = re.compile(
    r"^\$\{([A-Za-z_][A-Za-z0-9_]*)(?:\[[^\]]*\])?:?=(.*)\}$", re.DOTALL
)


class WordBuilder(ABC):
    """The word layer of one walk: the source being walked and what its variables hold.

    The immutable starting values are class attributes: a walk is built per parse, and
    only what a walk changes becomes its own attribute.
    """

    source: bytes = b""
    source_text: str | None = None
    """`source` as text when it is ASCII (byte offsets are then character offsets)."""
    variables: Variables = NO_VARIABLES
    uncollected: Node | None = None
    """The tree whose variables are collected only if arithmetic needs them (`collect_now`)."""
    collecting: bool = False
    """Collecting variables: nodes are read for their values, no command is walked."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, message: str) -> None:
        self.problems.append(message)

    @abstractmethod
    def substitution(self, node: Node, ctx: WalkContext) -> Fragment:
        """Walk a `$(...)` or `<(...)` and return the word it stands for."""

    @abstractmethod
    def scan(self, node: Node, ctx: WalkContext) -> None:
        """Walk the commands hidden in `node`."""

    @abstractmethod
    def arithmetic(
        self, text: str, ctx: WalkContext, *, hops: int = 0, literal: bool = False
    ) -> None:
        """Judge the code arithmetic `text` evaluates."""

    @abstractmethod
    def prompt(self, text: str, ctx: WalkContext) -> None:
        """Judge a `${x@P}` prompt expansion."""

    @abstractmethod
    def assigned(self, name: str, value: str, ctx: WalkContext) -> None:
        """Judge an assignment made by a word (`${V:=w}`) as the statement `name=value`."""

    def text(self, node: Node) -> str:
        ascii_text = self.source_text
        if ascii_text is not None:
            return ascii_text[node.start_byte : node.end_byte]  # a slice, not a decode
        return self.source[node.start_byte : node.end_byte].decode("utf-8", "surrogatepass")

    def collect_now(self) -> None:
        """Collect the variables of a script whose collection was put off until needed.

        A script with no `$` reads a variable only in arithmetic (by its bare name), so
        the walk puts collecting off until arithmetic is evaluated. Collecting reads
        only the tree and the source (without a `$` no value refers to another
        variable), so the result is the same whenever it is done.
        """
        root = self.uncollected
        if root is not None:
            self.uncollected = None
            self.variables = self._collect_variables(root)

    def _collect_variables(self, root: Node) -> Variables:
        """Variables assigned in this script and every static value they take (`Variables`)."""
        known = Variables()
        self.collecting = True
        try:
            self._collect_into(known, root)
        finally:
            self.collecting = False
        return known

    def _collect_into(self, known: Variables, root: Node) -> None:
        references = False
        for _, captures in QueryCursor(_VARIABLES_QUERY).matches(root):
            if "name" in captures:
                name_node = captures["name"][0]
                name = self.text(name_node)
                values = captures.get("value")
                append = _appends(name_node.parent)
                if values and values[0].type == "array":
                    elements = [self.frag(n, quoted=False) for n in values[0].named_children]
                    known.remember_array(name, elements, append=append)
                else:
                    frag = self.frag(values[0], quoted=False) if values else Fragment([""])
                    known.remember(name, frag, append=append)
            elif "element" in captures:
                # `x[0]=rm` changes what `$x` and `"${x[@]}"` hold: not followed, unknown.
                known.forget(self.text(captures["element"][0]))
            elif "flag" in captures:
                flag = self.text(captures["flag"][0])
                # `declare -n ref=x`: assigning ref assigns x, or whatever ref names later.
                references = references or (flag.startswith("-") and "n" in flag)
            elif "var" in captures:
                name = self.text(captures["var"][0])
                for node in captures.get("values", []):
                    known.remember(name, self.frag(node, quoted=False), expanded=True)
                if not captures.get("values"):
                    known.forget(name)  # `for x; do` iterates over "$@"
            elif "cmd" in captures and self.text(captures["cmd"][0]) in _ASSIGNING_COMMANDS:
                # The whole statement, here-string included: what the value may hold.
                command_name = captures["cmd"][0].parent
                statement = command_name.parent if command_name is not None else None
                holder = statement.parent if statement is not None else None
                if holder is not None and holder.type == "redirected_statement":
                    statement = holder
                for node in captures.get("arg", []):
                    word = self.text(node)
                    if _NAME.fullmatch(word):
                        known.forget(word)
                        if statement is not None:
                            known.hints.setdefault(word, []).append(self.text(statement))
        if references:
            known.forget_all()

    def program_words(self, nodes: Sequence[Node], ctx: WalkContext) -> list[list[Word]]:
        """The program word(s), once per value it may take (`$X` with X=ls or X=rm)."""
        if len(nodes) == 1 and nodes[0].type == "word":
            # One plain word has one value: what `program_words_from` would make of it.
            word = plain_word(self.text(nodes[0]))
            if word is not None:
                return [[word]]
        frags = [self.frag(node, quoted=False, ctx=ctx) for node in nodes if node.is_named]
        return self.program_words_from(frags)

    def program_words_from(self, frags: list[Fragment]) -> list[list[Word]]:
        if len(frags) != 1 or len(frags[0].texts) < 2:
            return [[word for frag in frags for word in expand(frag)]]
        frag = frags[0]
        texts = [text for text in frag.texts if text] or [""]
        options = []
        for text in texts:
            single = Fragment(
                [text],
                dynamic=True,
                glob=frag.glob,
                literal=frag.literal,
                split=frag.split,
                sources=frag.sources,
                variables=frag.variables,
            )
            options.append(expand(single))
        return options

    def glue(self, nodes: Sequence[Node], ctx: WalkContext) -> Fragment:
        """One word the grammar split in two at a `$` (`rm$IFS-rf$IFS/`): `$` + `IFS/`."""
        flat: list[Node] = []
        for node in nodes:
            flat.extend(node.children if node.type == "concatenation" else [node])
        result = Fragment([""])
        index = 0
        while index < len(flat):
            child = flat[index]
            following = flat[index + 1] if index + 1 < len(flat) else None
            if not child.is_named and child.type == "$" and following is not None:
                text = self.text(following)
                name = _NAME.match(text) if following.type == "word" else None
                if name:
                    result.join(self.variable(name.group(), quoted=False))
                    result.join(unquoted_word(text[name.end() :]))
                    index += 2
                    continue
            if child.is_named:
                result.join(self.frag(child, quoted=False, ctx=ctx))
            else:
                result.join(Fragment([self.text(child)]))
            index += 1
        return result

    def words_of(self, nodes: Sequence[Node], ctx: WalkContext | None = None) -> list[Word]:
        words: list[Word] = []
        for node in nodes:
            if not node.is_named:
                continue
            kind = node.type
            if kind == "word":
                word = plain_word(self.text(node))
                if word is not None:
                    words.append(word)  # what `expand(self.frag(node))` gives (`plain_word`)
                    continue
            elif kind == "raw_string":
                word = quoted_word(self.text(node)[1:-1])
                if word is not None:
                    words.append(word)  # what `expand(self.frag(node))` gives (`quoted_word`)
                    continue
            elif kind == "number":
                # Never a glob; one word unless a `{` would be brace-expanded.
                text = self.text(node)
                word = quoted_word(text) if "{" not in text else None
                if word is not None:
                    words.append(word)
                    continue
            frag = self.frag(node, quoted=False, ctx=ctx)
            words.extend(expand(frag))
        return words

    def frag(self, node: Node, *, quoted: bool, ctx: WalkContext | None = None) -> Fragment:
        """Build the word `node` stands for; commands inside it are walked on the way."""
        kind = node.type
        if kind == "word":
            return unquoted_word(self.text(node)) if not quoted else Fragment([self.text(node)])
        if kind in {"number", "regex", "test_operator", "file_descriptor", "heredoc_start"}:
            return Fragment([self.text(node)], literal=not quoted)
        if kind == "raw_string":
            return Fragment([self.text(node)[1:-1]], literal=False)
        if kind == "ansi_c_string":
            return Fragment([ansi_c(self.text(node)[2:-1])], literal=False)
        if kind == "string":
            return self.string(node, ctx)
        if kind == "translated_string":
            # `$"..."` is the double-quoted string, translated by the locale (a no-op here).
            inner = next((c for c in node.named_children if c.type == "string"), None)
            return self.string(inner, ctx) if inner is not None else Fragment([""], dynamic=True)
        if kind == "concatenation":
            result = Fragment([""])
            for child in node.children:
                if child.is_named:
                    result.join(self.frag(child, quoted=quoted, ctx=ctx))
                else:
                    result.join(Fragment([self.text(child)], literal=not quoted))
            return result
        if kind == "simple_expansion":
            name = self.text(node)[1:]
            return self.variable(name, quoted=quoted)
        if kind == "expansion":
            return self.expansion(node, quoted=quoted, ctx=ctx)
        if kind in {"command_substitution", "process_substitution"}:
            return self.substitution(node, ctx or WalkContext())
        if kind == "arithmetic_expansion":
            self.scan(node, ctx or WalkContext())
            self.arithmetic(self.text(node), ctx or WalkContext())
            return Fragment(["0"], literal=False)
        if kind in {"extglob_pattern"}:
            return Fragment([self.text(node)], glob=True)
        if kind == "brace_expression":
            return Fragment([self.text(node)])
        # Anything else (arrays, subscripts, odd tokens): its text, and any command in it.
        self.scan(node, ctx or WalkContext())
        return Fragment([self.text(node)], dynamic="$" in self.text(node) or "`" in self.text(node))

    def string(self, node: Node, ctx: WalkContext | None) -> Fragment:
        result = Fragment([""], literal=False)
        end = node.start_byte + 1
        for child in node.children:
            if child.start_byte > end:
                # The grammar leaves some text (newlines) between the children.
                gap = self.source[end : child.start_byte].decode("utf-8", "surrogatepass")
                result.join(Fragment([unescape_double(gap)], literal=False))
            end = max(end, child.end_byte)
            if child.type == '"':
                continue
            if child.type == "string_content":
                result.join(Fragment([unescape_double(self.text(child))], literal=False))
            elif child.is_named:
                part = self.frag(child, quoted=True, ctx=ctx)
                part.literal = False
                result.join(part)
            else:
                result.join(Fragment([self.text(child)], literal=False))
        result.literal = False
        return result

    def variable(self, name: str, *, quoted: bool) -> Fragment:
        return self.variables.value(name, quoted=quoted)

    def expansion(self, node: Node, *, quoted: bool, ctx: WalkContext | None) -> Fragment:
        text = self.text(node)
        self.scan(node, ctx or WalkContext())
        if "[" in text:
            index = text.partition("[")[2].rpartition("]")[0]
            if index not in {"@", "*"}:
                self.arithmetic(index, ctx or WalkContext())
        if text.endswith("@P}"):
            self.prompt(text, ctx or WalkContext())
        if "=" in text:
            assigning = _ASSIGNING_EXPANSION.match(text)
            if assigning:
                name, word = assigning.groups()
                self.assigned(name, re.sub(r"""\\(.)|['"]""", r"\1", word), ctx or WalkContext())
        if ":" in text:
            sliced = _SLICE_EXPANSION.match(text)
            if sliced:
                # `${s:OFFSET:LENGTH}`: both are arithmetic (`${s:x}` with x='a[$(cmd)]').
                self.arithmetic(sliced.group(1), ctx or WalkContext())
        simple = _SPECIAL_EXPANSION.match(text)
        if simple:
            return self.variable(simple.group(1), quoted=quoted)
        element = _ELEMENT_EXPANSION.match(text)
        if element:
            return self.variables.element(element.group(1), element.group(2), quoted=quoted)
        indirect = _INDIRECT_EXPANSION.match(text)
        if indirect:
            return self.variables.indirect(indirect.group(1))
        default = _DEFAULT_EXPANSION.match(text)
        if default:
            name, operator, word = default.groups()
            value = self.variable(name, quoted=quoted)
            alternative = unquoted_word(re.sub(r"[\"']", "", word))
            if operator.endswith(("-", "=")):
                value.texts = list(dict.fromkeys(value.texts + alternative.texts))
            value.dynamic = True
            return value
        names = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)
        return Fragment([""], dynamic=True, literal=False, variables=names[:1])


def _appends(assignment: Node | None) -> bool:
    """`x+=value` or `x+=(items)`: adds to what x holds."""
    if assignment is None:
        return False
    return any(not child.is_named and child.type == "+=" for child in assignment.children)
