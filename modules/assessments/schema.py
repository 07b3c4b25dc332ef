"""The JSON schema of a quiz bank (quizzes/<slug>.yaml); docs/quiz-bank-format.md explains each field."""

from modules.assessments.types import REGISTRY

_ID = {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 120}
_TEXT = {"type": "string", "minLength": 1, "pattern": r"\S"}
_REF = {"type": "string", "minLength": 1, "maxLength": 40, "pattern": r"\S"}


def bank_schema() -> dict:
    """The schema, with the question types taken from the registry."""
    option_ids = sorted({i for t in REGISTRY.values() for i in t.allowed_ids})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "PolicyPass quiz bank",
        "type": "object",
        "required": ["trust", "questions"],
        "additionalProperties": False,
        "properties": {
            "trust": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"},
            "questions": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/question"}},
            "not_examined": {"type": "array", "items": {"$ref": "#/$defs/exclusion"}},
        },
        "$defs": {
            "question": {
                "type": "object",
                "required": ["id", "section", "clauses", "type", "stem", "options", "correct", "explanation",
                             "quote", "reviewed"],
                "additionalProperties": False,
                "properties": {
                    "id": _ID,
                    "core_id": _ID,
                    "section": _REF,
                    "clauses": {"type": "array", "minItems": 1, "uniqueItems": True, "items": _REF},
                    "type": {"enum": sorted(REGISTRY)},
                    "stem": _TEXT,
                    "options": {"type": "array", "minItems": 2, "maxItems": 5,
                                "items": {"$ref": "#/$defs/option"}},
                    "correct": {"type": "array", "minItems": 1, "uniqueItems": True,
                                "items": {"enum": option_ids}},
                    "explanation": _TEXT,
                    "quote": _TEXT,
                    "reviewed": {"type": "boolean"},
                    "ambiguous": {"type": "boolean"},
                    "note": {"type": "string"},
                    "silent": {"type": "boolean"},
                },
                # An ambiguous question must say what is ambiguous.
                "if": {"required": ["ambiguous"], "properties": {"ambiguous": {"const": True}}},
                "then": {"required": ["note"], "properties": {"note": _TEXT}},
            },
            # A must / must-not clause deliberately left out of the quiz, and why.
            "exclusion": {
                "type": "object",
                "required": ["clause", "reason"],
                "additionalProperties": False,
                "properties": {"clause": _REF, "reason": _TEXT},
            },
            "option": {
                "type": "object",
                "required": ["id", "text", "feedback"],
                "additionalProperties": False,
                "properties": {"id": {"enum": option_ids}, "text": _TEXT, "feedback": _TEXT},
            },
        },
    }
