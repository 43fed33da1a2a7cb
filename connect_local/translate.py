"""A deterministic stand-in for Amazon Translate that tests can predict.

The rule: the same source and target give the text back unchanged; a text
that is, ignoring case and surrounding spaces, a phrase of the tiny table
below for its language pair gives that phrase's translation; any other text
gives `[TARGET] text` (for example `[es] where is my order`). The source code
`auto` is read as `en`. Codes outside `LANGUAGES` raise
UnsupportedLanguagePair.
"""

from __future__ import annotations

LANGUAGES = frozenset({"ar", "de", "en", "es", "fr", "hi", "it", "ja", "ko", "nl", "pt", "ru", "zh"})

PHRASES: dict[tuple[str, str], dict[str, str]] = {
    ("en", "es"): {"hello": "hola", "thank you": "gracias", "goodbye": "adiós", "yes": "sí", "no": "no"},
    ("es", "en"): {"hola": "hello", "gracias": "thank you", "adiós": "goodbye", "sí": "yes", "no": "no"},
    ("en", "fr"): {"hello": "bonjour", "thank you": "merci", "goodbye": "au revoir", "yes": "oui", "no": "non"},
    ("fr", "en"): {"bonjour": "hello", "merci": "thank you", "au revoir": "goodbye", "oui": "yes", "non": "no"},
    ("en", "de"): {"hello": "hallo", "thank you": "danke", "goodbye": "auf Wiedersehen", "yes": "ja", "no": "nein"},
    ("de", "en"): {"hallo": "hello", "danke": "thank you", "auf wiedersehen": "goodbye", "ja": "yes", "nein": "no"},
}


class UnsupportedLanguagePair(ValueError):
    def __init__(self, source: str, target: str) -> None:
        super().__init__(f"Unsupported language pair: {source} to {target}")
        self.source = source
        self.target = target


def translate(text: str, source: str, target: str) -> tuple[str, str]:
    """The translation and the source language code it was read as."""
    source = "en" if source == "auto" else source
    if source not in LANGUAGES or target not in LANGUAGES:
        raise UnsupportedLanguagePair(source, target)
    if source == target:
        return text, source
    phrase = PHRASES.get((source, target), {}).get(text.strip().lower())
    return (phrase if phrase is not None else f"[{target}] {text}"), source
