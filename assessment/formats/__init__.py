"""Date formats per language (settings.FORMAT_MODULE_PATH); everything else a locale
formats (decimal separators, input formats) is Django's own for that language.

Templates name a format (``|date:"DATE_FORMAT"``), never spell one out, so that a date
reads "4 December 2026" in English and "4. Dezember 2026" in German.
"""
