"""Every string a dashboard page shows is translated: no literal text left in a template outside
`_()` (read with Jinja's own lexer and an HTML parser), the message template up to date with the
sources, and every message translated in every language installed."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from jinja2 import Environment

from server.core.i18n import TRANSLATIONS_DIR, installed_languages

ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = ROOT / "server" / "templates"
# Not the dashboard: the partners' OGC API pages and the vendor's API explorer speak English.
NOT_DASHBOARD = ("ogc/", "swagger_ui.html")
# Words that are the same in every language: the product's name.
NAMES = {"RangerSync", "SOS", "CSV", "GeoJSON", "GPX", "KML", "XLSX"}  # and format names
# Blocks whose content is not text but goes into an attribute of the layout (a CSS class).
NOT_TEXT_BLOCKS = {"main_class"}
SHOWN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "label"}
LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
PLACEHOLDER = "\x00"  # what an expression ({{ … }}) becomes in the skeleton: no letters


def skeleton(source: str) -> str:
    """The template's own text with every expression replaced by a placeholder and every tag
    ({% … %}) removed; the inside of {% trans %} counts as an expression (it is translated)."""
    out: list[str] = []
    lexer = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    tokens = list(lexer.lex(source))
    in_block = in_trans = not_text = False
    for k, (_line, kind, value) in enumerate(tokens):
        if kind == "block_begin":
            in_block = True
            words = [v for _l, t, v in tokens[k + 1 : k + 6] if t == "name"]
            name = words[0] if words else ""
            in_trans = {"trans": True, "pluralize": True, "endtrans": False}.get(name, in_trans)
            if name == "block":
                not_text = len(words) > 1 and words[1] in NOT_TEXT_BLOCKS
            elif name == "endblock":
                not_text = False
        elif kind == "block_end":
            in_block = False
        elif kind == "variable_begin":
            out.append(PLACEHOLDER)
        elif kind == "data" and not (in_block or in_trans or not_text):
            out.append(value)
    return "".join(out)


class Literals(HTMLParser):
    """Text with letters that a reader sees: text nodes and shown attributes, not scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skipping += 1
        for name, value in attrs:
            shown = name in SHOWN_ATTRIBUTES or (name == "value" and ("type", "submit") in attrs)
            if shown and value:
                self._check(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping:
            self._check(data)

    def _check(self, text: str) -> None:
        words = " ".join(text.replace(PLACEHOLDER, " ").split())
        shown = [w for w in words.split() if w not in NAMES and not w.startswith("/")]
        if any(LETTER.search(w) for w in shown):  # (an address, /healthz, is not a word)
            self.found.append(words)


def literals(source: str) -> list[str]:
    parser = Literals()
    parser.feed(skeleton(source))
    parser.close()
    return parser.found


def dashboard_templates() -> list[Path]:
    return [
        p
        for p in sorted(TEMPLATES.glob("**/*.html"))
        if not str(p.relative_to(TEMPLATES)).startswith(NOT_DASHBOARD)
    ]


@pytest.mark.parametrize(
    "template", dashboard_templates(), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_no_template_shows_text_outside_gettext(template):
    assert literals(template.read_text()) == []


def test_the_checker_sees_text_outside_gettext():
    """It fails on one word left out, in a text node or in a shown attribute, and only there."""
    assert literals('<p>{{ _("Patrols") }} · {{ n }}</p>') == []
    assert literals('<p>{{ _("Patrols") }} <b>today</b></p>') == ["today"]
    assert literals('<input title="Search" value="{{ q }}">') == ["Search"]
    assert literals('<a href="/x?lang={{ l }}">{% trans %}Hello {{ n }}{% endtrans %}</a>') == []
    assert literals("<script>const x = 'not shown';</script>{{ x }} h") == ["h"]
    assert literals("{% if a %}<td>never</td>{% endif %}") == ["never"]


def _messages_in_sources() -> set[str]:
    """What `make messages` extracts, with its own configuration (babel.cfg, the keywords)."""
    with open(ROOT / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = DEFAULT_KEYWORDS | {"lazy_gettext": None, "_l": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalogue(path: Path, locale: str | None = None):
    with open(path, "rb") as f:
        return read_po(f, locale=locale)


def test_the_message_template_holds_every_marked_string():
    """`make messages` was run: what the sources mark is what translators were given."""
    template = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in _catalogue(TRANSLATIONS_DIR / "messages.pot")
        if m.id
    }
    assert _messages_in_sources() - template == set(), "run `make messages` and translate"
    assert template - _messages_in_sources() == set(), "run `make messages` (obsolete strings)"


@pytest.mark.parametrize("language", [code for code in installed_languages() if code != "en"])
def test_every_message_is_translated(language):
    template = _catalogue(TRANSLATIONS_DIR / "messages.pot")
    catalogue = _catalogue(TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po", language)
    missing = [
        m.id for m in template if m.id and not (catalogue.get(m.id) and catalogue.get(m.id).string)
    ]
    fuzzy = [m.id for m in catalogue if m.id and m.fuzzy]
    assert missing == [] and fuzzy == []
    problems = [(m.id, errors) for m, errors in catalogue.check() if errors]
    assert problems == []  # placeholders (%(name)s) kept as in English


SCRIPTS = ROOT / "server" / "static" / "dashboard"
STRING = re.compile(r"""(?P<q>["'`])(?P<body>(?:\\.|(?!(?P=q)).)*)(?P=q)""", re.S)
# Words in the scripts that are code, not text: GeoJSON types, HTTP names.
CODE_WORDS = {
    "Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon",
    "Feature", "FeatureCollection", "GeometryCollection", "Content-Type", "X-Requested-With",
}  # fmt: skip
NOT_TEXT_BEFORE = re.compile(
    r"(querySelector(All)?|getElementById|closest|addEventListener|createElement|import|from|"
    r"getAttribute|setAttribute|dataset\.\w+ ===?|\[\"\w+\"\]|getJSON|send)\(?\s*$"
)


def script_texts(source: str) -> list[str]:
    """String literals of a script that read as words for people and are not given to `_()`:
    two words or more, or one capitalised word; tags, addresses, selectors and code left out."""
    source = re.sub(r"/\*.*?\*/", "", re.sub(r"(?m)//[^\n]*$", "", source), flags=re.S)
    found = []
    for m in STRING.finditer(source):
        before = source[max(0, m.start() - 40) : m.start()]
        if re.search(r"\b_\(\s*$", before) or NOT_TEXT_BEFORE.search(before):
            continue
        body = (
            re.sub(r"\$\{[^}]*\}", " ", m.group("body")) if m.group("q") == "`" else m.group("body")
        )
        body = re.sub(r"<[^>]*>", " ", body)  # markup: its text counts, its attributes not
        words = [w.strip(".,:;!?()«»'\"") for w in body.split()]
        # addresses, selectors, CSS classes (map-label), identifiers (in_review), sizes
        words = [w for w in words if not re.search(r"[=/?&#\[\]:.\-_\d]", w)]
        if re.search(r"\bpx\b|\bsans\b|\bserif\b", body):  # a canvas font: "bold 11px sans-serif"
            continue
        letters = [w for w in words if re.search(r"[A-Za-z]{2,}", w)]
        if body.strip() in CODE_WORDS:
            continue
        if len(letters) >= 2 or (len(letters) == 1 and re.match(r"[A-Z][a-z]{2,}", letters[0])):
            found.append(body.strip())
    return found


@pytest.mark.parametrize("script", sorted(SCRIPTS.glob("*.js")), ids=lambda p: p.name)
def test_no_script_shows_text_outside_gettext(script):
    assert script_texts(script.read_text()) == []


def test_the_script_checker_sees_text_outside_gettext():
    assert script_texts('status.textContent = _("Following live.");') == []
    assert script_texts('status.textContent = "Following live.";') == ["Following live."]
    assert script_texts('if (!confirm("Cancel?")) return;') == ["Cancel?"]
    assert script_texts("popup(`<b>${n}</b><br>seen by ${who}`);") == ["seen by"]
    assert script_texts('getJSON(`${api}/effort?by=${by}&${q}`); x.type = "Point";') == []
    assert script_texts('document.querySelector("#enrolment-qr svg");') == []
