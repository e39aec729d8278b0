"""Each script once per page.

With Jupyter Book 1.x, sphinx-thebe and sphinx-togglebutton register their inline
configuration scripts twice, and the second ``const THEBE_JS_URL = ...`` is a JavaScript
error ("Identifier 'THEBE_JS_URL' has already been declared") on every page. This drops
repeated scripts (same file or body, same attributes) from each page, keeping the first.
"""


def _key(script):
    attributes = getattr(script, "attributes", {}) or {}
    return (getattr(script, "filename", str(script)) or "", tuple(sorted((k, str(v)) for k, v in attributes.items())))


def _drop_repeated_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def setup(app):
    app.connect("html-page-context", _drop_repeated_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
