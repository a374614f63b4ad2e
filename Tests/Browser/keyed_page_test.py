"""The status page against a gateway with a keys file: it asks for a key, keeps it out of every
URL, sends it on every API call and event stream, says what a key may not do, and forgets it.

Run by scripts/browser-test with the other browser tests (under scripts/invokeai-harness).
"""

import os
import re
import subprocess
import tempfile
import time
import unittest

from selenium.webdriver.common.by import By

from browser_support import BINARY, GatewayPageCase, http


def add_key(keys_file, name, scopes, tenant):
    """A new key in `keys_file`, as `invokeai-gateway keys add` prints it (once)."""
    output = subprocess.run([BINARY, "keys", "add", "--keys-file", keys_file, "--name", name, "--scopes", scopes,
                             "--tenant", tenant], check=True, capture_output=True, text=True).stdout
    return re.search(r"^key:\s+(\S+)$", output, re.MULTILINE).group(1)


class KeyedStatusPageTest(GatewayPageCase):
    log_name = "gateway-keys.log"

    @classmethod
    def serve_arguments(cls):
        cls.keys_file = os.path.join(tempfile.mkdtemp(prefix="gateway-browser-keys-"), "keys.json")
        # The reader and the runner share a tenant: the reader sees the runner's runs.
        cls.reader = add_key(cls.keys_file, "reader", "read", "team")
        cls.runner = add_key(cls.keys_file, "runner", "read,run", "team")
        cls.admin = add_key(cls.keys_file, "admin", "admin", "ops")
        cls.doomed = add_key(cls.keys_file, "doomed", "read", "team")
        return ["--keys-file", cls.keys_file]

    def setUp(self):
        self.driver.get_log("performance")  # each test checks only its own requests
        self.sent = []

    def collect(self):
        """The requests sent since the last call (all of them are kept for tearDown)."""
        new = self.requests_sent()
        self.sent += new
        return new

    def tearDown(self):
        # No key in any URL the browser asked for, nor in anything it logged, nor in the gateway's log.
        keys = (self.reader, self.runner, self.admin, self.doomed)
        self.collect()
        for request in self.sent:
            for key in keys:
                self.assertNotIn(key, request["url"])
        for entry in self.driver.get_log("browser"):
            for key in keys:
                self.assertNotIn(key, entry["message"])
        with open(self.log.name) as log:
            text = log.read()
        for key in keys:
            self.assertNotIn(key, text)
        self.driver.execute_script("sessionStorage.clear()")

    # -- helpers ---------------------------------------------------------------------------------

    def open_signed_out(self):
        self.driver.get_log("browser")
        self.driver.get(self.base + "/")
        self.driver.execute_script("sessionStorage.clear()")
        self.driver.get(self.base + "/")
        self.wait_for(lambda d: d.find_element(By.ID, "sign-in").is_displayed(), "the sign-in form")

    def sign_in(self, key):
        field = self.driver.find_element(By.ID, "api-key")
        field.clear()
        field.send_keys(key)
        self.driver.find_element(By.CSS_SELECTOR, "#sign-in-form button[type=submit]").click()

    def sign_in_and_wait(self, key):
        self.open_signed_out()
        self.sign_in(key)
        self.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, "#workflow-list button"), "the workflows to be listed")

    def session_storage(self):
        return self.driver.execute_script(
            "return Object.fromEntries(Array.from({length: sessionStorage.length}, (_, i) => sessionStorage.key(i))"
            ".map((k) => [k, sessionStorage.getItem(k)]))")

    def unexpected_console_errors(self):
        """Severe console entries other than the refusals the page was meant to get."""
        return [entry for entry in self.console_errors()
                if not re.search(r"status of (401|403)", entry["message"])]

    def shown(self, element_id):
        return self.driver.find_element(By.ID, element_id).is_displayed()

    # -- tests -----------------------------------------------------------------------------------

    def test_the_page_asks_for_a_key_and_refuses_a_wrong_one(self):
        self.open_signed_out()
        # Nothing but the form until a key is in force.
        self.assertFalse(self.shown("workflows"))
        self.assertFalse(self.shown("recent"))
        self.assertFalse(self.shown("account"))
        self.assertEqual(self.driver.find_element(By.ID, "api-key").get_attribute("type"), "password")
        self.sign_in("igw_not-a-key-of-this-gateway")
        error = self.driver.find_element(By.ID, "sign-in-error")
        self.wait_for(lambda d: error.is_displayed() and error.text, "the refusal")
        self.assertIn("the API key is not known or was revoked", error.text)
        self.assertTrue(self.shown("sign-in"))
        self.assertFalse(self.shown("workflows"))
        self.assertEqual(self.session_storage(), {})
        self.screenshot("sign-in-refused")
        self.assertEqual(self.unexpected_console_errors(), [])

    def test_a_read_key_sees_the_catalog_and_runs_but_may_not_submit(self):
        status, run = http("POST", f"{self.base}/v1/workflows/blank-blur/runs?wait=60", {"inputs": {"0": 8, "1": 8}},
                           key=self.runner)
        self.assertIn(status, (200, 202))
        self.sign_in_and_wait(self.reader)
        self.assertTrue(self.shown("account"))
        self.assertEqual(list(self.session_storage().values()), [self.reader])
        # The runs of its tenant, and what it may not see said as such (the queue needs admin).
        self.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, f'#recent-runs tr[data-run="{run["id"]}"]'),
                      "the tenant's run in the table")
        limits = self.driver.find_element(By.ID, "key-limits")
        self.wait_for(lambda d: "may not see InvokeAI's queue (needs admin)" in limits.text, "the queue refusal")
        self.choose("blank-blur")
        self.wait_for(lambda d: "list InvokeAI's boards (needs admin)" in limits.text, "the boards refusal")
        runs_before = http("GET", f"{self.base}/v1/runs", key=self.runner)[1]["total"]
        self.driver.find_element(By.ID, "submit").click()
        error = self.driver.find_element(By.ID, "form-error")
        self.wait_for(lambda d: error.is_displayed() and error.text, "the submission's refusal")
        self.assertEqual(error.text, "this API key may not run workflows (it lacks the 'run' scope)")
        # A refusal of scope is not a sign-in failure: still signed in, the page still works.
        self.assertFalse(self.shown("sign-in"))
        self.assertEqual(list(self.session_storage().values()), [self.reader])
        self.choose("slow-steps")
        self.assertEqual(http("GET", f"{self.base}/v1/runs", key=self.runner)[1]["total"], runs_before)
        self.screenshot("read-key")
        self.assertEqual(self.unexpected_console_errors(), [])

    def test_a_run_key_submits_and_its_events_arrive_live(self):
        self.sign_in_and_wait(self.runner)
        self.collect()  # the page's tries before the key was given went without one
        self.choose("slow-steps")
        self.set_value(self.field("Steps"), 6)
        self.set_value(self.field("Step duration (ms)"), 400)
        self.driver.find_element(By.ID, "submit").click()
        bar = self.wait_for(lambda d: d.find_element(By.CSS_SELECTOR, "#node-progress progress"), "a progress bar")
        # A value strictly between 0 and 1 is a run caught mid-way: its events arrive as they happen.
        self.wait_for(lambda d: 0 < float(bar.get_attribute("value")) < 1, "progress part-way")
        self.assertRegex(self.driver.find_element(By.ID, "run-message").text, r"step \d/6")
        # A run of the same tenant started elsewhere shows up from /v1/events.
        status, other = http("POST", f"{self.base}/v1/workflows/blank-blur/runs", {"inputs": {"0": 8, "1": 8}}, key=self.runner)
        self.assertEqual(status, 202)
        self.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, f'#recent-runs tr[data-run="{other["id"]}"]'), "the other run in the table")
        self.assertEqual(self.wait_for_end(), "completed")
        # An output image: fetched with the key and shown from a blob: URL.
        first_run = self.driver.find_element(By.ID, "run-link").text
        self.choose("blank-blur")
        self.set_value(self.field("Width"), 24)
        self.set_value(self.field("Height"), 16)
        self.driver.find_element(By.ID, "submit").click()
        self.wait_for(lambda d: d.find_element(By.ID, "run-link").text != first_run, "the image run to be followed")
        self.assertEqual(self.wait_for_end(), "completed")
        image = self.wait_for(lambda d: d.find_element(By.CSS_SELECTOR, "#outputs img"), "the output image")
        self.wait_for(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) > 0,
                      "the output image to load")
        self.assertTrue(image.get_attribute("src").startswith("blob:"))
        self.screenshot("run-key")
        # The event streams were fetches carrying the key in a header, never EventSources.
        streams = [r for r in self.collect() if re.search(r"/v1/(runs/[^/]+/)?events", r["url"])]
        self.assertTrue(streams, "no event stream was requested")
        for stream in streams:
            self.assertEqual(stream["type"], "Fetch", stream["url"])
            self.assertEqual(stream["headers"].get("Authorization"), f"Bearer {self.runner}", stream["url"])
        self.assertEqual(self.unexpected_console_errors(), [])

    def test_an_admin_key_sees_the_queue_and_sign_out_forgets_the_key(self):
        self.sign_in_and_wait(self.admin)
        pending = self.driver.find_element(By.CSS_SELECTOR, '#queue-counts [data-count="pending"]')
        self.wait_for(lambda d: pending.text.isdigit(), "the queue counts")
        self.assertFalse(self.shown("key-limits"))
        self.driver.find_element(By.ID, "sign-out").click()
        self.wait_for(lambda d: self.shown("sign-in"), "the sign-in form after signing out")
        self.assertFalse(self.shown("workflows"))
        self.assertEqual(self.session_storage(), {})
        self.driver.refresh()
        self.wait_for(lambda d: self.shown("sign-in"), "the sign-in form after a reload")
        self.assertEqual(self.session_storage(), {})
        self.assertEqual(self.driver.execute_script("return localStorage.length"), 0)

    def test_a_revoked_key_brings_the_form_back_with_the_detail(self):
        self.sign_in_and_wait(self.doomed)
        subprocess.run([BINARY, "keys", "revoke", "--keys-file", self.keys_file, "doomed"], check=True, capture_output=True)
        # The gateway looks at the keys file again within about a second.
        deadline = time.time() + 30
        while http("GET", f"{self.base}/v1/workflows", key=self.doomed)[0] != 401:
            self.assertLess(time.time(), deadline, "the revocation was not seen")
            time.sleep(0.2)
        self.driver.find_element(By.CSS_SELECTOR, '#workflow-list button[data-workflow="blank-blur"]').click()
        self.wait_for(lambda d: self.shown("sign-in"), "the sign-in form")
        self.assertIn("the API key is not known or was revoked", self.driver.find_element(By.ID, "sign-in-error").text)
        self.assertFalse(self.shown("workflows"))
        self.assertEqual(self.session_storage(), {})


if __name__ == "__main__":
    unittest.main(verbosity=2)
