"""A corpus of cross-site scripting payloads, for tests that put them in every free-text field.

Every payload that would create markup, were it ever rendered unescaped, leaves a trace
that does not depend on the Content Security Policy blocking it: an element (or an
attribute on the element it lands in) carrying ``data-xss="<n>"``, or a request to
``/xss-probe/<n>`` or ``example.invalid``. The strict CSP would stop most of these
scripts from running even if escaping broke, so "no dialog" alone would prove little;
a test looks for the markers in the DOM as well, and for the payload text on the page.

The payloads are short, so that several fit in a 200-character name (``chunks``).
"""

from collections.abc import Sequence
from dataclasses import dataclass

MARKER = "data-xss"
PROBE_PATH = "/xss-probe/"
EXTERNAL_HOST = "example.invalid"
BODY = "<div>{}</div>"


@dataclass(frozen=True)
class Payload:
    number: int
    kind: str
    text: str
    # Markup in which the payload would be live were it inserted unescaped: "{}" marks
    # the spot. Empty for payloads that only text checks can judge (template syntax,
    # encodings, formulas).
    context: str = BODY

    def live(self) -> str:
        """The payload inserted unescaped into its context."""
        return self.context.replace("{}", self.text)


_CORPUS: list[tuple[str, str] | tuple[str, str, str]] = [
    # Script tags and event handlers.
    ("script tag", "<script data-xss=1>alert(1)</script>"),
    ("img onerror", "<img src=x onerror=alert(2) data-xss=2>"),
    ("svg onload", "<svg onload=alert(3) data-xss=3>"),
    ("svg script", "<svg><script data-xss=4>alert(4)</script></svg>"),
    ("svg animate", "<svg><animate onbegin=alert(5) attributeName=x dur=1s data-xss=5>"),
    ("details ontoggle", "<details open ontoggle=alert(6) data-xss=6>"),
    ("autofocus onfocus", "<input autofocus onfocus=alert(7) data-xss=7>"),
    ("video source onerror", "<video><source onerror=alert(8) data-xss=8></video>"),
    ("mouseover", "<x onmouseover=alert(9) data-xss=9>hover"),
    # URLs with scripts, frames and objects.
    ("javascript: link", '<a href="javascript:alert(10)" data-xss=10>link</a>'),
    ("javascript: iframe", '<iframe src="javascript:alert(11)" data-xss=11></iframe>'),
    ("iframe srcdoc", '<iframe srcdoc="<b data-xss=12>" data-xss=12></iframe>'),
    ("object data", '<object data="javascript:alert(13)" data-xss=13></object>'),
    ("svg xlink", '<svg><a xlink:href="javascript:alert(14)" data-xss=14><text>x</text></a>'),
    ("data: url", '<a href="data:text/html,<b data-xss=15>" data-xss=15>d</a>'),
    # Attribute breakouts, in double-, single- and unquoted attribute values.
    ("double-quote breakout", '"><b data-xss=16>', '<p title="{}">x</p>'),
    ("single-quote breakout", "'><b data-xss=17>", "<p title='{}'>x</p>"),
    ("double-quote attribute", '" data-xss="18" onclick="alert(18)', '<p title="{}">x</p>'),
    ("single-quote attribute", "' data-xss='19' onclick='alert(19)", "<p title='{}'>x</p>"),
    ("unquoted attribute", "x data-xss=20 onclick=alert(20) `", "<p title={}>x</p>"),
    # Breaking out of elements whose content is not markup.
    ("textarea breakout", "</textarea><b data-xss=21>", "<textarea>{}</textarea>"),
    ("title breakout", "</title><b data-xss=22>", "<title>{}</title>"),
    ("script breakout", "</script><b data-xss=23>", '<script>const x = "{}";</script>'),
    ("style breakout", "</style><b data-xss=24>", "<style>p { content: '{}' }</style>"),
    ("comment breakout", "--><b data-xss=25><!--", "<!-- {} -->"),
    ("cdata breakout", "]]><b data-xss=26>", "<svg><![CDATA[{}]]></svg>"),
    ("noscript mutation", '<noscript><p title="</noscript><b data-xss=27>">'),
    ("mathml mutation", "<math><mtext><table><mglyph><style><b data-xss=28>"),
    ("table breakout", "</td></tr></table></dl></ul><h1 data-xss=29>", "<table><tr><td>{}"),
    # Template injection (Django, and client-side template syntaxes): the text must
    # come back literally, not evaluated.
    ("django variable", "{{ 7|add:7 }}{{ request.user.password }}", ""),
    ("django tag", "{% debug %}{% csrf_token %}{# x #}", ""),
    ("client templates", "${7*7} #{7*7} {{constructor.constructor('alert(32)')()}}", ""),
    # CSS injection.
    ("style element", "<style data-xss=33>*{background:url(/xss-probe/33)}</style>"),
    ("style attribute", '<b style="background:url(/xss-probe/34)" data-xss=34>s</b>'),
    ("external stylesheet", "<link rel=stylesheet href=//example.invalid/35.css data-xss=35>"),
    # Loading things from elsewhere (the PDF renderer must fetch none of them).
    ("external image", '<img src="http://example.invalid/36.png" data-xss=36>'),
    ("srcset", '<img srcset="/xss-probe/37 1x" data-xss=37>'),
    ("base href", "<base href=//example.invalid/ data-xss=38>"),
    ("meta refresh", '<meta http-equiv=refresh content="0;url=/xss-probe/39" data-xss=39>'),
    ("form action", "<form action=/xss-probe/40 data-xss=40><button>go</button></form>"),
    # htmx attributes: a live one would make a request or run code.
    ("htmx get", '<div hx-get="/xss-probe/41" hx-trigger="load" data-xss=41>'),
    ("htmx on", '<b hx-on:htmx:load="alert(42)" hx-on::load="alert(42)" data-xss=42>'),
    # Encodings and Unicode: shown as they are, never decoded into markup.
    ("html entities", "&lt;b data-xss=43&gt; &#60;i&#62; &amp;lt;", ""),
    ("url and js escapes", "%3Cb%20data-xss%3D44%3E \\u003cb\\x3e", ""),
    ("fullwidth brackets", "\uff1cscript\uff1ealert(45)\uff1c/script\uff1e", ""),
    ("bidi and zero width", "\u202e<b data-xss=46>\u200b</b>\u202c"),
    ("nested tags", "<scr<script>ipt>alert(47)</scr</script>ipt><<b data-xss=47>"),
    # Polyglot (after 0xsobky), with a marker.
    (
        "polyglot",
        "jaVasCript:/*-/*`/*\\`/*'/*\"/**/(/* */oNcliCk=alert(48) )//</stYle/</titLe/"
        "</teXtarEa/</scRipt/--!><sVg/oNloAd=alert(48) data-xss=48//>",
    ),
    # Spreadsheet formulas: an export must keep them as text.
    ("formula equals", '=HYPERLINK("http://example.invalid/49","x")', ""),
    ("formula plus", "+SUM(1,1)+cmd|' /C calc'!A0", ""),
    ("formula minus", "-2+3+cmd|' /C calc'!A0", ""),
    ("formula at", "@SUM(1,1)", ""),
    ("formula tab", "\t=1+52", ""),
    ("formula carriage return", "\r=1+53", ""),
]

