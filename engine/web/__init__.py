"""`nckh web`: the listening side, a thin server-rendered shell over the engine's API.

Flask routes read the request, ask the engine (`engine.service`, `engine.access`,
`engine.views`) and render Jinja2 pages; no business rule lives here, and a refusal shows the
engine's own message. Vietnamese first (`?lang=en` for English), works without JavaScript.
"""
