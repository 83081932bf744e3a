"""The approval page (`/` of `cloister serve`) in a real headless Chromium, driven through
chromedriver's WebDriver HTTP API (no Selenium: the W3C protocol is a few JSON calls).

Two parties sign in, each in a browser of its own; the page lists the task that waits for each,
shows its function, payload hash, files and participants; each approves it; the creator invokes
it; both watch it finish on the page; the first downloads its encrypted output, which decrypts
to the expected answer with its key. A second task is declined from the page. Screenshots of
every step go to .build/browser-test/ (kept as artefacts, never committed).

Run by scripts/browser-test.sh, which installs chromium and chromium-driver when missing and
sets CLOISTER_BIN, CHROMIUM and CHROMEDRIVER.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, List, Optional

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))

import cloister  # noqa: E402
from tests import harness  # noqa: E402

ARTEFACTS = os.path.join(ROOT, ".build", "browser-test")
# Straight to loopback, whatever proxy the environment names.
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))
PASSWORD = "browser-test-password"


class WebDriverError(Exception):
    pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def eventually(what: str, condition: Callable[[], Any], within: float = 60.0) -> Any:
    """Polls ``condition`` until it returns something true (its value) or ``within`` seconds pass."""
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = condition()
            if last:
                return last
        except (WebDriverError, OSError) as error:  # OSError: chromedriver not listening yet
            last = error
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {within:g} s (last: {last!r})")


class Browser:
    """One WebDriver session: a headless Chromium with a download folder of its own."""

    def __init__(self, driver: str, name: str, downloads: str) -> None:
        self.driver = driver
        self.name = name
        self.downloads = downloads
        self.profile = tempfile.mkdtemp(prefix="cloister-chromium-")
        options = {
            "binary": os.environ.get("CHROMIUM", "/usr/bin/chromium"),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1100",
                     "--no-first-run", "--user-data-dir=" + self.profile],
            "prefs": {"download.default_directory": downloads, "download.prompt_for_download": False},
        }
        answer = self.call("POST", "/session", {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}}},
                           session=False)
        self.session = answer["sessionId"]
        self.call("POST", "/goog/cdp/execute", {"cmd": "Browser.setDownloadBehavior",
                                                "params": {"behavior": "allow", "downloadPath": downloads}})
        self.shots = 0

    def call(self, method: str, path: str, body: Optional[Dict[str, Any]] = None, session: bool = True) -> Any:
        url = self.driver + (f"/session/{self.session}" if session else "") + path
        data = json.dumps(body if body is not None else {}).encode() if method == "POST" else None
        request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with HTTP.open(request, timeout=120) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as error:
            detail = json.load(error).get("value", {})
            raise WebDriverError(f"{method} {path}: {detail.get('error')}: {detail.get('message', '')[:300]}") from None
        return answer.get("value", answer)

    def open(self, url: str) -> None:
        self.call("POST", "/url", {"url": url})

    def find(self, selector: str) -> str:
        element = self.call("POST", "/element", {"using": "css selector", "value": selector})
        return str(next(iter(element.values())))

    def find_all(self, selector: str) -> List[str]:
        return [str(next(iter(e.values()))) for e in self.call("POST", "/elements", {"using": "css selector", "value": selector})]

    def text(self, selector: str) -> str:
        return str(self.call("GET", f"/element/{self.find(selector)}/text"))

    def visible(self, selector: str) -> bool:
        elements = self.find_all(selector)
        return bool(elements) and bool(self.call("GET", f"/element/{elements[0]}/displayed"))

    def click(self, selector: str) -> None:
        self.call("POST", f"/element/{self.find(selector)}/click")

    def type(self, selector: str, text: str) -> None:
        element = self.find(selector)
        self.call("POST", f"/element/{element}/clear")
        self.call("POST", f"/element/{element}/value", {"text": text})

    def screenshot(self, step: str) -> None:
        self.shots += 1
        png = base64.b64decode(self.call("GET", "/screenshot"))
        path = os.path.join(ARTEFACTS, f"{self.name}-{self.shots:02d}-{step}.png")
        with open(path, "wb") as sink:
            sink.write(png)

    def sign_in(self, url: str, user: str, password: str) -> None:
        self.open(url)
        eventually("the sign-in form", lambda: self.visible("#login-user"))
        self.type("#login-user", user)
        self.type("#login-password", password)
        self.click("#login-submit")

    def close(self) -> None:
        try:
            self.call("DELETE", "")
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def main() -> int:
    os.makedirs(ARTEFACTS, exist_ok=True)
    for old in os.listdir(ARTEFACTS):
        os.unlink(os.path.join(ARTEFACTS, old))
    chromedriver_port = free_port()
    chromedriver_log = open(os.path.join(ARTEFACTS, "chromedriver.log"), "wb")
    driver_process = subprocess.Popen(
        [os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"), f"--port={chromedriver_port}", "--allowed-ips=127.0.0.1"],
        stdout=chromedriver_log, stderr=subprocess.STDOUT)
    driver = f"http://127.0.0.1:{chromedriver_port}"
    downloads = tempfile.mkdtemp(prefix="cloister-downloads-")
    browsers: List[Browser] = []
    try:
        eventually("chromedriver", lambda: json.load(HTTP.open(driver + "/status", timeout=5))["value"]["ready"], 60)
        with harness.Server() as server:
            run(server, driver, downloads, browsers)
    finally:
        for browser in browsers:
            try:
                browser.close()
            except Exception:  # the browser may be gone already; the driver is stopped next
                pass
        driver_process.terminate()
        driver_process.wait(timeout=30)
        chromedriver_log.close()
        shutil.rmtree(downloads, ignore_errors=True)
    print(f"browser-test: passed; screenshots in {ARTEFACTS}")
    return 0


def run(server: harness.Server, driver: str, downloads: str, browsers: List[Browser]) -> None:
    # The scenario, set up through the API: a function owner's intersection, two banks' data.
    admin = server.admin()
    admin.register_user("fo", PASSWORD, "FunctionOwner")
    admin.register_user("manager", PASSWORD, "DataOwnerManager-bank")
    manager = server.client().session_for("manager", PASSWORD)
    for bank in ("bank-a", "bank-b"):
        manager.register_user(bank, PASSWORD, "DataOwner-bank")
    owner = server.client().session_for("fo", PASSWORD)
    a = server.client().session_for("bank-a", PASSWORD)
    b = server.client().session_for("bank-b", PASSWORD)
    function = owner.register_function(
        "builtin-ordered-set-intersect", "builtin", arguments=[{"key": "order", "default_value": "ascending"}],
        inputs=["input_data1", "input_data2"], outputs=["output_result1", "output_result2"])

    def two_party_task() -> Dict[str, Any]:
        task = a.create_task(
            function["id"], "builtin", inputs_ownership={"input_data1": ["bank-a"], "input_data2": ["bank-b"]},
            outputs_ownership={"output_result1": ["bank-a"], "output_result2": ["bank-b"]})
        key_a, key_b = cloister.keygen("cloister-file-128"), cloister.keygen("cloister-file-128")
        out_a = a.register_output("cloister-file-128", key_a)
        a.assign_data(task["id"], inputs={"input_data1": a.upload_input(b"alice\ncarol\ndave\nerin\n", key_a)["id"]},
                      outputs={"output_result1": out_a["id"]})
        b.assign_data(task["id"], inputs={"input_data2": b.upload_input(b"bob\ncarol\nerin\nfrank\n", key_b)["id"]},
                      outputs={"output_result2": b.register_output("cloister-file-128", key_b)["id"]})
        return {"task": task["id"], "key": key_a, "output": out_a["id"]}

    first = two_party_task()
    second = two_party_task()
    task_id = first["task"]
    url = server.url + "/"

    # The page is served with a policy that keeps it to its own origin.
    with HTTP.open(url, timeout=30) as page:
        check("script-src 'self'" in page.headers.get("Content-Security-Policy", ""), "no Content-Security-Policy on /")

    browser_a = Browser(driver, "bank-a", downloads)
    browsers.append(browser_a)
    browser_b = Browser(driver, "bank-b", downloads)
    browsers.append(browser_b)

    # A wrong password is shown, not swallowed.
    browser_a.sign_in(url, "bank-a", "not the password")
    eventually("the refusal", lambda: "wrong user id or password" in browser_a.text("#message"))
    browser_a.screenshot("wrong-password")

    # Bank A signs in and sees the task waiting for its approval, with what it would run.
    browser_a.sign_in(url, "bank-a", PASSWORD)
    eventually("bank-a signed in", lambda: browser_a.text("#signed-in-as") == "bank-a")
    eventually("the task waiting for bank-a", lambda: browser_a.find_all(f'#waiting-list li[data-task-id="{task_id}"]'))
    browser_a.screenshot("signed-in")
    browser_a.click(f'#waiting-list li[data-task-id="{task_id}"] a')
    eventually("the task's details", lambda: browser_a.text("#task-id") == task_id)
    check(browser_a.text("#function-name") == "builtin-ordered-set-intersect", "the function's name is not shown")
    check(browser_a.text("#payload-sha256") == function["payload_sha256"], "the payload hash shown is not the function's")
    network = browser_a.text("#task-network")
    check(network == "none: the function has no network", f"network use: {network}")
    inputs = browser_a.text("#task-inputs")
    check("input_data1" in inputs and "bank-a" in inputs and "input_data2" in inputs and "bank-b" in inputs, f"inputs: {inputs}")
    participants = browser_a.text("#task-participants")
    check("bank-a — has not approved" in participants and "bank-b — has not approved" in participants, f"participants: {participants}")
    check("waits for you to approve it" in browser_a.text("#task-waiting"), "the page does not say the task waits for bank-a")
    browser_a.screenshot("task-details")
    browser_a.click("#approve")
    eventually("bank-a's approval", lambda: "bank-a — approved" in browser_a.text("#task-participants"))
    check(browser_a.text("#task-state") == "DataAssigned", "one approval of two made the task move on")
    browser_a.screenshot("approved-by-a")

    # Bank B, in its own browser, approves too: the task is Approved.
    browser_b.sign_in(url, "bank-b", PASSWORD)
    eventually("the task waiting for bank-b", lambda: browser_b.find_all(f'#waiting-list li[data-task-id="{task_id}"]'))
    browser_b.click(f'#task-list tr[data-task-id="{task_id}"]')
    eventually("bank-b sees the details", lambda: browser_b.text("#task-id") == task_id)
    browser_b.screenshot("task-details")
    browser_b.click("#approve")
    eventually("the task Approved on bank-b's page", lambda: browser_b.text("#task-state") == "Approved")
    browser_b.screenshot("approved-by-b")

    # Bank A's page follows the task to Approved by itself; A invokes it; both watch it finish.
    eventually("bank-a's page follows the task to Approved", lambda: browser_a.text("#task-state") == "Approved", 60)
    eventually("the invoke button for the creator", lambda: browser_a.visible("#invoke"))
    check(not browser_b.visible("#invoke"), "bank-b, who did not create the task, is offered to invoke it")
    browser_a.click("#invoke")
    eventually("the task Finished on bank-a's page", lambda: browser_a.text("#task-state") == "Finished", 120)
    eventually("the task Finished on bank-b's page", lambda: browser_b.text("#task-state") == "Finished", 120)
    check(browser_a.text("#result-value") == "2 common items", f"result: {browser_a.text('#result-value')}")
    browser_a.screenshot("finished")
    browser_b.screenshot("finished")

    # Bank A downloads its output (still encrypted), and only it decrypts it.
    check(not browser_a.find_all(f'button.download[data-output]:not([data-output="{first["output"]}"])'),
          "bank-a is offered an output it does not own")
    browser_a.click(f'button.download[data-output="{first["output"]}"]')
    saved = os.path.join(downloads, first["output"] + ".enc")
    eventually("the downloaded output", lambda: os.path.exists(saved) and os.path.getsize(saved) > 0, 60)
    browser_a.screenshot("downloaded")
    with open(saved, "rb") as source:
        encrypted = source.read()
    check(encrypted == a.download_output(first["output"]), "the page saved other bytes than the API serves")
    key: cloister.Key = first["key"]
    plaintext = cloister.decrypt(key.scheme, key.key, encrypted, tag=bytes.fromhex(a.get_output(first["output"])["tag"]))
    check(plaintext == b"0\n1\n0\n1\n", f"the output decrypts to {plaintext!r}")

    # Bank B declines the second task from its page: it is Canceled, with bank-b named.
    browser_b.click("#refresh")
    eventually("the second task on bank-b's page", lambda: browser_b.find_all(f'#task-list tr[data-task-id="{second["task"]}"]'))
    browser_b.click(f'#task-list tr[data-task-id="{second["task"]}"]')
    eventually("the second task's details", lambda: browser_b.text("#task-id") == second["task"])
    browser_b.click("#decline")
    eventually("the declined task", lambda: browser_b.text("#task-state") == "Canceled")
    check(browser_b.text("#task-reason") == "Reason: declined by bank-b", f"reason: {browser_b.text('#task-reason')}")
    browser_b.screenshot("declined")
    check(a.get_task(second["task"])["state"] == "Canceled", "the API does not show the decline")

    # Signing out ends the token.
    browser_a.click("#sign-out")
    eventually("bank-a signed out", lambda: browser_a.visible("#login-user"))
    browser_a.screenshot("signed-out")


if __name__ == "__main__":
    sys.exit(main())
