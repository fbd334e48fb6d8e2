"""The one escaping path: text and addresses from the data on their way to HTML or Markdown.

Every string read from a table or from ``references.bib`` reaches a reader's browser through
these functions (the book's display layer re-exports them as
:mod:`crps_evidence.book.display`): :func:`html_text` for HTML, :func:`md_text` for the
MyST Markdown of pages and notebook outputs (MyST renders raw HTML in Markdown as HTML), and
:func:`safe_url` for an address that becomes a link. Only ``https`` and ``http`` addresses
(and addresses relative to the page) are linked; DOI and PubMed links are built by the
package. :func:`markup_in` and :func:`unsafe_url` are what ``crps-evidence check`` reports.

Examples
--------
>>> html_text('<img src=x onerror="alert(1)">')
'&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
>>> safe_url("javascript:alert(1)") is None, safe_url("https://doi.org/10.1/x")
(True, 'https://doi.org/10.1/x')
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

__all__ = ["URL_SCHEMES", "html_text", "markup_in", "md_text", "safe_url", "unsafe_url"]

#: The schemes an address from the data may have to become a link.
URL_SCHEMES = frozenset({"https", "http"})

# What a browser starts a tag, comment or processing instruction with.
_MARKUP = re.compile(r"<[A-Za-z/!?]")
# Markdown and MyST syntax, math (``$``) and HTML's ``<``, ``>`` and ``&``.
_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|$~!&])")
_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]")


def html_text(text: object) -> str:
    """``text`` as HTML text (and attribute value): ``<``, ``>``, ``&`` and quotes escaped.

    >>> html_text("a < b & 'c'")
    'a &lt; b &amp; &#x27;c&#x27;'
    """
    return html.escape(str(text), quote=True)


def md_text(text: object) -> str:
    """Escape Markdown, MyST and HTML in plain text from the data.

    Backslash escapes keep ``*``, ``$``, ``<`` and friends as written; line breaks become
    spaces, so a cell cannot start a block (a fence, a directive, a heading) of its own.

    Examples
    --------
    >>> md_text("pain < 3 in 50% of *cases*, $20")
    'pain \\\\< 3 in 50% of \\\\*cases\\\\*, \\\\$20'
    >>> md_text("<script>alert(1)</script>")
    '\\\\<script\\\\>alert(1)\\\\</script\\\\>'
    """
    return _SPECIAL.sub(r"\\\1", " ".join(str(text).splitlines()))


def unsafe_url(url: object) -> str | None:
    """Why ``url`` may not be linked, or ``None`` when it may.

    Linked are ``https`` and ``http`` addresses and addresses without a scheme (relative to
    the page); refused are other schemes (``javascript:``, ``data:``, ``vbscript:``),
    whitespace or control characters (which browsers strip before reading the scheme) and
    markup.

    >>> unsafe_url("JavaScript:alert(1)")
    "scheme 'javascript' is not one of http, https"
    """
    text = str(url)
    if not text:
        return "empty address"
    if _CONTROL.search(text):
        return "whitespace or a control character in the address"
    if _MARKUP.search(text) or '"' in text:
        return "markup in the address"
    try:
        scheme = urlsplit(text).scheme.lower()
    except ValueError as exc:
        return f"not an address ({exc})"
    if ":" in text.split("/", 1)[0] and not scheme:
        return "a colon before the first slash (read as a scheme by browsers)"
    if scheme and scheme not in URL_SCHEMES:
        return f"scheme {scheme!r} is not one of {', '.join(sorted(URL_SCHEMES))}"
    return None


def safe_url(url: object) -> str | None:
    """``url`` when it may be linked (see :func:`unsafe_url`), else ``None``.

    >>> safe_url("03-ketamine.html"), safe_url(" javascript:alert(1)")
    ('03-ketamine.html', None)
    """
    if url is None:
        return None
    return None if unsafe_url(url) else str(url)


def markup_in(text: object) -> str | None:
    """The start of the first HTML tag in ``text`` (``<img``, ``</``, ``<!``), or ``None``.

    A ``<`` followed by a space or a digit (``p < 0.05``, ``<3 months``) is not markup.

    >>> markup_in("pain <img src=x>"), markup_in("p < 0.05 at <6 months")
    ('<img', None)
    """
    found = _MARKUP.search(str(text))
    if found is None:
        return None
    return re.match(r"<[!/?]?[A-Za-z0-9-]*", str(text)[found.start():]).group(0)
