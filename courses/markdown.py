"""Markdown to safe HTML for lesson bodies: staff write Markdown, learners get sanitised HTML."""

import markdown
import nh3

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul", "dl",
    "dt", "dd", "del",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}}


def render_markdown(source: str) -> str:
    """Render Markdown, then drop every tag, attribute and URL scheme not on the allow-list."""
    html = markdown.markdown(source or "", extensions=["extra", "sane_lists"], output_format="html")
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
