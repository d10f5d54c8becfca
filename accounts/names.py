"""People's names as they are stored and printed: one normalisation, applied by the model field.

A name is typed into the sign-up page, the API, the profile page, the admin, or an import file, and is
printed on certificates and in emails. Invisible characters in it are never meant: a right-to-left
override (U+202E) makes "Ann Smith" print reversed on a certificate, zero-width characters make two names
that look the same differ. `normalize_name` removes them and tidies the rest; `NameField` applies it on
every write (save, bulk_create, update) and in every form built from the model, so no path can skip it.
"""

import re
import unicodedata

from django import forms
from django.db import models

# Bidirectional controls: embeddings and overrides U+202A-U+202E, isolates U+2066-U+2069, the marks
# U+200E, U+200F and the Arabic letter mark U+061C.
BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
# Zero-width space, non-joiner, joiner, word joiner, and the BOM (zero-width no-break space).
ZERO_WIDTH = "\u200b-\u200d\u2060\ufeff"
# Also gone: NUL and the other control characters (whitespace ones become spaces first), and lone
# surrogates, which cannot be stored as UTF-8.
_INVISIBLE = re.compile(f"[{BIDI_CONTROLS}{ZERO_WIDTH}\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def normalize_name(value: str) -> str:
    """`value` as a stored name: invisible controls removed, Unicode NFC, whitespace collapsed and stripped.

    NFC makes "é" typed as e + combining accent the same name as the precomposed "é" (and renders as one
    glyph in the certificate's font).
    """
    if not value:
        return value
    return " ".join(unicodedata.normalize("NFC", _INVISIBLE.sub("", value)).split())


class NameFormField(forms.CharField):
    """A form field that normalises before it validates (so max_length counts what is stored)."""

    def to_python(self, value):
        return normalize_name(super().to_python(value))


class NameField(models.CharField):
    """A CharField that stores names normalised by `normalize_name`, whichever way they are written."""

    def to_python(self, value):
        value = super().to_python(value)
        return normalize_name(value) if isinstance(value, str) else value

    def pre_save(self, model_instance, add):
        # save() and bulk_create(): the instance keeps the normalised value it was stored with.
        value = getattr(model_instance, self.attname)
        if isinstance(value, str):
            value = normalize_name(value)
            setattr(model_instance, self.attname, value)
        return value

    def get_prep_value(self, value):
        # update(full_name=...) and lookups go through here without pre_save.
        value = super().get_prep_value(value)
        return normalize_name(value) if isinstance(value, str) else value

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": NameFormField, **kwargs})
