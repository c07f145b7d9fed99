"""The web pages: the report form as a Telegram Mini App or by a personal link.

- `auth.py`: Telegram's `initData` check, the signed links, the session cookie,
  the CSRF token, the per-person request counter.
- `access.py`: the one place that says who may see and change which unit's data.
- `pages.py`: the HTML (layout and the form), every typed value escaped.
- `routes.py`: the aiohttp routes mounted on bot/http_server.py's application.
- `static/`: the stylesheet and the one script (per-field saving), served by us.
"""
