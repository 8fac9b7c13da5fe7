"""Arithmetic the shell evaluates, which can run code: the arithmetic layer of the walk.

Bash evaluates arithmetic recursively: `(( x ))` with `x='a[$(cmd)]'` runs
cmd, and so do `[[ a -eq b ]]`, array subscripts, `let`, `declare -i` values
and C-style `for` headers. A `${x@P}` prompt expansion runs the substitutions
in x's value. This layer walks the code such a value holds (to find denials)
and reports the evaluation as a problem, so the line is never allowed.
"""

from __future__ import annotations

import re
from abc import abstractmethod

from tree_sitter import Node

from tether.core.safety.shell_frag import WordBuilder
from tether.core.safety.shell_model import WalkContext

__all__ = ["ArithmeticWalk", "unquoted"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ARITHMETIC_TESTS = frozenset({"-eq", "-ne", "-lt", "-le", "-gt", "-ge"})
# `$(cmd)` or backticks, not the arithmetic `$((`.
_COMMAND_IN_TEXT = re.compile(r"\$\((?!\()|`")
_WRITTEN_SUBSTITUTION = re.compile(r"\$\(([^()]*)\)|`([^`]*)`")
_CODE_IN_VALUE = re.compile(r"\$\(|`|\$\{|\[")
# An array element named in a string: `a[SUBSCRIPT]`, the subscript evaluated as arithmetic.
_ELEMENT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\[(.*)\]$", re.DOTALL)
_QUOTING = re.compile(r"""\\(.)|['"]""", re.DOTALL)
_NAME_TESTS = frozenset({"-v", "-R"})
"""`[[ -v NAME ]]`, `[[ -R NAME ]]`: the operand is a variable name, its subscript arithmetic."""
_SIMPLE_EXPANSION = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$")


def unquoted(text: str) -> str:
    """`text` with its quotes and escapes taken off: near enough to judge a value by."""
    return _QUOTING.sub(r"\1", text) if "'" in text or '"' in text or "\\" in text else text


class ArithmeticWalk(WordBuilder):
    """The arithmetic layer: judges what arithmetic contexts and prompt expansions run."""

    @abstractmethod
    def script(self, text: str, ctx: WalkContext) -> None:
        """Parse `text` as shell code and walk it."""

    def loop(self, node: Node, ctx: WalkContext) -> None:
        """A loop's header arithmetic, and a loop that starts background processes (a flood)."""
        if node.type == "c_style_for_statement":
            body = node.child_by_field_name("body")
            end = body.start_byte if body is not None else node.end_byte
            header = self.source[node.start_byte : end].decode("utf-8", "surrogatepass")
            self.arithmetic(header.partition("((")[2].rpartition("))")[0], ctx)
        body = node.child_by_field_name("body")
        if body is not None and _backgrounds(body):
            self.problem("a loop starts background processes: it may flood the machine")

    def arithmetic(
        self, text: str, ctx: WalkContext, *, hops: int = 0, literal: bool = False
    ) -> None:
        """Bash evaluates arithmetic recursively: a variable whose value is `a[$(cmd)]` runs cmd.

        Substitutions written in `text` are walked where they stand; this judges
        what the names in it hold: a value with code is walked and never allowed,
        a value only known at run time (`read x`, `printf -v x`) is never allowed.
        """
        if self.collecting or not text:
            return
        self.collect_now()
        if _COMMAND_IN_TEXT.search(text):
            self.problem("arithmetic evaluates the output of a command, which can run more code")
            if literal:
                # Quoted text (`let 'x=a[$(cmd)]'`) was not walked as code, but runs as such.
                self.script(": " + text, ctx._replace(depth=ctx.depth + 1, source="arithmetic"))
        for name in dict.fromkeys(_NAME.findall(text[:4096])):
            if name not in self.variables:
                continue
            values = self.variables.texts(name)
            if values is None:
                self.problem(
                    f"arithmetic evaluates ${name}, a value only known at run time: it can run code"
                )
                self.runtime_values(name, ctx)
                continue
            for value, _ in values:
                if _CODE_IN_VALUE.search(value):
                    self.problem(f"arithmetic evaluates code in the value of ${name}")
                    if "$(" in value or "`" in value or "<(" in value:
                        child = ctx._replace(depth=ctx.depth + 1, source="arithmetic")
                        self.script(": " + value, child)
                elif hops < 4 and _NAME.search(value):
                    self.arithmetic(value, ctx, hops=hops + 1)

    def runtime_values(self, name: str, ctx: WalkContext) -> None:
        """Walk the substitutions written in what assigns `name` at run time, to find denials."""
        child = ctx._replace(depth=ctx.depth + 1, source="arithmetic")
        for statement in self.variables.hints.get(name, ())[:8]:
            for match in _WRITTEN_SUBSTITUTION.finditer(statement):
                self.script(match.group(1) or match.group(2) or "", child)

    def arithmetic_tests(self, node: Node, ctx: WalkContext) -> None:
        """`[[ a -eq b ]]` evaluates both sides as arithmetic."""
        stack = [node]
        while stack:
            current = stack.pop()
            operator = current.child_by_field_name("operator")
            if (
                current.type == "binary_expression"
                and operator is not None
                and self.text(operator) in _ARITHMETIC_TESTS
            ):
                for side in ("left", "right"):
                    operand = current.child_by_field_name(side)
                    if operand is not None:
                        self.arithmetic(self.text(operand).lstrip("$"), ctx)
            stack.extend(current.named_children)

    def name_operand(self, operand: str, ctx: WalkContext, *, dynamic: bool = False) -> None:
        """A string a builtin takes as a variable name (`read`, `unset`, `[ -v`, `printf -v`).

        Bash evaluates the subscript of an array element named so as arithmetic:
        `[ -v 'a[$(cmd)]' ]` runs cmd, and so does `[ -v 'a[x]' ]` when x holds
        `$(cmd)`. A name only known at run time may hold such a subscript.
        """
        if self.collecting:
            return
        if dynamic:
            self.problem(
                "a variable name known only at run time is given to a builtin: "
                "a subscript in it is evaluated and can run code"
            )
        element = _ELEMENT_NAME.search(operand)
        if element is not None:
            self.arithmetic(element.group(1), ctx, literal=True)

    def name_tests(self, node: Node, ctx: WalkContext) -> None:
        """`[[ -v NAME ]]`: the operand is a variable name (`name_operand`), however written."""
        stack = [node]
        while stack:
            current = stack.pop()
            stack.extend(current.named_children)
            operator = current.child_by_field_name("operator")
            if current.type != "unary_expression" or operator is None:
                continue
            if self.text(operator) not in _NAME_TESTS:
                continue
            for operand in current.named_children[1:]:
                text = unquoted(self.text(operand))
                simple = _SIMPLE_EXPANSION.match(text)
                values = self.variables.texts(simple.group(1)) if simple is not None else None
                if values is not None:
                    for value, _ in values:
                        self.name_operand(value, ctx)
                elif operand.type in {"raw_string", "ansi_c_string"}:
                    self.name_operand(text.removeprefix("$"), ctx)  # (quoted: no expansion)
                else:
                    self.name_operand(text, ctx, dynamic="$" in text or "`" in text)

    def prompt(self, text: str, ctx: WalkContext) -> None:
        """`${x@P}` expands x as a prompt string: the substitutions in its value run."""
        if self.collecting:
            return
        self.problem("prompt expansion (@P) runs the command substitutions in a variable's value")
        name = _NAME.search(text)
        for value, _ in (self.variables.texts(name.group()) or ()) if name else ():
            if "$(" in value or "`" in value:
                self.script(": " + value, ctx._replace(depth=ctx.depth + 1, source="@P"))


def _backgrounds(node: Node) -> bool:
    """Whether `node` puts a command in the background (a `&` terminator, not `&&` or `>&`)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "&" and not current.is_named:
            return True
        stack.extend(current.children)
    return False
