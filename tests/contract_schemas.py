"""Validators for the published schemas vendored in tests/schemas/: the subset of OpenAPI 3 (X, Pinterest) and of
atproto Lexicon the adapters' requests touch. Each returns a list of problems ("$.media.media_ids[0]: …"), empty
when the value conforms.

Stricter than the schemas in one way, on purpose: an object whose schema lists its properties refuses any other
property even where the schema leaves `additionalProperties` open (Lexicon objects are open by design). A field
the platform does not document is one it may ignore or refuse tomorrow, so Picmim must not send it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import regex

SCHEMAS = Path(__file__).parent / "schemas"
GRAPHEME = regex.compile(r"\X")


def load_openapi(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text())


def load_lexicons() -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in (SCHEMAS / "atproto").glob("*.json")}


# ---- OpenAPI ---------------------------------------------------------------------------------------


def request_schema(spec: dict, method: str, path: str, content_type: str) -> tuple[str, dict | None]:
    """The documented path template matching `path` (a server prefix such as /v5 is allowed) and the schema of
    its request body for `content_type` (None: the operation takes no body)."""
    for template, operations in spec["paths"].items():
        pattern = "(?:/v[0-9]+)?" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in operations:
            body = operations[method.lower()].get("requestBody")
            if body is None:
                return template, None
            media = content_type.split(";")[0].strip()
            if media not in body["content"]:
                raise AssertionError(f"{method} {template} takes {sorted(body['content'])}, not {media}")
            return template, body["content"][media]["schema"]
    raise AssertionError(f"{method} {path} is not in the vendored description")


def openapi_problems(value: Any, schema: dict, spec: dict, where: str = "$", *, form: bool = False) -> list[str]:
    """`form`: a multipart/form-data body, whose fields arrive as text (coerced to the schema's scalar type) and
    files as bytes (a `format: binary` string)."""
    if "$ref" in schema:
        return openapi_problems(value, _resolve(spec, schema["$ref"]), spec, where, form=form)
    if value is None:
        return [] if schema.get("nullable") else [f"{where}: null is not allowed"]
    problems: list[str] = []
    for part in schema.get("allOf", []):
        problems += openapi_problems(value, part, spec, where, form=form)
    if "oneOf" in schema:
        problems += _one_of(value, schema, spec, where, form)
    if "anyOf" in schema and not any(not openapi_problems(value, s, spec, where, form=form) for s in schema["anyOf"]):
        problems.append(f"{where}: matches none of anyOf")
    kind = schema.get("type")
    if form and isinstance(value, str) and kind in ("integer", "number", "boolean"):
        value = _coerce(value, kind)
    if kind == "object" or "properties" in schema:
        problems += _object(value, schema, spec, where, form)
    elif kind == "array":
        problems += _array(value, schema, spec, where, form)
    elif kind is not None:
        problems += _scalar(value, schema, where)
    return problems


def _resolve(spec: dict, ref: str) -> dict:
    node: Any = spec
    for key in ref.lstrip("#/").split("/"):
        node = node[key]
    return node


def _one_of(value: Any, schema: dict, spec: dict, where: str, form: bool) -> list[str]:
    discriminator = schema.get("discriminator")
    if discriminator and isinstance(value, dict):
        chosen = discriminator.get("mapping", {}).get(value.get(discriminator["propertyName"]))
        if chosen is None:
            return [f"{where}.{discriminator['propertyName']}: {value.get(discriminator['propertyName'])!r} is not "
                    f"one of {sorted(discriminator.get('mapping', {}))}"]
        return openapi_problems(value, {"$ref": chosen}, spec, where, form=form)
    matching = [s for s in schema["oneOf"] if not openapi_problems(value, s, spec, where, form=form)]
    return [] if len(matching) == 1 else [f"{where}: matches {len(matching)} of oneOf, not exactly one"]


def _coerce(text: str, kind: str) -> Any:
    try:
        return {"integer": int, "number": float}[kind](text) if kind != "boolean" else {"true": True,
                                                                                        "false": False}[text]
    except (KeyError, ValueError):
        return text


def _object(value: Any, schema: dict, spec: dict, where: str, form: bool) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: expected an object, got {type(value).__name__}"]
    properties = schema.get("properties", {})
    problems = [f"{where}.{name}: required" for name in schema.get("required", []) if name not in value]
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties:
            problems += openapi_problems(item, properties[name], spec, f"{where}.{name}", form=form)
        elif isinstance(extra, dict):
            problems += openapi_problems(item, extra, spec, f"{where}.{name}", form=form)
        elif extra is False or properties:
            problems.append(f"{where}.{name}: not a property the schema has")
    return problems


def _array(value: Any, schema: dict, spec: dict, where: str, form: bool) -> list[str]:
    if not isinstance(value, list):
        return [f"{where}: expected an array, got {type(value).__name__}"]
    problems = []
    if len(value) < schema.get("minItems", 0):
        problems.append(f"{where}: fewer than {schema['minItems']} items")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        problems.append(f"{where}: more than {schema['maxItems']} items")
    for i, item in enumerate(value):
        problems += openapi_problems(item, schema.get("items", {}), spec, f"{where}[{i}]", form=form)
    return problems


def _scalar(value: Any, schema: dict, where: str) -> list[str]:
    kind = schema["type"]
    if kind == "string" and schema.get("format") in ("binary", "byte") and isinstance(value, bytes):
        return []
    types = {"string": str, "integer": int, "number": (int, float), "boolean": bool}
    if not isinstance(value, types[kind]) or (kind in ("integer", "number") and isinstance(value, bool)):
        return [f"{where}: expected {kind}, got {type(value).__name__}"]
    problems = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if kind == "string":
        if len(value) > schema.get("maxLength", len(value)):
            problems.append(f"{where}: longer than {schema['maxLength']} characters")
        if len(value) < schema.get("minLength", 0):
            problems.append(f"{where}: shorter than {schema['minLength']} characters")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            problems.append(f"{where}: {value[:40]!r} does not match {schema['pattern']}")
    elif ("minimum" in schema and value < schema["minimum"]) or ("maximum" in schema and value > schema["maximum"]):
        problems.append(f"{where}: {value} outside {schema.get('minimum')}..{schema.get('maximum')}")
    return problems


# ---- atproto Lexicon -------------------------------------------------------------------------------

FORMATS = {
    "datetime": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$",
    "did": r"^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$",
    "handle": r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$",
    "uri": r"^[a-z][a-z0-9+.-]*:\S+$",
    "language": r"^(i|[a-z]{2,3})(-[a-zA-Z0-9]+)*$",
    "nsid": r"^[a-zA-Z]([a-zA-Z0-9-]*)(\.[a-zA-Z0-9-]+){2,}$",
    "cid": r"^[a-zA-Z0-9+=]{8,}$",
    "at-uri": r"^at://\S+$",
    "record-key": r"^[a-zA-Z0-9._:~-]{1,512}$",
}
FORMATS["at-identifier"] = f"{FORMATS['did']}|{FORMATS['handle']}"


def lexicon_problems(value: Any, ref: str, lexicons: dict[str, dict], where: str = "$") -> list[str]:
    """Problems of `value` against the definition `ref` ("app.bsky.feed.post", "app.bsky.embed.images#image"):
    a record's `record` object, a procedure's input schema, or any other definition."""
    nsid, _, name = ref.partition("#")
    if nsid not in lexicons:
        return [f"{where}: {nsid} is not a vendored lexicon"]
    definition = lexicons[nsid]["defs"][name or "main"]
    if definition["type"] == "record":
        problems = _lex(value, definition["record"], nsid, lexicons, where)
        if isinstance(value, dict) and value.get("$type") != nsid:
            problems.append(f"{where}.$type: must be {nsid}")
        return problems
    if definition["type"] == "procedure":
        return _lex(value, definition["input"]["schema"], nsid, lexicons, where)
    return _lex(value, definition, nsid, lexicons, where)


def _full(ref: str, nsid: str) -> str:
    return f"{nsid}{ref}" if ref.startswith("#") else ref


def _lex(value: Any, schema: dict, nsid: str, lexicons: dict, where: str) -> list[str]:
    kind = schema["type"]
    if kind == "ref":
        return lexicon_problems(value, _full(schema["ref"], nsid), lexicons, where)
    if kind == "union":
        if not isinstance(value, dict) or not isinstance(value.get("$type"), str):
            return [f"{where}: a union member needs its $type"]
        member = value["$type"].removesuffix("#main")
        refs = [_full(r, nsid).removesuffix("#main") for r in schema["refs"]]
        if member not in refs:
            return [f"{where}.$type: {member} is not one of {refs}"]
        return lexicon_problems(value, member, lexicons, where)
    if kind == "unknown":
        return [] if isinstance(value, dict) else [f"{where}: expected an object"]
    if kind == "object":
        if not isinstance(value, dict):
            return [f"{where}: expected an object, got {type(value).__name__}"]
        properties = schema.get("properties", {})
        problems = [f"{where}.{n}: required" for n in schema.get("required", []) if n not in value]
        for name, item in value.items():
            if name == "$type":
                continue
            if name not in properties:
                problems.append(f"{where}.{name}: not a property the lexicon has")
            elif item is None and name in schema.get("nullable", []):
                continue
            else:
                problems += _lex(item, properties[name], nsid, lexicons, f"{where}.{name}")
        return problems
    if kind == "array":
        if not isinstance(value, list):
            return [f"{where}: expected an array"]
        problems = []
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            problems.append(f"{where}: more than {schema['maxLength']} elements")
        if len(value) < schema.get("minLength", 0):
            problems.append(f"{where}: fewer than {schema['minLength']} elements")
        for i, item in enumerate(value):
            problems += _lex(item, schema["items"], nsid, lexicons, f"{where}[{i}]")
        return problems
    if kind == "blob":
        return _blob(value, schema, where)
    if kind == "string":
        return _string(value, schema, where)
    if kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{where}: expected an integer"]
        low, high = schema.get("minimum"), schema.get("maximum")
        return [f"{where}: {value} out of range"] if (low is not None and value < low) or (
            high is not None and value > high) else []
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{where}: expected a boolean"]
    return [f"{where}: the validator does not know the lexicon type {kind}"]


def _string(value: Any, schema: dict, where: str) -> list[str]:
    if not isinstance(value, str):
        return [f"{where}: expected a string"]
    problems = []
    if len(value.encode()) > schema.get("maxLength", 1 << 30):
        problems.append(f"{where}: longer than {schema['maxLength']} UTF-8 bytes")
    if len(GRAPHEME.findall(value)) > schema.get("maxGraphemes", 1 << 30):
        problems.append(f"{where}: longer than {schema['maxGraphemes']} graphemes")
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r} not in {schema['enum']}")
    fmt = schema.get("format")
    if fmt and not re.match(FORMATS[fmt], value):
        problems.append(f"{where}: {value[:40]!r} is not a valid {fmt}")
    return problems


def _blob(value: Any, schema: dict, where: str) -> list[str]:
    if not isinstance(value, dict) or value.get("$type") != "blob":
        return [f"{where}: expected a blob ($type blob)"]
    problems = [f"{where}.{k}: not a blob property" for k in value if k not in ("$type", "ref", "mimeType", "size")]
    if not isinstance((value.get("ref") or {}).get("$link"), str):
        problems.append(f"{where}.ref: needs a $link")
    mimetype, size = value.get("mimeType", ""), value.get("size")
    accept = schema.get("accept")
    if accept and not any(mimetype == a or (a.endswith("/*") and mimetype.startswith(a[:-1])) or a == "*/*"
                          for a in accept):
        problems.append(f"{where}.mimeType: {mimetype} is not accepted ({accept})")
    if not isinstance(size, int) or size > schema.get("maxSize", size if isinstance(size, int) else 0):
        problems.append(f"{where}.size: {size} over {schema.get('maxSize')}")
    return problems
