"""One client process for the concurrency tests: sign in, open the acknowledgement form, wait, submit.

Standard library only, so a hundred of these start quickly. Usage:
    python ack_client.py BASE_URL EMAIL PASSWORD FULL_NAME GO_FILE [--state FILE] [--reuse FILE]
Prints READY when the form is loaded, waits until GO_FILE exists, posts, and prints one JSON line:
{"status": 302, "location": "/acknowledgements/17", "error": null}.
--state FILE saves the cookie and form so that --reuse FILE processes post the identical submission.
"""

import http.cookiejar
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html) or re.search(
        rf'name="{name}" value="([^"]*)"', html) or re.search(rf'value="([^"]*)"[^>]*name="{name}"', html)
    if not match:
        raise SystemExit(json.dumps({"status": None, "location": None, "error": f"no {name} on the page"}))
    return match.group(1)


def _prepare(base: str, email: str, password: str, full_name: str) -> tuple[str, dict]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/sign-in", timeout=60).read().decode()
    no_follow = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    try:  # sign in without following the redirect to the training page: only the cookie is wanted
        no_follow.open(base + "/sign-in", timeout=60, data=urllib.parse.urlencode(
            {"email": email, "password": password, "csrf_token": _hidden(page, "csrf_token")}).encode())
    except urllib.error.HTTPError as exc:
        if exc.code != 302:
            raise
    form = opener.open(base + "/acknowledge", timeout=60).read().decode()
    boxes = re.findall(r'name="(statement_[a-z_]+)" type="checkbox"', form)
    data = {"csrf_token": _hidden(form, "csrf_token"), "idempotency_key": _hidden(form, "idempotency_key"),
            "shown_digest": _hidden(form, "shown_digest"), "acknowledge": "Acknowledge and sign",
            "full_name": full_name, **{box: "y" for box in boxes}}
    if 'name="consent" type="radio"' in form or re.search(r'type="radio"[^>]*name="consent"', form):
        data["consent"] = "yes"  # the monitoring-consent question, a separate decision (E-ACT)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return cookie, data


def _post(base: str, cookie: str, data: dict) -> dict:
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(base + "/acknowledge", data=urllib.parse.urlencode(data).encode(),
                                     headers={"Cookie": cookie})
    try:
        response = opener.open(request, timeout=120)
        return {"status": response.status, "location": None, "error": None}
    except urllib.error.HTTPError as exc:
        location = exc.headers.get("Location")
        error = None if exc.code == 302 else exc.read().decode(errors="replace")[-300:]
        return {"status": exc.code, "location": location, "error": error}
    except OSError as exc:
        return {"status": None, "location": None, "error": repr(exc)}


def main(argv: list[str]) -> None:
    base, email, password, full_name, go = argv[:5]
    options = dict(zip(argv[5::2], argv[6::2], strict=False))
    if "--reuse" in options:
        with open(options["--reuse"]) as handle:
            saved = json.load(handle)
        cookie, data = saved["cookie"], saved["data"]
    else:
        cookie, data = _prepare(base, email, password, full_name)
        if "--state" in options:
            with open(options["--state"], "w") as handle:
                json.dump({"cookie": cookie, "data": data}, handle)
    print("READY", flush=True)
    deadline = time.monotonic() + 120
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.005)
    print(json.dumps(_post(base, cookie, data)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
