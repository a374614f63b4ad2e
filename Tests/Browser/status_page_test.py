"""The status page in a real headless Chromium, against a live gateway and InvokeAI (no keys file).

Run by scripts/browser-test (under scripts/invokeai-harness, which sets INVOKEAI_URL). Starts the
gateway binary given in GATEWAY_BINARY on a free port, drives the page with Selenium, and writes
screenshots to test-artifacts/browser/.
"""

import os
import tempfile
import unittest
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from browser_support import GatewayPageCase, http, png


class StatusPageTest(GatewayPageCase):
    # -- tests -----------------------------------------------------------------------------------

    def test_page_loads_without_console_errors_and_shows_the_upstream(self):
        self.open_page()
        self.wait_for(lambda d: "ready" in d.find_element(By.ID, "upstream").text, "InvokeAI's state")
        self.assertIn("6.14.2", self.driver.find_element(By.ID, "upstream").text)
        self.wait_for(lambda d: d.find_element(By.ID, "events-state").text.startswith("connected"), "the event stream state")
        pending = self.driver.find_element(By.CSS_SELECTOR, '#queue-counts [data-count="pending"]')
        self.wait_for(lambda d: pending.text.isdigit(), "the queue counts")
        names = [b.get_attribute("data-workflow") for b in self.driver.find_elements(By.CSS_SELECTOR, "#workflow-list button")]
        for example in ("blank-blur", "resize-image", "slow-steps"):
            self.assertIn(example, names)
        # Without a keys file nothing asks for a key.
        self.assertFalse(self.driver.find_element(By.ID, "sign-in").is_displayed())
        self.assertFalse(self.driver.find_element(By.ID, "account").is_displayed())
        self.assertEqual(self.console_errors(), [])

    def test_a_workflow_that_cannot_run_here_says_why_and_cannot_be_run(self):
        # Some of InvokeAI 6.14.2's own default workflows use node types it no longer has.
        self.open_page()
        blocked = self.driver.find_elements(By.CSS_SELECTOR, '#workflow-list button[data-runnable="false"]')
        self.assertTrue(blocked, "no workflow is marked as not runnable")
        self.assertIn("cannot run here", blocked[0].text)
        self.assertTrue(blocked[0].get_attribute("title"), "the reason is not given on hover")
        name = blocked[0].get_attribute("data-workflow")
        blocked[0].click()
        self.wait_for(lambda d: d.find_element(By.ID, "workflow-title").text and not d.find_element(By.ID, "not-runnable").get_attribute("hidden"),
                      f"the reasons {name} cannot run")
        reasons = self.driver.find_elements(By.CSS_SELECTOR, "#not-runnable-reasons li")
        self.assertTrue(reasons and reasons[0].text, "no reason listed")
        self.assertFalse(self.driver.find_element(By.ID, "submit").is_enabled())
        # A runnable one is runnable again.
        self.choose("blank-blur")
        self.assertTrue(self.driver.find_element(By.ID, "submit").is_enabled())
        self.assertTrue(self.driver.find_element(By.ID, "not-runnable").get_attribute("hidden"))
        self.assertEqual(self.console_errors(), [])

    def test_image_example_runs_from_the_form_and_shows_its_output(self):
        self.open_page()
        self.choose("resize-image")
        with tempfile.NamedTemporaryFile(suffix=".png", delete=False) as f:
            f.write(png(40, 30, (200, 40, 40)))
        self.field("Image").send_keys(f.name)
        self.set_value(self.field("Width"), 24)
        self.set_value(self.field("Height"), 16)
        Select(self.field("Resample mode")).select_by_visible_text("nearest")
        self.driver.find_element(By.ID, "submit").click()
        self.wait_for(lambda d: not d.find_element(By.ID, "run").get_attribute("hidden"), "the run panel")
        self.assertEqual(self.wait_for_end(), "completed")
        # Progress: the node that ran has a bar, full.
        bars = self.driver.find_elements(By.CSS_SELECTOR, "#node-progress progress")
        self.assertTrue(bars, "no node progress was shown")
        self.assertEqual([b.get_attribute("value") for b in bars][-1], "1")
        image = self.wait_for(lambda d: d.find_element(By.CSS_SELECTOR, "#outputs img"), "the output image")
        self.wait_for(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) > 0,
                      "the output image to load")
        self.assertIn("24×16", image.get_attribute("alt"))
        link = self.driver.find_element(By.CSS_SELECTOR, "#outputs a").get_attribute("href")
        with urllib.request.urlopen(link, timeout=30) as response:
            self.assertEqual(response.headers["Content-Type"], "image/png")
        self.screenshot("finished-run-desktop")
        self.assertEqual(self.console_errors(), [])

    def test_progress_is_shown_while_a_slow_run_goes(self):
        self.open_page()
        self.choose("slow-steps")
        self.set_value(self.field("Steps"), 6)
        self.set_value(self.field("Step duration (ms)"), 400)
        self.driver.find_element(By.ID, "submit").click()
        bar = self.wait_for(lambda d: d.find_element(By.CSS_SELECTOR, "#node-progress progress"), "a progress bar")
        # A value strictly between 0 and 1 is a run caught mid-way, with its step message.
        self.wait_for(lambda d: 0 < float(bar.get_attribute("value")) < 1, "progress part-way")
        self.assertRegex(self.driver.find_element(By.ID, "run-message").text, r"step \d/6")
        page_run = self.driver.find_element(By.ID, "run-link").get_attribute("href").rsplit("/", 1)[-1]
        # Meanwhile another client starts a run with curl: it shows in the recent runs, and the
        # run panel stays on the page's own run.
        status, other = http("POST", f"{self.base}/v1/workflows/blank-blur/runs", {"inputs": {"0": 8, "1": 8}})
        self.assertEqual(status, 202)
        self.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, f'#recent-runs tr[data-run="{other["id"]}"]'), "the curl run in the table")
        self.screenshot("run-in-progress")
        self.assertEqual(self.wait_for_end(), "completed")
        self.assertTrue(self.driver.find_element(By.ID, "run-link").get_attribute("href").endswith(page_run))
        self.assertEqual(len(self.driver.find_elements(By.CSS_SELECTOR, "#node-progress progress")), 1)

    def test_a_bad_value_shows_the_gateways_message_at_its_field(self):
        self.open_page()
        self.choose("blank-blur")
        runs_before = http("GET", f"{self.base}/v1/runs")[1]["total"]
        width = self.field("Width")
        self.set_value(width, 1.5)
        self.set_value(self.field("Blur radius"), -3)
        self.driver.find_element(By.ID, "submit").click()
        error = self.driver.find_element(By.ID, f"{width.get_attribute('id')}-error")
        self.wait_for(lambda d: error.text, "the message at the width field")
        # The gateway's own words, for each bad field, and nothing sent.
        status, problem = http("POST", f"{self.base}/v1/workflows/blank-blur/runs", {"inputs": {"0": 1.5, "3": -3}})
        self.assertEqual(status, 422)
        by_index = {e["index"]: e["message"] for e in problem["errors"]}
        self.assertEqual(error.text, by_index[0])
        radius_error = self.driver.find_element(By.ID, f"{self.field('Blur radius').get_attribute('id')}-error")
        self.assertEqual(radius_error.text, by_index[3])
        self.assertEqual(width.get_attribute("aria-invalid"), "true")
        self.assertEqual(http("GET", f"{self.base}/v1/runs")[1]["total"], runs_before)
        self.screenshot("bad-value")

    def test_cancel_button_cancels_the_run(self):
        self.open_page()
        self.choose("slow-steps")
        self.set_value(self.field("Steps"), 200)
        self.set_value(self.field("Step duration (ms)"), 200)
        self.driver.find_element(By.ID, "submit").click()
        self.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, "#node-progress progress"), "the run to start")
        self.driver.find_element(By.ID, "cancel").click()
        self.assertEqual(self.wait_for_end(), "canceled")

    def test_an_eventsource_on_an_ended_run_replays_its_end_and_closes(self):
        status, run = http("POST", f"{self.base}/v1/workflows/blank-blur/runs?wait=60", {"inputs": {"0": 16, "1": 16}})
        self.assertEqual((status, run.get("status")), (200, "completed"))
        self.open_page()
        self.driver.execute_script("""
            window.ends = []; window.errors = 0;
            window.source = new EventSource(arguments[0]);
            source.addEventListener("run.completed", (m) => ends.push(m.lastEventId));
            source.addEventListener("error", () => errors++);
        """, f"/v1/runs/{run['id']}/events")
        # The replay ends with the run's end; EventSource reconnects with its id, gets 204, stops.
        self.wait_for(lambda d: d.execute_script("return source.readyState") == 2, "the EventSource to close")
        ends = self.driver.execute_script("return ends")
        self.assertEqual(len(ends), 1)
        self.assertRegex(ends[0], r"^\d+-\d+$")

    def test_recent_runs_update_live_including_runs_started_elsewhere(self):
        self.open_page()
        status, run = http("POST", f"{self.base}/v1/workflows/blank-blur/runs", {"inputs": {"0": 16, "1": 16}})
        self.assertEqual(status, 202)
        row = f'#recent-runs tr[data-run="{run["id"]}"]'
        self.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, row), "the curl run in the recent table")
        self.wait_for(lambda d: d.find_element(By.CSS_SELECTOR, row).get_attribute("data-status") == "completed",
                      "the curl run to show completed")
        cells = [c.text for c in self.driver.find_elements(By.CSS_SELECTOR, f"{row} td")]
        self.assertEqual(cells[1], "blank-blur")
        self.assertRegex(cells[3], r"\d")

    def test_models_and_boards_are_selects_filled_from_invokeai(self):
        invokeai = os.environ["INVOKEAI_URL"]
        status, board_dto = http("POST", f"{invokeai}/api/v1/boards/?board_name=browser-test-board")
        self.assertEqual(status, 201)
        self.addCleanup(http, "DELETE", f"{invokeai}/api/v1/boards/{board_dto['board_id']}")
        self.open_page()
        self.choose("text-to-image-sd1-5")
        model = Select(self.driver.find_element(By.CSS_SELECTOR, '#fields .field[data-index="0"] select'))
        self.assertIn("tiny-sd15-v1 (sd-1)", [o.text for o in model.options])
        board = Select(self.field("board"))
        self.assertEqual([o.get_attribute("value") for o in board.options][:2], ["auto", "none"])
        self.assertIn(board_dto["board_id"], [o.get_attribute("value") for o in board.options])
        prompt = self.field("Positive Prompt")
        self.assertEqual(prompt.tag_name, "textarea")

    def test_keyboard_and_phone_width(self):
        self.open_page()
        # Tab from the page start: the skip link first, then the workflow buttons are reachable.
        body = self.driver.find_element(By.TAG_NAME, "body")
        body.send_keys(Keys.TAB)
        self.assertEqual(self.driver.switch_to.active_element.get_attribute("class"), "skip")
        button = self.driver.find_element(By.CSS_SELECTOR, '#workflow-list button[data-workflow="blank-blur"]')
        button.send_keys(Keys.ENTER)
        self.wait_for(lambda d: d.find_element(By.ID, "workflow-title").text == "Blank, blur and save", "the form by keyboard")
        # Every form control has a label.
        for control in self.driver.find_elements(By.CSS_SELECTOR, "#fields input, #fields select, #fields textarea"):
            labels = self.driver.execute_script("return arguments[0].labels.length", control)
            self.assertGreater(labels, 0, f"{control.get_attribute('id')} has no label")
        try:
            self.driver.set_window_size(390, 844)
            self.wait_for(lambda d: d.execute_script("return window.innerWidth") <= 400, "the phone width")
            overflow = self.driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
            self.assertLessEqual(overflow, 0, "the page scrolls sideways at phone width")
            self.screenshot("phone-width")
        finally:
            self.driver.set_window_size(1280, 1000)



if __name__ == "__main__":
    unittest.main(verbosity=2)
