"""to_telegram_html: the agent's Markdown as the HTML subset Telegram accepts."""

from __future__ import annotations

import pytest

from tether.connectors.telegram_format import to_telegram_html

from .fake_bot_api import _check_html


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        pytest.param("plain text", "plain text", id="plain"),
        pytest.param("a < b && c > d", "a &lt; b &amp;&amp; c &gt; d", id="escapes"),
        pytest.param("**bold** text", "<b>bold</b> text", id="bold"),
        pytest.param("~~gone~~", "<s>gone</s>", id="strike"),
        pytest.param("run `pytest -q` now", "run <code>pytest -q</code> now", id="inline-code"),
        pytest.param("`<b>`", "<code>&lt;b&gt;</code>", id="inline-code-escaped"),
        pytest.param("`**not bold**`", "<code>**not bold**</code>", id="no-bold-in-code"),
        pytest.param("## Summary", "<b>Summary</b>", id="heading"),
        pytest.param("# C#", "<b>C#</b>", id="heading-keeps-sharp"),
        pytest.param("- first\n  * second", "• first\n  • second", id="bullets"),
        pytest.param("*.py and snake_case", "*.py and snake_case", id="single-marks-stay"),
        pytest.param(
            "[docs](https://example.com/a?b=1&c=2)",
            '<a href="https://example.com/a?b=1&amp;c=2">docs</a>',
            id="link",
        ),
        pytest.param("[local](file.py)", "[local](file.py)", id="non-http-link-stays"),
        pytest.param(
            "```python\nif a < b:\n    pass\n```",
            '<pre><code class="language-python">if a &lt; b:\n    pass</code></pre>',
            id="code-block",
        ),
        pytest.param("```\n**x**\n```", "<pre>**x**</pre>", id="code-block-no-markup"),
        pytest.param(
            "```sh\necho hi",
            '<pre><code class="language-sh">echo hi</code></pre>',
            id="unclosed-block-is-closed",
        ),
        pytest.param(
            "**a [b** c](https://x.io)",
            '**a <a href="https://x.io">b** c</a>',
            id="bold-never-straddles-a-link",
        ),
    ],
)
def test_markdown_becomes_telegram_html(markdown: str, html: str) -> None:
    assert to_telegram_html(markdown) == html


@pytest.mark.parametrize(
    "markdown",
    [
        pytest.param("**unclosed bold and `code", id="unclosed"),
        pytest.param("<script>alert(1)</script> & <b>", id="raw-html"),
        pytest.param("```\n```\n```py\nx", id="fences"),
        pytest.param("**[a](https://x.io)** ~~**b**~~", id="nested"),
        pytest.param("&amp; &lt; &#x27;", id="entities-as-text"),
    ],
)
def test_the_result_always_parses_as_telegram_html(markdown: str) -> None:
    _check_html(to_telegram_html(markdown))