PAYLOADS: tuple[Payload, ...] = tuple(
    Payload(n, *entry) for n, entry in enumerate(_CORPUS, start=1)
)
TEXTS: tuple[str, ...] = tuple(p.text for p in PAYLOADS)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# Valid e-mail addresses (Django's validator accepts a quoted local part) that carry
# payloads, for the fields that take nothing but an address.
EMAIL_PAYLOADS: tuple[Payload, ...] = tuple(
    Payload(100 + n, kind, text, context)
    for n, (kind, text, context) in enumerate(
        [
            ("address: svg onload", '"<svg/onload=alert(101)/data-xss=101>"@example.com', BODY),
            (
                "address: textarea breakout",
                '"</textarea><b/data-xss=102>"@example.com',
                "<textarea>{}</textarea>",
            ),
            ("address: quote breakout", '"\\"><b/data-xss=103>"@example.com', '<p title="{}">'),
            ("address: attribute", "x'data-xss='104@example.com", "<p title='{}'>"),
            ("address: template", "o'neil+{{7*7}}{%debug%}@example.com", ""),
            (
                "address: title breakout",
                '"</title><script/data-xss=106>alert(106)</script>"@example.com',
                "<title>{}</title>",
            ),
            ("address: formula equals", "=1+107@example.com", ""),
            ("address: formula plus", "+108@example.com", ""),
            ("address: formula minus", "-109@example.com", ""),
            ("address: formula at", '"@sum(110)"@example.com', ""),
        ],
        start=1,
    )
)
EMAILS: tuple[str, ...] = tuple(p.text for p in EMAIL_PAYLOADS)
FORMULAS: tuple[str, ...] = tuple(t for t in TEXTS if t.startswith(FORMULA_TRIGGERS))


def joined(separator: str = "\n", texts: Sequence[str] = TEXTS) -> str:
    """Every payload in one text, for the long fields (comments, rationales, decisions)."""
    return separator.join(texts)


def chunks(
    limit: int, *, lead: Sequence[str] = (), separator: str = " ", texts: Sequence[str] = TEXTS
) -> list[str]:
    """Every payload exactly once, packed into texts of at most ``limit`` characters.

    ``lead`` payloads each start a chunk of their own (a formula must be at the start of
    a cell to matter). The rest fill the chunks in order, first fit.
    """
    texts = list(lead) + [t for t in texts if t not in lead]
    if any(len(t) > limit for t in texts):
        raise ValueError(f"a payload is longer than {limit} characters")
    packed: list[str] = list(lead)
    for text in texts[len(lead) :]:
        for index, chunk in enumerate(packed):
            if len(chunk) + len(separator) + len(text) <= limit:
                packed[index] = chunk + separator + text
                break
        else:
            packed.append(text)
    return packed
