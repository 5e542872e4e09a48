"""The inspectors' web console (``qc serve``, SPEC §7): a sibling of ``qc.cli`` over the same review
library. Server-rendered pages (Starlette/FastAPI, Jinja2, htmx) with the few scripts a listening
screen needs, vendored with their licences in ``static/vendor`` — nothing is built with Node and
nothing is fetched from a CDN, so the console works on an offline call-centre network.

``create_app`` (in ``qc.console.app``) builds the application; every page and API route checks the
signed-in user's role and, for a call, whether that user may see its agent.
"""
