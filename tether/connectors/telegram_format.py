"""The agent's Markdown, shown as Telegram HTML.

Coding agents write GitHub-flavoured Markdown; Telegram understands neither
that nor, reliably, its own "Markdown" modes (MarkdownV2 wants a dozen
characters escaped, which agent text never does). So the text is escaped and
only the constructs that cannot be misread are converted: code blocks, inline
code, **bold**, ~~strike~~, headings, links and bullets. Single `*` and `_`
stay as typed: in `*.py` or `snake_case` they are not emphasis.

Whatever Telegram still rejects is sent again as plain text by the connector.
"""

from __future__ import annotations

import re
from html import escape

__all__ = ["to_telegram_html"]

_FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+#.-]*)[ \t]*$")
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_BULLET = re.compile(r"^([ \t]*)[-*+][ \t]+")
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^\s)]+)\)")
# Bold and strike never span a tag: a pair that would straddle a link stays as typed.
_BOLD = re.compile(r"\*\*(?=\S)([^<>\n]+?)(?<=\S)\*\*")
_STRIKE = re.compile(r"~~(?=\S)([^<>\n]+?)(?<=\S)~~")


def to_telegram_html(text: str) -> str:
    """Convert Markdown to the HTML subset Telegram accepts (parse_mode HTML).

    Every `<`, `>` and `&` of the text is escaped; a code block left open (as
    in a reply still being written) is closed at the end.
    """
    out: list[str] = []
    code: list[str] | None = None
    language = ""
    for line in text.split("\n"):
        fence = _FENCE.match(line)
        if code is None:
            if fence:
                code, language = [], fence.group(1)
            else:
                out.append(_prose_line(line))
        elif fence and not fence.group(1):
            out.append(_code_block(code, language))
            code = None
        else:
            code.append(line)
    if code is not None:
        out.append(_code_block(code, language))
    return "\n".join(out)


def _code_block(lines: list[str], language: str) -> str:
    body = escape("\n".join(lines), quote=False)
    if language:
        return f'<pre><code class="language-{escape(language)}">{body}</code></pre>'
    return f"<pre>{body}</pre>"


def _prose_line(line: str) -> str:
    heading = _HEADING.match(line)
    if heading:
        return f"<b>{_inline(heading.group(1))}</b>"
    bullet = _BULLET.match(line)
    if bullet:
        return f"{bullet.group(1)}• {_inline(line[bullet.end() :])}"
    return _inline(line)


def _inline(text: str) -> str:
    parts: list[str] = []
    position = 0
    for match in _INLINE_CODE.finditer(text):
        parts.append(_emphasis(escape(text[position : match.start()], quote=False)))
        parts.append(f"<code>{escape(match.group(1), quote=False)}</code>")
        position = match.end()
    parts.append(_emphasis(escape(text[position:], quote=False)))
    return "".join(parts)


def _emphasis(escaped: str) -> str:
    escaped = _LINK.sub(_link, escaped)
    escaped = _BOLD.sub(r"<b>\1</b>", escaped)
    return _STRIKE.sub(r"<s>\1</s>", escaped)


def _link(match: re.Match[str]) -> str:
    url = match.group(2).replace('"', "&quot;")
    return f'<a href="{url}">{match.group(1)}</a>'
