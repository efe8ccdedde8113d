"""The format instructions of the JSON parsers (hookchain's wording; the
schema they embed is the one LangChain embeds)."""

JSON_FORMAT_INSTRUCTIONS = """Answer with a single JSON value and nothing else: no markdown code fences, \
no text before or after it, no comments, no trailing commas.

The value must be an instance of the JSON schema below, not the schema itself: for the schema \
{{"properties": {{"tags": {{"type": "array", "items": {{"type": "string"}}}}}}, "required": ["tags"]}} \
an instance is {{"tags": ["red", "blue"]}}, while {{"properties": {{"tags": ["red", "blue"]}}}} is not.

The schema:
```
{schema}
```"""
